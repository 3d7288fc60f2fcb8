"""Fixtures for kit-layout projects: private copies of the fixture projects under `projects/`.

The fixtures are written for these tests in the layout and bindings style of kit's Python templates
(`kit new --language python`); they are copied before use so a build never writes into the source
tree. Builds use the machine-wide component cache ($HYPERPY_CACHE_DIR, default `.hyperpy-cache/`), so
a copy reuses the component compiled for an identical copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from component_builds import cache_root
from kit_fixtures import copy_project


@pytest.fixture(scope="session", autouse=True)
def shared_component_cache() -> Iterator[Path]:
    """Builds here use the machine-wide component cache (`component_builds.cache_root`)."""
    root = cache_root()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HYPERPY_CACHE_DIR", str(root))
        yield root


@pytest.fixture(scope="session")
def kit_chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the kit-style chat project for the session (built at most once, by whoever asks)."""
    return copy_project("chat", tmp_path_factory.mktemp("kit-chat"))
