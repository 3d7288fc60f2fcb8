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
* **Importing an app on the host** (`import_app`) is one rule for the build (API WIT, needs) and the
  node's native install (needs): fresh, with the project root first on sys.path, errors naming the
  file and line. `inferred_needs` runs it for every framework process of a project.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import re
import sys
import traceback
from collections.abc import Mapping
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


class AppImportError(Exception):
    """A process module that cannot be imported on the host; the message names the module, the
    project root and the file:line of the failure."""


def import_app(root: Path, module_name: str) -> ModuleType:
    """Import a project's process module on the host (project root first on sys.path), freshly.

    Reading an app needs the app object; a stale module from an earlier import (`hyperpy dev` after an
    edit, another project's module of the same name) would describe other code, so any non-installed
    module of that name is dropped from `sys.modules` first.
    """
    root_text = str(root.resolve())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        installed = file.startswith((sys.prefix, sys.base_prefix))
        if (name == module_name or name.startswith(module_name + ".")) and not installed:
            del sys.modules[name]
    sys.path.insert(0, root_text)
    try:
        importlib.invalidate_caches()
        return importlib.import_module(module_name)
    except Exception as error:
        where = _user_location(error, root)
        where = f" ({where})" if where else ""
        raise AppImportError(
            f"importing process module {module_name!r} from {root} failed{where}: "
            f"{type(error).__name__}: {error}"
        ) from error
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(root_text)


def _user_location(error: BaseException, root: Path) -> str:
    """`file:line` in the user's code where an import failed: a SyntaxError's own position, else
    the innermost traceback frame in the project (not hyperpy's decorator that raised a
    DeclarationError, nor importlib), else the innermost frame outside hyperpy."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}:{error.lineno}"
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    project = str(root.resolve())
    hyperpy_dir = str(Path(__file__).resolve().parents[1])
    for wanted in (
        lambda name: name.startswith(project),
        lambda name: not name.startswith((hyperpy_dir, "<")),
    ):
        for frame in reversed(frames):
            if wanted(frame.filename):
                return f"{frame.filename}:{frame.lineno}"
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def inferred_needs(
    project: Project, loaded: Mapping[str, ModuleType] | None = None
) -> dict[str, InferredNeeds]:
    """What each framework process of `project` needs, by process name (raw processes have none).

    Modules in `loaded` (by process name, e.g. already imported by the build) are read as they are;
    the others are imported with `import_app`. Raises `AppImportError` for a missing or failing
    module and `hyperpy.runtime.errors.DeclarationError` (its message prefixed with the process and
    file) for a wrong app declaration.
    """
    from hyperpy.runtime.errors import DeclarationError

    needs: dict[str, InferredNeeds] = {}
    for process in project.processes:
        module_file = project.module_path(process)
        if module_file is None:
            raise AppImportError(missing_module_problem(project, process))
        if process_kind(module_file) == "raw":
            continue
        module = (loaded or {}).get(process.name)
        if module is None:
            try:
                module = import_app(project.source_root(process), process.module)
            except AppImportError as exc:
                raise AppImportError(f"process {process.name!r}: {exc}") from exc.__cause__
        try:
            needs[process.name] = framework_needs(module)
        except DeclarationError as exc:
            raise DeclarationError(f"process {process.name!r} ({module_file}): {exc}") from None
    return needs
