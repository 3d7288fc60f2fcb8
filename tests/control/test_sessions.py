"""`/v1/cast` -> `/v1/sessions/status` -> `/v1/sessions/kill` over real HTTP, in Hayride's shape.

A short script (echo) runs to its answer; a long-running one (`m ... -a 30` to a process that never
answers) stays active until killed. Bodies a web page could send are refused.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperpy.node import Node
from hyperpy.node.control.surface import node_with_control_surface

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, str]]:
    node, surface = node_with_control_surface("fake.dev", home=tmp_path_factory.mktemp("sessions"), port=0)
    node.start()
    try:
        node.install(EXAMPLES / "counter", mode="native")
        yield node, surface.url
    finally:
        node.close()


def post(
    url: str, path: str, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> tuple[int, Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def cast(url: str, name: str, args: list[str], function: str = "") -> str:
    status, answer = post(
        url, "/v1/cast", {"data": {"cast": {"name": name, "function": function, "args": args}}}
    )
    assert status == 200, answer
    session_id = answer["data"]["session-id"]
    assert isinstance(session_id, str) and session_id
    return session_id


def output(url: str, session_id: str) -> dict[str, Any]:
    status, answer = post(url, "/v1/sessions/output", {"data": {"session-id": session_id}})
    assert status == 200, answer
    return dict(answer["data"]["session-output"])


def active(url: str, session_id: str) -> bool:
    status, answer = post(url, "/v1/sessions/status", {"data": {"session-id": session_id}})
    assert status == 200, answer
    return bool(answer["data"]["session-status"]["active"])


def wait_until_inactive(url: str, session_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while active(url, session_id):
        assert time.monotonic() < deadline, output(url, session_id)
        time.sleep(0.05)
    return output(url, session_id)


def test_a_short_script_answers_and_ends(served: tuple[Node, str]) -> None:
    _node, url = served
    session_id = cast(url, "echo", ["hello", "world"])
    result = wait_until_inactive(url, session_id)
    assert result["answer"] == "hello world"
    assert result["error"] is None


def test_a_long_running_script_stays_active_until_killed(served: tuple[Node, str]) -> None:
    node, url = served
    session_id = cast(url, "m:terminal:sys", ["our@terminal:terminal:sys", "'never answered'", "-a", "30"])
    deadline = time.monotonic() + 20
    while "terminal:sys: Awaiting response for 30s" not in output(url, session_id)["output"]:
        assert time.monotonic() < deadline, output(url, session_id)
        time.sleep(0.05)
    assert active(url, session_id)
    status, answer = post(url, "/v1/sessions/kill", {"data": {"session-id": session_id}})
    assert (status, answer) == (200, {"data": {"session-status": {"active": False}}})
    assert not active(url, session_id)
    assert output(url, session_id)["answer"] is None
    assert not [p for p in node.processes() if p.id.package_name == "terminal"]


def test_a_framework_handler_is_cast_with_string_arguments(served: tuple[Node, str]) -> None:
    _node, url = served
    first = wait_until_inactive(url, cast(url, "counter:counter:template.os", ["5"], function="increment"))
    assert first["error"] is None and json.loads(first["answer"]) >= 5
    again = wait_until_inactive(url, cast(url, "counter:counter:template.os", ["2"], function="increment"))
    assert json.loads(again["answer"]) == json.loads(first["answer"]) + 2
    bad = wait_until_inactive(url, cast(url, "counter:counter:template.os", ["many"], function="increment"))
    assert "expected" in json.loads(bad["answer"])["Err"]


def test_bad_casts_and_unknown_sessions_are_refused(served: tuple[Node, str]) -> None:
    _node, url = served
    status, answer = post(url, "/v1/cast", {"data": {"cast": {"name": "nope", "function": "", "args": []}}})
    assert status == 404 and "'nope' not found, either as an alias or process ID" in answer["error"]
    status, answer = post(url, "/v1/cast", {"data": {"cast": {"name": "echo", "args": [1]}}})
    assert status == 400 and "cast.args" in answer["error"]
    status, answer = post(url, "/v1/cast", {"cast": {}})
    assert status == 400
    status, answer = post(url, "/v1/cast", None, raw=b"{not json")
    assert status == 400 and "not JSON" in answer["error"]
    status, answer = post(url, "/v1/sessions/status", {"data": {"session-id": "no-such-session"}})
    assert status == 404
    status, answer = post(url, "/v1/cast", {"data": {"cast": {"name": "a:b:c", "function": "f", "args": []}}})
    assert status == 404 and "no process a:b:c" in answer["error"]


def test_what_a_web_page_could_send_is_refused(served: tuple[Node, str]) -> None:
    _node, url = served
    body = {"data": {"cast": {"name": "echo", "function": "", "args": ["x"]}}}
    status, answer = post(url, "/v1/cast", body, headers={"Origin": "https://evil.example"})
    assert status == 403 and "cross-site" in answer["error"]
    status, answer = post(url, "/v1/cast", body, headers={"Content-Type": "text/plain"})
    assert status == 403 and "application/json" in answer["error"]
    status, answer = post(url, "/v1/cast", body, headers={"Host": "rebound.example:8080"})
    assert status == 403 and "Host" in answer["error"]
    status, _ = post(url, "/v1/cast", body, headers={"Origin": url})
    assert status == 200
