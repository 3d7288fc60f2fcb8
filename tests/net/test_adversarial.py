"""Nothing a peer sends can crash a node or impersonate another node: every attack below is refused
and logged, and the node keeps serving honest peers afterwards.

The attacker is a raw loopback client speaking as much of the protocol as each attack needs (the
project's own Noise handshake and framing, with the wrong key, name or frames)."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hyperpy.node import InjectOffline, Node
from hyperpy.node.contracts import KernelMessage
from hyperpy.node.net.connection import OurKeys, TcpPipe, initiate
from hyperpy.node.net.keys import public_key_hex
from hyperpy.node.net.pki import DirectoryPki, Identity
from hyperpy.node.net.wire import encode_kernel_message
from hyperpy.node.wit_types import Address, Capability, Message_Request, Request

from .conftest import NodeMaker, hello

Attack = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def tcp_address(node: Node) -> tuple[str, int]:
    assert node.transport is not None
    identity = node.transport.identity()
    assert identity.ip is not None
    return identity.ip, identity.ports["tcp"]


def run_attack(node: Node, attack: Attack) -> None:
    async def main() -> None:
        reader, writer = await asyncio.open_connection(*tcp_address(node))
        try:
            await attack(reader, writer)
        finally:
            writer.close()

    asyncio.run(main())


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """Read until the node closes the connection (what a refused peer sees)."""
    return await asyncio.wait_for(reader.read(), 10)


def register_mallory(pki: DirectoryPki, name: str = "mallory.dev") -> OurKeys:
    key = Ed25519PrivateKey.generate()
    pki.publish(Identity(name, public_key_hex(key), "127.0.0.1", {"tcp": 1}))
    return OurKeys(name, key)


def message_from(source: str, target: Node, body: bytes = b"spoof") -> bytes:
    return encode_kernel_message(
        KernelMessage(
            id=1,
            source=Address.parse(f"{source}@chat:chat:template.os"),
            target=Address.parse(f"{target.name}@net:distro:sys"),
            rsvp=None,
            message=Message_Request(Request(False, None, body, None, [])),
            lazy_load_blob=None,
        )
    )


@pytest.fixture
def victim(make_node: NodeMaker) -> tuple[Node, Node]:
    """b.dev under attack, and a.dev, its honest peer."""
    return make_node("a.dev"), make_node("b.dev", handshake_timeout=1.0, stall_timeout=1.0)


def assert_still_serving(honest: Node, victim: Node, refusal: str) -> None:
    victim.terminal.wait_for(refusal, timeout=10)
    assert victim.running
    assert hello(honest, victim.name, "are you ok") == b"ack"


def test_garbage_instead_of_a_handshake(victim: tuple[Node, Node]) -> None:
    honest, node = victim

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(struct.pack(">H", 11) + b"hello there")
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "refused a connection from tcp 127.0.0.1")


def test_truncated_handshake(victim: tuple[Node, Node]) -> None:
    honest, node = victim

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(struct.pack(">H", 32) + b"\x01" * 10)  # announces Noise `e`, sends a third of it
        await writer.drain()
        writer.write_eof()
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "ConnectionError: connection closed")


def test_slow_peer_that_never_finishes_the_handshake(victim: tuple[Node, Node]) -> None:
    honest, node = victim

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\x00")  # one byte, then silence
        await writer.drain()
        assert await until_closed(reader) == b""

    run_attack(node, attack)
    assert_still_serving(honest, node, "timed out")


def test_wrong_key_cannot_claim_a_registered_name(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    impostor = OurKeys("a.dev", Ed25519PrivateKey.generate())  # a.dev's name, not a.dev's key
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await initiate(TcpPipe(reader, writer), impostor, target)
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "is not signed by its networking key in the PKI")


def test_unregistered_name_is_refused(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    stranger = OurKeys("stranger.dev", Ed25519PrivateKey.generate())
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await initiate(TcpPipe(reader, writer), stranger, target)
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "unknown name 'stranger.dev' (not in the PKI)")


def test_spoofed_source_closes_the_connection(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    mallory = register_mallory(pki)
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        noise, _ = await initiate(pipe, mallory, target)
        await pipe.send_message(noise, message_from("a.dev", node))
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "got message with spoofed source from mallory.dev")
    assert "a.dev: spoof" not in node.terminal.text(all=True)


def test_garbage_and_replayed_frames(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    mallory = register_mallory(pki)
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        noise, _ = await initiate(pipe, mallory, target)
        frame = message_from("mallory.dev", node, b"once")
        ciphertext = noise.encrypt(frame)
        record = struct.pack(">I", len(frame)) + struct.pack(">H", len(ciphertext)) + ciphertext
        writer.write(record)
        writer.write(record)  # the same encrypted frame again: its nonce is spent
        await writer.drain()
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "frame failed decryption")
    assert node.terminal.text(all=True).count("mallory.dev: once") == 1


def test_oversize_frame_is_refused_before_it_is_read(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    mallory = register_mallory(pki)
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        await initiate(pipe, mallory, target)
        writer.write(struct.pack(">I", 4_000_000_000))  # announces 4 GB
        await writer.drain()
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "over the 10485800-byte limit")


def test_undecodable_message_inside_a_valid_frame(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    mallory = register_mallory(pki)
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        noise, _ = await initiate(pipe, mallory, target)
        await pipe.send_message(noise, b"\x93\x01\x02")  # MessagePack, but not a KernelMessage
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "undecodable KernelMessage from mallory.dev")


def test_a_forged_capability_of_ours_is_dropped(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    """Capabilities travel with Ed25519 signatures; one that claims to be issued by the victim but
    is not signed by the victim's key never reaches the target (Hyperdrive prunes it the same way)."""
    honest, node = victim
    mallory = register_mallory(pki)
    target = pki.lookup(node.name)
    assert target is not None
    forged = Capability(Address.parse(f"{node.name}@kernel:distro:sys"), '"network"')
    message = KernelMessage(
        id=2,
        source=Address.parse("mallory.dev@chat:chat:template.os"),
        target=Address.parse(f"{node.name}@net:distro:sys"),
        rsvp=None,
        message=Message_Request(Request(False, None, b"with a cap", None, [forged])),
        lazy_load_blob=None,
    )

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        noise, _ = await initiate(pipe, mallory, target)
        await pipe.send_message(noise, encode_kernel_message(message, [b"\x00" * 64]))
        await asyncio.sleep(0.5)

    run_attack(node, attack)
    assert_still_serving(honest, node, "dropped a capability")
    node.terminal.wait_for("mallory.dev: with a cap", timeout=5)  # the message itself is delivered


def test_a_peer_that_never_answers_the_handshake_is_offline(make_node: NodeMaker, pki: DirectoryPki) -> None:
    """Hyperdrive's connect timeout: a listed peer that accepts but never handshakes is Offline once
    the timeout passes, and the messages queued for it come back instead of hanging."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        key = Ed25519PrivateKey.generate()
        pki.publish(
            Identity("silent.dev", public_key_hex(key), "127.0.0.1", {"tcp": silent.getsockname()[1]})
        )
        sender = make_node("a.dev", handshake_timeout=0.5)
        with pytest.raises(InjectOffline, match=r"silent\.dev is offline: silent\.dev did not answer"):
            hello(sender, "silent.dev")
        sender.terminal.wait_for("could not connect to silent.dev over tcp: timed out", timeout=5)
    finally:
        silent.close()


def test_slow_peer_that_stalls_in_the_middle_of_a_frame(victim: tuple[Node, Node], pki: DirectoryPki) -> None:
    honest, node = victim
    mallory = register_mallory(pki)
    target = pki.lookup(node.name)
    assert target is not None

    async def attack(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        await initiate(pipe, mallory, target)
        writer.write(struct.pack(">I", 1000) + struct.pack(">H", 1016))  # a frame begins, then nothing
        await writer.drain()
        await until_closed(reader)

    run_attack(node, attack)
    assert_still_serving(honest, node, "ProtocolError: peer stalled for 1 s in the middle of a frame")


def test_a_listener_without_the_listed_key_is_not_trusted(make_node: NodeMaker, pki: DirectoryPki) -> None:
    """The initiator checks the responder too: if the PKI lists another key for b.dev than the one
    the node at b.dev's address signs with, a.dev refuses the connection and reports Offline."""
    a, b = make_node("a.dev"), make_node("b.dev")
    assert b.transport is not None
    listed = b.transport.identity()
    pki.publish(Identity("b.dev", public_key_hex(Ed25519PrivateKey.generate()), listed.ip, listed.ports))
    with pytest.raises(InjectOffline, match=r"b\.dev is offline"):
        hello(a, "b.dev", "should not arrive")
    a.terminal.wait_for("is not signed by its networking key in the PKI", timeout=5)
    assert "should not arrive" not in b.terminal.text(all=True)
