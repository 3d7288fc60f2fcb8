"""Fixtures for the component runner tests: the guest components (built once per machine) and runners.

The guests are the modules in `guests/`, built by the shared `component_builds` helper. The compiled
form of each component is cached by the runner's `CompileCache` in `<cache root>/compiled`, so a warm
test session neither runs componentize-py nor Cranelift.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "guests"))  # wit_json + mirror, host side

from component_builds import build_component, cache_root, python_sources
from scripted_host import ScriptedHost

from hyperpy.node.runners.compile_cache import CompileCache
from hyperpy.node.runners.component import ComponentRunner

GUESTS = Path(__file__).resolve().parent / "guests"

# A world that imports an interface no Hyperware node provides (next to everything a process has).
FOREIGN_WORLD_WIT = """\
package hyperpy-test:foreign@0.1.0;

interface weather {
    forecast: func(city: string) -> string;
}

world process-with-foreign-import {
    import weather;
    include hyperware:process/process-v1@1.0.0;
}
"""


@pytest.fixture(scope="session")
def compiled_cache_dir() -> Path:
    return cache_root() / "compiled"


@pytest.fixture(scope="session")
def mirror_wasm() -> Path:
    return build_component(python_sources(GUESTS), "mirror")


@pytest.fixture(scope="session")
def foreign_wasm() -> Path:
    return build_component(
        python_sources(GUESTS, "foreign"),
        "foreign",
        world="process-with-foreign-import",
        world_wit=FOREIGN_WORLD_WIT,
    )


@pytest.fixture(scope="session")
def mirror_runner(mirror_wasm: Path, compiled_cache_dir: Path) -> ComponentRunner:
    return ComponentRunner(mirror_wasm, cache=CompileCache(compiled_cache_dir))


@pytest.fixture
def host() -> ScriptedHost:
    return ScriptedHost()
