"""The counter example on the local node, in component and native mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Browser

from hyperpy.testing.harness import HyperpyNode

EXAMPLE = Path(__file__).resolve().parents[1]
VERSION_1 = Path(__file__).resolve().parent / "counter_v1"
COUNTER = "counter:counter:template.os"
BASE = f"/{COUNTER}"

pytestmark = pytest.mark.hyperpy_modes("component", "native")


@pytest.fixture
def counter(hyperpy_node: HyperpyNode) -> HyperpyNode:
    hyperpy_node.install(EXAMPLE)
    hyperpy_node.wait_for_output("counter: ready", timeout=30)
    return hyperpy_node


def test_local_requests_increment_and_read(counter: HyperpyNode) -> None:
    assert counter.request_json(COUNTER, {"Increment": 5}) == 5
    assert counter.request_json(COUNTER, {"Increment": None}) == 6  # the default step
    assert counter.request_json(COUNTER, {"GetCount": None}) == 6
    assert counter.request_json(COUNTER, {"Decrement": 10}) == {"Err": "cannot take 10 from 6"}
    assert counter.request_json(COUNTER, {"Decrement": 2}) == {"Ok": 4}
    assert counter.request_json(COUNTER, "Reset") == 0


def test_http_api_and_page(counter: HyperpyNode) -> None:
    browser = Browser(counter.url)
    answer = browser.fetch("POST", f"{BASE}/api/increment", b"3")
    assert (answer.status, answer.json()) == (200, 3)
    assert answer.headers["Content-Type"] == "application/json"
    assert browser.fetch("POST", f"{BASE}/api/increment", b'{"Increment": 2}').json() == 5  # hyperapp style
    assert browser.fetch("GET", f"{BASE}/api/count").json() == 5
    changes = browser.fetch("GET", f"{BASE}/api/changes?limit=1").json()
    assert changes == [{"by": 2, "source": "http"}]
    page = browser.fetch("GET", f"{BASE}/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert b'Count: <span id="count">5</span>' in page.body


def test_http_errors_are_precise(counter: HyperpyNode) -> None:
    browser = Browser(counter.url)
    wrong_method = browser.fetch("GET", f"{BASE}/api/increment")
    assert wrong_method.status == 405 and wrong_method.headers["Allow"] == "OPTIONS, POST"
    bad_body = browser.fetch("POST", f"{BASE}/api/increment", b'"five"')
    assert bad_body.status == 400 and b'body: expected an integer, got "five"' in bad_body.body
    refused = browser.fetch("POST", f"{BASE}/api/decrement", b"1")
    assert (refused.status, refused.json()) == (200, {"Err": "cannot take 1 from 0"})


def test_reset_is_not_reachable_over_http(counter: HyperpyNode) -> None:
    answer = Browser(counter.url).fetch("POST", f"{BASE}/api", b'{"Reset": null}')
    assert answer.status == 404


def test_count_survives_a_node_restart(counter: HyperpyNode) -> None:
    assert counter.request_json(COUNTER, {"Increment": 7}) == 7
    counter.restart()
    assert counter.request_json(COUNTER, {"GetCount": None}) == 7


def test_upgrade_from_version_1_keeps_the_count(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(VERSION_1)
    assert hyperpy_node.request_json(COUNTER, {"Increment": 4}) == 4
    stored = json.loads(hyperpy_node.get_state(COUNTER) or b"{}")
    assert (stored["version"], stored["fields"]) == (1, {"value": 4})
    hyperpy_node.install(EXAMPLE)
    assert hyperpy_node.request_json(COUNTER, {"GetCount": None}) == 4
    assert hyperpy_node.request_json(COUNTER, {"Increment": 1}) == 5
    stored = json.loads(hyperpy_node.get_state(COUNTER) or b"{}")
    assert stored["version"] == 2 and stored["fields"]["count"] == 5
