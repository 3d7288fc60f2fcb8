"""The `hyperpy` pytest plugin (entry point `pytest11: hyperpy`).

pytest loads this module in every session of a project that has hyperpy installed, so it must import
cheaply and never fail: the node and the build are imported only when a fixture asks for them.
"""

from __future__ import annotations

import pytest

MODE_MARKER = "hyperpy_modes"


def pytest_configure(config: pytest.Config) -> None:
    """Declare the plugin's marker so `--strict-markers` projects can use it."""
    config.addinivalue_line(
        "markers",
        f"{MODE_MARKER}(*modes): run a test once per process runner mode ('component', 'native').",
    )
