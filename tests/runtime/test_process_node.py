"""The framework runtime on the real local node, in native and component mode.

The probe package (tests/runtime/apps/probe) runs the same app as two processes, `probe` and
`peer`, so these tests cover dispatch, answers and errors, concurrency (answers that become ready
while another request is the kernel's prompting message), calls between processes with their
failure kinds, state saving and restoring, and 1,000 calls in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hyperpy.testing.harness import HyperpyNode

PROJECT = Path(__file__).parent / "apps" / "probe"
PROBE = "probe:probe:test.os"
PEER = "peer:probe:test.os"
OTHER = {PROBE: PEER, PEER: PROBE}  # each may message the other, so it plays the client of the other

pytestmark = pytest.mark.hyperpy_modes("component", "native")


def ask(node: HyperpyNode, body: Any, *, process: str = PROBE, timeout: int = 10) -> tuple[Any, str | None]:
    """Send a request like a client process and return (decoded JSON body, metadata)."""
    response = node.node.inject(process, json.dumps(body), expects_response=timeout, source=OTHER[process])
    assert response is not None
    return json.loads(response.body), response.metadata


def value(node: HyperpyNode, body: Any, *, process: str = PROBE, timeout: int = 10) -> Any:
    result, metadata = ask(node, body, process=process, timeout=timeout)
    assert metadata is None, f"{body} answered an error: {result} {metadata}"
    return result


@pytest.fixture
def probe(hyperpy_node: HyperpyNode) -> HyperpyNode:
    hyperpy_node.install(PROJECT)
    hyperpy_node.wait_for_output(f"probe: ready as fake.dev@{PROBE}", timeout=30)
    hyperpy_node.wait_for_output(f"peer: ready as fake.dev@{PEER}", timeout=30)
    return hyperpy_node


def test_sync_handler_answers_and_state_is_saved_before_the_answer(probe: HyperpyNode) -> None:
    assert value(probe, {"Increment": 5}) == 5
    assert value(probe, {"Increment": 2}) == 7
    stored = json.loads(probe.get_state(PROBE) or b"{}")
    assert stored["fields"]["count"] == 7


def test_dataclass_arguments_and_results_cross_the_wire(probe: HyperpyNode) -> None:
    assert value(probe, {"AddTally": {"label": "a", "total": 2}}) == [{"label": "a", "total": 2}]
    assert value(probe, {"AddTally": {"label": "b"}}) == [
        {"label": "a", "total": 2},
        {"label": "b", "total": 0},
    ]


def test_async_handler_keeps_its_own_source_across_awaits(probe: HyperpyNode) -> None:
    assert value(probe, {"SlowEcho": ["hi", 0.05]}) == (f"hi from fake.dev@{PEER} / fake.dev@{PEER}")


def test_result_values_are_ok_err_objects(probe: HyperpyNode) -> None:
    assert value(probe, {"CheckedDivide": [1, 2]}) == {"Ok": 0.5}
    assert value(probe, {"CheckedDivide": [1, 0]}) == {"Err": "division by zero"}


def test_handler_exception_answers_err_with_message_and_logs_the_traceback(probe: HyperpyNode) -> None:
    body, metadata = ask(probe, {"Boom": None})
    assert body == {"Err": "ValueError: probe exploded"}
    assert json.loads(metadata or "{}") == {
        "hyperpy": {"error": "HandlerError", "message": "ValueError: probe exploded"}
    }
    probe.wait_for_output("Traceback (most recent call last)")
    assert value(probe, {"Increment": 1}) == 1  # the process is still alive


@pytest.mark.parametrize(
    ("body", "kind", "message"),
    [
        ("not json", "BadRequest", "body is not valid JSON"),
        (
            {"Increment": "x"},
            "BadRequest",
            'args: expected an integer, got "x"; expected {"Increment": <an integer>}',
        ),
        ({"Increment": [1, 2]}, "BadRequest", "expected an integer, got [1, 2]"),
        ({"Nope": 1}, "UnknownHandler", "no local handler named 'Nope'"),
    ],
)
def test_malformed_requests_get_an_error_naming_the_expected_shape(
    probe: HyperpyNode, body: Any, kind: str, message: str
) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = probe.node.inject(PROBE, raw, expects_response=10, source=PEER)
    assert response is not None
    error = json.loads(response.metadata or "{}")["hyperpy"]
    assert error["error"] == kind
    assert message in error["message"]
    assert json.loads(response.body) == {"Err": error["message"]}


def test_fire_and_forget_requests_are_handled_without_an_answer(probe: HyperpyNode) -> None:
    assert probe.node.inject(PROBE, json.dumps({"Increment": 3}), expects_response=None, source=PEER) is None
    assert value(probe, {"GetCount": None}) == 3


def test_answer_ready_in_another_requests_turn_still_reaches_its_requester(probe: HyperpyNode) -> None:
    results: dict[str, Any] = {}

    def waiter() -> None:
        results["wait"] = value(probe, {"WaitForSignal": "go"}, timeout=15)

    thread = threading.Thread(target=waiter)
    thread.start()
    probe.wait_for_output("waiting for go", timeout=10)
    assert value(probe, {"Signal": "go"}) is True
    thread.join(20)
    assert results == {"wait": "go signalled"}


def test_many_concurrent_requests_each_get_their_own_answer_and_source(probe: HyperpyNode) -> None:
    answers: dict[int, Any] = {}
    sources = [PEER, "timer:distro:sys"]  # probe grants timer messaging, so it can be a client too

    def one(index: int) -> None:
        sender = sources[index % 2]
        body = json.dumps({"SlowEcho": [f"r{index}", 0.05 * (index % 4)]})
        response = probe.node.inject(PROBE, body, expects_response=20, source=sender)
        answers[index] = json.loads(response.body) if response is not None else None

    threads = [threading.Thread(target=one, args=(index,)) for index in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    expected = {}
    for index in range(24):
        sender = f"fake.dev@{sources[index % 2]}"
        expected[index] = f"r{index} from {sender} / {sender}"
    assert answers == expected


def test_state_changed_after_an_await_is_saved_when_the_handler_finishes(probe: HyperpyNode) -> None:
    assert value(probe, {"CountLater": 4}) == 4
    assert json.loads(probe.get_state(PROBE) or b"{}")["fields"]["count"] == 4


def test_background_tasks_run_detached_from_the_request(probe: HyperpyNode) -> None:
    assert value(probe, {"Background": 6}) is True
    probe.wait_for_output("background added 6")
    assert value(probe, {"GetCount": None}) == 6


def test_call_to_another_process_returns_its_typed_result(probe: HyperpyNode) -> None:
    assert value(probe, {"Relay": [PEER, 4]}) == 4
    assert value(probe, {"Relay": [PEER, 1]}) == 5
    assert value(probe, {"GetCount": None}, process=PEER) == 5


def test_call_failures_raise_distinct_exceptions(probe: HyperpyNode) -> None:
    def attempt(target: str, handler: str, timeout: float = 5, args: list[Any] | None = None) -> str:
        return value(probe, {"TryCall": [target, handler, timeout, args or []]})

    assert attempt(PEER, "boom") == "RemoteError:HandlerError:ValueError: probe exploded"
    assert attempt(PEER, "no_such_handler").startswith("RemoteError:UnknownHandler:no local handler named")
    assert attempt(PEER, "hold") == (
        "RemoteError:BadRequest:bad arguments for Hold: args: expected a number, got null; "
        'expected {"Hold": <a number>}'
    )
    assert attempt("nothere:probe:test.os", "increment", 1, [1]) == "CallTimeout"
    assert attempt("nowhere.os@peer:probe:test.os", "increment", 1, [1]) == "CallOffline"
    assert attempt(PEER, "increment", 5, [2]) == "value:2"


def test_a_slow_callee_times_out_and_its_late_answer_is_ignored(probe: HyperpyNode) -> None:
    assert value(probe, {"TryCall": [PEER, "hold", 1, [2.5]]}) == "CallTimeout"
    assert value(probe, {"SlowEcho": ["after", 2.0]}) == f"after from fake.dev@{PEER} / fake.dev@{PEER}"
    assert value(probe, {"Relay": [PEER, 1]}) == 1


def test_a_thousand_calls_in_flight_complete(probe: HyperpyNode) -> None:
    assert value(probe, {"FanOut": [PEER, 1000]}, timeout=120) == sum(range(1000))


def test_state_survives_a_node_restart(probe: HyperpyNode) -> None:
    assert value(probe, {"Increment": 9}) == 9
    probe.restart()
    probe.wait_for_output(f"probe: ready as fake.dev@{PROBE}", timeout=30, since=None)
    assert value(probe, {"GetCount": None}) == 9


def test_remote_calls_reach_only_remote_handlers(hyperpy_nodes) -> None:  # type: ignore[no-untyped-def]
    here, there = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (here, there):
        node.install(PROJECT)
        node.wait_for_output(f"probe: ready as {node.name}@{PROBE}", timeout=30)
    remote_probe = f"fake2.dev@{PROBE}"
    assert value(here, {"TryCall": [remote_probe, "increment", 5, [3]]}) == "value:3"
    assert value(here, {"TryCall": [remote_probe, "secret", 5, []]}) == (
        "RemoteError:NotExposed:handler Secret is not exposed to remote nodes"
    )
    assert value(there, {"GetCount": None}) == 3


def test_runtime_module_wrappers_speak_the_modules_wire_formats(probe: HyperpyNode) -> None:
    root = "/probe:test.os/files"
    assert value(probe, {"Files": ["note.txt", "hello vfs"]}) == ["hello vfs", f"{root}/note.txt"]
    status, body = value(probe, {"Fetch": probe.url + "/our"})
    assert (status, body) == (200, "fake.dev")
    assert value(probe, {"Signed": "sign me"}) == [True, False]


def test_blobs_travel_both_ways(probe: HyperpyNode) -> None:
    def with_blob(body: Any, blob: bytes) -> Any:
        response = probe.node.inject(PROBE, json.dumps(body), blob=blob, expects_response=10, source=PEER)
        assert response is not None
        return json.loads(response.body), response.blob

    assert with_blob({"BlobSize": None}, b"12345") == (5, None)
    assert with_blob({"BlobAfterAwait": None}, b"still here") == ("still here", None)
    answer, blob = with_blob({"ReverseBlob": None}, b"abc")
    assert answer == 3 and blob is not None and bytes(blob.bytes) == b"cba"
    assert value(probe, {"RelayBlob": [PEER, "hello"]}) == [5, "olleh"]


def test_typed_proxy_and_fire_and_forget_send(probe: HyperpyNode) -> None:
    assert value(probe, {"ViaProxy": [PEER, 4]}) == 4
    assert value(probe, {"Notify": [PEER, 3]}) is True
    deadline = time.monotonic() + 15
    while value(probe, {"GetCount": None}, process=PEER) != 7:
        assert time.monotonic() < deadline, "the fire-and-forget increment never arrived"
        time.sleep(0.05)


def test_http_errors_statuses_headers_and_raw_responses(probe: HyperpyNode) -> None:
    base = f"{probe.url}/{PROBE}"

    def get(path: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(base + path, headers={"User-Agent": "probe-test"})
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    status, headers, body = get("/fail")
    assert (status, body) == (500, b"RuntimeError: kaput")
    status, headers, body = get("/teapot")
    assert (status, json.loads(body), headers["X-Tea"]) == (418, {"reason": "short and stout"}, "earl grey")
    assert headers["Content-Type"] == "application/json"
    status, headers, body = get("/whoami")
    assert (status, body, headers["Content-Type"]) == (202, b"GET probe-test", "text/plain; charset=utf-8")


WEBUI = Path(__file__).parent / "apps" / "webui"


def test_the_package_ui_folder_is_served_at_the_app_root(hyperpy_node: HyperpyNode, hyperpy_builds) -> None:  # type: ignore[no-untyped-def]
    hyperpy_builds.zip_for(WEBUI)  # the UI lives in the built pkg/, which a native install reads too
    hyperpy_node.install(WEBUI)
    hyperpy_node.wait_for_output("webui: ready", timeout=30)
    base = f"{hyperpy_node.url}/webui:webui:test.os"

    def get(path: str) -> tuple[int, str, bytes]:
        with urllib.request.urlopen(base + path, timeout=20) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()

    status, content_type, body = get("/")
    assert status == 200 and content_type.startswith("text/html") and b"served from pkg/ui" in body
    assert get("/index.html")[2] == body
    status, content_type, body = get("/assets/app.js")
    assert "javascript" in content_type and body == b'console.log("webui asset");\n'
    assert json.loads(get("/api/hello")[2]) == "hello from the api"
    # an unknown API path is the app's 404, not the UI's index.html; other paths still get the UI
    missing = hyperpy_node.http.get("/webui:webui:test.os/api/nope")
    assert missing.status == 404 and b"<html" not in missing.body
    assert get("/some/page")[2] == get("/index.html")[2]
