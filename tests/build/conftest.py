"""Shared fixtures for build tests.

Every build here uses one component cache for the whole machine (`$HYPERPY_CACHE_DIR`, default
`.hyperpy-cache/` at the repository root, shared with the other test suites): the cache is keyed by
content, so a copy of `examples/echo_raw` in a temporary directory reuses the component compiled for
the example, and a warm test run never calls componentize-py for it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_copies import REPO_ROOT, copy_echo

from hyperpy.build import BuildResult, build_project


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
def echo_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The raw echo, built once per session in its own directory (component from the shared cache)."""
    return build_project(copy_echo(tmp_path_factory.mktemp("echo") / "echo_raw"), progress=False)


@pytest.fixture
def echo_copy(echo_build: BuildResult, tmp_path: Path) -> Path:
    """A private copy of the built echo project (pkg/, target/ and metadata.json included)."""
    copy = tmp_path / "echo_raw"
    shutil.copytree(echo_build.project.root, copy)
    return copy
