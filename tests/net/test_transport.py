"""Two nodes on loopback sockets: the protocol end to end (TCP and WebSocket), Offline and reconnect,
the 10 MB cap, and net:distro:sys's requests answered from the real connections and the PKI."""

from __future__ import annotations

import msgpack
import pytest

from hyperpy.node import InjectOffline, InjectTimeout, Node

from .conftest import NodeMaker, hello

TRANSPORTS = {"tcp": {"tcp_port": 0, "ws_port": None}, "ws": {"tcp_port": None, "ws_port": 0}}


def net_request(node: Node, action: object, blob: bytes | None = None) -> tuple[object, bytes | None]:
    response = node.inject("net:distro:sys", msgpack.packb(action), blob=blob, expects_response=5)
    assert response is not None
    return msgpack.unpackb(response.body), None if response.blob is None else response.blob.bytes


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_messages_go_both_ways_over_each_transport(make_node: NodeMaker, transport: str) -> None:
    a = make_node("a.dev", **TRANSPORTS[transport])
    b = make_node("b.dev", **TRANSPORTS[transport])
    assert hello(a, "b.dev", "hello b") == b"ack"
    assert hello(b, "a.dev", "hello a") == b"ack"
    b.terminal.wait_for("a.dev: hello b", timeout=5)
    a.terminal.wait_for("b.dev: hello a", timeout=5)
    a.terminal.wait_for(f"connected to b.dev over {transport}", timeout=5)


def test_tcp_is_preferred_when_both_ports_are_published(make_node: NodeMaker) -> None:
    a, _ = make_node("a.dev"), make_node("b.dev")
    assert hello(a, "b.dev") == b"ack"
    a.terminal.wait_for("connected to b.dev over tcp", timeout=5)


def test_large_bodies_cross_in_chunks_in_order(make_node: NodeMaker) -> None:
    a, b = make_node("a.dev"), make_node("b.dev", tcp_port=None, ws_port=0)
    big = bytes(range(256)) * 12_000  # 3 MB: dozens of Noise chunks
    response = a.inject("b.dev@net:distro:sys", "with blob", blob=big, expects_response=10)
    assert response is not None and response.body == b"ack"
    for index in range(20):
        a.inject("b.dev@net:distro:sys", f"n{index}", expects_response=None)
    b.terminal.wait_for("a.dev: n19", timeout=10)
    order = [line.text for line in b.terminal.lines(all=True) if "a.dev: n" in line.text]
    received = [text.split("a.dev: ")[1].removesuffix("\x1b[0m") for text in order]
    assert received == [f"n{i}" for i in range(20)]


def test_unknown_node_is_offline_at_once(make_node: NodeMaker) -> None:
    a = make_node("a.dev")
    with pytest.raises(InjectOffline, match=r"nobody\.dev is offline: nobody\.dev is not in the PKI"):
        hello(a, "nobody.dev")


def test_a_stopped_peer_is_offline_and_reached_again_after_restart(make_node: NodeMaker) -> None:
    a, b = make_node("a.dev"), make_node("b.dev")
    assert hello(a, "b.dev") == b"ack"
    b.stop()
    with pytest.raises(InjectOffline, match=r"b\.dev is offline"):
        hello(a, "b.dev")
    b.start()
    assert hello(a, "b.dev", "after restart") == b"ack"
    b.terminal.wait_for("a.dev: after restart", timeout=5)


def test_an_oversize_message_is_refused_and_the_connection_survives(make_node: NodeMaker) -> None:
    a, _ = make_node("a.dev"), make_node("b.dev")
    assert hello(a, "b.dev", "first") == b"ack"
    with pytest.raises(InjectTimeout, match=r"over the network limit of 10485800 bytes \(10 MB\)"):
        a.inject("b.dev@net:distro:sys", "too big", blob=b"\0" * 10_500_000, expects_response=5)
    a.terminal.wait_for("net: tried to send too-large message", timeout=5)
    assert hello(a, "b.dev", "still here") == b"ack"
    assert "connection lost" not in a.terminal.text(all=True)


def test_net_requests_answer_from_connections_and_pki(make_node: NodeMaker) -> None:
    a, b = make_node("a.dev"), make_node("b.dev", tcp_port=None, ws_port=0)
    assert net_request(a, "GetPeers")[0] == {"Peers": []}
    assert hello(a, "b.dev") == b"ack"
    b_identity = b.transport.identity() if b.transport else None
    assert b_identity is not None
    expected = ["b.dev", b_identity.networking_key, {"Direct": ["127.0.0.1", {"ws": b_identity.ports["ws"]}]}]
    assert net_request(a, "GetPeers")[0] == {"Peers": [expected]}
    assert net_request(a, {"GetPeer": "b.dev"})[0] == {"Peer": expected}
    assert net_request(a, {"GetPeer": "nobody.dev"})[0] == {"Peer": None}
    diagnostics = net_request(a, "GetDiagnostics")[0]
    assert isinstance(diagnostics, dict)
    assert "we have connections with 1 peers" in diagnostics["Diagnostics"]
    assert "    b.dev, last message" in diagnostics["Diagnostics"]

    answer, signature = net_request(b, "Sign", blob=b"payload")
    assert answer == "Signed" and signature is not None
    signer = "b.dev@http-server:distro:sys"
    verify = {"Verify": {"from": signer, "signature": list(signature)}}
    assert net_request(a, verify, blob=b"payload")[0] == {"Verified": True}
    assert net_request(a, verify, blob=b"tampered")[0] == {"Verified": False}
