"""Compile a package's components before it is installed, into a cache shared across nodes and runs.

Why: a fresh 18 MB component takes seconds to compile. A node compiles on the process's thread after
"run", so the first request to a just-installed process can wait out its whole timeout (kit uses 15 s)
behind the compiler. `hyperpy run` and the test fixtures therefore compile first, into one cache
directory per machine (instead of each node home's own), so every later node, run and test session
loads the compiled component in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from hyperpy.node.runners.compile_cache import CompileCache
from hyperpy.node.runners.compile_cache_dir import default_cache_dir
from hyperpy.package.archive import PackageZip


def compiled_cache_dir() -> Path:
    """The machine-wide compiled-component cache every node uses by default (see compile_cache_dir)."""
    return default_cache_dir()


def precompile_package(zip_bytes: bytes, cache_dir: Path | None = None) -> int:
    """Compile (or load) every `.wasm` in a package zip; returns how many components it holds.

    Raises `PackageZipError` for a zip that is not a package and `ComponentLoadError` for a wasm file
    wasmtime refuses — the same errors the install would meet a moment later.
    """
    archive = PackageZip(zip_bytes)
    cache = CompileCache(cache_dir if cache_dir is not None else compiled_cache_dir())
    names = [name for name in archive.file_names() if name.endswith(".wasm")]
    for name in names:
        cache.load(archive.read(name), label=name)
    return len(names)
