"""Component builds of the node tests' raw processes, once per machine.

Each process module under `processes/` is built by the shared `component_builds` helper (cached under
`.hyperpy-cache/test-components/` or `$HYPERPY_CACHE_DIR`, keyed by its source, the WIT and
componentize-py's version). Builds run in parallel, two at a time: each takes ~0.4 GB.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from component_builds import build_component, python_sources
from component_builds import components_dir as cache_root  # the node tests keep `compiled/` beneath it

PROCESSES = Path(__file__).resolve().parent / "processes"

__all__ = ["PROCESSES", "build_all", "cache_root", "component_path"]


def component_path(module: str) -> Path:
    """The built component for `processes/<module>.py`, building it if this machine has not yet."""
    return build_component(python_sources(PROCESSES, module), module)


def build_all(modules: list[str]) -> None:
    """Build several components, two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(component_path, modules))
