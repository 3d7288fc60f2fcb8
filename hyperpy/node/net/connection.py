"""One connection between two nodes: the two framings (TCP, WebSocket) and the Noise XX handshake.

Byte for byte what Hyperdrive's `net/tcp/utils.rs` and `net/ws/utils.rs` do:

* **raw messages** (the RoutingRequest and the three handshake messages): over TCP a 2-byte
  big-endian length then the bytes; over WebSocket one binary frame each;
* **KernelMessages** after the handshake (`Noise_XX_25519_ChaChaPoly_BLAKE2s` transport mode, each
  Noise message at most 65535 bytes, so the plaintext goes in chunks of 65519):
  over TCP a 4-byte big-endian plaintext length, then per chunk a 2-byte length and the ciphertext;
  over WebSocket the 4-byte length is prepended to the plaintext and every encrypted chunk is its own
  binary frame.

The handshake (`connect_with_handshake` / `recv_connection`): `-> e`, `<- e, ee, s, es` carrying the
responder's `HandshakePayload`, `-> s, se` carrying the initiator's. Each side checks the payload's
protocol version and that the peer's Ed25519 networking key (from the PKI) signed the peer's Noise
static key; the Noise static keys are fresh per connection, as Hyperdrive's `build_initiator` makes
them. The cryptography is the `noise` library's (noiseprotocol on PyPI) and `cryptography`'s.

Deliberate hardening beyond Hyperdrive: a TCP frame whose announced length exceeds the 10 MB cap is
refused before anything is allocated, a chunk may not overrun its message, and a message that has
started must keep arriving (`STALL_TIMEOUT`) so a slow peer cannot hold a half-read frame forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from noise.connection import Keypair, NoiseConnection

from hyperpy.node.net.pki import Identity
from hyperpy.node.net.wire import MESSAGE_MAX_SIZE, PROTOCOL_VERSION, HandshakePayload, WireError

NOISE_PROTOCOL = b"Noise_XX_25519_ChaChaPoly_BLAKE2s"
CHUNK = 65519  # 65535 - 16 (ChaChaPoly tag)
NOISE_E_LENGTH = 32  # a Noise `e` message with an empty payload; anything else is a RoutingRequest
HANDSHAKE_TIMEOUT = 5.0  # Hyperdrive's net TIMEOUT: connecting and the whole handshake
STALL_TIMEOUT = 30.0


class ProtocolError(Exception):
    """The peer broke the protocol (bad frame, bad handshake, bad signature); close and log."""


@dataclass(frozen=True)
class OurKeys:
    """Our name and networking key, for signing handshakes."""

    name: str
    key: Ed25519PrivateKey


class Pipe(ABC):
    """A stream to one peer that moves raw messages and encrypted KernelMessage frames."""

    kind = ""
    stall_timeout = STALL_TIMEOUT
    """Seconds a started message may stop arriving before the connection is dropped."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._closed = asyncio.Event()

    @abstractmethod
    async def send_raw(self, data: bytes) -> None:
        """One raw message (RoutingRequest, handshake)."""

    @abstractmethod
    async def recv_raw(self) -> bytes:
        """The next raw message."""

    @abstractmethod
    async def send_message(self, noise: NoiseConnection, plaintext: bytes) -> None:
        """One serialized KernelMessage, encrypted and framed."""

    @abstractmethod
    async def recv_message(self, noise: NoiseConnection, first_timeout: float | None) -> bytes:
        """The next KernelMessage plaintext; `first_timeout` bounds the wait for its first byte
        (asyncio.TimeoutError then), after which the rest must not stall."""

    @abstractmethod
    async def relay_read(self) -> bytes:
        """For a router's passthrough: the next bytes (TCP) or frame (WebSocket), as they are."""

    @abstractmethod
    async def relay_write(self, data: bytes) -> None:
        """For a router's passthrough: write what `relay_read` gave on the other pipe."""

    async def keepalive(self) -> None:
        """Hyperdrive pings WebSocket peers every 30 s; TCP relies on the socket's keep-alive."""
        return None

    async def _stalling(self, read: Coroutine[Any, Any, bytes]) -> bytes:
        """The rest of a message that has started: a peer that stops sending it is a protocol error
        (not the idle wait between messages), so the connection is dropped."""
        try:
            return await asyncio.wait_for(read, self.stall_timeout)
        except TimeoutError:
            stalled = f"peer stalled for {self.stall_timeout:g} s in the middle of a frame"
            raise ProtocolError(stalled) from None

    async def close(self) -> None:
        """Close the stream (idempotent)."""
        self._closed.set()
        await self._close()

    async def closed(self) -> None:
        """Wait until `close()` was called (by whoever owns the pipe now)."""
        await self._closed.wait()

    @abstractmethod
    async def _close(self) -> None:
        """Release the transport."""


def _decrypt(noise: NoiseConnection, data: bytes) -> bytes:
    try:
        return bytes(noise.decrypt(data))
    except Exception as error:
        raise ProtocolError(f"frame failed decryption ({type(error).__name__})") from None


class TcpPipe(Pipe):
    kind = "tcp"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        super().__init__(f"tcp {peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "tcp peer")
        self._reader = reader
        self._writer = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 30)):
                if hasattr(socket, option):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)

    async def _read(self, count: int) -> bytes:
        try:
            return await self._reader.readexactly(count)
        except asyncio.IncompleteReadError:
            raise ConnectionError("connection closed") from None

    async def send_raw(self, data: bytes) -> None:
        self._writer.write(struct.pack(">H", len(data)) + data)
        await self._writer.drain()

    async def recv_raw(self) -> bytes:
        (length,) = struct.unpack(">H", await self._read(2))
        return await self._read(length)

    async def send_message(self, noise: NoiseConnection, plaintext: bytes) -> None:
        parts = [struct.pack(">I", len(plaintext))]
        for start in range(0, len(plaintext), CHUNK):
            ciphertext = noise.encrypt(plaintext[start : start + CHUNK])
            parts += [struct.pack(">H", len(ciphertext)), ciphertext]
        self._writer.write(b"".join(parts))
        await self._writer.drain()

    async def recv_message(self, noise: NoiseConnection, first_timeout: float | None) -> bytes:
        header = await asyncio.wait_for(self._read(4), first_timeout)
        (length,) = struct.unpack(">I", header)
        if length > MESSAGE_MAX_SIZE:
            raise ProtocolError(f"frame announces {length} bytes, over the {MESSAGE_MAX_SIZE}-byte limit")
        parts: list[bytes] = []
        received = 0
        while received < length:
            (inner,) = struct.unpack(">H", await self._stalling(self._read(2)))
            plain = _decrypt(noise, await self._stalling(self._read(inner)))
            received += len(plain)
            if received > length or not plain:
                raise ProtocolError("frame chunks do not add up to the announced length")
            parts.append(plain)
        return b"".join(parts)

    async def relay_read(self) -> bytes:
        data = await self._reader.read(65536)
        if not data:
            raise ConnectionError("connection closed")
        return data

    async def relay_write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def _close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()


WsSocket = aiohttp.web.WebSocketResponse | aiohttp.ClientWebSocketResponse


class WsPipe(Pipe):
    kind = "ws"

    def __init__(
        self, socket: WsSocket, description: str, session: aiohttp.ClientSession | None = None
    ) -> None:
        super().__init__(description)
        self._socket = socket
        self._session = session

    async def send_raw(self, data: bytes) -> None:
        await self._socket.send_bytes(data)

    async def recv_raw(self) -> bytes:
        message = await self._socket.receive()
        if message.type is aiohttp.WSMsgType.BINARY:
            return bytes(message.data)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            raise ConnectionError("websocket closed")
        if message.type is aiohttp.WSMsgType.ERROR:
            raise ConnectionError(f"websocket error: {message.data}")
        raise ProtocolError(
            f"invalid websocket message ({message.type.name}); only binary frames are allowed"
        )

    async def send_message(self, noise: NoiseConnection, plaintext: bytes) -> None:
        framed = struct.pack(">I", len(plaintext)) + plaintext
        for start in range(0, len(framed), CHUNK):
            await self._socket.send_bytes(noise.encrypt(framed[start : start + CHUNK]))

    async def recv_message(self, noise: NoiseConnection, first_timeout: float | None) -> bytes:
        first = _decrypt(noise, await asyncio.wait_for(self.recv_raw(), first_timeout))
        if len(first) < 4:
            raise ProtocolError("protocol message too small")
        (length,) = struct.unpack(">I", first[:4])
        if length > MESSAGE_MAX_SIZE:
            raise ProtocolError(f"frame announces {length} bytes, over the {MESSAGE_MAX_SIZE}-byte limit")
        parts = [first[4:]]
        received = len(first) - 4
        while received < length:
            plain = _decrypt(noise, await self._stalling(self.recv_raw()))
            received += len(plain)
            parts.append(plain)
        if received != length:
            raise ProtocolError("frame chunks do not add up to the announced length")
        return b"".join(parts)

    async def relay_read(self) -> bytes:
        return await self.recv_raw()

    async def relay_write(self, data: bytes) -> None:
        await self._socket.send_bytes(data)

    async def keepalive(self) -> None:
        await self._socket.ping()

    async def _close(self) -> None:
        try:
            await self._socket.close()
        finally:
            if self._session is not None:
                await self._session.close()


# ------------------------------------------------------------------------------------ handshake


def _new_noise(initiator: bool) -> tuple[NoiseConnection, bytes]:
    static = X25519PrivateKey.generate()
    noise = NoiseConnection.from_name(NOISE_PROTOCOL)
    if initiator:
        noise.set_as_initiator()
    else:
        noise.set_as_responder()
    noise.set_keypair_from_private_bytes(Keypair.STATIC, static.private_bytes_raw())
    noise.start_handshake()
    return noise, static.public_key().public_bytes_raw()


def _our_payload(our: OurKeys, static_public: bytes, proxy_request: bool) -> bytes:
    return HandshakePayload(PROTOCOL_VERSION, our.name, our.key.sign(static_public), proxy_request).encode()


def _read_handshake(noise: NoiseConnection, data: bytes) -> tuple[HandshakePayload, bytes]:
    """Read a handshake message; returns the peer's payload and Noise static key."""
    state: Any = noise.noise_protocol.handshake_state  # kept: the library drops it when done
    try:
        payload = bytes(noise.read_message(data))
    except Exception as error:
        raise ProtocolError(f"handshake message rejected by Noise ({type(error).__name__})") from None
    try:
        return HandshakePayload.decode(payload), bytes(state.rs.public_bytes)
    except WireError as error:
        raise ProtocolError(f"bad handshake payload: {error}") from None


def validate_handshake(payload: HandshakePayload, remote_static: bytes, identity: Identity) -> None:
    """`validate_handshake`: version 1, and the peer's networking key signed its Noise static key."""
    if payload.protocol_version != PROTOCOL_VERSION:
        raise ProtocolError(f"handshake protocol version {payload.protocol_version} (expected 1)")
    if payload.name != identity.name:
        raise ProtocolError(f"handshake names {payload.name!r}, but we expected {identity.name!r}")
    try:
        Ed25519PublicKey.from_public_bytes(identity.key_bytes()).verify(payload.signature, remote_static)
    except (InvalidSignature, ValueError):
        raise ProtocolError(
            f"handshake from {payload.name!r} is not signed by its networking key in the PKI"
        ) from None


async def initiate(
    pipe: Pipe, our: OurKeys, peer: Identity, *, proxy_request: bool = False
) -> tuple[NoiseConnection, HandshakePayload]:
    """Initiator side of the XX handshake with `peer` (a RoutingRequest, if any, is sent first)."""
    noise, static_public = _new_noise(initiator=True)
    await pipe.send_raw(bytes(noise.write_message(b"")))  # -> e
    theirs, remote_static = _read_handshake(noise, await pipe.recv_raw())  # <- e, ee, s, es
    validate_handshake(theirs, remote_static, peer)
    await pipe.send_raw(bytes(noise.write_message(_our_payload(our, static_public, proxy_request))))
    return noise, theirs


async def respond(
    pipe: Pipe, our: OurKeys, first: bytes, lookup: Any
) -> tuple[NoiseConnection, HandshakePayload, Identity]:
    """Responder side, given the initiator's first raw message (`-> e`); `lookup(name)` is the PKI."""
    noise, static_public = _new_noise(initiator=False)
    try:
        noise.read_message(first)
    except Exception as error:
        raise ProtocolError(f"first handshake message rejected ({type(error).__name__})") from None
    await pipe.send_raw(bytes(noise.write_message(_our_payload(our, static_public, False))))
    theirs, remote_static = _read_handshake(noise, await pipe.recv_raw())  # <- s, se
    identity = lookup(theirs.name)
    if identity is None:
        raise ProtocolError(f"unknown name {theirs.name!r} (not in the PKI)")
    validate_handshake(theirs, remote_static, identity)
    return noise, theirs, identity
