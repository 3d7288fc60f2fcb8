"""Helpers for the kit-layout tests: where the fixture projects live and how to copy them."""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECTS = Path(__file__).resolve().parent / "projects"
REPO_ROOT = Path(__file__).resolve().parents[2]


def copy_project(name: str, destination: Path) -> Path:
    """A copy of `projects/<name>` without build outputs."""
    target = destination / name
    shutil.copytree(
        PROJECTS / name, target, ignore=shutil.ignore_patterns("target", "*.wasm", "api.zip", "__pycache__")
    )
    return target
