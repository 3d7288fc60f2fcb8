"""net:distro:sys — the local side of Hyperdrive's networking module: identities, Sign and Verify.

Bodies are MessagePack as rmp-serde's `to_vec` writes them (runtime-contract.md §3.7; HD
`lib/src/net.rs`, `hyperdrive/src/net/mod.rs`): enums externally tagged (`"GetPeers"`,
`{"GetPeer": name}`), structs as arrays of their fields (`Identity` = `[name, networking_key,
routing]`, `Direct{ip, ports}` = `{"Direct": [ip, {proto: port}]}`), `Vec<u8>` as an array of numbers.
Requests are accepted as maps or arrays and with bytes as bin or arrays, as rmp-serde reads them.

* `GetPeers` → `{"Peers": [Identity..]}`: the other nodes running in this Python process (the
  emulator's network stands in for Hyperdrive's connected peers);
* `{"GetPeer": name}` → `{"Peer": Identity|nil}` (our own identity for our name);
* `GetDiagnostics` → `{"Diagnostics": text}`;
* `Sign` → `"Signed"` with the Ed25519 signature of `source address ++ blob` as blob;
* `{"Verify": {"from": address, "signature": [..]}}` → `{"Verified": bool}` over `from ++ blob`,
  checked with the key of `from`'s node (our key when that node is unknown, as Hyperdrive does);
* `{"HnsUpdate": ..}` / `{"HnsBatchUpdate": [..]}` add PKI entries; bodies that do not decode are
  ignored (Hyperdrive treats them as fd-manager traffic), with a printout saying why.

Answers always go to rsvp or source. Each node's Ed25519 key is created once and kept in
`<home>/net/networking-key` (32-byte seed), so signatures stay verifiable across restarts.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, module_id, request_of
from hyperpy.node.wit_types import Address, LazyLoadBlob

_RUNNING: weakref.WeakValueDictionary[str, NetModule] = weakref.WeakValueDictionary()
"""Net modules of the nodes running in this Python process, by node name: the emulator's PKI."""


class NetRequestError(ValueError):
    """A body that is not a NetAction; the message says what was expected."""


def load_key(home: Path) -> Ed25519PrivateKey:
    """The node's networking key, created on first boot (atomic write, owner-only permissions)."""
    path = home / "net" / "networking-key"
    if path.exists():
        return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_bytes_raw())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return key


def _bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, list) and all(isinstance(item, int) and 0 <= item <= 255 for item in value):
        return bytes(value)
    raise NetRequestError(f"{what} must be bytes (bin or an array of 0-255 numbers)")


def _struct(payload: object, names: tuple[str, ...], what: str) -> dict[str, Any]:
    if isinstance(payload, dict) and all(name in payload for name in names):
        return payload
    if isinstance(payload, list | tuple) and len(payload) == len(names):
        return dict(zip(names, payload, strict=True))
    raise NetRequestError(f"{what} must be a map or array of {', '.join(names)}")


def parse_net_action(body: bytes) -> tuple[str, Any]:
    """Decode a NetAction: (variant, payload) or NetRequestError naming the problem."""
    try:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        unpacker.feed(body)
        value = unpacker.unpack()
    except Exception as error:
        raise NetRequestError(
            f"body is not MessagePack ({type(error).__name__}); net bodies use rmp-serde"
        ) from None
    if isinstance(value, str) and value in ("GetPeers", "GetDiagnostics", "Sign"):
        return value, None
    if isinstance(value, dict) and len(value) == 1:
        ((name, payload),) = value.items()
        if name == "GetPeer" and isinstance(payload, str):
            return name, payload
        if name == "Verify":
            fields = _struct(payload, ("from", "signature"), "Verify")
            if not isinstance(fields["from"], str):
                raise NetRequestError(
                    "Verify.from must be an address string 'node@process:package:publisher'"
                )
            try:
                origin = Address.parse(fields["from"])
            except ValueError as error:
                raise NetRequestError(f"Verify.from: {error}") from None
            return name, (origin, _bytes(fields["signature"], "Verify.signature"))
        if name in ("ConnectionRequest", "HnsUpdate", "HnsBatchUpdate"):
            return name, payload
    raise NetRequestError(
        f'not a NetAction: {value!r:.80}; expected MessagePack of "GetPeers", {{"GetPeer": name}}, '
        '"GetDiagnostics", "Sign" or {"Verify": {"from": address, "signature": bytes}}'
    )


class NetModule(ModuleBase):
    process_id = module_id("net")

    def __init__(self, *, port: Callable[[], int] | None = None) -> None:
        """`port` reports the node's HTTP port for our Identity's routing (none: no ports listed)."""
        super().__init__()
        self._port = port
        self._key: Ed25519PrivateKey | None = None
        self.pki: dict[str, list[Any]] = {}

    @property
    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            raise RuntimeError("net:distro:sys has not started")
        return self._key

    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def identity(self) -> list[Any]:
        """Our `Identity` in rmp-serde array form: `[name, "0x<key hex>", {"Direct": [ip, ports]}]`."""
        port = self._port() if self._port is not None else 0
        ports = {"ws": port} if port else {}
        return [self.node.our_node, "0x" + self.public_key().hex(), {"Direct": ["127.0.0.1", ports]}]

    async def on_start(self) -> None:
        self._key = load_key(self.node.home)
        _RUNNING[self.node.our_node] = self

    async def on_stop(self) -> None:
        if _RUNNING.get(self.node.our_node) is self:
            del _RUNNING[self.node.our_node]

    def _peer(self, name: str) -> list[Any] | None:
        if name == self.node.our_node:
            return self.identity()
        running = _RUNNING.get(name)
        if running is not None:
            return running.identity()
        return self.pki.get(name)

    def _peer_key(self, name: str) -> bytes:
        identity = self._peer(name)
        if identity is None or name == self.node.our_node:
            return self.public_key()
        return bytes.fromhex(str(identity[1]).removeprefix("0x"))

    async def handle(self, message: KernelMessage) -> None:
        request = request_of(message)
        if request is None:
            return
        if message.source.node != self.node.our_node:
            self._remote_request(message, request.body)
            return
        try:
            name, payload = parse_net_action(request.body)
        except NetRequestError as error:
            self.log(0, f"net: ignored a request from {message.source}: {error}")
            return
        answer, blob = self._answer(message, name, payload)
        if answer is None:
            return
        body = msgpack.packb(answer, use_bin_type=True)
        self.respond(message, body, None if blob is None else LazyLoadBlob(None, blob))

    def _remote_request(self, message: KernelMessage, body: bytes) -> None:
        """A request from another node's process to our net (HD `handle_remote_request`): PKI updates
        are refused; a body that is no NetAction is a hello (the `hi` script): printed loudly as
        `<node>: <text>` and answered "ack" (HD `utils::parse_hello_message`)."""
        try:
            parse_net_action(body)
        except NetRequestError:
            text = body.decode("utf-8") if _is_utf8(body) else "!!message parse error!!"
            self.log(0, f"\x1b[3;32m{message.source.node}: {text}\x1b[0m")
            self.respond(message, b"ack")
            return
        self.log(2, f"net: ignored a NetAction from remote node {message.source.node}")

    def _answer(self, message: KernelMessage, name: str, payload: Any) -> tuple[Any, bytes | None]:
        blob = message.lazy_load_blob.bytes if message.lazy_load_blob is not None else b""
        if name == "GetPeers":
            peers = [
                module.identity() for node, module in sorted(_RUNNING.items()) if node != self.node.our_node
            ]
            return {"Peers": peers}, None
        if name == "GetPeer":
            return {"Peer": self._peer(payload)}, None
        if name == "GetDiagnostics":
            return {"Diagnostics": self._diagnostics()}, None
        if name == "Sign":
            return "Signed", self.key.sign(str(message.source).encode() + blob)
        if name == "Verify":
            origin, signature = payload
            try:
                Ed25519PublicKey.from_public_bytes(self._peer_key(origin.node)).verify(
                    signature, str(origin).encode() + blob
                )
                verified = True
            except (InvalidSignature, ValueError):
                verified = False
            return {"Verified": verified}, None
        if name in ("HnsUpdate", "HnsBatchUpdate"):
            updates = payload if name == "HnsBatchUpdate" else [payload]
            for update in updates if isinstance(updates, list) else []:
                self._ingest(update)
        return None, None

    def _ingest(self, update: object) -> None:
        try:
            fields = _struct(update, ("name", "public_key", "ips", "ports", "routers"), "HnsUpdate")
        except NetRequestError as error:
            self.log(0, f"net: ignored an HnsUpdate: {error}")
            return
        ips, ports, routers = fields["ips"], fields["ports"], fields["routers"]
        routing = {"Direct": [ips[0], ports]} if ips else {"Routers": routers}
        self.pki[str(fields["name"])] = [str(fields["name"]), str(fields["public_key"]), routing]

    def _diagnostics(self) -> str:
        peers = [node for node in sorted(_RUNNING) if node != self.node.our_node]
        lines = [f"our Identity: {self.identity()!r}", f"we have connections with {len(peers)} peers:"]
        lines += [f"    {peer}, last message 0s ago" for peer in peers]
        lines.append(f"we have {len(self.pki) + len(peers)} entries in the PKI")
        lines.append(f"(hyperpy local node, {time.strftime('%Y-%m-%d %H:%M:%S')})")
        return "\r\n".join(lines) + "\r\n"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
