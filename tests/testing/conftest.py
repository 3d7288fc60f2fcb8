"""The plugin is tested with pytester: each test writes a project and a test file and runs pytest there."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Enable pytester for this directory only (a nested conftest may not set `pytest_plugins`)."""
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
