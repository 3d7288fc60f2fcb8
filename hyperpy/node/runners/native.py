"""Native mode: run a process's Python module in host CPython, bound to the same kernel.

Why: componentize-py takes seconds per build; importing the module takes milliseconds, and pdb,
coverage and tracebacks work. The process behaves as in a component because it talks to the kernel
through the same `StandardHost` (via the `wit_world` shims of `native_shim`), runs on its own thread,
and is imported *fresh* for every run under a unique module name — so Restart starts from fresh module
globals and two nodes running the same module never share them. (Modules it imports are shared, as
any Python import is; see docs/node.md.)

A module that defines `WitWorld` is a raw, kit-style process and is run as `WitWorld().init(our)`; one
written against kit's older bindings (`import chat_template_dot_os_v0`, see
`hyperpy.runtime.kit_bindings`) gets the same compatibility layer as in a component build and is run as
its world-named class; otherwise it is a hyperpy framework app, run as
`hyperpy.runtime.entry.world_class(module)().init(our)` exactly as the generated component entry does.

Which module runs is recorded in the package drive as a *native marker* in place of the `.wasm` file
(`NativeModuleRef.to_marker`), so install, spawn, Restart and reboot all find it the way they find
wasm.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import itertools
import json
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from hyperpy.node.contracts import OUT_OF_MEMORY, ProcessCrashed, StandardHost
from hyperpy.node.process_thread import ProcessKilled
from hyperpy.node.runners.native_guard import guest_code
from hyperpy.node.runners.native_shim import (
    GuestTrap,
    bound_to_thread,
    install_shims,
    route_std_streams,
    trapped_reason,
)
from hyperpy.node.runners.stderr_tail import StderrTail

NATIVE_MARKER = b"#hyperpy-native\n"

_unique_counter = itertools.count(1)
_sys_path_lock = threading.Lock()


class NativeLoadError(RuntimeError):
    """The process module could not be found or imported, or is not a process (no WitWorld, no app)."""


@dataclass(frozen=True)
class NativeModuleRef:
    """Which Python module a native process runs: a dotted name, found under `import_root` if given."""

    module: str
    import_root: str | None = None

    def to_marker(self) -> bytes:
        """The bytes written in place of the process's `.wasm` in the package drive."""
        payload = {"module": self.module, "import_root": self.import_root}
        return NATIVE_MARKER + json.dumps(payload, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_marker(cls, code: bytes) -> NativeModuleRef | None:
        """Parse a native marker; None when `code` is anything else (e.g. a real component)."""
        if not code.startswith(NATIVE_MARKER):
            return None
        try:
            payload = json.loads(code[len(NATIVE_MARKER) :])
            return cls(str(payload["module"]), payload.get("import_root"))
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def for_file(cls, path: Path) -> NativeModuleRef:
        """The module in a `.py` file (or a package's `__init__.py`), importable from its directory."""
        path = path.resolve()
        if path.name == "__init__.py":
            return cls(path.parent.name, str(path.parent.parent))
        return cls(path.stem, str(path.parent))

    @classmethod
    def parse(cls, spec: str | Path) -> NativeModuleRef:
        """A file path (`echo.py`; relative to the working directory) or a dotted module name."""
        text = str(spec)
        if text.endswith(".py") or "/" in text or isinstance(spec, Path):
            path = Path(text)
            if not path.is_file():
                raise NativeLoadError(f"native module file {path} does not exist")
            return cls.for_file(path)
        return cls(text)

    def describe(self) -> str:
        return f"{self.module} (from {self.import_root})" if self.import_root else self.module


class NativeRunner:
    """`ProcessRunner` for a Python module in host CPython."""

    def __init__(self, ref: NativeModuleRef, *, echo_stdout: bool = False) -> None:
        self.ref = ref
        self._echo_stdout = echo_stdout

    def run(self, host: StandardHost, our: str) -> None:
        install_shims()
        route_std_streams()
        stderr = StderrTail()
        report = lambda line: host.print_to_terminal(0, line)  # noqa: E731
        with bound_to_thread(host, stderr, self._echo_stdout), guest_code(report):
            module, unique_name = import_fresh(self.ref)
            try:
                world = _world_of(module, self.ref)
                try:
                    world.init(our)
                except ProcessKilled:
                    raise
                except GuestTrap as trap:
                    raise ProcessCrashed(trap.reason, stderr.text()) from None
                except BaseException as exc:
                    stderr.write("".join(traceback.format_exception(exc)))
                    raise ProcessCrashed(_crash_reason(exc), stderr.text()) from None
                swallowed = trapped_reason()
                if swallowed is not None:
                    raise ProcessCrashed(swallowed, stderr.text())
            finally:
                sys.modules.pop(unique_name, None)


def _crash_reason(exc: BaseException) -> str:
    """Why a native run crashed. A MemoryError (raised, or chained under the runtime's InitFailed)
    gets the component runner's "out of memory" lead, so the kernel prints it first: natively there
    is no per-process limit (docs/node.md), the allocation failed in the node's own heap."""
    reason = f"{type(exc).__name__}: {exc}"
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and not isinstance(cause, MemoryError) and id(cause) not in seen:
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    if not isinstance(cause, MemoryError):
        return reason
    return (
        f"{OUT_OF_MEMORY}: the process raised MemoryError (native mode enforces no per-process memory "
        f"limit: a native process allocates from the node's own Python heap); {reason}"
    )


def _legacy_bindings(origin: str | None) -> str | None:
    """The kit-style bindings module a process file imports (`chat_template_dot_os_v0`), if any."""
    from hyperpy.package.process_module import legacy_bindings_module

    return legacy_bindings_module(Path(origin)) if origin and origin.endswith(".py") else None


def _world_of(module: ModuleType, ref: NativeModuleRef) -> Any:
    world_class = getattr(module, "WitWorld", None)
    if world_class is not None:
        return world_class()
    legacy = _legacy_bindings(getattr(module, "__file__", None))
    if legacy is not None:
        from hyperpy.runtime.kit_bindings import world_class as legacy_world_class

        try:
            return legacy_world_class(module, legacy)()
        except TypeError as exc:
            raise NativeLoadError(str(exc)) from None
    try:
        entry = importlib.import_module("hyperpy.runtime.entry")
    except ImportError as exc:
        raise NativeLoadError(
            f"module {ref.describe()} defines no WitWorld class, and the hyperpy framework entry "
            f"(hyperpy.runtime.entry) is not available to run it as an app: {exc}"
        ) from exc
    return entry.world_class(module)()


def _find_under_root(module: str, root: str) -> importlib.machinery.ModuleSpec | None:
    """Find `module` (dotted) inside `root` only, never elsewhere on sys.path."""
    search: list[str] = [root]
    spec = None
    parts = module.split(".")
    for index, part in enumerate(parts):
        spec = importlib.machinery.PathFinder.find_spec(part, search)
        if spec is None:
            return None
        if index < len(parts) - 1:
            if not spec.submodule_search_locations:
                return None
            search = list(spec.submodule_search_locations)
    return spec


def import_fresh(ref: NativeModuleRef) -> tuple[ModuleType, str]:
    """Execute the module's file as a new module with a unique name; return it and that name.

    The import root goes on sys.path (so the module's sibling imports work, as on componentize-py's
    path); a package keeps its relative imports working because the fresh module is a package too.
    """
    importlib.invalidate_caches()
    if ref.import_root is not None:
        with _sys_path_lock:
            if ref.import_root not in sys.path:
                sys.path.insert(0, ref.import_root)
        spec = _find_under_root(ref.module, ref.import_root)
    else:
        try:
            spec = importlib.util.find_spec(ref.module)
        except (ImportError, ValueError) as exc:
            raise NativeLoadError(f"cannot find native process module {ref.module!r}: {exc}") from None
    if spec is None or spec.origin is None or not spec.has_location:
        raise NativeLoadError(
            f"no Python module {ref.describe()} to run natively; check the module name "
            "(native_modules= or [tool.hyperpy.processes.<name>].module)"
        )
    legacy = _legacy_bindings(spec.origin)
    if legacy is not None:
        # The same compatibility layer a component build puts in front of the module.
        from hyperpy.runtime.kit_bindings import install as install_legacy_bindings

        install_legacy_bindings(legacy)
    parent, _, leaf = ref.module.rpartition(".")
    serial = next(_unique_counter)
    unique_name = f"{parent}.{leaf}__hyperpy{serial}" if parent else f"__hyperpy{serial}__{leaf}"
    fresh_spec = importlib.util.spec_from_file_location(
        unique_name, spec.origin, submodule_search_locations=spec.submodule_search_locations
    )
    if fresh_spec is None or fresh_spec.loader is None:
        raise NativeLoadError(f"cannot load {spec.origin} as a Python module")
    module = importlib.util.module_from_spec(fresh_spec)
    sys.modules[unique_name] = module
    try:
        fresh_spec.loader.exec_module(module)
    except ProcessKilled:
        sys.modules.pop(unique_name, None)
        raise
    except BaseException as exc:
        sys.modules.pop(unique_name, None)
        details = "".join(traceback.format_exception(exc))
        raise NativeLoadError(f"importing {ref.describe()} failed:\n{details}") from None
    return module, unique_name
