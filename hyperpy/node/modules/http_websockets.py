"""WebSocket channels of http-server:distro:sys, including the extension (MessagePack) protocol.

Hyperdrive semantics (HD `hyperdrive/src/http/server.rs` `ws_handler`, `maintain_websocket`,
`send_push`, `make_ext_websocket_message`):

* A client connecting to a bound path gets a random u32 channel; the process receives the Request
  `{"WebSocketOpen": {"path": <path without the process prefix>, "channel_id", "source_socket_addr",
  "forwarded_for"}}`. Every frame from the client becomes `{"WebSocketPush": {"channel_id",
  "message_type": "Text"|"Binary"|"Ping"|"Pong"|"Close"}}` with the frame bytes as blob, and the end of
  the connection `{"WebSocketClose": channel_id}`. All are Requests without expects_response.
* A process pushes with `WebSocketPush` (blob required: `NoBlob`; Ping/Pong ≤ 125 bytes:
  `WsPingPongTooLong`; only the channel's own process: `WsChannelNotFound`; message type Close closes)
  and closes with `WebSocketClose` (an unknown channel is not an error).
* A path bound with `extension: true` only accepts loopback clients without proxy headers. Frames the
  process sends with `WebSocketExtPushOutgoing` (Binary only, else `NoBlob`) are wrapped as MessagePack
  `{"WebSocketExtPushData": {"id": <request id>, "hyperware_message_type": "Request"|"Response",
  "blob": [..]}}`. A frame the extension sends that decodes to that shape is delivered with *its* id,
  as a Request or as a Response (so it answers the process's request), with
  `{"WebSocketPush": ..}` as body and the inner blob; other frames arrive as ordinary pushes.
* Refusals (unbound path, bad cookie, too many sockets, non-local extension) fall through to the
  HTTP handling of the same path, as warp's filter chain does.

Outgoing frames of a channel go through one queue and one writer task, so they leave in the order the
process sent them.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.http_auth import secure_subdomain
from hyperpy.node.modules.http_request_info import forwarded_for, is_loopback_peer, peer_address, request_host
from hyperpy.node.modules.http_routes import Router
from hyperpy.node.modules.http_wire import HttpFailure, ext_push_frame, parse_ext_frame
from hyperpy.node.modules.wire import encode_json
from hyperpy.node.wit_types import (
    Address,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    ProcessId,
    Request,
    Response,
)

if TYPE_CHECKING:
    from hyperpy.node.modules.http_server import HttpServerModule

MAX_CONNECTIONS = 128
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
FRAME_KINDS = {
    WSMsgType.TEXT: "Text",
    WSMsgType.BINARY: "Binary",
    WSMsgType.PING: "Ping",
    WSMsgType.PONG: "Pong",
    WSMsgType.CLOSE: "Close",
}


@dataclass
class WsBinding:
    """One bound WebSocket path (Hyperdrive's `BoundWsPath`); `app` None is an unbind tombstone."""

    app: ProcessId | None
    secure_subdomain: str | None = None
    authenticated: bool = False
    extension: bool = False


@dataclass
class Channel:
    """An open WebSocket and the process that owns it."""

    channel_id: int
    app: ProcessId
    socket: web.WebSocketResponse
    extension: bool
    outgoing: asyncio.Queue[tuple[str, bytes]] = field(default_factory=asyncio.Queue)


class WebSocketHub:
    """The WebSocket half of http-server: bindings, open channels, frames both ways."""

    def __init__(self, server: HttpServerModule) -> None:
        self.server = server
        self.routes: Router[WsBinding] = Router()
        self.channels: dict[int, Channel] = {}

    # ------------------------------------------------------------------ process → client

    def push(
        self,
        source: ProcessId,
        channel_id: int,
        message_type: str,
        blob: LazyLoadBlob | None,
        extension: tuple[int, str] | None = None,
    ) -> None:
        """Queue one frame for the client, or raise HttpFailure with Hyperdrive's error."""
        if blob is None:
            raise HttpFailure(
                "NoBlob", f"{source} pushed to channel {channel_id} without a blob (the frame bytes)"
            )
        payload = blob.bytes
        if extension is not None:
            if message_type != "Binary":
                raise HttpFailure(
                    "NoBlob",
                    f"{source}: WebSocketExtPushOutgoing must use message_type Binary, not {message_type}",
                )
            payload = ext_push_frame(extension[0], extension[1], payload)
        if message_type in ("Ping", "Pong") and len(payload) > 125:
            raise HttpFailure(
                "WsPingPongTooLong", f"{source}: {message_type} payloads are limited to 125 bytes"
            )
        if message_type == "Close":
            self.close(source, channel_id)
            return
        channel = self.channels.get(channel_id)
        if channel is None or channel.app != source:
            raise HttpFailure(
                "WsChannelNotFound", f"{source} pushed to channel {channel_id}, which it does not own"
            )
        channel.outgoing.put_nowait((message_type, payload))

    def close(self, source: ProcessId, channel_id: int) -> None:
        """Close a channel the process owns (unknown channels are silently fine, as on Hyperdrive)."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return
        if channel.app != source:
            raise HttpFailure(
                "WsChannelNotFound", f"{source} tried to close channel {channel_id} of {channel.app}"
            )
        del self.channels[channel_id]
        channel.outgoing.put_nowait(("Close", b""))

    async def close_all(self) -> None:
        for channel in list(self.channels.values()):
            await channel.socket.close(code=1001, message=b"node shutting down")
        self.channels.clear()

    async def _write(self, channel: Channel) -> None:
        socket = channel.socket
        try:
            while True:
                kind, payload = await channel.outgoing.get()
                if kind == "Close":
                    await socket.close()
                    return
                if kind == "Text":
                    await socket.send_str(payload.decode("utf-8", errors="replace"))
                elif kind == "Binary":
                    await socket.send_bytes(payload)
                elif kind == "Ping":
                    await socket.ping(payload)
                else:
                    await socket.pong(payload)
        except (ConnectionError, RuntimeError):
            return

    # ------------------------------------------------------------------ client → process

    def _admissible(self, request: web.Request, path: str) -> WsBinding | None:
        found = self.routes.recognize(path)
        if found is None or found[0].app is None:
            return None
        binding, _ = found
        app = binding.app
        assert app is not None
        if len(self.channels) >= MAX_CONNECTIONS:
            self.server.log(
                0, f"http-server: too many open websockets ({len(self.channels)})! rejecting incoming"
            )
            return None
        if binding.authenticated:
            cookie = request.headers.get("Cookie")
            if cookie is None:
                return None
            host = request_host(request)
            if binding.secure_subdomain is not None:
                if host.split(".")[
                    0
                ] != binding.secure_subdomain or binding.secure_subdomain != secure_subdomain(app):
                    return None
                if not self.server.cookie_valid(cookie, app if "localhost" in host else None):
                    return None
            elif not self.server.cookie_valid(cookie, None):
                return None
        if binding.extension and not is_loopback_peer(request):
            return None
        return binding

    async def accept(self, request: web.Request, path: str) -> web.WebSocketResponse | None:
        """Upgrade and serve a connection to a bound path; None when the binding refuses it."""
        binding = self._admissible(request, path)
        if binding is None:
            return None
        app = binding.app
        assert app is not None
        self.server.log(2, f"http-server: ws request for {path}")
        stripped = path.lstrip("/")
        relative = stripped[len(str(app)) :] if stripped.startswith(str(app)) else ""
        socket = web.WebSocketResponse(autoping=False, max_msg_size=MAX_MESSAGE_BYTES)
        await socket.prepare(request)
        channel_id = random.getrandbits(32)
        while channel_id in self.channels:
            channel_id = random.getrandbits(32)
        channel = Channel(channel_id, app, socket, binding.extension)
        self.channels[channel_id] = channel
        writer = asyncio.get_running_loop().create_task(self._write(channel))
        self.server.log(2, f"http-server: new websocket connection to {app} with id {channel_id}")
        opened = {
            "WebSocketOpen": {
                "path": "/" + relative.lstrip("/"),
                "channel_id": channel_id,
                "source_socket_addr": peer_address(request),
                "forwarded_for": forwarded_for(request),
            }
        }
        self._to_process(app, Message_Request(Request(False, None, encode_json(opened), None, [])), None)
        try:
            await self._read(channel)
        finally:
            if self.channels.get(channel_id) is channel:
                del self.channels[channel_id]
            if not writer.done():
                channel.outgoing.put_nowait(("Close", b""))
            closed = encode_json({"WebSocketClose": channel_id})
            self._to_process(app, Message_Request(Request(False, None, closed, None, [])), None)
            self.server.log(2, f"http-server: websocket connection {channel_id} closed")
        return socket

    async def _read(self, channel: Channel) -> None:
        socket = channel.socket
        while True:
            frame = await socket.receive()
            kind = FRAME_KINDS.get(frame.type)
            if kind is None:
                return
            if frame.type == WSMsgType.TEXT:
                data = frame.data.encode()
            elif frame.type == WSMsgType.CLOSE:
                data = (frame.extra or "").encode()
            else:
                data = frame.data
            if frame.type == WSMsgType.PING:
                channel.outgoing.put_nowait(("Pong", data))
            self._deliver(channel, kind, data)
            if frame.type == WSMsgType.CLOSE:
                return

    def _deliver(self, channel: Channel, kind: str, data: bytes) -> None:
        body = encode_json({"WebSocketPush": {"channel_id": channel.channel_id, "message_type": kind}})
        if channel.extension:
            verdict, ext = parse_ext_frame(data)
            if verdict == "other":
                self.server.log(0, "http server: got unexpected message from ext websocket (ignored)")
                return
            if ext is not None:
                message = (
                    Message_Request(Request(False, None, body, None, []))
                    if ext.hyperware_message_type == "Request"
                    else Message_Response((Response(False, body, None, []), None))
                )
                self._to_process(channel.app, message, LazyLoadBlob(None, bytes(ext.blob)), message_id=ext.id)
                return
        self._to_process(
            channel.app, Message_Request(Request(False, None, body, None, [])), LazyLoadBlob(None, data)
        )

    def _to_process(
        self,
        app: ProcessId,
        message: Message_Request | Message_Response,
        blob: LazyLoadBlob | None,
        message_id: int | None = None,
    ) -> None:
        node = self.server.node
        node.send(
            KernelMessage(
                id=node.new_request_id() if message_id is None else message_id,
                source=self.server.address,
                target=Address(node.our_node, app),
                rsvp=None,
                message=message,
                lazy_load_blob=blob,
            )
        )
