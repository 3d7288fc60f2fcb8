"""A process's Python module: raw or framework, and what a framework app needs from the system.

Why here, in the package layer: the build (compiling a component) and the node (installing a project
natively) must write the *same* manifest, and the manifest's inferred capabilities come from these two
decisions. The node may not import `hyperpy.build`, so both read them from here.

* **Raw or framework** is decided from the source text, without importing the module on the host: the
  module may use syntax of the guest's newer CPython, and a raw module imports `wit_world` at its top
  level, which exists only inside a component (or under the native runner's shims).
* **What a framework app needs** (`required_processes`, `request_networking`, its `ui` folder) comes from the
  framework's own description of the app, `hyperpy.runtime.spec.app_spec(module)`. The runtime is
  imported only when asked (it is stdlib-only guest code, so this adds no host dependency, and reading
  a project config never imports the framework).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType
from typing import Literal

from hyperpy.package.project import Buildable, InferredNeeds, Project, ScriptConfig
from hyperpy.runtime.kit_bindings import MODERN_WORLD_MODULE

ProcessKind = Literal["raw", "framework"]
_WITWORLD_TEXT = re.compile(
    r"^(class\s+WitWorld\b|WitWorld\s*[:=]|from\s+\S+\s+import\s+.*\bWitWorld\b)", re.M
)
_LEGACY_TEXT = re.compile(r"^from\s+([A-Za-z_]\w*)\.(?:imports\.\w+|types)\s+import\b", re.M)


def _defines_witworld(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "WitWorld":
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "WitWorld" for t in node.targets
        ):
            return True
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "WitWorld"
        ):
            return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == "WitWorld" for a in node.names):
            return True
    return False


def missing_module_problem(project: Project, process: Buildable) -> str:
    """The message for a process whose module file does not exist (build and native install)."""
    candidates = " or ".join(str(p) for p in project.module_candidates(process))
    role, table = ("script", "scripts") if isinstance(process, ScriptConfig) else ("process", "processes")
    fix = (
        f"kit's layout builds pkg/{process.wasm_file_name} from that file"
        if project.layout == "kit"
        else f'or set module = "..." in [tool.hyperpy.{table}.{process.name}] of {project.config_file}'
    )
    return f"{role} {process.name!r}: module {process.module!r} not found: expected {candidates} ({fix})"


def process_kind(module_file: Path) -> ProcessKind:
    """ "raw" if the module defines WitWorld at top level or is written against kit's bindings
    (`legacy_bindings_module`), else "framework"."""
    source = module_file.read_text(encoding="utf-8", errors="replace")
    try:
        raw = _defines_witworld(ast.parse(source, filename=str(module_file)))
    except SyntaxError:
        # Newer syntax than the host understands (or a real error, which pre-init will report).
        raw = bool(_WITWORLD_TEXT.search(source))
    return "raw" if raw or legacy_bindings_module(module_file) else "framework"


def _bindings_module_of(name: str | None) -> str | None:
    """`x` for `x.imports.<interface>` or `x.types`: where componentize-py puts its bindings."""
    if not name:
        return None
    head, _, rest = name.partition(".")
    if head == MODERN_WORLD_MODULE or not (rest == "types" or rest.startswith("imports.")):
        return None
    return head


def legacy_bindings_module(module_file: Path) -> str | None:
    """The world module a raw process imports kit's (componentize-py 0.11) bindings from, if any.

    Recognised by its imports: `from <world>.imports.<interface> import ...` or `from <world>.types
    import ...` (or `import <world>.imports.<interface>`) for any `<world>` but `wit_world`, the name
    componentize-py 0.25 uses. The name is taken as written: kit's chat template imports
    `chat_template_dot_os_v0` (its world), its echo and fibonacci templates `process` (the world of
    Hyperware's pre-1.0 WIT, which kit's own build no longer produces: it builds them against
    `process-v1`, so they fail there); the compatibility layer serves whichever name the code uses.
    A module that defines WitWorld is modern whatever it imports.
    """
    source = module_file.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source, filename=str(module_file))
    except SyntaxError:
        match = _LEGACY_TEXT.search(source)
        return match.group(1) if match and match.group(1) != MODERN_WORLD_MODULE else None
    if _defines_witworld(tree):
        return None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            found = _bindings_module_of(node.module)
        elif isinstance(node, ast.Import):
            found = next((m for a in node.names if (m := _bindings_module_of(a.name))), None)
        else:
            continue
        if found is not None:
            return found
    return None


def framework_needs(module: ModuleType) -> InferredNeeds:
    """What the framework app in `module` needs from the system (for capability inference).

    Raises `hyperpy.runtime.errors.DeclarationError` when the app's declaration is wrong.
    """
    from hyperpy.runtime.spec import app_spec

    spec = app_spec(module)
    processes: set[str] = getattr(spec, "required_processes", set())
    ui = getattr(getattr(spec, "settings", None), "ui", None)
    return InferredNeeds(
        frozenset(str(p) for p in processes),
        bool(getattr(spec, "request_networking", False)),
        ui if isinstance(ui, str) else None,
    )
