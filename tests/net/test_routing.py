"""Indirect nodes reached through routers (RoutingRequest, passthroughs), and nodes on two loopback
addresses ("different machines") meeting through one shared PKI."""

from __future__ import annotations

import pytest

from hyperpy.node import InjectOffline

from .conftest import NodeMaker, hello

TRANSPORTS = {"tcp": {"tcp_port": 0, "ws_port": None}, "ws": {"tcp_port": None, "ws_port": 0}}


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_an_indirect_node_is_reached_only_through_its_router(make_node: NodeMaker, transport: str) -> None:
    router = make_node("router.dev", max_passthroughs=4, **TRANSPORTS[transport])
    hidden = make_node("hidden.dev", routers=("router.dev",))
    direct = make_node("direct.dev", **TRANSPORTS[transport])
    assert hidden.transport is not None and not hidden.transport.identity().is_direct
    router.terminal.wait_for("hidden.dev connected to us", timeout=10)  # maintain_routers

    assert hello(direct, "hidden.dev", "through the router") == b"ack"
    hidden.terminal.wait_for("direct.dev: through the router", timeout=5)
    router.terminal.wait_for("passthrough direct.dev -> hidden.dev open", timeout=5)
    assert hello(hidden, "direct.dev", "and back") == b"ack"
    direct.terminal.wait_for("hidden.dev: and back", timeout=5)


def test_a_router_that_does_not_route_refuses(make_node: NodeMaker) -> None:
    make_node("router.dev")  # max_passthroughs 0: Hyperdrive's default
    hidden = make_node("hidden.dev", routers=("router.dev",))
    direct = make_node("direct.dev")
    assert hidden.transport is not None
    with pytest.raises(InjectOffline, match=r"hidden\.dev is offline"):
        hello(direct, "hidden.dev")


def test_nodes_on_two_loopback_addresses_meet_through_the_pki(make_node: NodeMaker) -> None:
    """127.0.0.1 and 127.0.0.2 stand for two machines: each node listens on, and publishes, only
    its own address (`hyperpy run --ip`); the shared PKI is all they have in common."""
    one = make_node("one.dev", ip="127.0.0.1")
    two = make_node("two.dev", ip="127.0.0.2")
    assert two.transport is not None and two.transport.identity().ip == "127.0.0.2"
    assert hello(one, "two.dev", "across machines") == b"ack"
    assert hello(two, "one.dev", "and back") == b"ack"
    two.terminal.wait_for("one.dev: across machines", timeout=5)
