"""Every value of the `standard` interface crosses the component boundary unchanged, both ways.

The mirror guest (a real componentize-py component) calls one host function per test with arguments
chosen here and reports what the call returned; the scripted host records what it was called with and
returns what the test scripted. Equality is checked on `wit_types` values on both sides, so a field
dropped, renamed, re-tagged or mis-typed by the runner's conversions fails a test.
"""

from __future__ import annotations

from typing import Any

import pytest
from scripted_host import DRIVER, OUR, ScriptedHost

from hyperpy.node.runners.component import ComponentRunner
from hyperpy.node.wit_types import (
    Address,
    Capability,
    Err,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    OnExit_None_,
    OnExit_Requests,
    OnExit_Restart,
    ProcessId,
    Request,
    Response,
    SendError,
    SendErrorKind,
    SpawnError,
)

U64_MAX = 2**64 - 1
ALL_BYTES = bytes(range(256))
OTHER = Address("other-node.os", ProcessId("chat", "chat-app", "publisher.os"))
CAP_MESSAGING = Capability(OTHER, '"messaging"')
CAP_JSON = Capability(OUR, '{"kind":"write","drive":"/runner-test:sys/pkg"}')
FULL_REQUEST = Request(True, U64_MAX, ALL_BYTES, '{"meta":"ü"}', [CAP_MESSAGING, CAP_JSON])
BARE_REQUEST = Request(False, None, b"", None, [])
ZERO_TIMEOUT_REQUEST = Request(False, 0, b"x", "", [])
FULL_RESPONSE = Response(True, ALL_BYTES, "metadata", [CAP_JSON])
BARE_RESPONSE = Response(False, b"", None, [])
BLOB = LazyLoadBlob("application/json", b'{"a": 1}')
UNTYPED_BLOB = LazyLoadBlob(None, b"")
ON_EXIT_REQUESTS = OnExit_Requests(
    [(OTHER, BARE_REQUEST, None), (OUR, FULL_REQUEST, BLOB), (DRIVER, ZERO_TIMEOUT_REQUEST, UNTYPED_BLOB)]
)
ON_EXITS = [OnExit_None_(), OnExit_Restart(), OnExit_Requests([]), ON_EXIT_REQUESTS]


def run(runner: ComponentRunner, host: ScriptedHost) -> None:
    host.end()
    runner.run(host, str(OUR))


def call_guest(runner: ComponentRunner, host: ScriptedHost, function: str, *args: Any) -> dict[str, Any]:
    """Make the guest call `function(*args)` once; return its decoded report."""
    host.call(function, *args)
    run(runner, host)
    (result,) = host.call_results()
    assert result["call"] == function
    return result


def test_init_receives_our_address_string(mirror_runner: ComponentRunner, host: ScriptedHost) -> None:
    run(mirror_runner, host)
    assert host.reports()[0] == {"init": "fake.dev@mirror:runner-test:sys"}


@pytest.mark.parametrize(
    ("verbosity", "message"), [(0, "plain"), (255, ""), (3, "ünïcødé ✓ \n second line\t")]
)
def test_print_to_terminal(
    mirror_runner: ComponentRunner, host: ScriptedHost, verbosity: int, message: str
) -> None:
    call_guest(mirror_runner, host, "print_to_terminal", verbosity, message)
    assert (verbosity, message) in host.printed


def test_our(mirror_runner: ComponentRunner) -> None:
    host = ScriptedHost(Address("node-with-dashes.dev", ProcessId("p-1", "pkg-2", "pub.hypr")))
    assert call_guest(mirror_runner, host, "our") == {"call": "our", "ok": host.address}


@pytest.mark.parametrize("on_exit", ON_EXITS, ids=["none", "restart", "requests-empty", "requests"])
def test_get_on_exit(mirror_runner: ComponentRunner, host: ScriptedHost, on_exit: Any) -> None:
    host.will_return("get_on_exit", on_exit)
    assert call_guest(mirror_runner, host, "get_on_exit")["ok"] == on_exit


@pytest.mark.parametrize("on_exit", ON_EXITS, ids=["none", "restart", "requests-empty", "requests"])
def test_set_on_exit(mirror_runner: ComponentRunner, host: ScriptedHost, on_exit: Any) -> None:
    call_guest(mirror_runner, host, "set_on_exit", on_exit)
    assert host.calls_to("set_on_exit") == [(on_exit,)]


@pytest.mark.parametrize("state", [None, b"", ALL_BYTES, b"x" * 70_000])
def test_get_state(mirror_runner: ComponentRunner, host: ScriptedHost, state: bytes | None) -> None:
    host.will_return("get_state", state)
    assert call_guest(mirror_runner, host, "get_state")["ok"] == state


@pytest.mark.parametrize("state", [b"", ALL_BYTES, ALL_BYTES * 800], ids=["empty", "all-bytes", "200kb"])
def test_set_and_clear_state(mirror_runner: ComponentRunner, host: ScriptedHost, state: bytes) -> None:
    host.call("set_state", state)
    host.call("clear_state")
    run(mirror_runner, host)
    assert host.calls_to("set_state") == [(state,)]
    assert host.calls_to("clear_state") == [()]


@pytest.mark.parametrize(
    "args",
    [
        (None, "/chat.wasm", OnExit_None_(), [], [], False),
        (
            "worker-1",
            "/runner-test:sys/pkg/worker.wasm",
            ON_EXIT_REQUESTS,
            [CAP_MESSAGING, CAP_JSON],
            [(OTHER.process, '"messaging"'), (OUR.process, '{"x":[1,2]}')],
            True,
        ),
    ],
    ids=["minimal", "everything"],
)
def test_spawn_arguments_and_result(
    mirror_runner: ComponentRunner, host: ScriptedHost, args: tuple[Any, ...]
) -> None:
    child = ProcessId("worker-1", "runner-test", "sys")
    host.will_return("spawn", child)
    assert call_guest(mirror_runner, host, "spawn", *args)["ok"] == child
    assert host.calls_to("spawn") == [args]


@pytest.mark.parametrize("error", [SpawnError.NAME_TAKEN, SpawnError.NO_FILE_AT_PATH])
def test_spawn_error_reaches_the_guest_as_err(
    mirror_runner: ComponentRunner, host: ScriptedHost, error: SpawnError
) -> None:
    host.will_return("spawn", Err(error))
    result = call_guest(mirror_runner, host, "spawn", "x", "/x.wasm", OnExit_Restart(), [], [], False)
    assert result == {"call": "spawn", "err": error}


@pytest.mark.parametrize("caps", [[], [CAP_MESSAGING], [CAP_MESSAGING, CAP_JSON]])
def test_capability_functions(
    mirror_runner: ComponentRunner, host: ScriptedHost, caps: list[Capability]
) -> None:
    host.will_return("our_capabilities", caps)
    host.call("save_capabilities", caps)
    host.call("drop_capabilities", caps)
    host.call("our_capabilities")
    run(mirror_runner, host)
    assert host.calls_to("save_capabilities") == [(caps,)]
    assert host.calls_to("drop_capabilities") == [(caps,)]
    assert host.call_results()[-1] == {"call": "our_capabilities", "ok": caps}


INCOMING = [
    (OTHER, Message_Request(FULL_REQUEST)),
    (OTHER, Message_Request(BARE_REQUEST)),
    (DRIVER, Message_Response((FULL_RESPONSE, b"my context"))),
    (DRIVER, Message_Response((BARE_RESPONSE, None))),
    (DRIVER, Message_Response((BARE_RESPONSE, b""))),
]


@pytest.mark.parametrize(
    "incoming", INCOMING, ids=["request", "bare-request", "response+ctx", "response", "empty-ctx"]
)
def test_receive_ok(mirror_runner: ComponentRunner, host: ScriptedHost, incoming: Any) -> None:
    host.deliver(*incoming)
    run(mirror_runner, host)
    assert host.received()[0] == incoming


RECEIVE_ERRORS = [
    (SendError(SendErrorKind.TIMEOUT, OTHER, Message_Request(FULL_REQUEST), BLOB), b"ctx"),
    (SendError(SendErrorKind.OFFLINE, OTHER, Message_Request(BARE_REQUEST), None), None),
    (SendError(SendErrorKind.TIMEOUT, DRIVER, Message_Response((BARE_RESPONSE, None)), UNTYPED_BLOB), b""),
]


@pytest.mark.parametrize("error", RECEIVE_ERRORS, ids=["timeout", "offline", "response-message"])
def test_receive_err_reaches_the_guest_as_err(
    mirror_runner: ComponentRunner, host: ScriptedHost, error: Any
) -> None:
    host.deliver_error(Err(error))
    run(mirror_runner, host)
    assert host.received()[0] == Err(error)


@pytest.mark.parametrize("blob", [None, BLOB, UNTYPED_BLOB])
def test_blob_accessors(
    mirror_runner: ComponentRunner, host: ScriptedHost, blob: LazyLoadBlob | None
) -> None:
    host.will_return("has_blob", blob is not None)
    host.will_return("get_blob", blob)
    host.will_return("last_blob", blob)
    for function in ("has_blob", "get_blob", "last_blob"):
        host.call(function)
    run(mirror_runner, host)
    assert [result["ok"] for result in host.call_results()] == [blob is not None, blob, blob]


@pytest.mark.parametrize(
    "args",
    [
        (OTHER, FULL_REQUEST, b"context", BLOB),
        (DRIVER, BARE_REQUEST, None, None),
        (OUR, ZERO_TIMEOUT_REQUEST, b"", UNTYPED_BLOB),
    ],
    ids=["everything", "nothing", "empty"],
)
def test_send_request(mirror_runner: ComponentRunner, host: ScriptedHost, args: tuple[Any, ...]) -> None:
    call_guest(mirror_runner, host, "send_request", *args)
    assert host.calls_to("send_request") == [args]


@pytest.mark.parametrize(
    "requests",
    [
        [],
        [
            (OTHER, FULL_REQUEST, b"c1", BLOB),
            (DRIVER, BARE_REQUEST, None, None),
            (OUR, ZERO_TIMEOUT_REQUEST, b"", None),
        ],
    ],
    ids=["empty", "three"],
)
def test_send_requests(mirror_runner: ComponentRunner, host: ScriptedHost, requests: list[Any]) -> None:
    call_guest(mirror_runner, host, "send_requests", requests)
    assert host.calls_to("send_requests") == [(requests,)]


@pytest.mark.parametrize(
    "args", [(FULL_RESPONSE, BLOB), (BARE_RESPONSE, None)], ids=["everything", "nothing"]
)
def test_send_response(mirror_runner: ComponentRunner, host: ScriptedHost, args: tuple[Any, ...]) -> None:
    call_guest(mirror_runner, host, "send_response", *args)
    assert host.calls_to("send_response") == [args]


@pytest.mark.parametrize(
    "reply",
    [(OTHER, Message_Response((FULL_RESPONSE, None))), (DRIVER, Message_Response((BARE_RESPONSE, b"ctx")))],
    ids=["response", "response+ctx"],
)
def test_send_and_await_response_ok(mirror_runner: ComponentRunner, host: ScriptedHost, reply: Any) -> None:
    host.will_return("send_and_await_response", reply)
    result = call_guest(mirror_runner, host, "send_and_await_response", OTHER, FULL_REQUEST, BLOB)
    assert result == {"call": "send_and_await_response", "ok": reply}
    assert host.calls_to("send_and_await_response") == [(OTHER, FULL_REQUEST, BLOB)]


@pytest.mark.parametrize(
    "error",
    [
        SendError(SendErrorKind.OFFLINE, OTHER, Message_Request(FULL_REQUEST), BLOB),
        SendError(SendErrorKind.TIMEOUT, OTHER, Message_Request(BARE_REQUEST), None),
    ],
    ids=["offline", "timeout"],
)
def test_send_and_await_response_err(
    mirror_runner: ComponentRunner, host: ScriptedHost, error: SendError
) -> None:
    host.will_return("send_and_await_response", Err(error))
    result = call_guest(mirror_runner, host, "send_and_await_response", OTHER, BARE_REQUEST, None)
    assert result == {"call": "send_and_await_response", "err": error}
