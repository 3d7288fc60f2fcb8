"""Message routing as Hyperdrive's kernel does it (runtime-contract.md §1.4, §1.8), in both modes."""

from __future__ import annotations

from hyperpy.node import Node

from .helpers import Packages, Proc, addr, count_lines, op, send, started


def _two_probes(node: Node, packages: Packages, **b_options: object) -> None:
    packages.install(node, [Proc("a", caps=["b:probes:test.os"]), Proc("b", **b_options)])  # type: ignore[arg-type]
    started(node, "a")
    started(node, "b")


def _bodies_b_got(node: Node, mark: int) -> list[str]:
    """The bodies of the requests probe b printed since `mark`, in the order it got them."""
    return [
        p.text.split("body=")[1].split(" ")[0]
        for p in node.terminal.since(mark)
        if "probe b: got request" in p.text
    ]


def test_request_and_response_round_trip(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a"), Proc("echo", module="echo")])
    node.terminal.wait_for("echo: started", timeout=120)
    reply = node.inject("echo:probes:test.os", b"hello", blob=b"payload", expects_response=5)
    assert reply is not None
    assert reply.body == b"hello"
    assert reply.blob is not None and reply.blob.bytes == b"payload"
    assert str(reply.source) == addr("echo")


def test_response_goes_to_prompting_message_restored_after_own_request(
    node: Node, packages: Packages
) -> None:
    """A answers the injected request only after its own request to B came back: the prompting
    message is restored on the Response, so A's response still reaches the injector."""
    _two_probes(node, packages)
    continuation = {"op": "reply", "body": "answered after B"}
    reply = op(
        node,
        "a",
        {
            "op": "send",
            "target": addr("b"),
            "expects": 5,
            "context": continuation,
            "body": {"op": "reply", "body": "from b"},
        },
    )
    assert reply == "answered after B"
    node.terminal.wait_for(f"probe a: got response from {addr('b')} context=")


def test_fire_and_forget_request_keeps_the_prompting_message(node: Node, packages: Packages) -> None:
    """B's request without rsvp/expects_response arrives while A owes the injector an answer; A then
    responds, and the response goes to the injected request, not to B."""
    _two_probes(node, packages, caps=["a:probes:test.os"])
    poke = {"op": "send", "target": addr("a"), "body": {"op": "reply", "body": "late answer"}}
    reply = op(node, "a", {"op": "send", "target": addr("b"), "body": poke})
    assert reply == "late answer"


def test_inherit_passes_id_rsvp_and_blob_so_the_last_hop_answers_the_caller(
    node: Node, packages: Packages
) -> None:
    _two_probes(node, packages)
    forward = {
        "op": "send",
        "target": addr("b"),
        "inherit": True,
        "body": {"op": "reply", "body": "b answers", "inherit": True},
    }
    reply = node.inject("a:probes:test.os", forward, blob=b"the blob", expects_response=5)
    assert reply is not None
    assert reply.json() == "b answers"
    assert str(reply.source) == addr("b")
    assert reply.blob is not None and reply.blob.bytes == b"the blob"
    node.terminal.wait_for("probe b: got request from fake.dev@a:probes:test.os body=")
    assert "has_blob=True" in node.terminal.wait_for("probe b: got request").text


def test_response_inherit_uses_last_blob_even_when_a_blob_is_passed(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    reply = node.inject(
        "a:probes:test.os",
        {"op": "reply", "body": "x", "inherit": True, "blob": "explicit"},
        blob=b"request blob",
        expects_response=5,
    )
    assert reply is not None and reply.blob is not None
    assert reply.blob.bytes == b"request blob"


def test_response_without_context_is_dropped(node: Node, packages: Packages) -> None:
    """B replies twice to one request: the first response consumes A's context, the second is dropped.
    B then sends A a marker request; FIFO per sender→target means both responses came before it."""
    _two_probes(node, packages, caps=["a:probes:test.os"])
    mark = node.terminal.mark()
    twice = {
        "op": "seq",
        "ops": [
            {"op": "reply", "body": "first"},
            {"op": "reply", "body": "second"},
            {"op": "send", "target": addr("a"), "body": "marker"},
        ],
    }
    send(node, "a", {"op": "send", "target": addr("b"), "expects": 30, "context": "ctx", "body": twice})
    node.terminal.wait_for("probe a: got request from fake.dev@b:probes:test.os body=marker", since=mark)
    assert count_lines(node, "probe a: got response", since=mark) == 1
    assert count_lines(node, 'context=ctx body="first"', since=mark) == 1


def test_fifo_order_per_sender_and_target(node: Node, packages: Packages) -> None:
    _two_probes(node, packages)
    mark = node.terminal.mark()
    sends = [{"op": "send", "target": addr("b"), "body": f"message-{i}"} for i in range(30)]
    send(node, "a", {"op": "seq", "ops": sends})
    node.terminal.wait_for("body=message-29", since=mark)
    assert _bodies_b_got(node, mark) == [f"message-{i}" for i in range(30)]


def test_send_and_await_queues_other_messages_in_order(node: Node, packages: Packages) -> None:
    _two_probes(node, packages, caps=["a:probes:test.os"])
    mark = node.terminal.mark()
    # B first sends A two requests, then answers A's await.
    b_script = {
        "op": "seq",
        "ops": [
            {"op": "send", "target": addr("a"), "body": "queued-1"},
            {"op": "send", "target": addr("a"), "body": "queued-2"},
            {"op": "reply", "body": "awaited answer"},
        ],
    }
    reply = op(node, "a", {"op": "await", "target": addr("b"), "expects": 5, "body": b_script})
    assert reply == {"response": "awaited answer", "source": addr("b")}
    node.terminal.wait_for("body=queued-2", since=mark)
    lines = [p.text for p in node.terminal.since(mark) if "probe a:" in p.text]
    returned = next(i for i, t in enumerate(lines) if "await returned" in t)
    first = next(i for i, t in enumerate(lines) if "body=queued-1" in t)
    second = next(i for i, t in enumerate(lines) if "body=queued-2" in t)
    assert returned < first < second


def test_send_and_await_to_itself_traps(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    started(node, "a")
    mark = node.terminal.mark()
    send(node, "a", {"op": "await_self"})
    crash = node.terminal.wait_for("ended with error", since=mark)
    assert "will deadlock" in crash.text
    started(node, "a", since=mark)  # Restart brought it back


def test_send_and_await_without_expects_response_traps(node: Node, packages: Packages) -> None:
    _two_probes(node, packages)
    mark = node.terminal.mark()
    send(node, "a", {"op": "await", "target": addr("b"), "expects": None, "body": "x"})
    crash = node.terminal.wait_for("ended with error", since=mark)
    assert "must expect response" in crash.text


def test_response_without_prompting_message_is_refused_with_a_printout(
    node: Node, packages: Packages
) -> None:
    """A fresh process that got only a fire-and-forget request has nothing to respond to."""
    _two_probes(node, packages, caps=["a:probes:test.os"])
    mark = node.terminal.mark()
    send(node, "b", {"op": "send", "target": addr("a"), "body": {"op": "reply", "body": "to nobody"}})
    node.terminal.wait_for("kernel: need non-None prompting_message", since=mark)
    assert op(node, "a", {"op": "reply", "body": "still alive"}) == "still alive"


def test_our_alias_is_replaced_by_the_node_name(node: Node, packages: Packages) -> None:
    _two_probes(node, packages)
    reply = op(
        node, "a", {"op": "await", "target": "our@b:probes:test.os", "body": {"op": "reply", "body": "hi"}}
    )
    assert reply == {"response": "hi", "source": addr("b")}


def test_many_send_and_await_round_trips_all_come_back_matched(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("ping", module="pingpong"), Proc("pong", module="pingpong")])
    result = op(node, "ping", {"pings": 300, "target": addr("pong")}, timeout=120)
    assert result["matched"] == 300


def test_fifo_order_holds_when_some_messages_go_through_the_kernel_loop(
    node: Node, packages: Packages
) -> None:
    """A message to `our@...` is normalized on the kernel's loop, a plain local one is delivered on the
    sender's thread; a later direct message must still not overtake an earlier queued one."""
    _two_probes(node, packages)
    mark = node.terminal.mark()
    sends = [
        {"op": "send", "target": addr("b", node="our") if i % 3 == 0 else addr("b"), "body": f"message-{i}"}
        for i in range(30)
    ]
    send(node, "a", {"op": "seq", "ops": sends})
    node.terminal.wait_for("body=message-29", since=mark)
    assert _bodies_b_got(node, mark) == [f"message-{i}" for i in range(30)]


def test_a_response_after_the_deadline_is_dropped_after_the_timeout(node: Node, packages: Packages) -> None:
    """A's request to B times out after 1 s; B answers only after 2 s (its own await of a silent D
    times out first), then sends A a marker. A sees the timeout, never the late response, then the marker."""
    packages.install(node, [Proc("a"), Proc("b"), Proc("d")])
    for name in ("a", "b", "d"):
        started(node, name)
    mark = node.terminal.mark()
    b_script = {
        "op": "seq",
        "ops": [
            {"op": "await", "target": addr("d"), "expects": 2, "body": "silence"},
            {"op": "send", "target": addr("a"), "body": "marker"},
        ],
    }
    send(node, "a", {"op": "send", "target": addr("b"), "expects": 1, "context": "late", "body": b_script})
    node.terminal.wait_for("probe a: got request from fake.dev@b:probes:test.os body=marker", since=mark)
    lines = [p.text for p in node.terminal.since(mark) if p.text.startswith("probes:test.os: probe a:")]
    timeouts = [i for i, text in enumerate(lines) if "got error timeout context=late" in text]
    marker = next(i for i, text in enumerate(lines) if "body=marker" in text)
    assert len(timeouts) == 1 and timeouts[0] < marker
    assert not any("probe a: got response" in text for text in lines)
    b_lines = [p.text for p in node.terminal.since(mark) if "probe b: await returned" in p.text]
    assert b_lines and '"error": "timeout"' in b_lines[0]
