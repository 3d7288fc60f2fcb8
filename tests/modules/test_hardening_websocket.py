"""WebSocket garbage on a process socket and an extension socket (both modes): random bytes, frames
that break the protocol (bad opcodes, unmasked client frames, oversized control frames, invalid UTF-8
text, bad close codes, a message over the 64 MiB limit announced in a header), and hypothesis-made
frame sequences. The node closes only the offending connection; the process keeps its socket table
and a well-behaved client still gets its echo."""

from __future__ import annotations

import base64
import os
import socket
import struct
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_probe import PROBE, Probe
from websockets.sync.client import connect

FUZZ_EXAMPLES = int(os.environ.get("HYPERPY_FUZZ_EXAMPLES", "60"))
COUNTS: dict[str, int] = {}


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack(">H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", length)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def raw_socket(base: str, path: str) -> socket.socket:
    """A TCP connection that completed the WebSocket handshake by hand, to send any bytes after it."""
    address = urlsplit(base)
    connection = socket.create_connection((address.hostname, address.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: localhost:{address.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(4096)
        assert chunk, answer
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return connection


def send_garbage(base: str, path: str, data: bytes) -> None:
    connection = raw_socket(base, path)
    try:
        connection.sendall(data)
        connection.settimeout(0.5)
        try:
            while connection.recv(65536):
                pass
        except (TimeoutError, ConnectionError, OSError):
            pass
    finally:
        connection.close()


BAD = {
    "random bytes": os.urandom(4096),
    "reserved opcode": frame(0x3, b"x"),
    "reserved bits": frame(0x1, b"x", rsv=0b111),
    "unmasked client frame": frame(0x1, b"hello", masked=False),
    "oversized ping": frame(0x9, b"p" * 200),
    "fragmented close": frame(0x8, struct.pack(">H", 1000), fin=False),
    "bad close code": frame(0x8, struct.pack(">H", 999) + b"why"),
    "invalid utf-8 text": frame(0x1, b"\xff\xfe\xc3\x28"),
    "continuation without start": frame(0x0, b"tail"),
    "pong out of the blue": frame(0xA, b"pong"),
    "over 64 MiB announced": bytes([0x82, 0xFF])
    + struct.pack(">Q", 65 * 1024 * 1024)
    + os.urandom(4)
    + b"x" * 1024,
    "over 2**63 announced": bytes([0x82, 0xFF]) + struct.pack(">Q", 2**63 + 5),
    "half a header": bytes([0x81]),
}


def bind(probe: Probe, path: str, extension: bool) -> None:
    bound = probe.call(
        "our@http-server:distro:sys",
        {"WebSocketBind": {"path": path, "authenticated": False, "extension": extension}},
    )
    assert bound["body"] == {"Ok": None}


def still_echoes(hyperpy_node: Any) -> None:
    with connect(hyperpy_node.url.replace("http://", "ws://") + f"/{PROBE}/ws") as client:
        client.send("still there?")
        assert client.recv(timeout=10) == "echo:still there?"


@pytest.mark.hyperpy_modes("native", "component")
def test_websocket_garbage_closes_only_that_connection(probe: Probe, hyperpy_node: Any) -> None:
    bind(probe, "/ws", extension=False)
    bind(probe, "/ext", extension=True)
    for path in (f"/{PROBE}/ws", f"/{PROBE}/ext"):
        for data in BAD.values():
            send_garbage(hyperpy_node.url, path, data)
            COUNTS["websocket frames"] = COUNTS.get("websocket frames", 0) + 1
        still_echoes(hyperpy_node)

    frames = st.lists(
        st.tuples(
            st.integers(0, 15), st.binary(max_size=300), st.booleans(), st.booleans(), st.integers(0, 7)
        ),
        max_size=6,
    )

    @settings(
        max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False
    )
    @given(sequence=frames, extension=st.booleans(), tail=st.binary(max_size=64))
    def fuzz(sequence: list[tuple[int, bytes, bool, bool, int]], extension: bool, tail: bytes) -> None:
        data = b"".join(
            frame(op, payload, fin=fin, masked=masked, rsv=rsv) for op, payload, fin, masked, rsv in sequence
        )
        send_garbage(hyperpy_node.url, f"/{PROBE}/{'ext' if extension else 'ws'}", data + tail)
        COUNTS["websocket frames"] = COUNTS.get("websocket frames", 0) + 1

    fuzz()
    still_echoes(hyperpy_node)
    assert hyperpy_node.node.process(PROBE).status == "running"
    print(f"fuzzed inputs: {COUNTS}")
