"""Helpers for stub tests: generate a stub module from a fixture API and import it."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from hyperpy.build.witgen.reader import read_api_dir
from hyperpy.build.witgen.stubs_python import generate_python_stubs

FIXTURES = Path(__file__).parent / "fixtures"


def import_generated(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def notes_stub(tmp_path: Path) -> Iterator[ModuleType]:
    """The Python stub module generated from the hand-written Rust-style `notes` API."""
    document = read_api_dir(FIXTURES / "rust_notes" / "api")
    interface = document.interface("notes")
    assert interface is not None
    path = tmp_path / "notes.py"
    path.write_text(generate_python_stubs(interface, document, "notes"), encoding="utf-8")
    module = import_generated(path, f"notes_stub_{tmp_path.name}")
    yield module
    sys.modules.pop(module.__name__, None)


def _cache_root() -> Path:
    configured = os.environ.get("HYPERPY_CACHE_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / ".hyperpy-cache"


@pytest.fixture(scope="session")
def tsc() -> Path:
    """The TypeScript compiler, installed from npm once per machine into the hyperpy cache."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node/npm not installed; the TypeScript client check needs them")
    prefix = _cache_root() / "npm-typescript"
    compiler = prefix / "node_modules" / ".bin" / "tsc"
    if not compiler.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "typescript@5"],
            check=True,
            capture_output=True,
        )
    return compiler
