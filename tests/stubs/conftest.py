"""Helpers for stub tests: generate a stub module from a fixture API and import it."""

from __future__ import annotations

import importlib.util
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
