"""Component builds of the node tests' raw processes, once per machine.

componentize-py needs several seconds per component, so each process module under `processes/` is
built once and cached under `.hyperpy-cache/test-components/` (or `$HYPERPY_CACHE_DIR`), keyed by the
sha256 of its source, the WIT and componentize-py's version. Builds run in parallel (two at a time:
each takes ~0.4 GB).
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hyperpy.build.componentize import ComponentizeJob, componentize_py_version, run_componentize
from hyperpy.package.wit import WIT_WORLD, wit_dir, wit_file

PROCESSES = Path(__file__).resolve().parent / "processes"
REPO_ROOT = Path(__file__).resolve().parents[2]

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def cache_root() -> Path:
    return Path(os.environ.get("HYPERPY_CACHE_DIR") or REPO_ROOT / ".hyperpy-cache") / "test-components"


def _key(module: str) -> str:
    digest = hashlib.sha256()
    for part in (
        (PROCESSES / f"{module}.py").read_bytes(),
        wit_file().read_bytes(),
        componentize_py_version().encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:24]


def component_path(module: str) -> Path:
    """The built component for `processes/<module>.py`, building it if this machine has not yet."""
    with _locks_guard:
        lock = _locks.setdefault(module, threading.Lock())
    with lock:
        output = cache_root() / f"node-{module}-{_key(module)}.wasm"
        if not output.exists():
            partial = output.with_name(output.name + ".partial.wasm")
            run_componentize(
                ComponentizeJob(
                    wit_dir=str(wit_dir()),
                    world=WIT_WORLD,
                    python_path=(str(PROCESSES),),
                    app_module=module,
                    output=str(partial),
                )
            )
            partial.replace(output)
        return output


def build_all(modules: list[str]) -> None:
    """Build several components, two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(component_path, modules))
