"""`NetTransport`: net:distro:sys's networking between nodes in separate processes or machines.

What it mirrors (hyperdrive/src/net/mod.rs, connect.rs, tcp/, ws/, indirect.rs):

* a direct node listens on its published TCP and/or WebSocket port; an indirect node publishes
  routers instead and keeps a connection open to each (`maintain_routers`, every 4 s);
* a message for another node goes to that peer's queue; with no connection yet, the peer is looked
  up in the PKI and connected to (TCP preferred when both ports are published, then WebSocket;
  an indirect peer through each of its routers in turn), within 5 s, else every queued message
  comes back to its sender as `SendError{kind: Offline}`;
* every frame's source node must be the authenticated peer (else the connection closes, "spoofed
  source"), and its process id Hypermap-safe; capabilities we issued are kept only when our
  networking key signed them (`rmp_serde::to_vec(&cap)`, as the kernel's `FilterCaps`);
* a message whose serialization exceeds 10 MB is refused to its sender (Timeout, printed loudly)
  before it reaches the socket, so the connection and the messages behind it survive;
* an inbound connection from a peer we already hold replaces the old one;
* routers (`max_passthroughs` > 0) splice a RoutingRequest's stream to the target: straight to a
  direct target, or, for an indirect target routing through us, by asking the target to dial back
  (`ConnectionRequest`) and pairing the two streams.

Deliberate differences: messages still queued when a connection drops, or written to it in its last
second, are retried once on a new connection (Hyperdrive drops them with the task), so nothing
queued is lost silently and a peer that just stopped is reported Offline, not a Timeout later; idle
connections close after 30 minutes without traffic (Hyperdrive: 30 minutes after opening).

The transport runs its own asyncio loop on its own thread, so a slow peer never stalls the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import aiohttp
import msgpack
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from noise.connection import NoiseConnection

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.net.connection import (
    HANDSHAKE_TIMEOUT,
    NOISE_E_LENGTH,
    STALL_TIMEOUT,
    OurKeys,
    Pipe,
    ProtocolError,
    TcpPipe,
    WsPipe,
    initiate,
    respond,
)
from hyperpy.node.net.keys import public_key_hex
from hyperpy.node.net.pki import Identity, Pki, PkiError
from hyperpy.node.net.wire import (
    MESSAGE_MAX_SIZE,
    PROTOCOL_VERSION,
    RoutingRequest,
    WireError,
    capability_bytes,
    decode_kernel_message,
    encode_kernel_message,
)
from hyperpy.node.well_known import NET_PROCESS_ID
from hyperpy.node.wit_types import (
    Address,
    Capability,
    Message_Request,
    Message_Response,
    Request,
    SendErrorKind,
)
from hyperpy.package.names import is_hypermap_safe, is_publisher_safe

if TYPE_CHECKING:
    from hyperpy.node.kernel import Kernel
    from hyperpy.node.terminal import Terminal

IDLE_TIMEOUT = 1800.0
RECENT_WINDOW = 1.0
KEEPALIVE_INTERVAL = 30.0
ROUTER_RETRY_INTERVAL = 4.0
WS_MAX_FRAME = 65535 + 64
PKI_PATH = "/hyperpy/pki"  # served on the WebSocket port for nodes on other machines (`JoinedPki`)
_CONNECTION_ERRORS = (ProtocolError, WireError, ConnectionError, OSError, asyncio.TimeoutError)


@dataclass
class NetConfig:
    """How a node is reached, and where it looks others up.

    A node with `routers` and no ports is indirect. Ports: None = do not listen on that transport,
    0 = any free port (read the chosen one back from `NetTransport.identity()`).
    """

    pki: Pki
    ip: str = "127.0.0.1"
    tcp_port: int | None = 0
    ws_port: int | None = 0
    routers: tuple[str, ...] = ()
    max_passthroughs: int = 0
    """Act as a router for at most this many spliced connections (Hyperdrive's --max-passthroughs)."""
    bind: str | None = None
    """Interface to listen on (default: `ip`)."""
    handshake_timeout: float = HANDSHAKE_TIMEOUT
    """Seconds to connect and finish the handshake, both ways (Hyperdrive's net TIMEOUT, 5 s)."""
    stall_timeout: float = STALL_TIMEOUT
    """Seconds a message that has started may stop arriving before its connection is dropped."""
    search_ports: bool = False
    """When a port is taken, try the next ones (kit's "first unbound at or above" defaults), so
    nodes starting at the same moment never fail on the same free-looking port."""


@dataclass
class _Queued:
    km: KernelMessage
    frame: bytes
    attempts: int = 0


@dataclass
class _Peer:
    identity: Identity
    routing_for: bool = False
    queue: deque[_Queued] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    pipe: Pipe | None = None
    last_message: float = field(default_factory=time.time)
    connected: bool = False
    recent: deque[tuple[float, _Queued]] = field(default_factory=deque)
    """Messages written in the last `RECENT_WINDOW` seconds (see `_requeue`)."""
    replaced: bool = False


class NetTransport:
    """The real network for one node (one per kernel; see the module docstring)."""

    def __init__(self, name: str, key: Ed25519PrivateKey, config: NetConfig, terminal: Terminal) -> None:
        self.name = name
        self._key = key
        self._keys = OurKeys(name, key)
        self.config = config
        self._terminal = terminal
        self._learned: dict[str, Identity] = {}  # HnsUpdate entries, over the shared PKI
        self._peers: dict[str, _Peer] = {}
        self._cap_sigs: dict[tuple[Address, object], bytes] = {}
        self._pending_passthroughs: dict[tuple[str, str], tuple[Pipe, float, asyncio.Event]] = {}
        self._active_passthroughs: dict[tuple[str, str], float] = {}
        self._kernel: Kernel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._servers: list[Any] = []
        self._identity: Identity | None = None
        self._offline = False

    # ------------------------------------------------------------------------------- lifecycle

    def start(self, kernel: Kernel) -> Identity:
        """Listen, publish our identity in the PKI, and return it (blocks until listening)."""
        self._kernel = kernel
        loop = asyncio.new_event_loop()
        started = threading.Event()
        outcome: list[BaseException | Identity] = []

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                outcome.append(loop.run_until_complete(self._start()))
            except BaseException as error:
                outcome.append(error)
            started.set()
            if isinstance(outcome[0], Identity):
                loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=main, name=f"hyperpy-net-{self.name}", daemon=True)
        self._thread.start()
        started.wait()
        result = outcome[0]
        if isinstance(result, BaseException):
            self._thread.join()
            self._loop = None
            raise result
        return result

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = None
        with contextlib.suppress(RuntimeError):  # the loop already ended (start failed)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    async def _start(self) -> Identity:
        cfg = self.config
        host = cfg.bind or cfg.ip
        ports: dict[str, int] = {}
        if not cfg.routers:
            if cfg.tcp_port is None and cfg.ws_port is None:
                raise ValueError("a direct node needs a TCP or WebSocket port (or routers, to be indirect)")
            if cfg.tcp_port is not None:
                ports["tcp"] = await self._listen(self._listen_tcp, host, cfg.tcp_port)
            if cfg.ws_port is not None:
                ports["ws"] = await self._listen(self._listen_ws, host, cfg.ws_port)
            identity = Identity(self.name, public_key_hex(self._key), cfg.ip, ports)
        else:
            identity = Identity(self.name, public_key_hex(self._key), None, {}, tuple(cfg.routers))
            self._spawn(self._maintain_routers())
        self._identity = identity
        self.config.pki.publish(identity)
        kind = "direct" if identity.is_direct else "indirect"
        where = ", ".join(f"{p} {identity.ip}:{n}" for p, n in sorted(ports.items())) or (
            "routers " + ", ".join(cfg.routers)
        )
        self._print(2, f"net: going online as a {kind} node ({where})")
        return identity

    async def _listen(
        self, listen: Callable[[str, int], Coroutine[Any, Any, int]], host: str, port: int
    ) -> int:
        tries = 100 if self.config.search_ports and port else 1
        for offset in range(tries):
            try:
                return await listen(host, port + offset)
            except OSError as error:
                if offset == tries - 1 or error.errno != errno.EADDRINUSE or port + offset >= 65535:
                    raise OSError(
                        error.errno,
                        f"net: can't listen on {host}:{port + offset} ({error.strerror}); "
                        "free that port or choose another (--tcp-port / --ws-port)",
                    ) from None
        raise AssertionError("unreachable")

    async def _listen_tcp(self, host: str, port: int) -> int:
        server = await asyncio.start_server(self._accept_tcp, host, port)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def _listen_ws(self, host: str, port: int) -> int:
        app = web.Application()
        app.router.add_route("GET", PKI_PATH, self._serve_pki)
        app.router.add_route("POST", PKI_PATH, self._register_pki)
        app.router.add_route("GET", "/{tail:.*}", self._accept_ws)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._servers.append(runner)
        return int(runner.addresses[0][1])

    async def _shutdown(self) -> None:
        for peer in list(self._peers.values()):
            await self._drop_peer(peer, fail_queue=True)
        for pipe, _, _ in list(self._pending_passthroughs.values()):
            await pipe.close()
        self._pending_passthroughs.clear()
        for server in self._servers:
            if isinstance(server, web.AppRunner):
                await server.cleanup()
            else:
                server.close()
                await server.wait_closed()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            text = "".join(traceback.format_exception(error))
            self._print(0, f"net: internal error (the node keeps running): {text}")

    def _print(self, verbosity: int, text: str) -> None:
        self._terminal.print(verbosity, NET_PROCESS_ID, text)

    def _call(self, function: Callable[[], Any]) -> Any:
        """Run `function` on the net loop and return its result (from any other thread)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the network is not running")

        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=10)

    def set_offline(self, offline: bool = True) -> None:
        """Pull the cable (tests, `Emulator.set_offline`): every connection closes, queued messages
        come back Offline, new ones fail Offline and inbound connections are refused; or plug it
        back in."""
        self._offline = offline
        if offline:
            self._call(
                lambda: [self._spawn(self._drop_peer(p, fail_queue=True)) for p in list(self._peers.values())]
            )

    # --------------------------------------------------------------------------------- queries

    def identity(self) -> Identity:
        if self._identity is None:
            raise RuntimeError("the network has not started")
        return self._identity

    def lookup(self, name: str) -> Identity | None:
        if name == self.name:
            return self._identity
        return self._learned.get(name) or self.config.pki.lookup(name)

    def ingest(self, identity: Identity) -> None:
        """An HnsUpdate: remember `identity` for this node (over the shared PKI)."""
        self._learned[identity.name] = identity

    def peers(self) -> list[Identity]:
        """Identities of the peers we hold a connection with (`GetPeers`)."""
        return self._call(lambda: [p.identity for p in self._peers.values() if p.connected])

    def diagnostics(self) -> str:
        """`GetDiagnostics`' text, in Hyperdrive's layout."""

        def build() -> str:
            now = time.time()
            identity = self.identity()
            lines = [
                "indexing from a hyperpy PKI (no chain)",
                f"our Identity: {identity.to_wire()!r}",
                f"we have connections with {sum(p.connected for p in self._peers.values())} peers:",
            ]
            for peer in self._peers.values():
                if peer.connected:
                    routing = " (routing)" if peer.routing_for else ""
                    lines.append(
                        f"    {peer.identity.name},{routing} last message {int(now - peer.last_message)}s ago"
                    )
            if self.config.max_passthroughs > 0:
                lines.append(f"we allow {self.config.max_passthroughs} max passthroughs")
            if self._pending_passthroughs:
                lines.append(f"we have {len(self._pending_passthroughs)} pending passthroughs:")
                lines += [f"    {a} -> {b}" for a, b in self._pending_passthroughs]
            if self._active_passthroughs:
                lines.append(f"we have {len(self._active_passthroughs)} active passthroughs:")
                lines += [f"    {a} -> {b}" for a, b in self._active_passthroughs]
            entries = {i.name for i in self.config.pki.entries()} | set(self._learned)
            lines.append(f"we have {len(entries)} entries in the PKI")
            return "\r\n".join(lines) + "\r\n"

        return str(self._call(build))

    # -------------------------------------------------------------------------------- outbound

    def send(self, message: KernelMessage, sender: Kernel) -> None:
        """NetworkLink.send (called on the kernel loop): hand the message to the net loop."""
        loop = self._loop
        if loop is None:
            sender.network_error(message, SendErrorKind.OFFLINE)
            return
        try:
            loop.call_soon_threadsafe(self._outbound, message)
        except RuntimeError:
            sender.network_error(message, SendErrorKind.OFFLINE)

    def _error(self, km: KernelMessage, kind: SendErrorKind, reason: str) -> None:
        if self._kernel is not None:
            self._kernel.network_error(km, kind, reason)

    def _signatures(self, caps: list[Capability]) -> list[bytes]:
        """Our signature on caps we issued (the kernel only lets a process attach caps it holds);
        the issuer's signature, as received, on caps of other nodes."""
        return [
            self._key.sign(capability_bytes(cap))
            if cap.issuer.node == self.name
            else self._cap_sigs.get(cap.key(), b"")
            for cap in caps
        ]

    def _outbound(self, km: KernelMessage) -> None:
        """Serialize, check the size cap and queue `km` (any failure goes back to its sender)."""
        try:
            self._serialize_and_queue(km)
        except Exception as error:
            text = "".join(traceback.format_exception(error))
            self._print(0, f"net: could not send a message to {km.target}: {text}")
            self._error(km, SendErrorKind.OFFLINE, f"net could not send it: {_describe(error)}")

    def _serialize_and_queue(self, km: KernelMessage) -> None:
        if isinstance(km.message, Message_Request):
            caps = km.message.value.capabilities
        else:
            caps = km.message.value[0].capabilities
        frame = encode_kernel_message(km, self._signatures(caps))
        if len(frame) > MESSAGE_MAX_SIZE:
            why = (
                f"message to {km.target} is {len(frame)} bytes serialized, over the network limit of "
                f"{MESSAGE_MAX_SIZE} bytes (10 MB); send large data in several messages"
            )
            self._print(0, f"net: tried to send too-large message: {why}")
            self._error(km, SendErrorKind.TIMEOUT, why)
            return
        self._enqueue(_Queued(km, frame))

    def _enqueue(self, item: _Queued) -> None:
        target = item.km.target.node
        if self._offline:
            self._error(item.km, SendErrorKind.OFFLINE, f"{self.name} is offline (set_offline)")
            return
        peer = self._peers.get(target)
        if peer is not None:
            peer.queue.append(item)
            peer.wake.set()
            return
        identity = self.lookup(target)
        if identity is None:
            self._error(item.km, SendErrorKind.OFFLINE, f"{target} is not in the PKI")
            return
        peer = _Peer(identity)
        peer.queue.append(item)
        self._peers[target] = peer
        peer.task = self._spawn(self._connect(peer))

    async def _connect(self, peer: _Peer) -> None:
        """`connect_to_peer`: direct (TCP, then WS) or through each router; else Offline."""
        identity = peer.identity
        self._print(2, f"net: attempting to connect to {identity.name}")
        try:
            connected = await self._open(identity)
        except asyncio.CancelledError:
            raise
        if connected is None:
            self._print(2, f"net: failed to connect to {identity.name}")
            if self._peers.get(identity.name) is peer:
                del self._peers[identity.name]
            self._fail_queue(peer, f"{identity.name} did not answer")
            return
        pipe, noise = connected
        self._print(2, f"net: connected to {identity.name} over {pipe.kind}")
        await self._maintain(peer, pipe, noise)

    async def _open(
        self, identity: Identity, proxy_request: bool = False
    ) -> tuple[Pipe, NoiseConnection] | None:
        if identity.is_direct:
            for protocol in ("tcp", "ws"):
                port = identity.port(protocol)
                if port is None:
                    continue
                opened = await self._dial(identity, identity, protocol, port, None, proxy_request)
                if opened is not None:
                    return opened
            return None
        routers = [r for r in identity.routers if r != self.name]
        random.shuffle(routers)
        for router_name in routers:
            router = self.lookup(router_name)
            if router is None or not router.is_direct:
                continue
            for protocol in ("tcp", "ws"):
                port = router.port(protocol)
                if port is None:
                    continue
                request = RoutingRequest(
                    PROTOCOL_VERSION,
                    self.name,
                    self._key.sign((identity.name + router.name).encode()),
                    identity.name,
                ).encode()
                opened = await self._dial(identity, router, protocol, port, request, False)
                if opened is not None:
                    return opened
                break  # Hyperdrive tries one protocol per router
        return None

    async def _dial(
        self,
        peer: Identity,
        via: Identity,
        protocol: str,
        port: int,
        routing_request: bytes | None,
        proxy_request: bool,
    ) -> tuple[Pipe, NoiseConnection] | None:
        assert via.ip is not None
        pipe: Pipe | None = None
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                pipe = await self._open_pipe(protocol, via.ip, port)
                if routing_request is not None:
                    await pipe.send_raw(routing_request)
                noise, _ = await initiate(pipe, self._keys, peer, proxy_request=proxy_request)
                return pipe, noise
        except (*_CONNECTION_ERRORS, aiohttp.ClientError) as error:
            self._print(2, f"net: could not connect to {peer.name} over {protocol}: {_describe(error)}")
            if pipe is not None:
                await pipe.close()
            return None

    async def _open_pipe(self, protocol: str, ip: str, port: int) -> Pipe:
        pipe = await self._dial_pipe(protocol, ip, port)
        pipe.stall_timeout = self.config.stall_timeout
        return pipe

    async def _dial_pipe(self, protocol: str, ip: str, port: int) -> Pipe:
        if protocol == "tcp":
            reader, writer = await asyncio.open_connection(ip, port)
            return TcpPipe(reader, writer)
        session = aiohttp.ClientSession()
        try:
            host = f"[{ip}]" if ":" in ip else ip
            socket = await session.ws_connect(
                f"ws://{host}:{port}", max_msg_size=WS_MAX_FRAME, autoping=True, autoclose=True
            )
        except BaseException:
            await session.close()
            raise
        return WsPipe(socket, f"ws {ip}:{port}", session)

    def _fail_queue(self, peer: _Peer, reason: str) -> None:
        while peer.queue:
            item = peer.queue.popleft()
            self._error(item.km, SendErrorKind.OFFLINE, reason)

    async def _drop_peer(self, peer: _Peer, *, fail_queue: bool) -> None:
        if self._peers.get(peer.identity.name) is peer:
            del self._peers[peer.identity.name]
        peer.connected = False
        task, peer.task = peer.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if peer.pipe is not None:
            await peer.pipe.close()
        if fail_queue:
            self._fail_queue(peer, f"{peer.identity.name} is offline")

    # ------------------------------------------------------------------------------ connection

    async def _maintain(self, peer: _Peer, pipe: Pipe, noise: NoiseConnection) -> None:
        """Write the peer's queue and read its frames until either side fails or it idles out."""
        peer.pipe = pipe
        peer.connected = True
        peer.last_message = time.time()
        name = peer.identity.name
        writer = asyncio.ensure_future(self._write_loop(peer, pipe, noise))
        reader = asyncio.ensure_future(self._read_loop(peer, pipe, noise))
        reason, level = "connection closed", 2
        try:
            done, _ = await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if error is not None:
                    reason = _describe(error)
                    level = 1 if isinstance(error, ProtocolError) else 2
        finally:
            writer.cancel()
            reader.cancel()
            await asyncio.gather(writer, reader, return_exceptions=True)
            peer.connected = False
            await pipe.close()
            if self._peers.get(name) is peer:
                del self._peers[name]
            self._print(level, f"net: connection lost with {name}: {reason}")
            self._requeue(peer)

    def _requeue(self, peer: _Peer) -> None:
        """Messages not yet written get one more try on a new connection (see module doc), and so do
        those written in the last second before the connection was found dead: a peer that just
        stopped had closed its end while they were on their way (the new attempt then reports
        Offline at once instead of a Timeout much later). Not after a replacement by a newer
        connection, whose peer is alive."""
        if not peer.replaced:
            cutoff = time.time() - RECENT_WINDOW
            fresh = [item for written, item in peer.recent if written >= cutoff and item.attempts == 0]
            peer.queue.extendleft(reversed(fresh))
        peer.recent.clear()
        while peer.queue:
            item = peer.queue.popleft()
            if item.attempts >= 1:
                self._error(item.km, SendErrorKind.OFFLINE, f"lost the connection to {peer.identity.name}")
            else:
                item.attempts += 1
                self._enqueue(item)

    async def _write_loop(self, peer: _Peer, pipe: Pipe, noise: NoiseConnection) -> None:
        while True:
            while peer.queue:
                item = peer.queue[0]
                await pipe.send_message(noise, item.frame)
                peer.queue.popleft()
                now = peer.last_message = time.time()
                peer.recent.append((now, item))
                while peer.recent and peer.recent[0][0] < now - RECENT_WINDOW:
                    peer.recent.popleft()
            peer.wake.clear()
            try:
                await asyncio.wait_for(peer.wake.wait(), KEEPALIVE_INTERVAL)
            except TimeoutError:
                if time.time() - peer.last_message > IDLE_TIMEOUT:
                    raise ConnectionError("idle for 30 minutes") from None
                await pipe.keepalive()

    async def _read_loop(self, peer: _Peer, pipe: Pipe, noise: NoiseConnection) -> None:
        name = peer.identity.name
        while True:
            try:
                plaintext = await pipe.recv_message(noise, KEEPALIVE_INTERVAL)
            except TimeoutError:
                continue
            try:
                wire = decode_kernel_message(plaintext)
            except WireError as error:
                raise ProtocolError(f"undecodable KernelMessage from {name}: {error}") from None
            km = wire.message
            if km.source.node != name:
                self._print(0, f"net: got message with spoofed source from {name}! (claimed {km.source})")
                raise ProtocolError(f"spoofed source {km.source.node!r}")
            if not is_hypermap_safe(km.source.process):
                self._print(0, f"net: got message from non-Hypermap-safe process: {km.source}")
                raise ProtocolError(f"non-Hypermap-safe source {km.source}")
            peer.last_message = time.time()
            self._deliver(self._checked_caps(km, wire.signatures))

    def _checked_caps(self, km: KernelMessage, signatures: list[bytes]) -> KernelMessage:
        """Keep caps we issued only when our key signed them; remember others' signatures."""
        if isinstance(km.message, Message_Request):
            caps = km.message.value.capabilities
        else:
            caps = km.message.value[0].capabilities
        if not caps:
            return km
        ours = Ed25519PublicKey.from_public_bytes(self.identity().key_bytes())
        kept = []
        for cap, sig in zip(caps, signatures, strict=True):
            if cap.issuer.node == self.name:
                try:
                    ours.verify(sig, capability_bytes(cap))
                except InvalidSignature:
                    self._print(
                        1, f"net: dropped a capability {cap.issuer} from {km.source} with a bad signature"
                    )
                    continue
            elif sig:
                self._cap_sigs[cap.key()] = sig
            kept.append(cap)
        if len(kept) == len(caps):
            return km
        if isinstance(km.message, Message_Request):
            return replace(km, message=Message_Request(replace(km.message.value, capabilities=kept)))
        response, context = km.message.value
        return replace(km, message=Message_Response((replace(response, capabilities=kept), context)))

    def _deliver(self, km: KernelMessage) -> None:
        from hyperpy.node.kernel import KernelStopped

        if self._kernel is None:
            return
        try:
            self._kernel.receive_from_network(km)
        except KernelStopped:
            self._print(2, f"net: dropped a message from {km.source}: the node is stopping")

    # -------------------------------------------------------------------------------- inbound

    async def _accept_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pipe = TcpPipe(reader, writer)
        try:
            await self._accept(pipe)
        except asyncio.CancelledError:
            # The connection's root task, cancelled at shutdown or when a newer connection to the
            # same peer replaced it; asyncio's server callback would report the cancellation as
            # an error, so end the task normally once the pipe is closed.
            await pipe.close()

    async def _accept_ws(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(max_msg_size=WS_MAX_FRAME, autoping=True)
        await socket.prepare(request)
        await self._accept(WsPipe(socket, f"ws {request.remote}"))
        return socket

    async def _serve_pki(self, request: web.Request) -> web.StreamResponse:
        """`GET /hyperpy/pki`: this machine's PKI entries, for nodes that joined us (`--join`)."""
        return web.json_response([identity.to_json() for identity in self.config.pki.entries()])

    async def _register_pki(self, request: web.Request) -> web.StreamResponse:
        """`POST /hyperpy/pki`: a node on another machine publishes its entry (see `JoinedPki`)."""
        try:
            identity = Identity.from_json(await request.json())
            if not is_publisher_safe(identity.name) or len(identity.key_bytes()) != 32:
                raise PkiError(f"{identity.name!r}: a node name and a 0x-prefixed 32-byte key are required")
            if identity.name == self.name:
                raise PkiError(f"{self.name} is this node; only it publishes its own entry")
        except (ValueError, PkiError) as error:
            self._print(1, f"net: refused a PKI entry from {request.remote}: {error}")
            return web.json_response({"error": str(error)}, status=400)
        self.config.pki.publish(identity)
        self._print(2, f"net: PKI entry for {identity.name} registered by {request.remote}")
        return web.json_response({"ok": identity.name})

    async def _accept(self, pipe: Pipe) -> None:
        """`recv_connection`: a RoutingRequest (we may be a router), else the responder handshake.
        Returns when the connection is over (aiohttp closes a WebSocket when its handler returns)."""
        pipe.stall_timeout = self.config.stall_timeout
        if self._offline:
            self._print(2, f"net: refused a connection from {pipe.description}: we are offline")
            await pipe.close()
            return
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                first = await pipe.recv_raw()
                if len(first) != NOISE_E_LENGTH:
                    passthrough = await self._route_request(pipe, first)
                else:
                    passthrough = None
                    noise, theirs, identity = await respond(pipe, self._keys, first, self.lookup)
        except (*_CONNECTION_ERRORS, aiohttp.ClientError) as error:
            self._print(1, f"net: refused a connection from {pipe.description}: {_describe(error)}")
            await pipe.close()
            return
        if passthrough is not None:
            await passthrough
            return
        peer = self._replace_peer(_Peer(identity, routing_for=theirs.proxy_request))
        self._print(2, f"net: {identity.name} connected to us over {pipe.kind}")
        await self._maintain(peer, pipe, noise)

    def _replace_peer(self, peer: _Peer) -> _Peer:
        """Register a freshly handshaken peer; an older connection to it is closed and its unsent
        queue moves to the new one (Hyperdrive kills the old connection)."""
        existing = self._peers.get(peer.identity.name)
        if existing is not None:
            existing.replaced = True
            peer.queue = existing.queue
            existing.queue = deque()
            self._spawn(self._drop_peer(existing, fail_queue=False))
        self._peers[peer.identity.name] = peer
        peer.task = asyncio.current_task()
        return peer

    # ------------------------------------------------------------------------- routing (router)

    async def _route_request(self, pipe: Pipe, data: bytes) -> Coroutine[Any, Any, None]:
        """`validate_routing_request` + `create_passthrough`: returns the passthrough to run."""
        request = RoutingRequest.decode(data)
        source = self.lookup(request.source)
        if source is None:
            raise ProtocolError(f"routing request from unknown name {request.source!r}")
        try:
            Ed25519PublicKey.from_public_bytes(source.key_bytes()).verify(
                request.signature, (request.target + self.name).encode()
            )
        except (InvalidSignature, ValueError):
            raise ProtocolError(f"routing request from {request.source!r} has a bad signature") from None
        target = self.lookup(request.target)
        if target is None:
            raise ProtocolError(f"routing request for unknown name {request.target!r}")
        if request.target == request.source:
            raise ProtocolError("can't route to self")
        if self.config.max_passthroughs <= 0:
            raise ProtocolError(
                "passthrough denied: this node does not route (start it with --max-passthroughs N)"
            )
        waiting = self._pending_passthroughs.pop((target.name, source.name), None)
        if waiting is not None:
            other, _, paired = waiting
            paired.set()
            return self._splice(target.name, source.name, other, pipe)
        if len(self._active_passthroughs) + len(self._pending_passthroughs) >= self.config.max_passthroughs:
            raise ProtocolError(f"passthrough denied: all {self.config.max_passthroughs} are in use")
        if target.is_direct:
            port = target.port(pipe.kind)
            if port is None or target.ip is None:
                raise ProtocolError(f"{target.name} publishes no {pipe.kind} port to route to")
            other = await self._open_pipe(pipe.kind, target.ip, port)
            return self._splice(source.name, target.name, pipe, other)
        routed = self._peers.get(target.name)
        if routed is None or not routed.routing_for or not routed.connected:
            raise ProtocolError(f"we don't do routing for {target.name}")
        paired = asyncio.Event()
        key = (source.name, target.name)
        self._pending_passthroughs[key] = (pipe, time.time(), paired)
        self._outbound(
            KernelMessage(
                id=random.getrandbits(64),
                source=Address(self.name, NET_PROCESS_ID),
                target=Address(target.name, NET_PROCESS_ID),
                rsvp=None,
                message=Message_Request(
                    Request(False, 5, _net_action({"ConnectionRequest": source.name}), None, [])
                ),
                lazy_load_blob=None,
            )
        )
        return self._await_pairing(key, pipe, paired)

    async def _await_pairing(self, key: tuple[str, str], pipe: Pipe, paired: asyncio.Event) -> None:
        """Hold a pending passthrough until the target dials back (then the pairing side splices
        and closes both pipes) or for 10 s."""
        try:
            await asyncio.wait_for(paired.wait(), self.config.handshake_timeout * 2)
        except TimeoutError:
            pending = self._pending_passthroughs.get(key)
            if pending is not None and pending[0] is pipe:
                del self._pending_passthroughs[key]
            self._print(2, f"net: passthrough {key[0]} -> {key[1]} was never answered")
            await pipe.close()
            return
        await pipe.closed()

    def reject_pending(self, source: str, target: str) -> None:
        """The target answered our ConnectionRequest with Rejected (from the net module)."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._close_pending, (source, target))

    def _close_pending(self, key: tuple[str, str]) -> None:
        pending = self._pending_passthroughs.pop(key, None)
        if pending is not None:
            self._spawn(pending[0].close())

    async def _splice(self, source: str, target: str, one: Pipe, two: Pipe) -> None:
        """`maintain_passthrough`: copy bytes/frames both ways until either side closes."""
        if one.kind != two.kind:
            self._print(1, f"net: passthrough {source} -> {target} mixes {one.kind} and {two.kind}; closed")
            await one.close()
            await two.close()
            return
        self._active_passthroughs[(source, target)] = time.time()
        self._print(2, f"net: passthrough {source} -> {target} open")

        async def pump(a: Pipe, b: Pipe) -> None:
            while True:
                await b.relay_write(await a.relay_read())

        tasks = [asyncio.ensure_future(pump(one, two)), asyncio.ensure_future(pump(two, one))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._active_passthroughs.pop((source, target), None)
            await one.close()
            await two.close()
            self._print(2, f"net: passthrough {source} -> {target} closed")

    # ------------------------------------------------------------------------ routing (indirect)

    async def _maintain_routers(self) -> None:
        """`maintain_routers`: keep a connection (proxy_request) to each of our routers."""
        while True:
            for router_name in self.config.routers:
                if router_name in self._peers:
                    continue
                router = self.lookup(router_name)
                if router is None or not router.is_direct:
                    continue
                peer = _Peer(router)
                self._peers[router_name] = peer
                peer.task = self._spawn(self._connect_router(peer))
            await asyncio.sleep(ROUTER_RETRY_INTERVAL)

    async def _connect_router(self, peer: _Peer) -> None:
        opened = await self._open(peer.identity, proxy_request=True)
        if opened is None:
            if self._peers.get(peer.identity.name) is peer:
                del self._peers[peer.identity.name]
            self._fail_queue(peer, f"router {peer.identity.name} did not answer")
            return
        self._print(2, f"net: connected to router {peer.identity.name}")
        await self._maintain(peer, *opened)

    def connection_request(self, router: str, origin: str) -> bool:
        """A router of ours asks us to dial back for `origin` (NetAction::ConnectionRequest)."""
        if router not in self.config.routers:
            return False
        loop = self._loop
        if loop is None:
            return False
        loop.call_soon_threadsafe(lambda: self._spawn(self._recv_via_router(router, origin)))
        return True

    async def _recv_via_router(self, router_name: str, origin: str) -> None:
        """`recv_via_router`: connect to the router with a RoutingRequest for `origin`, then be the
        Noise *responder* on that stream (origin is the initiator at the other end)."""
        router, peer_id = self.lookup(router_name), self.lookup(origin)
        if router is None or peer_id is None or router.ip is None:
            return
        protocol = "tcp" if router.port("tcp") else "ws"
        port = router.port(protocol)
        if port is None:
            return
        pipe: Pipe | None = None
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                pipe = await self._open_pipe(protocol, router.ip, port)
                signature = self._key.sign((origin + router_name).encode())
                await pipe.send_raw(RoutingRequest(PROTOCOL_VERSION, self.name, signature, origin).encode())
                first = await pipe.recv_raw()
                noise, _, identity = await respond(
                    pipe, self._keys, first, lambda name: peer_id if name == origin else None
                )
        except (*_CONNECTION_ERRORS, aiohttp.ClientError) as error:
            self._print(2, f"net: error getting routed to {origin}: {_describe(error)}")
            if pipe is not None:
                await pipe.close()
            return
        peer = self._replace_peer(_Peer(identity))
        await self._maintain(peer, pipe, noise)


def _net_action(value: Any) -> bytes:
    """A NetAction body, as rmp-serde writes it."""
    return bytes(msgpack.packb(value, use_bin_type=True))


def _describe(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
