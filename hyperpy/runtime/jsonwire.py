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
import re
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


# --- decoding -------------------------------------------------------------------------------------

MAX_DEPTH = 127
"""Deepest nesting of arrays/objects `loads` accepts: serde_json's default recursion limit (128)
refuses the 128th level with "recursion limit exceeded", so a Rust process would refuse the same body.
Without a limit, CPython's recursive decoder raises RecursionError natively (~1,000 levels) and
exhausts the Wasm call stack inside a component (a trap, which restarts the process)."""

_DECODER = json.JSONDecoder()  # `json.loads` minus its per-call type and encoding checks
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode JSON text received from outside (a message body, a file, an HTTP body) as serde_json
    would: UTF-8 only, and nesting deeper than `MAX_DEPTH` refused with a `json.JSONDecodeError`
    (a ValueError) instead of a RecursionError or a trap. Every decoder of untrusted JSON uses this."""
    if isinstance(data, str):
        text, raw = data, None
    else:
        raw = bytes(data)
        text = raw.decode("utf-8")
    # Depth can only exceed the limit if there are that many brackets: the common case costs two
    # C-speed counts; only bodies with many brackets are measured (at about the cost of decoding).
    if (
        text.count("[") + text.count("{") > MAX_DEPTH
        and nesting_depth(raw if raw is not None else text.encode("utf-8")) > MAX_DEPTH
    ):
        raise json.JSONDecodeError(
            f"recursion limit exceeded: nested deeper than {MAX_DEPTH} arrays/objects "
            "(serde_json's limit; flatten the value)",
            text,
            _deepest_position(text),
        )
    return _DECODER.decode(text)


def nesting_depth(raw: bytes, stop: int = MAX_DEPTH) -> int:
    """How deep arrays/objects nest in JSON text (counted up to a little past `stop`), in C-speed
    passes: drop escaped backslashes and quotes, drop what is inside strings (brackets there do not
    nest), keep only the brackets, then peel one level of innermost pairs per pass. What cannot be
    peeled (unbalanced input) counts as nesting: the decoder recurses into every unclosed bracket."""
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(_AS_SQUARE, _NOT_BRACKETS)
    depth = 0
    while brackets and depth <= stop:
        peeled = brackets.replace(b"[]", b"")
        if len(peeled) == len(brackets):
            return depth + brackets.count(b"[")
        brackets = peeled
        depth += 1
    return depth


def _deepest_position(text: str) -> int:
    """Index of the first bracket beyond `MAX_DEPTH` (for the error's line/column), scanned slowly:
    only a refused body gets here."""
    depth = 0
    for match in re.finditer(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]', text):
        first = text[match.start()]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif first in "]}":
            depth -= 1
    return 0
