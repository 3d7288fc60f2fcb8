"""Every import in hyperpy, lazy ones included, follows runtime <- package <- {build, node} <- commands.

Why a test: a lazy `import` inside a function is invisible until that function runs, and one such
import (the node importing the build, the build importing the node) is how a node would start
depending on code it never ships, or the guest runtime on host-only packages. docs/architecture.md
shows the layers; this walks the AST of every module so the rule holds for code nobody ran yet.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hyperpy
from hyperpy import NAMESPACE_MODULES

ROOT = Path(hyperpy.__file__).parent

# Layer of each top-level part of hyperpy: a module may import its own part and lower layers only.
# build and node are siblings: neither may import the other.
LAYERS: dict[str, int] = {
    "__init__": 0,  # the public API re-exports the runtime
    **dict.fromkeys(NAMESPACE_MODULES, 0),  # its namespaces (hyperpy.state, ...) too
    "runtime": 0,
    "package": 1,
    "build": 2,
    "node": 2,
    "commands": 3,
    "testing": 3,
    "bench": 3,
    "templates": 3,
    "cli": 4,
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "hyperpy":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "hyperpy":
                # `from hyperpy import runtime` names a part; `from hyperpy import app` the public API.
                found.extend(
                    (node.lineno, f"hyperpy.{alias.name}" if alias.name in LAYERS else "hyperpy")
                    for alias in node.names
                )
            else:
                found.append((node.lineno, node.module))
    return found


def _violations(root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        source_part = relative.parts[0].removesuffix(".py")
        if source_part not in LAYERS:
            problems.append(f"{relative}: hyperpy/{source_part} has no layer in tests/test_layering.py")
            continue
        for line, module in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            target_part = _part(module)
            if target_part is None or target_part == source_part:
                continue
            source_layer, target_layer = LAYERS[source_part], LAYERS.get(target_part)
            if (
                target_layer is None
                or target_layer > source_layer
                or (target_layer == source_layer == LAYERS["build"])
            ):
                problems.append(f"hyperpy/{relative}:{line}: {source_part} imports {module}")
    return problems


def test_every_import_follows_the_layers() -> None:
    assert _violations() == []


def test_the_checker_sees_lazy_imports_and_sibling_layers(tmp_path: Path) -> None:
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "cli.py").write_text("def f():\n    from hyperpy.build import build_project\n")
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "x.py").write_text("import hyperpy.package.names\nfrom hyperpy import app\n")
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "run.py").write_text("import hyperpy.build\nimport hyperpy.node\n")
    assert _violations(tmp_path) == [
        "hyperpy/node/cli.py:2: node imports hyperpy.build",
        "hyperpy/runtime/x.py:1: runtime imports hyperpy.package.names",
    ]
