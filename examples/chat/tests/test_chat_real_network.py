"""The chat example on two nodes joined by real TCP connections on loopback (Noise handshake, PKI,
Hyperdrive's wire), in component and native mode: `@pytest.mark.hyperpy_network("real")`."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest

EXAMPLE = Path(__file__).resolve().parents[1]
CHAT = "chat:chat:template.os"

pytestmark = [pytest.mark.hyperpy_modes("component", "native"), pytest.mark.hyperpy_network("real")]


def test_chat_over_real_connections(hyperpy_nodes) -> None:  # type: ignore[no-untyped-def]
    first, second = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (first, second):
        assert node.node.transport is not None  # really sockets, not the in-memory network
        node.install(EXAMPLE)
        node.wait_for_output("chat: ready", timeout=30)

    assert first.request_json(CHAT, {"Send": ["fake2.dev", "over tcp"]}) == {"Ok": 1}
    assert second.request_json(CHAT, {"Send": ["fake.dev", "and back"]}) == {"Ok": 2}
    history = first.request_json(CHAT, {"History": "fake2.dev"})
    expected = [("fake.dev", "over tcp"), ("fake2.dev", "and back")]
    assert [(m["author"], m["text"]) for m in history] == expected
    peers = first.node.inject("net:distro:sys", msgpack.packb("GetPeers"), expects_response=5)
    assert peers is not None and [p[0] for p in msgpack.unpackb(peers.body)["Peers"]] == ["fake2.dev"]

    hyperpy_nodes.set_offline("fake2.dev")
    assert first.request_json(CHAT, {"Send": ["fake2.dev", "anyone?"]}) == {"Err": "fake2.dev is offline"}
    hyperpy_nodes.set_offline("fake2.dev", False)
    assert first.request_json(CHAT, {"Send": ["fake2.dev", "back?"]}) == {"Ok": 3}
