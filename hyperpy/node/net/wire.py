"""Hyperdrive's networking wire values, encoded exactly as `rmp_serde::to_vec` writes them.

Why this shape: two nodes only understand each other if every byte matches what Hyperdrive's `net`
sends (hyperdrive/src/net/*, lib/src/core.rs, lib/src/kernel.rs). `rmp_serde::to_vec` writes

* structs as MessagePack *arrays* of their fields in declaration order (not maps);
* enums externally tagged: a unit variant as its name (`"GetPeers"`), others as a one-entry map
  (`{"Request": [...]}`);
* `Option::None` as nil and `Some(x)` as `x`;
* `Vec<u8>` as an array of numbers (serde's sequence), never as `bin`;
* `Address` and `ProcessId` as their display strings (`node@process:package:publisher`).

Decoding accepts what rmp-serde reads: structs as arrays or maps, byte vectors as arrays or `bin`.
Anything else raises `WireError` naming the field, so a garbage frame closes its connection with a
log line that says what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    Request,
    Response,
)

PROTOCOL_VERSION = 1
MESSAGE_MAX_SIZE = 10_485_800
"""Hyperdrive's `MESSAGE_MAX_SIZE` (net/utils.rs): the largest serialized KernelMessage on the wire."""


class WireError(ValueError):
    """Bytes that are not the expected wire value; the message names the field and the problem."""


# ------------------------------------------------------------------------------------------ helpers


def _byte_list(data: bytes) -> list[int]:
    return list(data)


def _bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, list):
        try:
            return bytes(value)  # C-speed, and it checks every item is an int in 0-255
        except (TypeError, ValueError):
            pass
    raise WireError(f"{what} must be bytes (an array of 0-255 numbers)")


def _fields(value: object, names: tuple[str, ...], what: str) -> list[Any]:
    if isinstance(value, list | tuple) and len(value) == len(names):
        return list(value)
    if isinstance(value, dict) and all(name in value for name in names):
        return [value[name] for name in names]
    raise WireError(f"{what} must be an array of {len(names)} fields ({', '.join(names)})")


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise WireError(f"{what} must be a string")
    return value


def _opt_str(value: object, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise WireError(f"{what} must be a boolean")
    return value


def _u64(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value < 2**64:
        raise WireError(f"{what} must be an unsigned 64-bit integer")
    return value


def _address(value: object, what: str) -> Address:
    try:
        return Address.parse(_str(value, what))
    except ValueError as error:
        raise WireError(f"{what}: {error}") from None


def _variant(value: object, what: str) -> tuple[str, Any]:
    if isinstance(value, dict) and len(value) == 1:
        ((name, payload),) = value.items()
        if isinstance(name, str):
            return name, payload
    if isinstance(value, str):
        return value, None
    raise WireError(f"{what} must be an externally tagged enum ({{variant: payload}})")


def unpack(data: bytes, what: str) -> Any:
    """One MessagePack value that fills `data` exactly, or WireError."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True)
    except Exception as error:
        raise WireError(f"{what} is not MessagePack ({type(error).__name__}: {error})") from None


# ---------------------------------------------------------------------------------- kernel message

SignedCaps = list[tuple[Capability, bytes]]


def capability_bytes(cap: Capability) -> bytes:
    """What Hyperdrive signs for a capability: `rmp_serde::to_vec(&cap)` = `[issuer, params]`."""
    return msgpack.packb([str(cap.issuer), cap.params], use_bin_type=True)


def _caps_value(caps: SignedCaps) -> list[Any]:
    return [[[str(cap.issuer), cap.params], _byte_list(sig)] for cap, sig in caps]


def _caps(value: object, what: str) -> SignedCaps:
    if not isinstance(value, list):
        raise WireError(f"{what} must be an array of [capability, signature] pairs")
    caps = []
    for index, item in enumerate(value):
        cap_value, sig = _fields(item, ("capability", "signature"), f"{what}[{index}]")
        issuer, params = _fields(cap_value, ("issuer", "params"), f"{what}[{index}].capability")
        caps.append(
            (
                Capability(
                    _address(issuer, f"{what}[{index}].issuer"), _str(params, f"{what}[{index}].params")
                ),
                _bytes(sig, f"{what}[{index}].signature"),
            )
        )
    return caps


@dataclass(frozen=True)
class WireMessage:
    """A KernelMessage as it travels: the kernel's view plus the capability signatures."""

    message: KernelMessage
    signatures: list[bytes]
    """One signature per capability of the Request/Response, in order (empty bytes when unsigned)."""


def encode_kernel_message(km: KernelMessage, signatures: list[bytes] | None = None) -> bytes:
    """`rmp_serde::to_vec(&KernelMessage)`; `signatures` pairs with the message's capabilities."""
    if isinstance(km.message, Message_Request):
        request = km.message.value
        sigs = signatures if signatures is not None else [b""] * len(request.capabilities)
        message: Any = {
            "Request": [
                request.inherit,
                request.expects_response,
                _byte_list(request.body),
                request.metadata,
                _caps_value(list(zip(request.capabilities, sigs, strict=True))),
            ]
        }
    else:
        response, context = km.message.value
        sigs = signatures if signatures is not None else [b""] * len(response.capabilities)
        message = {
            "Response": [
                [
                    response.inherit,
                    _byte_list(response.body),
                    response.metadata,
                    _caps_value(list(zip(response.capabilities, sigs, strict=True))),
                ],
                None if context is None else _byte_list(context),
            ]
        }
    blob = km.lazy_load_blob
    value = [
        km.id,
        str(km.source),
        str(km.target),
        None if km.rsvp is None else str(km.rsvp),
        message,
        None if blob is None else [blob.mime, _byte_list(blob.bytes)],
    ]
    return msgpack.packb(value, use_bin_type=True)


def decode_kernel_message(data: bytes) -> WireMessage:
    """Parse `rmp_serde::from_slice::<KernelMessage>`; WireError names the first bad field."""
    value = unpack(data, "KernelMessage")
    id_, source, target, rsvp, message, blob = _fields(
        value, ("id", "source", "target", "rsvp", "message", "lazy_load_blob"), "KernelMessage"
    )
    kind, payload = _variant(message, "KernelMessage.message")
    signatures: list[bytes]
    parsed_message: Message_Request | Message_Response
    if kind == "Request":
        inherit, expects, body, metadata, caps = _fields(
            payload, ("inherit", "expects_response", "body", "metadata", "capabilities"), "Request"
        )
        signed = _caps(caps, "Request.capabilities")
        signatures = [sig for _, sig in signed]
        parsed_message = Message_Request(
            Request(
                _bool(inherit, "Request.inherit"),
                None if expects is None else _u64(expects, "Request.expects_response"),
                _bytes(body, "Request.body"),
                _opt_str(metadata, "Request.metadata"),
                [cap for cap, _ in signed],
            )
        )
    elif kind == "Response":
        response_value, context = _fields(payload, ("response", "context"), "Response")
        inherit, body, metadata, caps = _fields(
            response_value, ("inherit", "body", "metadata", "capabilities"), "Response"
        )
        signed = _caps(caps, "Response.capabilities")
        signatures = [sig for _, sig in signed]
        parsed_message = Message_Response(
            (
                Response(
                    _bool(inherit, "Response.inherit"),
                    _bytes(body, "Response.body"),
                    _opt_str(metadata, "Response.metadata"),
                    [cap for cap, _ in signed],
                ),
                None if context is None else _bytes(context, "Response.context"),
            )
        )
    else:
        raise WireError(f"KernelMessage.message must be Request or Response, not {kind!r:.40}")
    lazy = None
    if blob is not None:
        mime, blob_bytes = _fields(blob, ("mime", "bytes"), "LazyLoadBlob")
        lazy = LazyLoadBlob(_opt_str(mime, "LazyLoadBlob.mime"), _bytes(blob_bytes, "LazyLoadBlob.bytes"))
    km = KernelMessage(
        id=_u64(id_, "KernelMessage.id"),
        source=_address(source, "KernelMessage.source"),
        target=_address(target, "KernelMessage.target"),
        rsvp=None if rsvp is None else _address(rsvp, "KernelMessage.rsvp"),
        message=parsed_message,
        lazy_load_blob=lazy,
    )
    return WireMessage(km, signatures)


# ------------------------------------------------------------------------- handshake and routing


@dataclass(frozen=True)
class HandshakePayload:
    """Sent inside the Noise XX handshake (`net/types.rs`): who we are, and our networking key's
    signature over this connection's Noise static key."""

    protocol_version: int
    name: str
    signature: bytes
    proxy_request: bool

    def encode(self) -> bytes:
        return msgpack.packb(
            [self.protocol_version, self.name, _byte_list(self.signature), self.proxy_request],
            use_bin_type=True,
        )

    @classmethod
    def decode(cls, data: bytes) -> HandshakePayload:
        version, name, signature, proxy = _fields(
            unpack(data, "HandshakePayload"),
            ("protocol_version", "name", "signature", "proxy_request"),
            "HandshakePayload",
        )
        if type(version) is not int or not 0 <= version <= 255:
            raise WireError("HandshakePayload.protocol_version must be a u8")
        return cls(
            version,
            _str(name, "HandshakePayload.name"),
            _bytes(signature, "HandshakePayload.signature"),
            _bool(proxy, "HandshakePayload.proxy_request"),
        )


@dataclass(frozen=True)
class RoutingRequest:
    """Sent to a router before the handshake (`net/types.rs`): `source` asks to reach `target`;
    `signature` is source's networking-key signature over `target ++ router name`."""

    protocol_version: int
    source: str
    signature: bytes
    target: str

    def encode(self) -> bytes:
        return msgpack.packb(
            [self.protocol_version, self.source, _byte_list(self.signature), self.target],
            use_bin_type=True,
        )

    @classmethod
    def decode(cls, data: bytes) -> RoutingRequest:
        version, source, signature, target = _fields(
            unpack(data, "RoutingRequest"),
            ("protocol_version", "source", "signature", "target"),
            "RoutingRequest",
        )
        if type(version) is not int or not 0 <= version <= 255:
            raise WireError("RoutingRequest.protocol_version must be a u8")
        return cls(
            version,
            _str(source, "RoutingRequest.source"),
            _bytes(signature, "RoutingRequest.signature"),
            _str(target, "RoutingRequest.target"),
        )
