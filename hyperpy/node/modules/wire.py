"""Reading and writing runtime-module bodies exactly as Hyperdrive's serde does.

Why one place: every runtime module receives Rust enums serialized by serde (externally tagged:
`"Unit"`, `{"Variant": payload}`), structs with optional fields that may be missing, and integers that
must fit `u32`/`u64`/`i64`. Hyperdrive answers anything that does not deserialize with the module's
`MalformedRequest` error and says nothing more. The emulator must answer the same way, but it also
tells the developer *why*: the field path, what it expected and what it got. `TaggedEnum` plus pydantic
models (strict, extra fields ignored as serde ignores them) give both.

Encoding is serde_json's, written by `hyperpy.runtime.jsonwire` (the one serde_json writer): compact
separators, UTF-8 kept as is, `Vec<u8>` as a list of numbers, floats as ryu writes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hyperpy.runtime import jsonwire

U8 = Annotated[int, Field(ge=0, le=0xFF)]
U16 = Annotated[int, Field(ge=0, le=0xFFFF)]
U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]
U64 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF_FFFF_FFFF)]
I64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
ByteList = list[U8]


class WireModel(BaseModel):
    """A serde struct: strict types, unknown fields ignored (serde's default), Options default to None."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class WireError(ValueError):
    """A body that Hyperdrive's serde would refuse; `detail` says where and what was expected."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def encode_json(value: object, *, has_float: bool = True) -> bytes:
    """Serialize like serde_json::to_vec (`hyperpy.runtime.jsonwire`, the one serde_json writer):
    no whitespace, non-ASCII kept as UTF-8, floats in ryu's form (`0.00001`, `1e20`).
    `has_float=False` promises the value holds no float, for jsonwire's C-encoder fast path."""
    return jsonwire.dumps(value, has_float=has_float)


def decode_json(body: bytes) -> object:
    """Parse a JSON body or raise WireError naming the position of the syntax error."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WireError(f"body is not UTF-8 (byte {error.start}); bodies of this module are JSON") from None
    try:
        return jsonwire.loads(text)
    except json.JSONDecodeError as error:
        snippet = text[:80] + ("…" if len(text) > 80 else "")
        raise WireError(f"body is not valid JSON ({error.msg} at char {error.pos}): {snippet!r}") from None


def describe(value: object) -> str:
    """A short rendering of a received value for error messages."""
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _format_validation_error(error: ValidationError, at: str) -> str:
    problems = []
    for item in error.errors()[:3]:
        location = ".".join(str(part) for part in (at, *item["loc"]) if part != "")
        problems.append(f"`{location}`: {item['msg'].lower()} (got {describe(item.get('input'))})")
    more = len(error.errors()) - 3
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def validate(kind: Any, value: object, at: str) -> Any:
    """Validate `value` as `kind` (a WireModel subclass or a typing form) in strict serde fashion."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = TypeAdapter(kind, config=None if _is_model(kind) else ConfigDict(strict=True))
        _ADAPTERS[kind] = adapter
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError as error:
        raise WireError(_format_validation_error(error, at)) from None


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


UNIT = None
"""Marker for a unit variant in a TaggedEnum (`"Variant"` on the wire)."""


@dataclass(frozen=True)
class Tagged:
    """One decoded enum value: the variant name and its validated payload (None for unit variants)."""

    name: str
    value: Any = None


class TaggedEnum:
    """A serde externally-tagged enum: unit variants as `"Name"`, others as `{"Name": payload}`.

    `variants` maps each variant name to `UNIT` or to the payload's type (a WireModel for struct
    variants, any typing form for newtype variants). Like serde_json, a unit variant is also accepted
    as `{"Name": null}`.
    """

    def __init__(self, rust_name: str, variants: Mapping[str, Any]) -> None:
        self.rust_name = rust_name
        self.variants = dict(variants)

    def expected(self) -> str:
        shapes = [f'"{name}"' if kind is UNIT else f'{{"{name}": …}}' for name, kind in self.variants.items()]
        return f"one of {', '.join(shapes)}"

    def _unknown(self, name: str, at: str) -> WireError:
        return WireError(f"`{at}`: unknown {self.rust_name} variant {name!r}; expected {self.expected()}")

    def parse(self, value: object, at: str) -> Tagged:
        if isinstance(value, str):
            if value not in self.variants:
                raise self._unknown(value, at)
            if self.variants[value] is not UNIT:
                raise WireError(
                    f"`{at}`: {self.rust_name}::{value} carries data; send {{{json.dumps(value)}: …}}"
                )
            return Tagged(value)
        if isinstance(value, dict) and len(value) == 1:
            ((name, payload),) = value.items()
            if name not in self.variants:
                raise self._unknown(name, at)
            kind = self.variants[name]
            if kind is UNIT:
                if payload is not None:
                    raise WireError(f"`{at}`: {self.rust_name}::{name} has no data; send {json.dumps(name)}")
                return Tagged(name)
            return Tagged(name, validate(kind, payload, f"{at}.{name}"))
        raise WireError(f"`{at}`: expected a {self.rust_name} ({self.expected()}), got {describe(value)}")


def require_object(value: object, fields: tuple[str, ...], what: str) -> dict[str, Any]:
    """Check that `value` is a JSON object carrying the required `fields` (serde struct, no defaults)."""
    if not isinstance(value, dict):
        raise WireError(f"expected a {what} object with fields {', '.join(fields)}; got {describe(value)}")
    missing = [name for name in fields if name not in value]
    if missing:
        raise WireError(f"{what} is missing field `{missing[0]}` (fields: {', '.join(fields)})")
    return value
