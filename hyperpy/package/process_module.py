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

from hyperpy.package.project import InferredNeeds, ProcessConfig, Project

ProcessKind = Literal["raw", "framework"]
_WITWORLD_TEXT = re.compile(
    r"^(class\s+WitWorld\b|WitWorld\s*[:=]|from\s+\S+\s+import\s+.*\bWitWorld\b)", re.M
)


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


def missing_module_problem(project: Project, process: ProcessConfig) -> str:
    """The message for a process whose module file does not exist (build and native install)."""
    candidates = " or ".join(str(p) for p in project.module_candidates(process))
    return (
        f"process {process.name!r}: module {process.module!r} not found: expected {candidates} "
        f'(or set module = "..." in [tool.hyperpy.processes.{process.name}] of {project.config_file})'
    )


def process_kind(module_file: Path) -> ProcessKind:
    """ "raw" if the module defines WitWorld at top level, else "framework"."""
    source = module_file.read_text(encoding="utf-8", errors="replace")
    try:
        raw = _defines_witworld(ast.parse(source, filename=str(module_file)))
    except SyntaxError:
        # Newer syntax than the host understands (or a real error, which pre-init will report).
        raw = bool(_WITWORLD_TEXT.search(source))
    return "raw" if raw else "framework"


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
