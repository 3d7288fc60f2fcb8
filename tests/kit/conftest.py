"""Fixtures for kit-layout projects: private copies of the fixture projects under `projects/`.

The fixtures are written for these tests in the layout and bindings style of kit's Python templates
(`kit new --language python`); they are copied before use so a build never writes into the source
tree. Builds use the machine-wide component cache ($HYPERPY_CACHE_DIR, default `.hyperpy-cache/`), so
a copy reuses the component compiled for an identical copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kit_fixtures import REPO_ROOT, copy_project


@pytest.fixture(scope="session", autouse=True)
def shared_component_cache() -> Iterator[Path]:
    previous = os.environ.get("HYPERPY_CACHE_DIR")
    root = Path(previous) if previous else REPO_ROOT / ".hyperpy-cache"
    os.environ["HYPERPY_CACHE_DIR"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("HYPERPY_CACHE_DIR", None)
    else:
        os.environ["HYPERPY_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def kit_chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the kit-style chat project for the session (built at most once, by whoever asks)."""
    return copy_project("chat", tmp_path_factory.mktemp("kit-chat"))
