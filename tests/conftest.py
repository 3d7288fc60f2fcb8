"""Shared by every test directory: puts `tests/` itself on `sys.path`.

Why: helpers used by several test directories live here, beside this file (`component_builds`, which
builds the small componentize-py components of the runner, check and node tests). pytest's default
import mode already adds the directory of a conftest outside any package; saying it explicitly keeps
those helpers importable under other import modes too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TESTS_DIR = str(Path(__file__).resolve().parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

# Every `hyperpy run` a test starts publishes its node in the PKI of its network (docs/node.md, "The
# PKI"). A private network per test session keeps them from replacing the entries of nodes the
# developer runs at the same time (they all like the name fake.dev), and concurrent sessions apart.
os.environ.setdefault("HYPERPY_NETWORK", f"pytest-{os.getpid()}")
