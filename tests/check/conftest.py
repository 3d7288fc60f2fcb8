"""Fixtures for `hyperpy check` tests: real components, each built once per machine.

componentize-py takes ~7 s per component, so every test component is built by the shared
`component_builds` helper (cached on disk under `.hyperpy-cache/test-components/` or
`$HYPERPY_CACHE_DIR`, keyed by everything that goes into it). Inspection facts are cached by
`hyperpy.build.component_abi` in the same cache root, so a warm test run compiles nothing.

Tiny hand-written components (WAT) cover the cases componentize-py cannot produce (core modules,
forbidden WebAssembly features, odd exports); they compile in milliseconds.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from check_samples import PackageFactory, manifest_entry, metadata_document
from component_builds import build_component, cache_root, python_sources

RAW_ECHO_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "echo_raw"

FOREIGN_WORLD_WIT = """\
package test:foreign@0.1.0;

interface lookup {
    find: func(key: string) -> string;
}

world with-foreign {
    import lookup;
    include hyperware:process/process-v1@1.0.0;
}
"""

FOREIGN_SOURCE = """\
class WitWorld:
    def init(self, our: str) -> None:
        from wit_world.imports import lookup

        lookup.find(our)
"""

WRONG_EXPORT_WIT = """\
package test:wrong-export@0.1.0;

world wrong-init {
    include hyperware:process/lib@1.0.0;
    export init: func(our: string) -> string;
}
"""

WRONG_EXPORT_SOURCE = """\
class WitWorld:
    def init(self, our: str) -> str:
        return our
"""


@pytest.fixture(scope="session", autouse=True)
def _shared_cache_dir() -> Iterator[None]:
    """Point hyperpy's caches at the repository cache so inspection facts survive between runs."""
    previous = os.environ.get("HYPERPY_CACHE_DIR")
    os.environ["HYPERPY_CACHE_DIR"] = str(cache_root())
    yield
    if previous is None:
        os.environ.pop("HYPERPY_CACHE_DIR", None)
    else:
        os.environ["HYPERPY_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def good_wasm() -> Path:
    """The raw echo example's process, built straight with componentize-py against hyperpy's WIT."""
    return build_component(python_sources(RAW_ECHO_EXAMPLE, "echo"), "echo")


@pytest.fixture(scope="session")
def foreign_import_wasm() -> Path:
    """A process whose world imports an interface no Hyperware node provides."""
    return build_component(
        {"app.py": FOREIGN_SOURCE}, "app", world="with-foreign", world_wit=FOREIGN_WORLD_WIT
    )


@pytest.fixture(scope="session")
def wrong_export_wasm() -> Path:
    """A process exporting `init: func(our: string) -> string` instead of `init: func(our: string)`."""
    return build_component(
        {"app.py": WRONG_EXPORT_SOURCE}, "app", world="wrong-init", world_wit=WRONG_EXPORT_WIT
    )


@pytest.fixture
def make_package(tmp_path: Path) -> PackageFactory:
    """Write a package directory: `pkg/manifest.json`, the given wasm files, `metadata.json`.

    Wasm files are hard-linked from the cache when possible (they are ~18 MB each).
    """

    def make(
        wasm: dict[str, Path],
        manifest: Any = None,
        metadata_doc: Any = None,
        *,
        with_metadata: bool = True,
        name: str = "echo",
    ) -> Path:
        package = tmp_path / name
        pkg = package / "pkg"
        pkg.mkdir(parents=True)
        manifest_data = [manifest_entry()] if manifest is None else manifest
        text = manifest_data if isinstance(manifest_data, str) else json.dumps(manifest_data, indent=4)
        (pkg / "manifest.json").write_text(text, encoding="utf-8")
        for file_name, source in wasm.items():
            try:
                os.link(source, pkg / file_name)
            except OSError:
                shutil.copyfile(source, pkg / file_name)
        if with_metadata:
            document = metadata_document() if metadata_doc is None else metadata_doc
            (package / "metadata.json").write_text(json.dumps(document, indent=4), encoding="utf-8")
        return package

    return make
