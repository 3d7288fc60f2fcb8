"""http-client:distro:sys — real outbound HTTP requests and WebSocket connections (aiohttp client).

Semantics are Hyperdrive's (runtime-contract.md §3.2; HD `hyperdrive/src/http/client.rs`):

* `{"Http": {"method", "version": null|"HTTP/1.1", "url", "headers"}}` with the body as blob. The
  answer `{"Ok": {"Http": {"status", "headers"}}}` (header names Pascal-Cased, e.g. `Content-Type`;
  body as blob with `mime: null`) is sent whether or not a response was expected; errors
  (`{"Err": {"BadMethod": {"method"}}}`, `{"BadUrl": {"url"}}`, `{"BadVersion": {"version"}}`,
  `{"BuildRequestFailed": ".."}`, `{"ExecuteRequestFailed": ".."}`, `"MalformedRequest"`) only when
  one was. The runtime imposes no timeout (the sender's `expects_response` is the only one), does not
  decompress, and follows redirects.
* `{"WebSocketOpen": {"url", "headers", "channel_id"}}` connects; `{"WebSocketPush": {"channel_id",
  "message_type"}}` (blob) sends; `{"WebSocketClose": {"channel_id"}}` closes. Each is answered
  `{"Ok": "WebSocketAck"}` or an error (`WsOpenFailed`, `WsPushUnknownChannel`, `WsPushNoBlob`,
  `WsPushBadText`, `WsCloseFailed`), always. Channels are per process. Frames from the server arrive
  as Requests `{"WebSocketPush": {"channel_id", "message_type"}}` (text with mime `text/plain`, binary
  with `application/octet-stream`, ping/pong without blob) carrying the id of the open request, and
  the end of the connection as `{"WebSocketClose": {"channel_id"}}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, expects_response, module_id, request_of
from hyperpy.node.modules.http_wire import (
    HTTP_CLIENT_ACTION,
    HTTP_CLIENT_ACTION_SHAPE,
    ClientWebSocketOpen,
    OutgoingHttpRequest,
)
from hyperpy.node.modules.wire import Tagged, WireError, decode_json, encode_json
from hyperpy.node.wit_types import Address, LazyLoadBlob, Message_Request, ProcessId, Request

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
SUPPORTED_VERSIONS = {"HTTP/1.0": aiohttp.HttpVersion10, "HTTP/1.1": aiohttp.HttpVersion11}
KNOWN_VERSIONS = frozenset({"HTTP/0.9", "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0"})


def pascal_case(name: str) -> str:
    """Hyperdrive's header-name casing: capitalise the first letter of every `-`-separated word."""
    return "-".join(word[:1].upper() + word[1:] for word in name.lower().split("-"))


def parse_url(text: str) -> str | None:
    """The URL as Rust's `url` crate prints it (a special scheme gets a `/` path), or None if invalid."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme or not scheme[0].isalpha() or text.strip() != text:
        return None
    if scheme in _SPECIAL_SCHEMES:
        if scheme != "file" and not parts.hostname:
            return None
        try:
            parts.port  # noqa: B018 - raises ValueError for an invalid port
        except ValueError:
            return None
        return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, parts.fragment))
    return text


def is_method(text: str) -> bool:
    return bool(text) and all(char in _TOKEN_CHARS for char in text)


@dataclass
class ClientChannel:
    """An outbound WebSocket and where its frames go."""

    socket: aiohttp.ClientWebSocketResponse
    channel_id: int
    open_id: int
    target: Address
    listener: asyncio.Task[None] | None = None


class HttpClientModule(ModuleBase):
    process_id = module_id("http-client")

    def __init__(self) -> None:
        super().__init__()
        self._sessions: dict[aiohttp.HttpVersion, aiohttp.ClientSession] = {}
        self._channels: dict[tuple[ProcessId, int], ClientChannel] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def session(self, version: aiohttp.HttpVersion = aiohttp.HttpVersion11) -> aiohttp.ClientSession:
        """A client like reqwest's default: no timeout, no decompression, no User-Agent."""
        session = self._sessions.get(version)
        if session is None:
            session = aiohttp.ClientSession(
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                version=version,
            )
            self._sessions[version] = session
        return session

    async def on_stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for channel in list(self._channels.values()):
            if channel.listener is not None:
                channel.listener.cancel()
            await channel.socket.close()
        self._channels.clear()
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def _spawn(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log(0, f"http-client: internal error: {task.exception()!r}")

    async def handle(self, message: KernelMessage) -> None:
        request = request_of(message)
        if request is None:
            return
        try:
            action = HTTP_CLIENT_ACTION.parse(decode_json(request.body), "body")
        except WireError as error:
            self.log(
                0,
                f"http-client: malformed request from {message.source}: {error.detail}; "
                f"expected {HTTP_CLIENT_ACTION_SHAPE}",
            )
            self._http_error(message, "MalformedRequest")
            return
        if action.name == "Http":
            self._spawn(self._http(message, action.value))
            return
        self._spawn(self._websocket(message, action))

    def _http_error(self, message: KernelMessage, error: object) -> None:
        if expects_response(message):
            self.respond(message, encode_json({"Err": error}))

    async def _http(self, message: KernelMessage, outgoing: OutgoingHttpRequest) -> None:
        if not is_method(outgoing.method):
            self._http_error(message, {"BadMethod": {"method": outgoing.method}})
            return
        url = parse_url(outgoing.url)
        if url is None:
            self._http_error(message, {"BadUrl": {"url": outgoing.url}})
            return
        self.log(2, f"http-client: {outgoing.method} request to {url}")
        version = aiohttp.HttpVersion11
        if outgoing.version is not None:
            if outgoing.version not in KNOWN_VERSIONS:
                self._http_error(message, {"BadVersion": {"version": outgoing.version}})
                return
            if outgoing.version not in SUPPORTED_VERSIONS:
                self.log(
                    1, f"http-client: {outgoing.version} is not available in the local node; using HTTP/1.1"
                )
            version = SUPPORTED_VERSIONS.get(outgoing.version, aiohttp.HttpVersion11)
        if urlsplit(url).scheme not in ("http", "https"):
            self._http_error(message, {"ExecuteRequestFailed": f"error sending request for url ({url})"})
            return
        body = message.lazy_load_blob.bytes if message.lazy_load_blob is not None else None
        headers = {name: value for name, value in outgoing.headers.items() if _header_ok(name, value)}
        try:
            async with self.session(version).request(
                outgoing.method, url, data=body, headers=headers
            ) as response:
                content = await response.read()
                status = response.status
                received: dict[str, str] = {}
                for raw_name, raw_value in response.raw_headers:
                    value = raw_value.decode("latin-1")
                    visible = all(char == "\t" or 32 <= ord(char) < 127 for char in value)
                    received[pascal_case(raw_name.decode("latin-1"))] = value if visible else ""
        except (aiohttp.ClientError, OSError, ValueError) as error:
            self.log(2, f"http-client: executed request but got error: {error}")
            self._http_error(message, {"ExecuteRequestFailed": f"error sending request for url ({url})"})
            return
        body_json = {"Ok": {"Http": {"status": status, "headers": received}}}
        self.respond(message, encode_json(body_json), LazyLoadBlob(None, content))

    # ------------------------------------------------------------------ WebSockets

    async def _websocket(self, message: KernelMessage, action: Tagged) -> None:
        target = message.rsvp or message.source
        key = (target.process, action.value.channel_id)
        if action.name == "WebSocketOpen":
            result = await self._open(message, target, action.value)
        elif action.name == "WebSocketPush":
            result = await self._push(key, action.value.message_type, message.lazy_load_blob)
        else:
            result = await self._close(key)
        self.respond(message, encode_json(result), target=target)

    async def _open(self, message: KernelMessage, target: Address, spec: ClientWebSocketOpen) -> object:
        url = parse_url(spec.url)
        if url is None:
            return {"Err": {"BadUrl": {"url": spec.url}}}
        headers = {name: value for name, value in spec.headers.items() if _header_ok(name, value)}
        try:
            socket = await self.session().ws_connect(
                url, headers=headers, autoping=False, max_msg_size=64 << 20
            )
        except (aiohttp.ClientError, OSError, ValueError) as error:
            self.log(1, f"http-client: underlying lib connection error {error!r}")
            return {"Err": {"WsOpenFailed": {"url": url}}}
        key = (target.process, spec.channel_id)
        previous = self._channels.pop(key, None)
        if previous is not None:
            await previous.socket.close()
        channel = ClientChannel(socket, spec.channel_id, message.id, target)
        self._channels[key] = channel
        channel.listener = asyncio.get_running_loop().create_task(self._listen(key, channel))
        return {"Ok": "WebSocketAck"}

    async def _push(self, key: tuple[ProcessId, int], kind: str, blob: LazyLoadBlob | None) -> object:
        channel = self._channels.get(key)
        if channel is None:
            return {"Err": {"WsPushUnknownChannel": {"channel_id": key[1]}}}
        socket = channel.socket
        try:
            if kind in ("Text", "Binary"):
                if blob is None:
                    return {"Err": "WsPushNoBlob"}
                if kind == "Text":
                    try:
                        text = blob.bytes.decode("utf-8")
                    except UnicodeDecodeError:
                        return {"Err": "WsPushBadText"}
                    await socket.send_str(text)
                else:
                    await socket.send_bytes(blob.bytes)
            elif kind == "Ping":
                await socket.ping(b"")
            elif kind == "Pong":
                await socket.pong(b"")
            else:
                await socket.close()
        except (ConnectionError, RuntimeError) as error:
            self.log(1, f"http-client: push on channel {key[1]} failed: {error}")
        return {"Ok": "WebSocketAck"}

    async def _close(self, key: tuple[ProcessId, int]) -> object:
        channel = self._channels.pop(key, None)
        if channel is None:
            return {"Err": {"WsCloseFailed": {"channel_id": key[1]}}}
        await channel.socket.close()
        return {"Ok": "WebSocketAck"}

    async def _listen(self, key: tuple[ProcessId, int], channel: ClientChannel) -> None:
        """Relay server frames while the channel is registered; report its end to the process."""
        socket = channel.socket
        while True:
            frame = await socket.receive()
            if frame.type == aiohttp.WSMsgType.TEXT:
                pushed: tuple[str, LazyLoadBlob | None] = (
                    "Text",
                    LazyLoadBlob("text/plain", frame.data.encode()),
                )
            elif frame.type == aiohttp.WSMsgType.BINARY:
                pushed = ("Binary", LazyLoadBlob("application/octet-stream", frame.data))
            elif frame.type == aiohttp.WSMsgType.PING:
                await socket.pong(frame.data)
                pushed = ("Ping", None)
            elif frame.type == aiohttp.WSMsgType.PONG:
                pushed = ("Pong", None)
            else:
                break
            if self._channels.get(key) is channel:
                push = {"WebSocketPush": {"channel_id": channel.channel_id, "message_type": pushed[0]}}
                self._to_process(channel, push, pushed[1])
        if self._channels.get(key) is channel:
            del self._channels[key]
        self._to_process(channel, {"WebSocketClose": {"channel_id": channel.channel_id}}, None)

    def _to_process(self, channel: ClientChannel, body: object, blob: LazyLoadBlob | None) -> None:
        self.node.send(
            KernelMessage(
                id=channel.open_id,
                source=self.address,
                target=channel.target,
                rsvp=None,
                message=Message_Request(Request(False, None, encode_json(body), None, [])),
                lazy_load_blob=blob,
            )
        )


def _header_ok(name: str, value: str) -> bool:
    """Hyperdrive silently drops request headers whose name or value is not valid HTTP."""
    return is_method(name) and all(char == "\t" or 32 <= ord(char) != 127 for char in value)
