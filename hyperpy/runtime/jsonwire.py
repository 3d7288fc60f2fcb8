"""JSON text exactly as Rust's `serde_json::to_vec` writes it.

Why not plain `json.dumps`: a Rust hyperapp compares nothing byte-wise, but kit's golden files, caller
stubs and our own golden tests do, and "wire-compatible" should mean byte-identical where it can.
serde_json writes compact JSON (no spaces), raw UTF-8 (no `\\uXXXX` for non-ASCII), the same string
escapes as Python's encoder, `null` for NaN and infinities, and floats in ryu's shortest form
(`1e20`, `1e-7`, `0.00001`, `100.0`), which differs from Python's `repr` (`1e+20`, `1e-07`, `1e-05`).
Values without floats take the C-accelerated `json.dumps` path, so the common case costs nothing extra.

This is the only serde_json writer in hyperpy: the runtime's answers, the node's runtime-module bodies
(`node/modules/wire.encode_json`), the kernel's capability params and command bodies
(`node/kernel_json`) and the bodies kit posts to the node's control surface (`package/control_wire`) all
call it, so a float, a non-ASCII string or a key order reads the same wherever it crosses the wire.

Key order: serde_json writes a Rust *struct* in field order and a `serde_json::Value` object (a
`BTreeMap` without the `preserve_order` feature, as in Hyperdrive and kit) with its keys sorted by
bytes. `sort_keys=True` is the second form: capability params (`json!({...}).to_string()`) and the
bodies kit builds with `json!`. UTF-8 byte order is code point order, which is how Python sorts `str`.
"""

from __future__ import annotations

import json
import math
from typing import Any

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False)
_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]
# The C encoder `json.dumps` builds on every call, built once (the same settings as _COMPACT): the
# fast path runs for every answer and every OnDiff check, so its set-up cost matters.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER = (
    _make_c_encoder(None, _COMPACT.default, _encode_str, None, ":", ",", False, False, False)
    if _make_c_encoder is not None
    else None
)


def dumps(value: Any, *, has_float: bool = True, sort_keys: bool = False) -> bytes:
    """Encode a JSON-able value (dict/list/str/int/float/bool/None) the way serde_json does.

    `has_float=False` is a promise from the caller (the codec knows it from the type hints) that the
    value contains no float, which allows the fast path without scanning the value first.
    `sort_keys=True` writes objects as a `serde_json::Value` does (keys sorted; see the module doc).
    """
    if not has_float and not sort_keys:
        if _C_ENCODER is not None:
            return "".join(_C_ENCODER(value, 0)).encode("utf-8")
        return _COMPACT.encode(value).encode("utf-8")
    return dumps_str(value, sort_keys=sort_keys).encode("utf-8")


def dumps_str(value: Any, *, sort_keys: bool = False) -> str:
    """Like `dumps` but returns text (metadata fields and capability params, which the WIT types as
    strings)."""
    parts: list[str] = []
    _write(value, parts, sort_keys)
    return "".join(parts)


def _write(value: Any, out: list[str], sort_keys: bool = False) -> None:
    # bool before int: bool is an int subclass.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(format_float(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        items = ((_key_text(key), item) for key, item in value.items())
        for key, item in sorted(items, key=_first) if sort_keys else items:
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(key))
            out.append(":")
            _write(item, out, sort_keys)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, sort_keys)
        out.append("]")
    else:
        raise TypeError(f"value of type {type(value).__name__} is not JSON-serialisable: {value!r}")


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def _key_text(key: Any) -> str:
    """serde_json stringifies integer and bool map keys; anything else must already be a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"JSON object keys must be strings or integers, not {type(key).__name__}: {key!r}")


def format_float(value: float) -> str:
    """Format a float as serde_json does (ryu's shortest round-trip digits, ryu's layout)."""
    if not math.isfinite(value):
        return "null"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text = float.__repr__(value)
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    # Split Python's shortest repr into its significant digits and a decimal exponent so that
    # value == 0.<digits> * 10**point, then lay it out with ryu's rules.
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    raw = whole + frac
    significant = raw.lstrip("0")
    point = len(whole) + exponent - (len(raw) - len(significant))
    digits = significant.rstrip("0")
    return sign + _ryu_layout(digits, point)


def _ryu_layout(digits: str, point: int) -> str:
    """Lay out significant `digits` with the decimal point after `point` digits, as ryu does."""
    length = len(digits)
    if length <= point <= 16:
        return digits + "0" * (point - length) + ".0"
    if 0 < point <= 16:
        return digits[:point] + "." + digits[point:]
    if -5 < point <= 0:
        return "0." + "0" * (-point) + digits
    exponent = point - 1
    if length == 1:
        return f"{digits}e{exponent}"
    return f"{digits[0]}.{digits[1:]}e{exponent}"
