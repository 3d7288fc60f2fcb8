"""One codec from Python type hints to serde_json-compatible JSON values and back.

Handler parameters, return values, call results and the persisted state all go through here, so a
type means the same thing everywhere. The mapping follows what serde_json produces for the Rust type
a hyperapp author would write (hyperapp.md §0.5 and §2.1):

| Python hint                         | JSON                                   | Rust            |
|-------------------------------------|----------------------------------------|-----------------|
| str / int / float / bool / None     | string / number / number / bool / null | String, i64...  |
| bytes                               | array of numbers                       | Vec<u8>         |
| list[T], set[T], tuple[T, ...]      | array                                  | Vec<T>          |
| tuple[A, B]                         | array                                  | (A, B)          |
| dict[str|int|Enum, V]               | object (keys stringified, sorted)      | HashMap<K, V>   |
| T | None, Optional[T]               | value or null                          | Option<T>       |
| Literal["a", 1]                     | the literal                            | -               |
| Enum                                | its value if str, else its name        | unit enum       |
| dataclass, TypedDict                | object with the field names            | struct          |
| A | B (dataclasses)                 | {"A": {...}} / "A" (no fields)         | enum variants   |
| Ok[T] | Err[E]  (= Result[T, E])    | {"Ok": T} / {"Err": E}                 | Result<T, E>    |
| Address / ProcessId                 | "node@proc:pkg:pub" / "proc:pkg:pub"   | Address         |
| Any / object                        | any JSON value (object keys sorted)    | serde_json::Value |

Hints are compiled once into `Codec` objects (closures), so per-message cost is a few calls.
`UnsupportedType` says which hint failed and what to use instead; the declaration layer turns it
into a `DeclarationError` naming the handler and parameter.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hyperpy.runtime import jsonwire
from hyperpy.runtime.errors import CodecError
from hyperpy.runtime.types import Address, ProcessId

Encoder = Callable[[Any, str], Any]
Decoder = Callable[[Any, str], Any]


class UnsupportedType(TypeError):
    """A type hint the codec cannot map to JSON; the message names the hint and an alternative."""


@dataclasses.dataclass(slots=True)
class Codec:
    """Compiled conversion for one type hint.

    `encode(value, path)` returns a JSON-able value, `decode(json_value, path)` the typed Python value;
    both raise `CodecError` naming `path`. `has_float` tells `jsonwire.dumps` whether the slow
    float-exact path is needed.
    """

    hint: Any
    describe: str
    encode: Encoder
    decode: Decoder
    has_float: bool


_cache: dict[Any, Codec] = {}


def codec_for(hint: Any) -> Codec:
    """Compile (or fetch from cache) the codec for `hint`; raise UnsupportedType if it has none."""
    try:
        cached = _cache.get(hint)
    except TypeError:  # unhashable hint (e.g. Annotated with a dict): compile without caching
        return _compile(hint, {})
    if cached is None:
        cached = _compile(hint, {})
        _cache[hint] = cached
    return cached


def wire_name_of_enum_member(member: enum.Enum) -> str:
    """The JSON string for an Enum member: its value when that is a string, else its name."""
    return member.value if isinstance(member.value, str) else member.name


def dataclass_case_name(cls: type) -> str:
    """The variant name of a dataclass inside a union: its class name, like a Rust enum variant."""
    return cls.__name__


def is_newtype_case(cls: type) -> bool:
    """A union case that wraps one value (`{"Ok": 5}`) rather than a record (`{"Point": {...}}`)."""
    return bool(getattr(cls, "__newtype__", False))


# --------------------------------------------------------------------------------------------------
# Compilation


def _compile(hint: Any, in_progress: dict[Any, Codec]) -> Codec:
    if hint is Any or hint is object:
        return Codec(hint, "any JSON value", _any_encode, _any_decode, True)
    if hint is None or hint is type(None):
        return Codec(hint, "null", _none_encode, _none_decode, False)
    if hint is str:
        return Codec(hint, "a string", _str_encode, _str_decode, False)
    if hint is bool:
        return Codec(hint, "true or false", _bool_encode, _bool_decode, False)
    if hint is int:
        return Codec(hint, "an integer", _int_encode, _int_decode, False)
    if hint is float:
        return Codec(hint, "a number", _float_encode, _float_decode, True)
    if hint is bytes:
        return Codec(hint, "an array of byte values (0-255)", _bytes_encode, _bytes_decode, False)
    if hint is Address:
        return Codec(hint, _ADDRESS_TEXT, *_parsed_str(Address, _ADDRESS_TEXT), False)
    if hint is ProcessId:
        return Codec(hint, _PROCESS_ID_TEXT, *_parsed_str(ProcessId, _PROCESS_ID_TEXT), False)

    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return _compile(supertype, in_progress)
    if isinstance(hint, typing.TypeVar):
        bound = hint.__bound__
        return _compile(bound if bound is not None else Any, in_progress)
    if isinstance(hint, str | typing.ForwardRef):
        raise UnsupportedType(
            f"unresolved forward reference {hint!r}: define or import the type at module level so "
            "typing.get_type_hints can resolve it"
        )

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)

    if origin is typing.Annotated:
        return _compile(args[0], in_progress)
    if origin is typing.Literal:
        return _literal(hint, args)
    if origin is typing.Union or origin is types.UnionType:
        return _union(hint, args, in_progress)
    if origin in (list, Sequence, set, frozenset) or (origin is tuple and len(args) == 2 and args[1] is ...):
        return _sequence(hint, origin, args, in_progress)
    if origin is tuple:
        return _tuple(hint, args, in_progress)
    if origin in (dict, Mapping):
        return _mapping(hint, args, in_progress)
    if hint in (list, set, frozenset, tuple, dict):
        raise UnsupportedType(
            f"bare {hint.__name__} has no element type: write {hint.__name__}[...] "
            f"(e.g. {'dict[str, int]' if hint is dict else hint.__name__ + '[int]'}), or Any for any JSON"
        )

    target = origin if origin is not None else hint
    if isinstance(target, type):
        if issubclass(target, enum.Enum):
            return _enum(target)
        if dataclasses.is_dataclass(target):
            return _dataclass(hint, target, args, in_progress)
        if typing.is_typeddict(target):
            return _typeddict(target, in_progress)
    raise UnsupportedType(
        f"unsupported type {_hint_text(hint)}: use str, int, float, bool, bytes, None, list/set/tuple, "
        "dict, Optional, Literal, Enum, a dataclass, a TypedDict, Ok/Err, Address, or Any"
    )


def _hint_text(hint: Any) -> str:
    if isinstance(hint, type):
        return hint.__qualname__
    return repr(hint).replace("typing.", "")


# --- scalars ---------------------------------------------------------------------------------------


def _any_encode(value: Any, path: str) -> Any:
    return serde_value_order(value)


def serde_value_order(value: Any) -> Any:
    """`value` with every JSON object's keys in the order serde_json's `Value` writes them: sorted.

    serde_json's `Map` is a `BTreeMap<String, Value>` unless the `preserve_order` feature is on, and
    nothing in a hyperapp's dependency tree turns it on (hyperprocess-macro, process_lib and kit's
    caller-utils crate depend on plain `serde_json = "1.0"`). So a Rust hyperapp answering with a
    `serde_json::Value`, and a Rust caller building its request with `json!` (kit's caller-utils),
    write object keys in sorted order whatever order they were inserted in. Keys compare as the
    strings written (Rust compares UTF-8 bytes, which orders like Python's code-point comparison);
    integer keys are written as their decimal text, so `10` sorts before `2`, as in the Value.
    Lists and scalars are returned as they are (lists rebuilt only when something inside changed).
    """
    if isinstance(value, dict):
        try:
            keys = sorted(value)  # all str: the usual case, compared natively
        except TypeError:  # str mixed with int keys
            keys = []
        if len(keys) != len(value) or (keys and type(keys[0]) is not str):
            keys = sorted(value, key=_key_text)  # integer keys sort as their decimal text
        return {key: serde_value_order(value[key]) for key in keys}
    if isinstance(value, list | tuple):
        items = [serde_value_order(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items
    return value


def _key_text(key: Any) -> str:
    # the key as serde_json writes it (integers as decimal text); jsonwire reports keys JSON cannot have
    return key if isinstance(key, str) else jsonwire.dumps_str(key)


def _any_decode(value: Any, path: str) -> Any:
    return value


def _none_encode(value: Any, path: str) -> Any:
    if value is not None:
        raise CodecError(path, "None", value)
    return None


def _none_decode(value: Any, path: str) -> Any:
    if value is not None:
        raise CodecError(path, "null", value)
    return None


def _str_encode(value: Any, path: str) -> Any:
    if type(value) is not str:
        if isinstance(value, str):
            return str(value)
        raise CodecError(path, "a str", value)
    return value


_str_decode = _str_encode


def _bool_encode(value: Any, path: str) -> Any:
    if value is not True and value is not False:
        raise CodecError(path, "true or false", value)
    return value


_bool_decode = _bool_encode


def _int_encode(value: Any, path: str) -> Any:
    if type(value) is not int:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        raise CodecError(path, "an integer", value)
    return value


_int_decode = _int_encode


def _float_encode(value: Any, path: str) -> Any:
    if type(value) is float:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise CodecError(path, "a number", value)


def _float_decode(value: Any, path: str) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise CodecError(path, "a number", value)


def _bytes_encode(value: Any, path: str) -> Any:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise CodecError(path, "bytes", value)
    return list(bytes(value))


def _bytes_decode(value: Any, path: str) -> Any:
    if not isinstance(value, list):
        raise CodecError(path, "an array of byte values (0-255)", value)
    try:
        return bytes(value)
    except (TypeError, ValueError):
        raise CodecError(path, "an array of byte values (0-255)", value) from None


_ADDRESS_TEXT = "an address string 'node@process:package:publisher'"
_PROCESS_ID_TEXT = "a process id string 'process:package:publisher'"


def _parsed_str(cls: Any, expected: str) -> tuple[Encoder, Decoder]:

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, cls):
            return str(value)
        if isinstance(value, str):
            try:
                return str(cls.parse(value))
            except ValueError as error:
                raise CodecError(path, expected, value) from error
        raise CodecError(path, expected, value)

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise CodecError(path, expected, value)
        try:
            return cls.parse(value)
        except ValueError:
            raise CodecError(path, expected, value) from None

    return encode, decode


# --- Literal and Enum ------------------------------------------------------------------------------


def _literal(hint: Any, args: tuple[Any, ...]) -> Codec:
    for arg in args:
        if not (arg is None or isinstance(arg, str | int | bool)):
            raise UnsupportedType(f"Literal values must be str, int, bool or None, got {arg!r} in {hint}")
    allowed = [(type(arg), arg) for arg in args]
    describe = "one of " + ", ".join(json.dumps(arg) for arg in args)

    def check(value: Any, path: str) -> Any:
        if (type(value), value) in allowed:
            return value
        raise CodecError(path, describe, value)

    return Codec(hint, describe, check, check, False)


def _enum(cls: type[enum.Enum]) -> Codec:
    to_wire = {member: wire_name_of_enum_member(member) for member in cls}
    from_wire: dict[str, enum.Enum] = {}
    for member in cls:
        from_wire.setdefault(member.name, member)
    for member, wire in to_wire.items():
        from_wire[wire] = member  # the wire name wins over a member name that happens to collide
    describe = "one of " + ", ".join(json.dumps(w) for w in dict.fromkeys(to_wire.values()))

    def encode(value: Any, path: str) -> Any:
        try:
            return to_wire[value]
        except (KeyError, TypeError):
            if isinstance(value, str) and value in from_wire:
                return to_wire[from_wire[value]]
            raise CodecError(path, f"a {cls.__name__} member", value) from None

    def decode(value: Any, path: str) -> Any:
        if isinstance(value, str):
            member = from_wire.get(value)
            if member is not None:
                return member
        raise CodecError(path, describe, value)

    return Codec(cls, describe, encode, decode, False)


# --- containers ------------------------------------------------------------------------------------


def _element(args: tuple[Any, ...], hint: Any, in_progress: dict[Any, Codec]) -> Codec:
    if not args:
        raise UnsupportedType(f"{_hint_text(hint)} needs an element type, e.g. list[int]")
    return _compile(args[0], in_progress)


def _sequence(hint: Any, origin: Any, args: tuple[Any, ...], in_progress: dict[Any, Codec]) -> Codec:
    item = _element(args, hint, in_progress)
    build: Callable[[list[Any]], Any]
    if origin in (set, frozenset):
        build = origin
    elif origin is tuple:
        build = tuple
    else:
        build = list
    describe = f"an array of {item.describe}"
    item_encode, item_decode = item.encode, item.decode

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple | set | frozenset):
            raise CodecError(path, describe, value)
        return [item_encode(element, f"{path}[{index}]") for index, element in enumerate(value)]

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise CodecError(path, describe, value)
        return build([item_decode(element, f"{path}[{index}]") for index, element in enumerate(value)])

    return Codec(hint, describe, encode, decode, item.has_float)


def _tuple(hint: Any, args: tuple[Any, ...], in_progress: dict[Any, Codec]) -> Codec:
    if not args or args == ((),):
        items: list[Codec] = []
    else:
        items = [_compile(arg, in_progress) for arg in args]
    count = len(items)
    describe = f"an array of {count} items [" + ", ".join(item.describe for item in items) + "]"

    def encode(value: Any, path: str) -> Any:
        if not isinstance(value, tuple | list) or len(value) != count:
            raise CodecError(path, f"a tuple of {count} items", value)
        return [
            item.encode(element, f"{path}[{i}]")
            for i, (item, element) in enumerate(zip(items, value, strict=False))
        ]

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, list) or len(value) != count:
            raise CodecError(path, describe, value)
        return tuple(
            item.decode(element, f"{path}[{i}]")
            for i, (item, element) in enumerate(zip(items, value, strict=False))
        )

    return Codec(hint, describe, encode, decode, any(item.has_float for item in items))


def _mapping(hint: Any, args: tuple[Any, ...], in_progress: dict[Any, Codec]) -> Codec:
    if len(args) != 2:
        raise UnsupportedType(f"{_hint_text(hint)} needs key and value types, e.g. dict[str, int]")
    key_hint, value_hint = args
    key_encode, key_decode = _key_conversions(key_hint, hint)
    value = _compile(value_hint, in_progress)
    describe = f"an object of {value.describe}"
    value_encode, value_decode = value.encode, value.decode

    def encode(data: Any, path: str) -> Any:
        # Keys sorted as serde_json's Value (and a BTreeMap<String, _>) writes them: see serde_value_order.
        if not isinstance(data, Mapping):
            raise CodecError(path, describe, data)
        encoded = [(key_encode(k, path), value_encode(v, f"{path}[{k!r}]")) for k, v in data.items()]
        encoded.sort(key=lambda pair: pair[0])
        return dict(encoded)

    def decode(data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            raise CodecError(path, describe, data)
        return {key_decode(k, path): value_decode(v, f"{path}[{k!r}]") for k, v in data.items()}

    return Codec(hint, describe, encode, decode, value.has_float)


def _key_conversions(key_hint: Any, hint: Any) -> tuple[Encoder, Decoder]:
    """JSON object keys are strings; like serde_json, integer and enum keys are stringified."""
    if key_hint is str:
        return _str_encode, _str_decode
    if key_hint is int:

        def encode_int(key: Any, path: str) -> Any:
            return str(_int_encode(key, f"{path} key"))

        def decode_int(key: Any, path: str) -> Any:
            try:
                return int(key)
            except ValueError:
                raise CodecError(f"{path} key", "an integer key", key) from None

        return encode_int, decode_int
    if isinstance(key_hint, type) and issubclass(key_hint, enum.Enum):
        enum_codec = _enum(key_hint)
        return (
            lambda key, path: enum_codec.encode(key, f"{path} key"),
            lambda key, path: enum_codec.decode(key, f"{path} key"),
        )
    if key_hint is Address:
        return _parsed_str(Address, _ADDRESS_TEXT)
    if key_hint is ProcessId:
        return _parsed_str(ProcessId, _PROCESS_ID_TEXT)
    raise UnsupportedType(
        f"dict keys must be str, int, an Enum, Address or ProcessId (JSON object keys are strings); "
        f"got {_hint_text(key_hint)} in {_hint_text(hint)}: use list[tuple[K, V]] for other keys"
    )


# --- unions ----------------------------------------------------------------------------------------


def _union(hint: Any, args: tuple[Any, ...], in_progress: dict[Any, Codec]) -> Codec:
    non_none = [arg for arg in args if arg is not type(None)]
    optional = len(non_none) != len(args)
    if len(non_none) == 1:
        inner = _compile(non_none[0], in_progress)
    else:
        inner = _tagged_union(hint, non_none, in_progress)
    if not optional:
        return inner
    inner_encode, inner_decode = inner.encode, inner.decode

    def encode(value: Any, path: str) -> Any:
        return None if value is None else inner_encode(value, path)

    def decode(value: Any, path: str) -> Any:
        return None if value is None else inner_decode(value, path)

    return Codec(hint, f"{inner.describe} or null", encode, decode, inner.has_float)


def _tagged_union(hint: Any, cases: list[Any], in_progress: dict[Any, Codec]) -> Codec:
    """A union of dataclasses is a Rust enum: externally tagged by class name, as serde does."""
    by_class: dict[type, tuple[str, Codec | None, bool]] = {}
    by_name: dict[str, tuple[Any, Codec | None, bool]] = {}
    for case in cases:
        origin = typing.get_origin(case) or case
        if not (isinstance(origin, type) and dataclasses.is_dataclass(origin)):
            raise UnsupportedType(
                f"unsupported union {_hint_text(hint)}: only Optional[T] (T | None) and unions of "
                "dataclasses (tagged by class name, like a Rust enum) can be encoded; wrap the "
                "alternatives in dataclasses, or use Any"
            )
        name = dataclass_case_name(origin)
        if name in by_name:
            raise UnsupportedType(f"union {_hint_text(hint)} has two cases named {name!r}")
        newtype = is_newtype_case(origin)
        fields = [f for f in dataclasses.fields(origin) if f.init]
        if newtype:
            if len(fields) != 1:
                raise UnsupportedType(f"newtype case {name} must have exactly one field")
            field_hint = _resolved_field_hints(case, origin)[fields[0].name]
            payload: Codec | None = _compile(field_hint, in_progress)
        elif not fields:
            payload = None  # unit variant: "Name"
        else:
            payload = _compile(case, in_progress)
        by_class[origin] = (name, payload, newtype)
        by_name[name] = (origin, payload, newtype)
    describe = " or ".join(
        f'"{name}"' if payload is None else f'{{"{name}": {payload.describe}}}'
        for name, (_, payload, _) in by_name.items()
    )

    def encode(value: Any, path: str) -> Any:
        entry = by_class.get(type(value))
        if entry is None:
            raise CodecError(path, describe, value)
        name, payload, newtype = entry
        if payload is None:
            return name
        if newtype:
            inner = getattr(value, dataclasses.fields(value)[0].name)
            return {name: payload.encode(inner, f"{path}.{name}")}
        return {name: payload.encode(value, f"{path}.{name}")}

    def decode(value: Any, path: str) -> Any:
        if isinstance(value, str):
            entry = by_name.get(value)
            if entry is not None and entry[1] is None:
                return entry[0]()
            raise CodecError(path, describe, value)
        if isinstance(value, dict) and len(value) == 1:
            ((name, inner),) = value.items()
            entry = by_name.get(name)
            if entry is not None:
                cls, payload, newtype = entry
                if payload is None:
                    if inner is None:
                        return cls()
                elif newtype:
                    return cls(payload.decode(inner, f"{path}.{name}"))
                else:
                    return payload.decode(inner, f"{path}.{name}")
        raise CodecError(path, describe, value)

    has_float = any(payload is not None and payload.has_float for _, payload, _ in by_name.values())
    return Codec(hint, describe, encode, decode, has_float)


# --- records ---------------------------------------------------------------------------------------


def _resolved_field_hints(hint: Any, cls: type) -> dict[str, Any]:
    """Field type hints of a (possibly parameterised generic) dataclass, type variables substituted."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as error:
        raise UnsupportedType(
            f"cannot resolve the field types of {cls.__qualname__}: {error}; define or import the "
            "type at module level"
        ) from None
    args = typing.get_args(hint)
    params = getattr(cls, "__parameters__", ())
    if args and params:
        mapping = dict(zip(params, args, strict=False))
        hints = {name: _substitute(field_hint, mapping) for name, field_hint in hints.items()}
    return hints


def _substitute(hint: Any, mapping: dict[Any, Any]) -> Any:
    if isinstance(hint, typing.TypeVar):
        return mapping.get(hint, hint)
    params = getattr(hint, "__parameters__", ())
    if params:
        try:
            return hint[tuple(mapping.get(p, p) for p in params)]
        except TypeError:
            return hint
    return hint


def record_fields(hint: Any, cls: type) -> list[tuple[str, Any, bool]]:
    """(name, resolved hint, has_default) for each init field of a dataclass, in declaration order."""
    hints = _resolved_field_hints(hint, cls)
    result = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        result.append((f.name, hints.get(f.name, Any), has_default))
    return result


def _forwarding_codec(hint: Any, describe: str) -> tuple[Codec, list[Any]]:
    """A codec registered before its fields compile, so self-referencing types (trees) work: codecs
    compiled meanwhile capture these forwarders, which call the final functions put in `impl`."""
    impl: list[Any] = [_any_encode, _any_decode]

    def encode(value: Any, path: str) -> Any:
        return impl[0](value, path)

    def decode(value: Any, path: str) -> Any:
        return impl[1](value, path)

    return Codec(hint, describe, encode, decode, True), impl


def _dataclass(hint: Any, cls: type, args: tuple[Any, ...], in_progress: dict[Any, Codec]) -> Codec:
    key = hint
    if key in in_progress:
        return in_progress[key]
    describe = f"a {cls.__name__} object"
    codec, impl = _forwarding_codec(hint, describe)
    in_progress[key] = codec
    fields = [
        (name, _compile(field_hint, in_progress), has_default)
        for name, field_hint, has_default in record_fields(hint, cls)
    ]
    required = [name for name, _, has_default in fields if not has_default]

    def encode(value: Any, path: str) -> Any:
        if not isinstance(value, cls):
            raise CodecError(path, f"a {cls.__name__}", value)
        return {name: field.encode(getattr(value, name), f"{path}.{name}") for name, field, _ in fields}

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise CodecError(path, describe, value)
        kwargs = {}
        for name, field, _ in fields:
            if name in value:
                kwargs[name] = field.decode(value[name], f"{path}.{name}")
        if len(kwargs) < len(fields):
            missing = [name for name in required if name not in kwargs]
            if missing:
                raise CodecError(path, describe, value, missing=tuple(missing))
        return cls(**kwargs)

    impl[:] = [encode, decode]
    codec.encode = encode
    codec.decode = decode
    codec.has_float = any(field.has_float for _, field, _ in fields)
    return codec


def _typeddict(cls: type, in_progress: dict[Any, Codec]) -> Codec:
    if cls in in_progress:
        return in_progress[cls]
    describe = f"a {cls.__name__} object"
    codec, impl = _forwarding_codec(cls, describe)
    in_progress[cls] = codec
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as error:
        raise UnsupportedType(f"cannot resolve the field types of {cls.__qualname__}: {error}") from None
    required_keys = getattr(cls, "__required_keys__", frozenset(hints))
    fields = [
        (name, _compile(field_hint, in_progress), name in required_keys) for name, field_hint in hints.items()
    ]

    def convert(value: Any, path: str, decoding: bool) -> Any:
        if not isinstance(value, dict if decoding else Mapping):
            raise CodecError(path, describe, value)
        out = {}
        for name, field, required in fields:
            if name in value:
                step = field.decode if decoding else field.encode
                out[name] = step(value[name], f"{path}.{name}")
            elif required:
                raise CodecError(path, f"{describe} with key {name!r}", value)
        return out

    def encode(value: Any, path: str) -> Any:
        return convert(value, path, False)

    def decode(value: Any, path: str) -> Any:
        return convert(value, path, True)

    impl[:] = [encode, decode]
    codec.encode = encode
    codec.decode = decode
    codec.has_float = any(field.has_float for _, field, _ in fields)
    return codec


def json_has_float(value: Any) -> bool:
    """Whether an untyped JSON value contains a float (decides the exact-float encoding path)."""
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(json_has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(json_has_float(v) for v in value)
    return False


def encode_untyped(value: Any, path: str = "value") -> Any:
    """Encode a value whose declared type is unknown (arguments of an untyped `call`) by its runtime
    type: dataclasses, enums, bytes, addresses and Ok/Err as their codecs would, containers
    recursively, JSON scalars as they are."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return list(bytes(value))
    if isinstance(value, dict):
        encoded = {
            (key if isinstance(key, str) else str(encode_untyped(key, path))): encode_untyped(
                item, f"{path}[{key!r}]"
            )
            for key, item in value.items()
        }
        return dict(sorted(encoded.items()))  # serde_json's Value order (see serde_value_order)
    if isinstance(value, list | tuple | set | frozenset):
        return [encode_untyped(item, f"{path}[{index}]") for index, item in enumerate(value)]
    kind = type(value)
    if is_newtype_case(kind) and dataclasses.is_dataclass(value):
        inner = getattr(value, dataclasses.fields(value)[0].name)
        return {dataclass_case_name(kind): encode_untyped(inner, path)}
    if isinstance(value, enum.Enum | Address | ProcessId) or dataclasses.is_dataclass(value):
        return codec_for(kind).encode(value, path)
    raise CodecError(
        path,
        "a JSON-encodable value (str, int, float, bool, None, bytes, list, dict, Enum, dataclass)",
        value,
    )
