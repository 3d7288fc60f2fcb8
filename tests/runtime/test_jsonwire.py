"""serde_json-identical JSON text: what Rust hyperapp processes and kit's golden files expect."""

from __future__ import annotations

import math

import pytest

from hyperpy.runtime.jsonwire import dumps, format_float


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (123.456, "123.456"),
        (0.001, "0.001"),
        (0.00001, "0.00001"),  # Python's repr says 1e-05
        (1e-6, "1e-6"),  # Python's repr says 1e-06
        (1.5e-7, "1.5e-7"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e16"),  # Python's repr says 1e+16
        (1e20, "1e20"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (5e-324, "5e-324"),
        (12345678901234567.0, "1.2345678901234568e16"),
    ],
)
def test_floats_are_laid_out_like_ryu(value: float, text: str) -> None:
    assert format_float(value) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_become_null_like_serde_json(value: float) -> None:
    assert dumps({"x": value}) == b'{"x":null}'


def test_output_is_compact_utf8_with_serde_escapes() -> None:
    value = {"name": 'Zoë "q"\n\t\x01', "n": [1, 2.0, True, None], "e": {}}
    assert dumps(value) == '{"name":"Zoë \\"q\\"\\n\\t\\u0001","n":[1,2.0,true,null],"e":{}}'.encode()


def test_fast_path_without_floats_gives_the_same_bytes() -> None:
    value = {"b": [1, 2, {"c": "é"}], "a": None, "t": False}
    assert dumps(value, has_float=False) == dumps(value)


def test_integer_keys_are_stringified_like_serde_maps() -> None:
    assert dumps({1: "a", 2: 0.5}) == b'{"1":"a","2":0.5}'


def test_non_json_values_are_refused_with_their_type() -> None:
    with pytest.raises(TypeError, match=r"value of type set is not JSON-serialisable"):
        dumps({"x": {1, 2}})


def test_sort_keys_writes_objects_as_a_serde_json_value_does() -> None:
    # json!({...}).to_string() (capability params, kit's bodies): a BTreeMap, keys sorted at every level.
    value = {"kind": "write", "drive": "/p:k:s/d", "nested": {"b": 1.0, "a": [{"z": 0.00001, "y": None}]}}
    assert dumps(value, sort_keys=True) == (
        b'{"drive":"/p:k:s/d","kind":"write","nested":{"a":[{"y":null,"z":0.00001}],"b":1.0}}'
    )
    assert dumps(value, has_float=False, sort_keys=True) == dumps(value, sort_keys=True)
    assert dumps({"b": 1, "a": 2}) == b'{"b":1,"a":2}'
