"""Helpers for build tests: copies of the raw echo example (see conftest.py for the shared cache)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ECHO_EXAMPLE = REPO_ROOT / "examples" / "echo_raw"
SOURCE_ONLY = shutil.ignore_patterns("pkg", "target", "__pycache__", ".pytest_cache", "tests")


def copy_echo(destination: Path) -> Path:
    """A fresh copy of the raw echo example's sources (no pkg/, target/, tests or metadata.json)."""
    shutil.copytree(ECHO_EXAMPLE, destination, ignore=SOURCE_ONLY)
    (destination / "metadata.json").unlink(missing_ok=True)
    return destination
