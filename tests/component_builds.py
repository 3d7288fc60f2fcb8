"""Small test components built with componentize-py, each once per machine per content hash.

Why one helper: componentize-py needs 5-10 s and ~0.4 GB per component, and the runner, check and
node tests all build small processes. Every build is keyed by the sha256 of everything that goes into
it - the Python sources, hyperpy's `hyperware.wit` plus an optional extra WIT world, the world name,
the app module and componentize-py's version - and stored as
`<cache root>/test-components/<module>-<key>.wasm`. The cache root is `$HYPERPY_CACHE_DIR`, else
`.hyperpy-cache/` at the repository root (shared with `hyperpy build`'s caches), so a warm test
session runs componentize-py not at all.

Builds go through `hyperpy.build.componentize`, the driver `hyperpy build` uses: it hands
componentize-py exactly the sources given (its command line would add the host's site-packages). A
component is built once even when several threads or test sessions ask for it at the same moment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from hyperpy.build.componentize import (
    ComponentizeFailure,
    ComponentizeJob,
    componentize_py_version,
    run_componentize,
)
from hyperpy.package.wit import WIT_FILE_NAME, WIT_WORLD, wit_file

try:  # another test session building the same component waits for it instead of building it too
    import fcntl
except ImportError:  # pragma: no cover - Windows: both build, the atomic rename keeps the result whole
    fcntl = None  # type: ignore[assignment]

REPO_ROOT = Path(__file__).resolve().parents[1]

_key_locks: dict[str, threading.Lock] = {}
_key_locks_guard = threading.Lock()


def cache_root() -> Path:
    """The cache every test suite shares: `$HYPERPY_CACHE_DIR`, else `.hyperpy-cache/` in the repo."""
    return Path(os.environ.get("HYPERPY_CACHE_DIR") or REPO_ROOT / ".hyperpy-cache")


def components_dir() -> Path:
    """Where built test components are kept (`<cache root>/test-components`)."""
    return cache_root() / "test-components"


def python_sources(directory: Path, *modules: str) -> dict[str, str]:
    """`{file name: text}` of `modules` (names without `.py`) in `directory`, or of all its `.py` files."""
    paths = [directory / f"{module}.py" for module in modules] or sorted(directory.glob("*.py"))
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def build_component(
    sources: Mapping[str, str], module: str, *, world: str = WIT_WORLD, world_wit: str | None = None
) -> Path:
    """The component of `module` (one of `sources`, file name -> text) for `world`, built at most once.

    Without `world_wit` the world comes from hyperpy's own `hyperware.wit`. `world_wit` is an extra WIT
    package whose world includes `hyperware:process` (available to it as a dependency).
    """
    hyperware = wit_file().read_text(encoding="utf-8")
    identity = [dict(sources), module, world, world_wit, hyperware, componentize_py_version()]
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
    output = components_dir() / f"{module}-{key}.wasm"
    with _key_lock(key), _cross_process_lock(output):
        if not output.is_file():
            _componentize(sources, module, world, world_wit, hyperware, output)
    return output


def _componentize(
    sources: Mapping[str, str], module: str, world: str, world_wit: str | None, hyperware: str, output: Path
) -> None:
    with tempfile.TemporaryDirectory(prefix="hyperpy-test-component-") as scratch:
        source_dir = Path(scratch) / "src"
        source_dir.mkdir()
        for name, text in sources.items():
            (source_dir / name).write_text(text, encoding="utf-8")
        wit_dir = Path(scratch) / "wit"
        hyperware_dir = wit_dir if world_wit is None else wit_dir / "deps" / "hyperware"
        hyperware_dir.mkdir(parents=True)
        (hyperware_dir / WIT_FILE_NAME).write_text(hyperware, encoding="utf-8")
        if world_wit is not None:
            (wit_dir / "world.wit").write_text(world_wit, encoding="utf-8")
        partial = output.with_name(f".{output.name}.{os.getpid()}.{threading.get_ident()}.partial")
        job = ComponentizeJob(str(wit_dir), world, (str(source_dir),), module, str(partial))
        try:
            run_componentize(job)
        except ComponentizeFailure as exc:
            partial.unlink(missing_ok=True)
            raise RuntimeError(
                f"componentize-py failed to build test component {module} (world {world}):\n{exc.report}"
            ) from exc
        partial.replace(output)  # atomic: nobody ever sees half a component


def _key_lock(key: str) -> threading.Lock:
    with _key_locks_guard:
        return _key_locks.setdefault(key, threading.Lock())


@contextlib.contextmanager
def _cross_process_lock(output: Path) -> Iterator[None]:
    output.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(output.with_name(f".{output.name}.lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the handle closes
        yield
