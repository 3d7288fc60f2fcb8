"""Several nodes in one emulator: network capability both ways, Offline (runtime-contract.md §1.5, §1.7)."""

from __future__ import annotations

from collections.abc import Callable

from hyperpy.node import Emulator, Node

from .helpers import Packages, Proc, op, send, started

REMOTE_B = "fake2.dev@b:probes:test.os"


def _pair(
    add_node: Callable[..., Node],
    packages: Packages,
    *,
    a_net: bool = True,
    b_net: bool = True,
    b_public: bool = False,
) -> tuple[Node, Node]:
    first = add_node("fake.dev")
    second = add_node("fake2.dev")
    packages.install(first, [Proc("a", networking=a_net)])
    packages.install(second, [Proc("b", networking=b_net, public=b_public)])
    started(first, "a")
    started(second, "b")
    return first, second


def test_request_and_response_across_nodes(add_node: Callable[..., Node], packages: Packages) -> None:
    """b is not public and a holds no messaging cap for it: remote sources skip those checks."""
    first, second = _pair(add_node, packages)
    reply = op(first, "a", {"op": "await", "target": REMOTE_B, "body": {"op": "reply", "body": "from afar"}})
    assert reply == {"response": "from afar", "source": REMOTE_B}
    second.terminal.wait_for("probe b: got request from fake.dev@a:probes:test.os")


def test_sender_without_network_capability_gets_an_immediate_timeout(
    add_node: Callable[..., Node], packages: Packages
) -> None:
    first, _second = _pair(add_node, packages, a_net=False)
    mark = first.terminal.mark()
    reply = op(first, "a", {"op": "await", "target": REMOTE_B, "expects": 600, "body": "x"})
    assert reply == {"error": "timeout"}
    first.terminal.wait_for("doesn't have capability to send networked messages", since=mark)


def test_target_without_network_capability_drops_remote_messages(
    add_node: Callable[..., Node], packages: Packages
) -> None:
    first, second = _pair(add_node, packages, b_net=False)
    send(first, "a", {"op": "send", "target": REMOTE_B, "body": "dropped"})
    second.terminal.wait_for("got a message from over the network, but doesn't have capability")
    assert "probe b: got request" not in second.terminal.text(all=True)


def test_offline_node_gives_offline_errors_until_it_is_back(
    add_node: Callable[..., Node], packages: Packages, emulator: Emulator
) -> None:
    first, _second = _pair(add_node, packages)
    emulator.set_offline("fake2.dev")
    reply = op(first, "a", {"op": "await", "target": REMOTE_B, "expects": 600, "body": "x"})
    assert reply == {"error": "offline"}
    mark = first.terminal.mark()
    send(first, "a", {"op": "send", "target": REMOTE_B, "expects": 600, "context": "c-off", "body": "x"})
    error = first.terminal.wait_for("probe a: got error", since=mark)
    assert "got error offline context=c-off" in error.text
    emulator.set_offline("fake2.dev", False)
    reply = op(first, "a", {"op": "await", "target": REMOTE_B, "body": {"op": "reply", "body": "back"}})
    assert reply == {"response": "back", "source": REMOTE_B}


def test_unknown_and_stopped_nodes_are_offline(add_node: Callable[..., Node], packages: Packages) -> None:
    first, second = _pair(add_node, packages)
    unknown = op(
        first, "a", {"op": "await", "target": "nowhere.dev@b:probes:test.os", "expects": 600, "body": "x"}
    )
    assert unknown == {"error": "offline"}
    second.stop()
    assert op(first, "a", {"op": "await", "target": REMOTE_B, "expects": 600, "body": "x"}) == {
        "error": "offline"
    }


def test_two_nodes_running_the_same_module_do_not_share_globals(
    add_node: Callable[..., Node], packages: Packages
) -> None:
    first = add_node("fake.dev")
    second = add_node("fake2.dev")
    packages.install(first, [Proc("a")])
    packages.install(second, [Proc("a")])
    assert op(first, "a", {"op": "count"}) == 1
    assert op(first, "a", {"op": "count"}) == 2
    assert op(second, "a", {"op": "count"}) == 1
