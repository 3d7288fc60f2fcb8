"""Shared by every test directory: puts `tests/` itself on `sys.path`.

Why: helpers used by several test directories live here, beside this file (`component_builds`, which
builds the small componentize-py components of the runner, check and node tests). pytest's default
import mode already adds the directory of a conftest outside any package; saying it explicitly keeps
those helpers importable under other import modes too.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS_DIR = str(Path(__file__).resolve().parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)
