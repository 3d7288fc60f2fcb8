"""The type-hint codec: each supported hint both ways, and errors that name the path."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NewType, Optional, TypedDict

import pytest

from hyperpy.runtime.codec import UnsupportedType, codec_for, encode_untyped
from hyperpy.runtime.errors import CodecError
from hyperpy.runtime.types import Address, Err, Ok, ProcessId, Result


class Color(enum.Enum):
    RED = "Red"
    GREEN = "Green"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@dataclass
class Point:
    x: float
    y: float = 0.0


@dataclass
class Circle:
    center: Point
    radius: float


@dataclass
class Nothing:
    pass


@dataclass
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


class Movie(TypedDict):
    title: str
    year: int


UserId = NewType("UserId", int)


def roundtrip(hint: Any, value: Any) -> Any:
    codec = codec_for(hint)
    encoded = codec.encode(value, "v")
    assert codec.decode(encoded, "v") == value
    return encoded


@pytest.mark.parametrize(
    ("hint", "value", "json_value"),
    [
        (str, "hi", "hi"),
        (int, 7, 7),
        (float, 1.5, 1.5),
        (bool, True, True),
        (None, None, None),
        (bytes, b"\x00\xff", [0, 255]),
        (list[int], [1, 2], [1, 2]),
        (set[str], {"a"}, ["a"]),
        (tuple[int, str], (1, "a"), [1, "a"]),
        (tuple[int, ...], (1, 2, 3), [1, 2, 3]),
        (dict[str, int], {"a": 1}, {"a": 1}),
        (dict[int, str], {3: "c"}, {"3": "c"}),
        (dict[Color, int], {Color.RED: 1}, {"Red": 1}),
        (Optional[int], None, None),  # noqa: UP045 - the spelling under test
        (int | None, 4, 4),
        (Literal["a", 2], 2, 2),
        (Color, Color.GREEN, "Green"),
        (Level, Level.HIGH, "HIGH"),
        (Point, Point(1.0, 2.0), {"x": 1.0, "y": 2.0}),
        (Circle, Circle(Point(0.0), 2.0), {"center": {"x": 0.0, "y": 0.0}, "radius": 2.0}),
        (Movie, {"title": "T", "year": 1999}, {"title": "T", "year": 1999}),
        (Result[int, str], Ok(5), {"Ok": 5}),
        (Result[int, str], Err("bad"), {"Err": "bad"}),
        (Result[None, str], Ok(None), {"Ok": None}),
        (Circle | Nothing, Nothing(), "Nothing"),
        (Circle | Point, Point(1.0, 1.0), {"Point": {"x": 1.0, "y": 1.0}}),
        (Address, Address.parse("fake.dev@chat:chat:template.os"), "fake.dev@chat:chat:template.os"),
        (ProcessId, ProcessId.parse("chat:chat:template.os"), "chat:chat:template.os"),
        (Annotated[int, "meta"], 3, 3),
        (UserId, UserId(9), 9),
        (Any, {"free": [1, "x"]}, {"free": [1, "x"]}),
        (Tree, Tree(1, [Tree(2)]), {"value": 1, "children": [{"value": 2, "children": []}]}),
    ],
)
def test_supported_hints_map_like_serde(hint: Any, value: Any, json_value: Any) -> None:
    assert roundtrip(hint, value) == json_value


def test_decoding_dataclasses_uses_defaults_and_ignores_unknown_keys() -> None:
    assert codec_for(Point).decode({"x": 1, "extra": True}, "p") == Point(1.0, 0.0)


def test_decoding_accepts_the_unit_case_as_tagged_null_too() -> None:
    assert codec_for(Circle | Nothing).decode({"Nothing": None}, "v") == Nothing()


@pytest.mark.parametrize(
    ("hint", "bad", "message"),
    [
        (int, "7", 'args: expected an integer, got "7"'),
        (int, True, "args: expected an integer, got true"),
        (list[int], [1, "x"], 'args[1]: expected an integer, got "x"'),
        (Point, {"y": 1}, "args: missing field x (expected a Point object)"),
        (Circle, {"center": {"x": "a"}, "radius": 1}, 'args.center.x: expected a number, got "a"'),
        (Color, "Blue", 'args: expected one of "Red", "Green", got "Blue"'),
        (bytes, [1, 300], "args: expected an array of byte values (0-255)"),
        (tuple[int, int], [1], "args: expected an array of 2 items"),
        (Result[int, str], {"Maybe": 1}, 'args: expected {"Ok": an integer} or {"Err": a string}'),
        (Address, "not-an-address", "args: expected an address string"),
    ],
)
def test_bad_values_are_reported_with_their_path(hint: Any, bad: Any, message: str) -> None:
    with pytest.raises(CodecError) as caught:
        codec_for(hint).decode(bad, "args")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        (int | str, "only Optional[T] (T | None) and unions of dataclasses"),
        (list, "bare list has no element type"),
        (dict[tuple[int, int], str], "dict keys must be str, int, an Enum"),
        (complex, "unsupported type complex"),
        (Literal[1.5], "Literal values must be str, int, bool or None"),
    ],
)
def test_unsupported_hints_say_what_to_use_instead(hint: Any, message: str) -> None:
    with pytest.raises(
        UnsupportedType, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        codec_for(hint)


def test_float_flag_lets_the_encoder_skip_the_slow_path_only_when_safe() -> None:
    assert codec_for(list[int]).has_float is False
    assert codec_for(Point).has_float is True
    assert codec_for(dict[str, Optional[float]]).has_float is True  # noqa: UP045
    assert codec_for(Any).has_float is True


def test_untyped_values_are_encoded_by_their_runtime_type() -> None:
    value = [Point(1.0), Color.RED, b"\x01", Ok(3), Address.parse("a.os@p:k:s"), {"k": (1, 2)}]
    assert encode_untyped(value) == [{"x": 1.0, "y": 0.0}, "Red", [1], {"Ok": 3}, "a.os@p:k:s", {"k": [1, 2]}]
    with pytest.raises(CodecError, match="JSON-encodable"):
        encode_untyped(object())


def test_any_and_dict_values_are_written_in_serde_json_value_key_order() -> None:
    """serde_json's Value (no preserve_order in a hyperapp's dependency tree) sorts object keys; so
    does a BTreeMap<String, _>. Integer keys are compared as their decimal text ("10" < "2")."""
    from hyperpy.runtime import jsonwire

    value = {"b": 1, "a": [{"d": 1.0, "c": None}], "\u00e9": {2: "x", 10: "y"}}
    encoded = codec_for(Any).encode(value, "v")
    assert jsonwire.dumps(encoded) == '{"a":[{"c":null,"d":1.0}],"b":1,"\u00e9":{"10":"y","2":"x"}}'.encode()
    assert value == {"b": 1, "a": [{"d": 1.0, "c": None}], "\u00e9": {2: "x", 10: "y"}}  # not modified
    numbers = codec_for(dict[int, str]).encode({10: "x", 2: "y", -1: "z"}, "v")
    assert list(numbers) == ["-1", "10", "2"]
    words = codec_for(dict[str, int]).encode({"pear": 1, "Zed": 2, "apple": 3}, "v")
    assert list(words) == ["Zed", "apple", "pear"]
