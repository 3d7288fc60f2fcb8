"""A JSON form of `standard` values, shared by the mirror guest (inside wasm) and the tests (host).

Why: to pin each conversion of the component runner *both ways*, a test must describe a value to the
guest (which rebuilds it with componentize-py's generated classes and passes it to a host function)
and read back what the guest received (which it reports as text). Class and field names of the
generated bindings equal those of `hyperpy.node.wit_types`, so one encoding, decoded against either
namespace, compares exactly. Standard library only: this file is compiled into the guest.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


def encode(value: Any) -> Any:
    """Any `standard` value (dataclass, enum, tuple, list, bytes, scalar, None) to JSON-able data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, tuple):
        return {"tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, enum.Enum):
        return {"enum": type(value).__name__, "name": value.name}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"type": type(value).__name__, "fields": fields}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(data: Any, namespace: dict[str, Any]) -> Any:
    """The inverse of `encode`; classes are looked up by name in `namespace`."""
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, list):
        return [decode(item, namespace) for item in data]
    if "bytes" in data:
        return bytes.fromhex(data["bytes"])
    if "tuple" in data:
        return tuple(decode(item, namespace) for item in data["tuple"])
    if "enum" in data:
        return getattr(namespace[data["enum"]], data["name"])
    fields = {name: decode(item, namespace) for name, item in data["fields"].items()}
    return namespace[data["type"]](**fields)


def dumps(value: Any) -> str:
    return json.dumps(encode(value), sort_keys=True)
