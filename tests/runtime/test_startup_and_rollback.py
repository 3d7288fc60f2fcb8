"""What a new user relies on at start and after errors, on the local node in both modes.

* "installed" means "answers": `install` returns once HTTP paths are bound and the async `@init`
  finished; requests that arrive earlier are held and served after init (never before it).
* an `@init` that raises is a crash with the app's traceback, not a process serving a half set-up app.
* a handler that raises leaves the state as it was before it (in memory and on disk).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hyperpy.node import ProcessStartError
from hyperpy.testing.harness import HyperpyNode

PROJECT = Path(__file__).parent / "apps" / "starter"
STARTER = "starter:starter:test.os"

pytestmark = pytest.mark.hyperpy_modes("component", "native")


def ask(node: HyperpyNode, body: Any) -> tuple[Any, str | None]:
    response = node.request(STARTER, json.dumps(body))
    return json.loads(response.body), response.metadata


def test_install_returns_when_http_paths_are_bound_and_init_has_finished(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT)
    # no wait, no retry: the path is bound and the async @init (0.3 s) has run
    with urllib.request.urlopen(f"{hyperpy_node.url}/{STARTER}/api/setups", timeout=10) as answer:
        assert json.load(answer) == 1
    assert "starter: ready (bound: /api" in hyperpy_node.output(all=True)


def test_the_http_client_and_restart_wait_until_the_app_answers(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT)
    answer = hyperpy_node.http.post(f"/{STARTER}/api/add", json={"Add": ["x", False]})
    assert answer.status == 200 and answer.json() == [{"name": "x"}]
    assert hyperpy_node.http.get(f"{STARTER}/api/nothing").status == 404
    hyperpy_node.restart()  # returns when the app answers again; init ran a second time
    assert hyperpy_node.http.get(f"/{STARTER}/api/setups").json() == 2
    hyperpy_node.wait_for_output("starter: ready (bound:")  # this boot's line, not the first one's
    with pytest.raises(TimeoutError):
        hyperpy_node.wait_for_output("installed starter:test.os", timeout=0.2)  # only before restart


def test_requests_that_arrive_during_init_wait_for_it(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT, ready_timeout=None)  # returns at once, as Hyperdrive's app store
    assert ask(hyperpy_node, "GetSetups") == (1, None)  # held until init had finished, then served


def test_an_init_that_raises_is_a_crash_that_install_reports(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT)
    assert ask(hyperpy_node, {"Arm": True}) == (True, None)
    with pytest.raises(ProcessStartError) as failure:
        hyperpy_node.install(PROJECT)  # the reinstalled process reads fail_on_start and its init raises
    message = str(failure.value)
    assert f"{STARTER} crashed while starting" in message
    assert "the database could not be opened" in message
    printed = hyperpy_node.wait_for_output("starter: @init handler 'start' failed", timeout=10).text
    assert "starter.py" in printed  # the traceback points at the app's own file


def test_a_raising_handler_rolls_the_state_back(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT)
    assert ask(hyperpy_node, {"Add": ["a", False]}) == ([{"name": "a"}], None)
    result, metadata = ask(hyperpy_node, {"Add": ["b", True]})
    assert result == {"Err": "ValueError: refused b"} and metadata is not None
    result, metadata = ask(hyperpy_node, {"AddLater": ["c", True]})
    assert result == {"Err": "ValueError: refused c later"}
    assert ask(hyperpy_node, "GetItems") == ([{"name": "a"}], None)
    assert ask(hyperpy_node, "GetSetups") == (1, None)
    stored = json.loads(hyperpy_node.get_state(STARTER) or b"{}")
    assert stored["fields"]["items"] == [{"name": "a"}]
    hyperpy_node.restart()
    assert ask(hyperpy_node, "GetItems") == ([{"name": "a"}], None)


def test_a_call_to_a_process_that_is_not_there_fails_at_once_saying_why(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT)
    # the call's own timeout is 60 s; the test's request waits 10 s: only an immediate refusal passes
    answer, _ = ask(hyperpy_node, {"TryCall": ["nothere:starter:test.os", 60]})
    assert answer.startswith("refused: the kernel refused the call GetSetups at once")
    assert "nothere:starter:test.os is not running on fake.dev" in answer
    assert "lacks the capability to message it" in answer


def test_http_success_statuses_and_json_errors(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(PROJECT)
    items = f"/{STARTER}/api/items"
    created = hyperpy_node.http.post(items, json={"Create": "x"})
    assert created.status == 201 and created.json() == {"name": "x"}
    cleared = hyperpy_node.http.delete(items)
    assert cleared.status == 204 and cleared.body == b"" and cleared.header("Content-Type") is None
    wrong = hyperpy_node.http.post(items, json={"Create": 5}, headers={"Accept": "application/json"})
    assert wrong.status == 400 and wrong.header("Content-Type") == "application/json"
    error = wrong.json()
    assert error["status"] == 400 and error["error"] == "Bad Request"
    assert "expected a str, got 5" in error["detail"]
    plain = hyperpy_node.http.post(items, json={"Create": 5})  # no JSON in Accept: the text as before
    assert plain.status == 400 and plain.header("Content-Type") == "text/plain; charset=utf-8"
    assert "expected a str, got 5" in plain.text
