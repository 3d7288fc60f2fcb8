"""A real browser (headless Debian Chromium driven by Playwright) uses a process's UI on the node.

The page is the modprobe package's `pkg/ui/index.html`, which the process reads from its drive and
binds at `/` with `cache: true` and `authenticated: true`. The browser meets the login page, logs in
(the local node takes any password), gets the UI, runs `/our.js` and fetches data from the process.
Skipped where Chromium or Playwright is missing (`build_tools/setup.sh` installs both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import chromium
from node_probe import PROBE, Probe, bind

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.hyperpy_modes("native", "component")

browser = pytest.fixture(scope="module", name="browser")(chromium)


def test_browser_logs_in_loads_the_bound_ui_and_gets_data(
    browser: Any, probe: Probe, hyperpy_node: Any, modprobe_project: Path
) -> None:
    served = probe.op(
        op="serve_file",
        vfs_path="/modprobe:test.os/pkg/ui/index.html",
        bind="/",
        mime="text/html",
        authenticated=True,
    )
    assert served["body"] == {"Ok": None}
    assert bind(probe, "/api/hello")["body"] == {"Ok": None}
    page = browser.new_page()
    try:
        page.goto(f"{hyperpy_node.url}/{PROBE}/")
        page.fill("#password", "anything")
        page.click("button[type=submit]")
        page.wait_for_selector("#title", timeout=15_000)
        assert page.text_content("#node") == "fake.dev"
        assert page.text_content("#process") == PROBE
        page.wait_for_function("document.getElementById('data').textContent.startsWith('{')", timeout=15_000)
        data = page.evaluate("JSON.parse(document.getElementById('data').textContent)")
        assert data["request"]["query_params"] == {"from": "browser"}
        assert data["request"]["bound_path"] == f"/{PROBE}/api/hello"
        assert any(cookie["name"] == "hyperware-auth_fake.dev" for cookie in page.context.cookies())
    finally:
        page.close()
