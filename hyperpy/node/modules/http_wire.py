"""Wire types of http-server:distro:sys and http-client:distro:sys (HD `lib/src/http/*_types.rs`).

Kept apart from the modules so the framework's tests, the control surface and both modules read one
definition: the JSON shapes of `HttpServerAction`, `HttpResponse`, the incoming-request record, and
the MessagePack frames of the WebSocket extension protocol.
"""

from __future__ import annotations

from typing import Any, Literal

import msgpack

from hyperpy.node.modules.wire import (
    U16,
    U32,
    U64,
    ByteList,
    TaggedEnum,
    WireError,
    WireModel,
    describe,
    validate,
)


class HttpFailure(Exception):
    """An http-server action error to send back (an `HttpServerError` variant) and print."""

    def __init__(self, error: str, explanation: str) -> None:
        super().__init__(explanation)
        self.error = error
        self.explanation = explanation


WsMessageType = Literal["Text", "Binary", "Ping", "Pong", "Close"]
MessageType = Literal["Request", "Response"]


class Bind(WireModel):
    path: str
    authenticated: bool
    local_only: bool
    cache: bool


class SecureBind(WireModel):
    path: str
    cache: bool


class PathOnly(WireModel):
    path: str


class WebSocketBind(WireModel):
    path: str
    authenticated: bool
    extension: bool


class WebSocketSecureBind(WireModel):
    path: str
    extension: bool


class WebSocketOpen(WireModel):
    path: str
    channel_id: U32


class WebSocketPush(WireModel):
    channel_id: U32
    message_type: WsMessageType


class WebSocketExtPushOutgoing(WireModel):
    channel_id: U32
    message_type: WsMessageType
    desired_reply_type: MessageType


class WebSocketExtPushData(WireModel):
    id: U64
    hyperware_message_type: MessageType
    blob: ByteList


HTTP_SERVER_ACTION = TaggedEnum(
    "HttpServerAction",
    {
        "Bind": Bind,
        "SecureBind": SecureBind,
        "Unbind": PathOnly,
        "WebSocketBind": WebSocketBind,
        "WebSocketSecureBind": WebSocketSecureBind,
        "WebSocketUnbind": PathOnly,
        "WebSocketOpen": WebSocketOpen,
        "WebSocketPush": WebSocketPush,
        "WebSocketExtPushOutgoing": WebSocketExtPushOutgoing,
        "WebSocketExtPushData": WebSocketExtPushData,
        "WebSocketClose": U32,
    },
)

HTTP_SERVER_ACTION_SHAPE = (
    '{"Bind": {"path": "/api", "authenticated": bool, "local_only": bool, "cache": bool}}, '
    '{"WebSocketPush": {"channel_id": u32, "message_type": "Text"|"Binary"|..}}, {"WebSocketClose": u32}, ...'
)


class HttpResponse(WireModel):
    """What a process answers to an incoming HTTP request; the body travels as the blob."""

    status: U16
    headers: dict[str, str]


def ext_push_frame(request_id: int, reply_type: str, payload: bytes) -> bytes:
    """`WebSocketExtPushData` as Hyperdrive sends it to an extension: rmp_serde `to_vec_named`.

    A named struct variant is a one-key map holding a map of fields; `Vec<u8>` is an array of
    integers (rmp-serde's default bytes mode), so the frame is byte-identical to Hyperdrive's.
    """
    fields = {"id": request_id, "hyperware_message_type": reply_type, "blob": list(payload)}
    return msgpack.packb({"WebSocketExtPushData": fields}, use_bin_type=True)


def _unpack_first(frame: bytes) -> Any:
    """The first MessagePack value in `frame` (rmp_serde ignores trailing bytes)."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(frame)
    return unpacker.unpack()


def _fields(payload: object, names: tuple[str, ...]) -> dict[str, object]:
    """A struct from rmp-serde: a map of fields, or an array of them in declaration order."""
    if isinstance(payload, list | tuple) and len(payload) == len(names):
        return dict(zip(names, payload, strict=True))
    if isinstance(payload, dict):
        return payload
    raise WireError(f"expected a map or array of {', '.join(names)}, got {describe(payload)}")


def parse_ext_frame(frame: bytes) -> tuple[str, WebSocketExtPushData | None]:
    """Classify a frame from an extension as Hyperdrive's `make_ext_websocket_message` does.

    Returns ("data", ExtPushData) for a `WebSocketExtPushData`, ("other", None) for any other
    `HttpServerAction` (Hyperdrive ignores those), or ("plain", None) when the frame is not an
    `HttpServerAction` at all (Hyperdrive forwards it as an ordinary WebSocketPush).
    """
    try:
        value = _unpack_first(frame)
    except Exception:
        return ("plain", None)
    if isinstance(value, dict) and len(value) == 1:
        ((name, payload),) = value.items()
        if name == "WebSocketExtPushData":
            try:
                fields = _fields(payload, ("id", "hyperware_message_type", "blob"))
                raw_blob = fields.get("blob")
                if isinstance(raw_blob, bytes):
                    fields = {**fields, "blob": list(raw_blob)}
                return ("data", validate(WebSocketExtPushData, fields, "WebSocketExtPushData"))
            except WireError:
                return ("plain", None)
    try:
        HTTP_SERVER_ACTION.parse(value, "frame")
    except WireError:
        return ("plain", None)
    return ("other", None)


class OutgoingHttpRequest(WireModel):
    method: str
    version: str | None = None
    url: str
    headers: dict[str, str]


class ClientWebSocketOpen(WireModel):
    url: str
    headers: dict[str, str]
    channel_id: U32


class ChannelOnly(WireModel):
    channel_id: U32


HTTP_CLIENT_ACTION = TaggedEnum(
    "HttpClientAction",
    {
        "Http": OutgoingHttpRequest,
        "WebSocketOpen": ClientWebSocketOpen,
        "WebSocketPush": WebSocketPush,
        "WebSocketClose": ChannelOnly,
    },
)

HTTP_CLIENT_ACTION_SHAPE = (
    '{"Http": {"method": "GET", "version": null, "url": "https://..", "headers": {}}} (body = blob), '
    '{"WebSocketOpen": {"url": .., "headers": {}, "channel_id": u32}}, '
    '{"WebSocketPush": {"channel_id": u32, "message_type": "Text"|..}}, '
    '{"WebSocketClose": {"channel_id": u32}}'
)
