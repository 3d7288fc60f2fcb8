"""A real browser for tests: headless Debian Chromium driven by Playwright.

Shared by the tests that load a process's UI (tests/modules) and the page built on the generated
client (tests/stubs). Use it as a module-scoped fixture:
`browser = pytest.fixture(scope="module", name="browser")(chromium)`. Skips the test where Chromium
or Playwright is missing (`build_tools/setup.sh` installs both).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Iterator[Any]:
    """Launch Chromium for the duration of the fixture, or skip when it cannot be launched here."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
