"""The raw echo example, built in place once per session.

The component comes from the shared cache (`$HYPERPY_CACHE_DIR`, default `.hyperpy-cache/` at the
repository root), so only the first run on a machine pays for componentize-py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hyperpy.build import BuildResult, build_project

EXAMPLE = Path(__file__).resolve().parents[1]
REPO_ROOT = EXAMPLE.parents[1]


@pytest.fixture(scope="session")
def echo_raw_build() -> BuildResult:
    os.environ.setdefault("HYPERPY_CACHE_DIR", str(REPO_ROOT / ".hyperpy-cache"))
    return build_project(EXAMPLE, progress=False)
