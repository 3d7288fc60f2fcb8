"""net:distro:sys — the local side of Hyperdrive's networking module: identities, Sign and Verify.

Bodies are MessagePack as rmp-serde's `to_vec` writes them (runtime-contract.md §3.7; HD
`lib/src/net.rs`, `hyperdrive/src/net/mod.rs`): enums externally tagged (`"GetPeers"`,
`{"GetPeer": name}`), structs as arrays of their fields (`Identity` = `[name, networking_key,
routing]`, `Direct{ip, ports}` = `{"Direct": [ip, {proto: port}]}`), `Vec<u8>` as an array of numbers.
Requests are accepted as maps or arrays and with bytes as bin or arrays, as rmp-serde reads them.

On a real network (`hyperpy.node.net.transport.NetTransport`, e.g. `hyperpy run`) the answers come
from the open connections and the PKI, as Hyperdrive's; in an `Emulator`'s in-memory network the
other nodes running in this Python process stand in for connected peers.

* `GetPeers` → `{"Peers": [Identity..]}`: the peers we hold a connection with;
* `{"GetPeer": name}` → `{"Peer": Identity|nil}`: the PKI entry (our own identity for our name);
* `GetDiagnostics` → `{"Diagnostics": text}`;
* `Sign` → `"Signed"` with the Ed25519 signature of `source address ++ blob` as blob;
* `{"Verify": {"from": address, "signature": [..]}}` → `{"Verified": bool}` over `from ++ blob`,
  checked with the key of `from`'s node (our key when that node is unknown, as Hyperdrive does);
* `{"HnsUpdate": ..}` / `{"HnsBatchUpdate": [..]}` add PKI entries; bodies that do not decode are
  ignored (Hyperdrive treats them as fd-manager traffic), with a printout saying why.
* from another node: `{"ConnectionRequest": name}` from one of our routers makes an indirect node
  dial back through it; anything else is a "hello" (the `hi` script): printed, answered `ack`.

Answers always go to rsvp or source. Each node's Ed25519 key is created once and kept in
`<home>/net/networking-key` (32-byte seed), so signatures stay verifiable across restarts.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, module_id, request_of
from hyperpy.node.net.keys import load_key
from hyperpy.node.net.pki import Identity, PkiError
from hyperpy.node.wit_types import Address, LazyLoadBlob, Message_Response

if TYPE_CHECKING:
    from hyperpy.node.net.transport import NetTransport

_RUNNING: weakref.WeakValueDictionary[str, NetModule] = weakref.WeakValueDictionary()
"""Net modules of the nodes running in this Python process, by node name: the emulator's PKI."""


class NetRequestError(ValueError):
    """A body that is not a NetAction; the message says what was expected."""


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
        """`port` reports the node's HTTP port for our Identity's routing in the in-memory network
        (none: no ports listed); on a real network the transport's identity is used instead."""
        super().__init__()
        self._port = port
        self._key: Ed25519PrivateKey | None = None
        self.pki: dict[str, list[Any]] = {}

    @property
    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            raise RuntimeError("net:distro:sys has not started")
        return self._key

    @property
    def transport(self) -> NetTransport | None:
        """The node's real network, when it has one (else the in-memory emulator network)."""
        from hyperpy.node.net.transport import NetTransport

        link = getattr(self.node, "network_link", None)
        return link if isinstance(link, NetTransport) else None

    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def identity(self) -> list[Any]:
        """Our `Identity` in rmp-serde array form: `[name, "0x<key hex>", {"Direct": [ip, ports]}]`."""
        transport = self.transport
        if transport is not None:
            return transport.identity().to_wire()
        port = self._port() if self._port is not None else 0
        ports = {"ws": port} if port else {}
        return [self.node.our_node, "0x" + self.public_key().hex(), {"Direct": ["127.0.0.1", ports]}]

    async def on_start(self) -> None:
        self._key = load_key(self.node.home)
        _RUNNING[self.node.our_node] = self

    async def on_stop(self) -> None:
        if self._node is not None and _RUNNING.get(self.node.our_node) is self:
            del _RUNNING[self.node.our_node]

    def _peer(self, name: str) -> list[Any] | None:
        if name == self.node.our_node:
            return self.identity()
        transport = self.transport
        if transport is not None:
            identity = transport.lookup(name)
            return None if identity is None else identity.to_wire()
        running = _RUNNING.get(name)
        if running is not None:
            return running.identity()
        return self.pki.get(name)

    def _peer_key(self, name: str) -> bytes:
        identity = self._peer(name)
        if identity is None or name == self.node.our_node:
            return self.public_key()
        try:
            return bytes.fromhex(str(identity[1]).removeprefix("0x"))
        except ValueError:
            return b""

    async def handle(self, message: KernelMessage) -> None:
        if message.source.node != self.node.our_node:
            self._handle_remote(message)
            return
        request = request_of(message)
        if request is None:
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

    def _handle_remote(self, message: KernelMessage) -> None:
        """`handle_remote_request`: a router's ConnectionRequest, a refused PKI update, or else a
        "hello" (what the `hi` script sends): printed loudly and answered `ack`. A `Rejected`
        response from a node we route for cancels its pending passthrough."""
        transport = self.transport
        if isinstance(message.message, Message_Response):
            try:
                answer = msgpack.unpackb(message.message.value[0].body, raw=False)
            except Exception:
                return
            if transport is not None and isinstance(answer, dict) and isinstance(answer.get("Rejected"), str):
                transport.reject_pending(answer["Rejected"], message.source.node)
            return
        request = message.message.value
        try:
            name, payload = parse_net_action(request.body)
        except NetRequestError:
            name, payload = "", None
        if name in ("HnsUpdate", "HnsBatchUpdate"):
            self.log(2, f"net: not allowed to update PKI from remote ({message.source.node})")
            return
        if name == "ConnectionRequest":
            if transport is None or not isinstance(payload, str):
                self.log(2, "net: not an indirect node")
            elif not transport.connection_request(message.source.node, payload):
                self.log(2, f"net: {message.source.node} is not one of our routers")
            return
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            text = "!!message parse error!!"
        self.log(0, f"\x1b[3;32m{message.source.node}: {text}\x1b[0m")
        self.respond(message, b"ack")

    def _answer(self, message: KernelMessage, name: str, payload: Any) -> tuple[Any, bytes | None]:
        blob = message.lazy_load_blob.bytes if message.lazy_load_blob is not None else b""
        transport = self.transport
        if name == "GetPeers":
            if transport is not None:
                return {"Peers": [identity.to_wire() for identity in transport.peers()]}, None
            peers = [
                module.identity() for node, module in sorted(_RUNNING.items()) if node != self.node.our_node
            ]
            return {"Peers": peers}, None
        if name == "GetPeer":
            return {"Peer": self._peer(payload)}, None
        if name == "GetDiagnostics":
            text = transport.diagnostics() if transport is not None else self._diagnostics()
            return {"Diagnostics": text}, None
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
        """`ingest_log`: an HnsUpdate becomes an Identity (direct when it lists ips)."""
        try:
            fields = _struct(update, ("name", "public_key", "ips", "ports", "routers"), "HnsUpdate")
            ips, ports, routers = fields["ips"], fields["ports"], fields["routers"]
            identity = Identity.from_json(
                {
                    "name": fields["name"],
                    "networking_key": fields["public_key"],
                    "ip": ips[0] if isinstance(ips, list) and ips else None,
                    "ports": ports if isinstance(ips, list) and ips else {},
                    "routers": routers,
                }
            )
        except (NetRequestError, PkiError) as error:
            self.log(0, f"net: ignored an HnsUpdate: {error}")
            return
        transport = self.transport
        if transport is not None:
            transport.ingest(identity)
        else:
            self.pki[identity.name] = identity.to_wire()

    def _diagnostics(self) -> str:
        peers = [node for node in sorted(_RUNNING) if node != self.node.our_node]
        lines = [f"our Identity: {self.identity()!r}", f"we have connections with {len(peers)} peers:"]
        lines += [f"    {peer}, last message 0s ago" for peer in peers]
        lines.append(f"we have {len(self.pki) + len(peers)} entries in the PKI")
        lines.append(f"(hyperpy local node, {time.strftime('%Y-%m-%d %H:%M:%S')})")
        return "\r\n".join(lines) + "\r\n"
