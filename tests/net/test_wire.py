"""The wire values are byte-identical to rmp_serde::to_vec: structs as arrays, enums externally tagged,
Vec<u8> as arrays of numbers, addresses as strings; decoding refuses malformed values by name."""

from __future__ import annotations

import msgpack
import pytest

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.net.wire import (
    HandshakePayload,
    RoutingRequest,
    WireError,
    capability_bytes,
    decode_kernel_message,
    encode_kernel_message,
)
from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    Request,
    Response,
)

SOURCE = Address.parse("a.dev@chat:chat:template.os")
TARGET = Address.parse("b.dev@chat:chat:template.os")
CAP = Capability(Address.parse("a.dev@chat:chat:template.os"), '"messaging"')


def request_message() -> KernelMessage:
    return KernelMessage(
        id=7,
        source=SOURCE,
        target=TARGET,
        rsvp=SOURCE,
        message=Message_Request(Request(False, 5, b"\x01\xff", None, [CAP])),
        lazy_load_blob=LazyLoadBlob("text/plain", b"hi"),
    )


def test_request_encodes_as_rmp_serde_arrays() -> None:
    encoded = encode_kernel_message(request_message(), [b"\x09"])
    expected = msgpack.packb(
        [
            7,
            "a.dev@chat:chat:template.os",
            "b.dev@chat:chat:template.os",
            "a.dev@chat:chat:template.os",
            {"Request": [False, 5, [1, 255], None, [[["a.dev@chat:chat:template.os", '"messaging"'], [9]]]]},
            ["text/plain", [104, 105]],
        ]
    )
    assert encoded == expected


def test_response_with_context_and_no_blob_round_trips() -> None:
    km = KernelMessage(
        id=2**64 - 1,
        source=TARGET,
        target=SOURCE,
        rsvp=None,
        message=Message_Response((Response(True, b"ok", '{"m":1}', []), b"\x00")),
        lazy_load_blob=None,
    )
    encoded = encode_kernel_message(km)
    assert msgpack.unpackb(encoded)[4] == {"Response": [[True, [111, 107], '{"m":1}', []], [0]]}
    assert decode_kernel_message(encoded).message == km


def test_decoding_accepts_maps_and_bin_as_rmp_serde_reads_them() -> None:
    value = {
        "id": 1,
        "source": str(SOURCE),
        "target": str(TARGET),
        "rsvp": None,
        "message": {
            "Request": {
                "inherit": False,
                "expects_response": None,
                "body": b"raw",
                "metadata": None,
                "capabilities": [],
            }
        },
        "lazy_load_blob": None,
    }
    decoded = decode_kernel_message(msgpack.packb(value, use_bin_type=True)).message
    assert isinstance(decoded.message, Message_Request)
    assert decoded.message.value.body == b"raw"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([1, 2, 3], "KernelMessage must be an array of 6 fields"),
        ([1, "nobody", str(TARGET), None, {"Request": []}, None], "Request must be an array"),
        ([1, "not an address", str(TARGET), None, {"Request": [False, None, [], None, []]}, None], "source"),
        ([-1, str(SOURCE), str(TARGET), None, {"Request": [False, None, [], None, []]}, None], "id"),
        ([1, str(SOURCE), str(TARGET), None, {"Request": [False, None, [256], None, []]}, None], "body"),
        ([1, str(SOURCE), str(TARGET), None, {"Bogus": 1}, None], "Request or Response"),
    ],
)
def test_malformed_messages_are_refused_by_field(value: object, problem: str) -> None:
    with pytest.raises(WireError, match=problem):
        decode_kernel_message(msgpack.packb(value))


def test_non_msgpack_is_refused() -> None:
    with pytest.raises(WireError, match="not MessagePack"):
        decode_kernel_message(b"\xc1garbage")


def test_handshake_payload_and_routing_request_are_arrays() -> None:
    payload = HandshakePayload(1, "a.dev", b"\x01\x02", True)
    assert msgpack.unpackb(payload.encode()) == [1, "a.dev", [1, 2], True]
    assert HandshakePayload.decode(payload.encode()) == payload
    request = RoutingRequest(1, "a.dev", b"\x03", "b.dev")
    assert msgpack.unpackb(request.encode()) == [1, "a.dev", [3], "b.dev"]
    assert RoutingRequest.decode(request.encode()) == request
    with pytest.raises(WireError, match="protocol_version"):
        HandshakePayload.decode(msgpack.packb([300, "a.dev", [], False]))


def test_capability_signing_bytes_are_the_capability_array() -> None:
    assert msgpack.unpackb(capability_bytes(CAP)) == ["a.dev@chat:chat:template.os", '"messaging"']
