"""The generated UI client against a running node, in a real browser (headless Chromium).

The fixture app's HTTP handlers take arguments from the path (`/api/items/{item_id}/toggle`, a
`{name:path}` placeholder), the query string (`Query("q")`), a header (`Header("x-token")`) and the
body; others take no argument, answer with a `Result`, or with a raw `Response`. `hyperpy stubs`
writes `ui/caller-utils.js`; the app serves `ui/`, and its page calls every generated function and
prints what came back. So this checks the generated client end to end: percent-encoding into the
URL and headers, body shapes, GET handlers' arguments in the query string, `Ok` unwrapping and `Err`
raising, and raw responses — plus that the TypeScript twin compiles under `tsc --strict`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from browser import chromium
from click.testing import CliRunner

from hyperpy.cli import main
from tests.stubs.conftest import FIXTURES

pytestmark = pytest.mark.hyperpy_modes("native", "component")

PROCESS = "clients:clients:template.os"


@pytest.fixture(scope="module")
def clients_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clients") / "clients"
    shutil.copytree(
        FIXTURES / "clients_pkg", root, ignore=shutil.ignore_patterns("target", "pkg", "__pycache__")
    )
    result = CliRunner().invoke(main, ["stubs", str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "ui" / "caller-utils.js").is_file()
    return root


browser = pytest.fixture(scope="module", name="browser")(chromium)


def _wait_until_served(base: str) -> None:
    """Wait until the freshly installed process has bound its page and its API (a first component
    start compiles it; asking earlier gets a 404, or the bare prefix before the page is bound)."""
    count = urllib.request.Request(
        f"{base}/api/count",
        data=b'{"Count":null}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{base}/", timeout=10) as page:
                ready = page.status == 200 and page.headers.get_content_type() == "text/html"
            with urllib.request.urlopen(count, timeout=10) as answer:
                ready = ready and answer.status == 200
            if ready:
                return
        except urllib.error.URLError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base}/ was never served")


def test_a_ui_page_calls_every_kind_of_handler_through_the_generated_client(
    browser: Any, hyperpy_node: Any, clients_project: Path
) -> None:
    hyperpy_node.install(clients_project)
    _wait_until_served(f"{hyperpy_node.url}/{PROCESS}")
    page = browser.new_page()
    try:
        page.goto(f"{hyperpy_node.url}/{PROCESS}/")
        page.wait_for_function("document.getElementById('results').textContent !== 'running'", timeout=30_000)
        results = json.loads(page.text_content("#results") or "{}")
    finally:
        page.close()
    item = {"id": 1, "name": "milk & eggs/bread", "done": False, "tags": ["food", "a b"]}
    assert results["add"] == {"ok": item}  # two body parameters: {"AddItem": [name, tags]}
    assert results["add2"] == {"ok": {"id": 2, "name": "soap", "done": False, "tags": []}}
    # path parameter, Ok unwrapped
    assert results["toggle"] == {"ok": {**item, "done": True}}
    # Err raised as ApiError with the Err value as details
    assert results["toggle_missing"] == {"error": "API returned an error", "details": "no item 99"}
    # path parameter + body parameter on PUT
    assert results["rename"] == {"ok": {"id": 2, "name": "soap bar", "done": False, "tags": []}}
    assert results["get"] == {"ok": {**item, "done": True}}  # GET with a path parameter
    # query parameters (one renamed to ?q=), GET
    assert results["search"] == {
        "ok": [{**item, "done": True}, {"id": 2, "name": "soap bar", "done": False, "tags": []}]
    }
    assert results["search_default"] == {"ok": [{"id": 2, "name": "soap bar", "done": False, "tags": []}]}
    assert results["search_one"] == {"ok": [{**item, "done": True}]}  # limit=1 reached the handler
    assert results["tagged"] == {"ok": [1]}  # a GET handler's plain parameter travels in the query string
    assert results["count"] == {"ok": 2}  # zero arguments: {"Count": null}
    assert results["whoami"] == {"ok": "token s3cret-42"}  # header parameter
    assert results["file"] == {"ok": "file docs/a b.txt"}  # {name:path}, spaces encoded; raw Response


def test_the_typescript_client_with_url_parameters_compiles_strictly(
    clients_project: Path, tsc: Path
) -> None:
    work = clients_project.parent / "tsc"
    work.mkdir(exist_ok=True)
    shutil.copy(clients_project / "ui" / "caller-utils.ts", work / "caller-utils.ts")
    result = subprocess.run(
        [str(tsc), "--strict", "--noEmit", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom",
         "caller-utils.ts"],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
