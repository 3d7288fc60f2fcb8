"""get/set/clear-state through state:distro:sys, and the blob accessors with their quirks (§1.4)."""

from __future__ import annotations

from collections.abc import Callable

from hyperpy.node import Node

from .helpers import Packages, Proc, addr, op, pid, send, started


def test_state_round_trip_and_clear(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "get_state"}) == {"state": None}
    assert op(node, "a", {"op": "set_state", "value": "saved value"}) == "ok"
    assert op(node, "a", {"op": "get_state"}) == {"state": "saved value"}
    assert node.get_state(pid("a")) == b"saved value"
    assert op(node, "a", {"op": "clear_state"}) == "ok"
    assert op(node, "a", {"op": "get_state"}) == {"state": None}
    assert node.get_state(pid("a")) is None


def test_state_survives_a_node_restart_and_a_crash(
    make_node: Callable[..., Node], packages: Packages
) -> None:
    node = make_node()
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "set_state", "value": "before restart"}) == "ok"
    mark = node.terminal.mark()
    send(node, "a", {"op": "crash"})
    started(node, "a", since=mark)
    assert op(node, "a", {"op": "get_state"}) == {"state": "before restart"}
    node.restart()
    started(node, "a", since=mark)
    assert op(node, "a", {"op": "get_state"}) == {"state": "before restart"}


def test_state_module_refuses_processes_outside_distro_and_terminal(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a", caps=["state:distro:sys"])])
    started(node, "a")
    mark = node.terminal.mark()
    body = {"GetState": pid("a")}
    send(node, "a", {"op": "send", "target": "fake.dev@state:distro:sys", "expects": 600, "body": body})
    node.terminal.wait_for(
        "state: got request from a:probes:test.os, but requests must come from kernel", since=mark
    )


def test_has_get_and_last_blob(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "blobs"}, blob=b"first") == {"has": True, "get": "first", "last": "first"}
    assert op(node, "a", {"op": "blobs"}) == {"has": False, "get": None, "last": "first"}


def test_set_state_restores_last_blob_but_not_has_blob(node: Node, packages: Packages) -> None:
    """Hyperdrive quirk: after set-state, get-blob() is None even though this request had a blob."""
    packages.install(node, [Proc("a")])
    script = {"op": "seq", "ops": [{"op": "set_state", "value": "v", "reply": False}, {"op": "blobs"}]}
    assert op(node, "a", script, blob=b"request blob") == {"has": False, "get": None, "last": "request blob"}


def test_get_state_leaves_get_blob_returning_the_previous_blob(node: Node, packages: Packages) -> None:
    """Hyperdrive quirk: a successful get-state marks "last message had a blob" but restores the old blob,
    so get-blob() returns the blob of an *earlier* message."""
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "set_state", "value": "stored"}) == "ok"
    assert op(node, "a", {"op": "blobs"}, blob=b"older blob") == {
        "has": True,
        "get": "older blob",
        "last": "older blob",
    }
    script = {"op": "seq", "ops": [{"op": "get_state", "reply": False}, {"op": "blobs"}]}
    assert op(node, "a", script) == {"has": True, "get": "older blob", "last": "older blob"}


def test_a_timeout_error_carries_the_original_request_blob_and_context(
    node: Node, packages: Packages
) -> None:
    packages.install(node, [Proc("a"), Proc("b")])
    started(node, "b")
    mark = node.terminal.mark()
    send(
        node,
        "a",
        {
            "op": "send",
            "target": addr("b"),
            "expects": 0,
            "context": "ctx-0",
            "body": "silence",
            "blob": "sent blob",
        },
    )
    error = node.terminal.wait_for("probe a: got error", since=mark)
    assert f"got error timeout context=ctx-0 target={addr('b')} body=silence blob=sent blob" in error.text


def test_error_context_restores_the_prompting_message(node: Node, packages: Packages) -> None:
    """After a send error the prompting message is restored too, so the injected request is answered."""
    packages.install(node, [Proc("a"), Proc("b")])
    started(node, "b")
    context = {"on_error": {"op": "reply", "body": "answered after timeout"}}
    reply = op(
        node, "a", {"op": "send", "target": addr("b"), "expects": 0, "context": context, "body": "silence"}
    )
    assert reply == "answered after timeout"
