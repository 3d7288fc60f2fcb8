"""Golden wire tests: byte-exact bodies as Rust hyperapp and process_lib produce them
(hyperapp.md §0.5, §1.4, §2.1; runtime-contract.md §3)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from hyperpy.runtime.calls import typed_request_body
from hyperpy.runtime.decorators import app, http, local
from hyperpy.runtime.spec import app_spec
from hyperpy.runtime.types import Address, Err, Ok, Query, Result
from hyperpy.runtime.wire import (
    BadBody,
    decode_args,
    encode_value,
    error_metadata,
    http_response_head,
    looks_like_send_error,
    parse_error_metadata,
    parse_request_body,
    request_body,
)


class Status(enum.Enum):
    ACTIVE = "Active"
    BANNED = "Banned"


@dataclass
class User:
    name: str
    age: int
    tags: list[str]
    avatar: bytes
    score: float
    status: Status
    home: Address | None = None


@app
class Api:
    @local
    def get_user(self) -> User | None:
        return None

    @local
    def set_name(self, name: str) -> None:
        return None

    @local
    def add_tags(self, user_id: int, tags: list[str], strict: bool) -> Result[int, str]:
        return Ok(0)

    @http(method="GET", path="/users/{user_id}/tags")
    @local
    def tags_of(self, user_id: int, limit: Annotated[int, Query()] = 10) -> list[str]:
        return []


SPEC = app_spec(Api)


@pytest.mark.parametrize(
    ("handler", "args", "body"),
    [
        ("get_user", (), b'{"GetUser":null}'),
        ("set_name", ("Zoë",), '{"SetName":"Zoë"}'.encode()),
        ("add_tags", (7, ["a", "b"], True), b'{"AddTags":[7,["a","b"],true]}'),
        # A local/remote request carries every parameter, even those HTTP takes from the URL.
        ("tags_of", (7, 3), b'{"TagsOf":[7,3]}'),
    ],
)
def test_request_bodies_are_serde_externally_tagged_variants(
    handler: str, args: tuple[Any, ...], body: bytes
) -> None:
    assert typed_request_body(SPEC.handler(handler), args) == body
    variant, payload = parse_request_body(body)
    assert variant == SPEC.handler(handler).variant
    decoded = decode_args(SPEC.handler(handler), payload)
    assert tuple(decoded.values()) == args


def test_bare_string_is_accepted_for_a_handler_without_parameters() -> None:
    variant, payload = parse_request_body(b'"GetUser"')
    assert (variant, payload) == ("GetUser", None)
    assert decode_args(SPEC.handler("get_user"), payload) == {}


@pytest.mark.parametrize("body", [b"{}", b"[]", b'{"A":1,"B":2}', b"12"])
def test_bodies_that_serde_rejects_are_rejected(body: bytes) -> None:
    with pytest.raises(BadBody, match="body must name one handler"):
        parse_request_body(body)


def test_one_parameter_is_not_wrapped_in_an_array() -> None:
    assert request_body("SetName", ["x"]) == b'{"SetName":"x"}'
    assert request_body("SetNames", [["x"]]) == b'{"SetNames":["x"]}'


def test_struct_result_matches_serde_json() -> None:
    user = User(
        "ann", 30, ["x"], b"\x01\x02", 1.0, Status.ACTIVE, Address.parse("fake.dev@chat:chat:template.os")
    )
    assert encode_value(User | None, user) == (
        b'{"name":"ann","age":30,"tags":["x"],"avatar":[1,2],"score":1.0,"status":"Active",'
        b'"home":"fake.dev@chat:chat:template.os"}'
    )
    assert encode_value(User | None, None) == b"null"


@pytest.mark.parametrize(
    ("value", "body"),
    [
        (Ok(5), b'{"Ok":5}'),
        (Err("no such user"), b'{"Err":"no such user"}'),
    ],
)
def test_results_are_ok_err_objects(value: Any, body: bytes) -> None:
    assert encode_value(Result[int, str], value) == body


def test_unit_result_and_unit_return() -> None:
    assert encode_value(Result[None, str], Ok(None)) == b'{"Ok":null}'
    assert encode_value(None, None) == b"null"


def test_maps_are_objects_and_tuples_arrays() -> None:
    assert encode_value(dict[str, tuple[int, float]], {"a": (1, 2.5)}) == b'{"a":[1,2.5]}'


def test_http_response_head_is_process_lib_http_response() -> None:
    assert http_response_head(200, {}) == b'{"status":200,"headers":{}}'
    assert http_response_head(404, {"Content-Type": "text/plain"}) == (
        b'{"status":404,"headers":{"Content-Type":"text/plain"}}'
    )


def test_rust_fake_timeout_send_error_is_recognised() -> None:
    # The exact shape a Rust hyperapp sends for a handler not exposed to the caller (§0.5 point 6).
    body = (
        '{"kind":"Timeout","target":"fake.dev@app:app:template.os","message":{"Request":{"source":'
        '"fake2.dev@caller:app:template.os","expects_response":30,"body":[123,125],"metadata":null,'
        '"capabilities":[]}},"lazy_load_blob":null,"context":[49]}'
    )
    assert looks_like_send_error(json.loads(body))
    assert not looks_like_send_error({"Ok": 1})


def test_error_metadata_round_trips_and_plain_metadata_is_ignored() -> None:
    metadata = error_metadata("BadRequest", 'expected {"A": 1}')
    assert metadata == '{"hyperpy":{"error":"BadRequest","message":"expected {\\"A\\": 1}"}}'
    assert parse_error_metadata(metadata) == ("BadRequest", 'expected {"A": 1}')
    assert parse_error_metadata('{"other":1}') is None
    assert parse_error_metadata(None) is None
