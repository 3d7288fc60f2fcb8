"""Generate a typed Python caller module from a kit-style API interface.

What a user gets: `from my_deps import counter` then `await counter.increment(target, 5)`, typed
for mypy, sending exactly the body a Rust hyperapp expects (hyperapp.md §0.5): `{"Increment": 5}`,
`{"Name": null}` for no arguments, `{"Name": [a, b]}` for several, with records as objects with
snake_case keys, enums as PascalCase strings, variants as `{"Case": value}` / `"Case"`, `list<u8>`
as an array of numbers, options as value-or-null and results as `{"Ok": ...}`/`{"Err": ...}`.

Why the generated module converts values itself: the WIT *is* the wire schema, so the stub turns
arguments into JSON values by the declared WIT types (not by how the caller's framework happens to
encode Python objects), and it checks every response against the declared return type, raising
`BadResponse` that names the path of the mismatch instead of handing back half-decoded data. The
bytes are written by the runtime's serde_json-exact writer (`hyperpy.runtime.jsonwire`) with object
keys in serde_json `Value` order (sorted), because that is what kit's Rust caller-utils sends (it
builds the body with `json!`). A `map<K, V>` (hyperpy's `// json:` comment over a
`list<tuple<K, V>>`, i.e. a Python `dict`) is a `dict` sent and decoded as a JSON object. The module
imports nothing but the standard library at import time; hyperpy's runtime is looked up when a
call is made, so the module also imports fine on the host for type checking.

Naming: records -> dataclasses (`file-info` -> `FileInfo`), enums -> `Enum` with wire strings as
values, variant `shape { circle(f64), empty }` -> dataclasses `Shape_Circle(value)`, `Shape_Empty()`
and the alias `Shape = Union[...]` (componentize-py's convention), `list<u8>` -> `bytes`,
`option<T>` -> `T | None`, `result<T, E>` -> `Ok[T] | Err[E]`, `address` -> `str`, and kit's
`type value = string` (serde_json::Value) -> `Any`, because on the wire it is arbitrary JSON.

Local and remote signatures of one handler send the same request, so they become one function;
HTTP-only handlers are not reachable by process messages and get no Python stub (the TypeScript
client covers them).
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperpy.build.witgen.model import (
    AliasDef,
    EnumDef,
    FlagsDef,
    Interface,
    ListType,
    MapType,
    NamedType,
    OptionType,
    Prim,
    RecordDef,
    ResultType,
    Signature,
    TupleType,
    TypeDef,
    VariantDef,
    WitDocument,
    WitType,
)
from hyperpy.build.witgen.naming import (
    kebab_to_pascal,
    kebab_to_snake,
    python_identifier,
    upper_snake,
)
from hyperpy.build.witgen.resolve import (
    StubGenerationError,
    TypeTable,
    build_table,
    check_signature_types,
    is_json_value_alias,
    ordered_definitions,
)

DEFAULT_TIMEOUT_SECONDS = 30  # process_lib's `send()` default (hyperapp.md §0.5 item 4)

_INT_PRIMS = frozenset({"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"})

# Names the generated module defines for itself; WIT types may not take them.
_RESERVED = frozenset(
    {"Any", "Ok", "Err", "StubError", "BadResponse", "NotExposed", "Transport", "use_transport", "Union"}
)


@dataclass
class _Callable:
    """One Python function to generate: a handler reachable by messages (local and/or remote)."""

    python_name: str
    signature: Signature
    kinds: list[str]


class _Emitter:
    def __init__(self, interface: Interface, table: TypeTable) -> None:
        self.interface = interface
        self.table = table
        self.class_names: dict[str, str] = {}  # wit local name -> python name (class, union or alias)
        self.json_aliases: set[str] = set()

    # -- names ---------------------------------------------------------------------------------
    def class_name(self, wit_name: str) -> str:
        name = kebab_to_pascal(wit_name)
        if name in _RESERVED:
            raise StubGenerationError(
                f"interface {self.interface.name!r}: type {wit_name!r} would be named {name!r}, which the "
                "generated module uses for itself; rename the type"
            )
        return name

    # -- type expressions ----------------------------------------------------------------------
    def py_type(self, wit_type: WitType | None) -> str:
        if wit_type is None:
            return "None"
        if isinstance(wit_type, Prim):
            if wit_type.name in _INT_PRIMS:
                return "int"
            return {"bool": "bool", "f32": "float", "f64": "float", "char": "str", "string": "str"}[
                wit_type.name
            ]
        if isinstance(wit_type, ListType):
            if wit_type.element == Prim("u8"):
                return "bytes"
            return f"list[{self.py_type(wit_type.element)}]"
        if isinstance(wit_type, OptionType):
            return f"{self.py_type(wit_type.inner)} | None"
        if isinstance(wit_type, ResultType):
            return f"Ok[{self.py_type(wit_type.ok)}] | Err[{self.py_type(wit_type.err)}]"
        if isinstance(wit_type, MapType):
            return f"dict[{self.py_type(wit_type.key)}, {self.py_type(wit_type.value)}]"
        if isinstance(wit_type, TupleType):
            if not wit_type.items:
                return "tuple[()]"
            return f"tuple[{', '.join(self.py_type(item) for item in wit_type.items)}]"
        if wit_type.name in self.table.standard:
            return "str"
        if wit_type.name in self.json_aliases:
            return "Any"
        return self.class_names[wit_type.name]

    def descriptor(self, wit_type: WitType | None) -> str:
        """A Python literal describing `wit_type` for the module's `_encode`/`_decode`."""
        if wit_type is None:
            return '"unit"'
        if isinstance(wit_type, Prim):
            if wit_type.name in _INT_PRIMS:
                return '"int"'
            return {"bool": '"bool"', "f32": '"float"', "f64": '"float"', "char": '"str"', "string": '"str"'}[
                wit_type.name
            ]
        if isinstance(wit_type, ListType):
            if wit_type.element == Prim("u8"):
                return '"bytes"'
            return f'("list", {self.descriptor(wit_type.element)})'
        if isinstance(wit_type, OptionType):
            return f'("option", {self.descriptor(wit_type.inner)})'
        if isinstance(wit_type, ResultType):
            return f'("result", {self.descriptor(wit_type.ok)}, {self.descriptor(wit_type.err)})'
        if isinstance(wit_type, MapType):
            return f'("map", {self.descriptor(wit_type.key)}, {self.descriptor(wit_type.value)})'
        if isinstance(wit_type, TupleType):
            items = ", ".join(self.descriptor(item) for item in wit_type.items)
            if len(wit_type.items) == 1:
                items += ","
            return f'("tuple", ({items}))'
        assert isinstance(wit_type, NamedType)
        if wit_type.name in self.table.standard:
            return '"address"'
        if wit_type.name in self.json_aliases:
            return '"json"'
        definition = self.table.definitions[wit_type.name]
        if isinstance(definition, AliasDef):
            return self.descriptor(definition.target)
        python_name = self.class_names[wit_type.name]
        if isinstance(definition, RecordDef):
            return f'("record", {python_name})'
        if isinstance(definition, EnumDef):
            return f'("enum", {python_name})'
        return f'("variant", "{python_name}")'

    # -- definitions ---------------------------------------------------------------------------
    def emit_types(self, definitions: list[tuple[str, TypeDef]]) -> tuple[list[str], list[str]]:
        """Return (class/alias source blocks, table entries for records and variants)."""
        for name, definition in definitions:
            if isinstance(definition, FlagsDef):
                raise StubGenerationError(
                    f"interface {self.interface.name!r}: flags {name!r} has no hyperapp JSON form "
                    "(kit never emits flags); use an enum or a list of enums"
                )
            if is_json_value_alias(definition):
                self.json_aliases.add(name)
            else:
                self.class_names[name] = self.class_name(name)
        blocks: list[str] = []
        tables: list[str] = []
        for name, definition in definitions:
            if name in self.json_aliases:
                blocks.append(
                    f"# `{name}` is kit's alias for serde_json::Value: WIT says string, the wire carries"
                    " any JSON.\n"
                    f"{self.class_names.get(name, kebab_to_pascal(name))}: TypeAlias = Any"
                )
                continue
            python_name = self.class_names[name]
            docs = _docstring(definition.docs, f"The `{name}` {_kind_word(definition)} of the API.")
            if isinstance(definition, RecordDef):
                lines = ["@dataclass", f"class {python_name}:", docs + ("\n" if definition.fields else "")]
                entries = []
                for record_field in definition.fields:
                    json_key = kebab_to_snake(record_field.name)
                    attribute = python_identifier(json_key)
                    lines.append(f"    {attribute}: {self.py_type(record_field.type)}")
                    entries.append(f'("{attribute}", "{json_key}", {self.descriptor(record_field.type)})')
                blocks.append("\n".join(lines))
                tables.append(f"_RECORDS[{python_name}] = [{', '.join(entries)}]")
            elif isinstance(definition, EnumDef):
                lines = [f"class {python_name}(Enum):", docs + "\n"]
                for enum_case in definition.cases:
                    lines.append(f'    {upper_snake(enum_case)} = "{kebab_to_pascal(enum_case)}"')
                blocks.append("\n".join(lines))
            elif isinstance(definition, VariantDef):
                case_names = []
                entries = []
                for case in definition.cases:
                    case_class = f"{python_name}_{kebab_to_pascal(case.name)}"
                    case_names.append(case_class)
                    case_doc = _docstring(case.docs, f"The `{case.name}` case of `{name}`.")
                    if case.type is None:
                        blocks.append(f"@dataclass\nclass {case_class}:\n{case_doc}")
                        entries.append(f'"{kebab_to_pascal(case.name)}": ({case_class}, None)')
                    else:
                        payload = self.py_type(case.type)
                        blocks.append(f"@dataclass\nclass {case_class}:\n{case_doc}\n\n    value: {payload}")
                        entries.append(
                            f'"{kebab_to_pascal(case.name)}": ({case_class}, {self.descriptor(case.type)})'
                        )
                union = ", ".join(case_names)
                blocks.append(f"{python_name}: TypeAlias = Union[{union}]")
                tables.append(f'_VARIANTS["{python_name}"] = {{{", ".join(entries)}}}')
            elif isinstance(definition, AliasDef):
                # evaluated at import: fine, every name it mentions is defined above (dependency order)
                blocks.append(f"{python_name}: TypeAlias = {self.py_type(definition.target)}")
        return blocks, tables

    # -- functions -----------------------------------------------------------------------------
    def callables(self) -> list[_Callable]:
        by_function: dict[str, list[Signature]] = {}
        for signature in self.interface.signatures:
            if signature.kind in ("local", "remote"):
                by_function.setdefault(signature.function, []).append(signature)
        result: list[_Callable] = []
        for function, signatures in sorted(by_function.items()):
            first = signatures[0]
            first_types = [p.type for p in first.params]
            same = all(
                [p.type for p in other.params] == first_types and other.returning == first.returning
                for other in signatures
            )
            base = python_identifier(kebab_to_snake(function))
            if same:
                result.append(_Callable(base, first, sorted(s.kind for s in signatures)))
            else:
                for signature in signatures:
                    result.append(_Callable(f"{base}_{signature.kind}", signature, [signature.kind]))
        return result

    def emit_function(self, item: _Callable) -> str:
        signature = item.signature
        pascal = kebab_to_pascal(signature.function)
        params: list[str] = ["target: str | _Addressable"]
        encoded: list[str] = []
        used: set[str] = {"target", "timeout"}
        for param in signature.params:
            name = python_identifier(kebab_to_snake(param.name))
            while name in used:
                name += "_"
            used.add(name)
            params.append(f"{name}: {self.py_type(param.type)}")
            encoded.append(f"_encode({self.descriptor(param.type)}, {name})")
        return_type = self.py_type(signature.returning)
        kinds = " and ".join(item.kinds)
        if not signature.params:
            body_shape = "null"
        elif len(signature.params) == 1:
            body_shape = kebab_to_snake(signature.params[0].name)
        else:
            body_shape = "[" + ", ".join(kebab_to_snake(p.name) for p in signature.params) + "]"
        sends = f'`{{"{pascal}": {body_shape}}}`'
        doc_lines = [f'    """Call `{signature.function}` ({kinds}) on `target`: sends {sends}.']
        for line in signature.docs:
            doc_lines.append(f"    {line}")
        doc_lines.append("")
        doc_lines.append("    Raises BadResponse if the answer does not match the declared return type and")
        doc_lines.append("    NotExposed if the callee refused the handler; transport errors pass through.")
        doc_lines.append('    """')
        args = "[" + ", ".join(encoded) + "]"
        return "\n".join(
            [
                f"async def {item.python_name}(",
                *[f"    {param}," for param in params],
                "    *,",
                f"    timeout: float = {DEFAULT_TIMEOUT_SECONDS},",
                f") -> {return_type}:",
                *doc_lines,
                f'    body = _request_body("{pascal}", {args})',
                f'    reply = await _send(target, body, timeout, "{pascal}")',
                f'    return cast("{return_type}", _decode_reply("{signature.function}", '
                f"{self.descriptor(signature.returning)}, reply))",
            ]
        )


def _kind_word(definition: TypeDef) -> str:
    return {
        RecordDef: "record",
        EnumDef: "enum",
        VariantDef: "variant",
        AliasDef: "type",
        FlagsDef: "flags",
    }[type(definition)]


def _docstring(docs: list[str], fallback: str) -> str:
    text = " ".join(line for line in docs if line) or fallback
    text = text.replace('"""', "'''").replace("\\", "\\\\")
    return f'    """{text}"""'


_SUPPORT = '''
T = TypeVar("T")
E = TypeVar("E")


@dataclass
class Ok(Generic[T]):
    """The success case of a WIT `result` (JSON `{"Ok": value}`)."""

    value: T


@dataclass
class Err(Generic[E]):
    """The failure case of a WIT `result` (JSON `{"Err": value}`)."""

    value: E


class StubError(Exception):
    """Base of the errors this module raises itself."""


class BadResponse(StubError):
    """The callee answered, but not with the JSON its WIT declares; the message names the path."""


class NotExposed(StubError):
    """The callee answered with a SendError body: the handler is not exposed to this caller.

    A Rust hyperapp does this when a remote caller asks for a `#[local]`-only handler (hyperapp.md
    §0.5 item 5); `error` holds the decoded SendError JSON.
    """

    def __init__(self, message: str, error: Any) -> None:
        super().__init__(message)
        self.error = error


class _Addressable(Protocol):
    """Anything with `node` and `process` (hyperpy's Address); sent as `node@process:package:publisher`."""

    @property
    def node(self) -> str: ...

    @property
    def process(self) -> Any: ...


Transport = Callable[[str, bytes, float], Awaitable[bytes]]
_transport: Transport | None = None


def use_transport(transport: Transport | None) -> None:
    """Send through `transport(target, body, timeout) -> response body` instead of hyperpy's call.

    For callers outside a hyperpy process (tests, other frameworks); None restores the default.
    """
    global _transport
    _transport = transport


async def _send(target: str | _Addressable, body: bytes, timeout: float, handler: str) -> Any:
    """Send `body` and return the answer's JSON value (through hyperpy's process runtime by default)."""
    address = target if isinstance(target, str) else f"{target.node}@{target.process}"
    if _transport is not None:
        reply = await _transport(address, body, timeout)
        try:
            return json.loads(reply)
        except ValueError:
            raise BadResponse(f"{handler}: the response is not JSON: {reply[:200]!r}") from None
    # Looked up at call time: the module imports (and type-checks) without hyperpy installed.
    process = importlib.import_module("hyperpy.runtime.process")
    calls = importlib.import_module("hyperpy.runtime.calls")
    runtime = process.current_runtime(f"{handler}()")
    destination = process.as_address(address, runtime.our)
    answer = await runtime.request(destination, body, timeout=timeout, label=handler)
    # Raises hyperpy's RemoteError when the callee reports a failure; else the decoded JSON.
    return calls.interpret_reply(answer, Any, address, handler)


def _request_body(handler: str, args: list[Any]) -> bytes:
    """The hyperapp request, byte for byte what kit's Rust caller-utils sends.

    `{"Handler": null | arg | [args...]}`: kit builds it with `json!` (a serde_json `Value`, whose
    objects keep their keys sorted) and writes it with `serde_json::to_vec`: hyperpy's runtime writer
    `jsonwire.dumps(..., sort_keys=True)` does the same (serde_json's float text, no spaces).
    """
    payload: Any = None if not args else args[0] if len(args) == 1 else args
    jsonwire = importlib.import_module("hyperpy.runtime.jsonwire")
    return cast(bytes, jsonwire.dumps({handler: payload}, sort_keys=True))


_RECORDS: dict[type, list[tuple[str, str, Any]]] = {}
_VARIANTS: dict[str, dict[str, tuple[type, Any]]] = {}


def _encode(desc: Any, value: Any) -> Any:
    """Python value -> JSON-ready value, following serde's defaults for the declared WIT type."""
    if isinstance(desc, str):
        if desc == "bytes":
            return list(value)
        if desc == "address":
            return value if isinstance(value, str) else f"{value.node}@{value.process}"
        if desc == "unit":
            return None
        if desc == "float":
            return float(value)  # an f64 argument: serde_json writes 2.0, not 2
        return value
    kind = desc[0]
    if kind == "list":
        return [_encode(desc[1], item) for item in value]
    if kind == "option":
        return None if value is None else _encode(desc[1], value)
    if kind == "tuple":
        return [_encode(item_desc, item) for item_desc, item in zip(desc[1], value, strict=True)]
    if kind == "map":
        # a JSON object, keys written as serde_json writes map keys (integers as their decimal text)
        return {_map_key(desc[1], key): _encode(desc[2], item) for key, item in value.items()}
    if kind == "result":
        if isinstance(value, Ok):
            return {"Ok": _encode(desc[1], value.value)}
        if isinstance(value, Err):
            return {"Err": _encode(desc[2], value.value)}
        raise TypeError(f"expected Ok(...) or Err(...) for a result, got {value!r}")
    if kind == "record":
        return {key: _encode(field_desc, getattr(value, attr)) for attr, key, field_desc in _RECORDS[desc[1]]}
    if kind == "enum":
        return desc[1](value).value
    if kind == "variant":
        for case, (case_class, payload_desc) in _VARIANTS[desc[1]].items():
            if isinstance(value, case_class):
                return case if payload_desc is None else {case: _encode(payload_desc, cast(Any, value).value)}
        raise TypeError(f"expected a case of {desc[1]}, got {value!r}")
    raise TypeError(f"unknown type descriptor {desc!r}")


def _map_key(desc: Any, key: Any) -> str:
    encoded = _encode(desc, key)
    if isinstance(encoded, bool) or not isinstance(encoded, str | int):
        raise TypeError(f"a map key must be a string or an integer, got {key!r}")
    return encoded if isinstance(encoded, str) else str(encoded)


def _decode_map_key(desc: Any, key: str, path: str) -> Any:
    if desc == "int":
        try:
            return int(key)
        except ValueError:
            raise BadResponse(f"{path}: expected an integer key, got {key!r}") from None
    return _decode(desc, key, path)


_PRIMITIVE_CHECKS: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str": (str,),
}


def _decode(desc: Any, value: Any, path: str) -> Any:
    """JSON value -> Python value of the declared WIT type; raise BadResponse naming `path`."""
    if isinstance(desc, str):
        if desc == "json":
            return value
        if desc == "unit":
            if value is not None:
                raise BadResponse(f"{path}: expected null, got {value!r}")
            return None
        if desc == "bytes":
            if not isinstance(value, list) or not all(isinstance(b, int) and 0 <= b < 256 for b in value):
                raise BadResponse(f"{path}: expected an array of bytes (0-255), got {value!r}")
            return bytes(value)
        if desc == "address":
            if not isinstance(value, str):
                raise BadResponse(f"{path}: expected an address string, got {value!r}")
            return value
        matches = isinstance(value, _PRIMITIVE_CHECKS[desc])
        if not matches or (desc != "bool" and isinstance(value, bool)):
            raise BadResponse(f"{path}: expected {desc}, got {value!r}")
        return float(value) if desc == "float" else value
    kind = desc[0]
    if kind == "list":
        if not isinstance(value, list):
            raise BadResponse(f"{path}: expected an array, got {value!r}")
        return [_decode(desc[1], item, f"{path}[{index}]") for index, item in enumerate(value)]
    if kind == "option":
        return None if value is None else _decode(desc[1], value, path)
    if kind == "tuple":
        if not isinstance(value, list) or len(value) != len(desc[1]):
            raise BadResponse(f"{path}: expected an array of {len(desc[1])} items, got {value!r}")
        pairs = enumerate(zip(desc[1], value, strict=True))
        return tuple(_decode(item_desc, item, f"{path}[{i}]") for i, (item_desc, item) in pairs)
    if kind == "map":
        if not isinstance(value, dict):
            raise BadResponse(f"{path}: expected an object, got {value!r}")
        return {
            _decode_map_key(desc[1], key, f"{path} key"): _decode(desc[2], item, f"{path}[{key!r}]")
            for key, item in value.items()
        }
    if kind == "result":
        if isinstance(value, dict) and len(value) == 1:
            if "Ok" in value:
                return Ok(_decode(desc[1], value["Ok"], f"{path}.Ok"))
            if "Err" in value:
                return Err(_decode(desc[2], value["Err"], f"{path}.Err"))
        raise BadResponse(f'{path}: expected {{"Ok": ...}} or {{"Err": ...}}, got {value!r}')
    if kind == "record":
        if not isinstance(value, dict):
            raise BadResponse(f"{path}: expected an object for {desc[1].__name__}, got {value!r}")
        fields = {}
        for attr, key, field_desc in _RECORDS[desc[1]]:
            if key not in value and not (isinstance(field_desc, tuple) and field_desc[0] == "option"):
                raise BadResponse(f"{path}: {desc[1].__name__} is missing field {key!r}")
            fields[attr] = _decode(field_desc, value.get(key), f"{path}.{key}")
        return desc[1](**fields)
    if kind == "enum":
        try:
            return desc[1](value)
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in desc[1])
            raise BadResponse(f"{path}: expected one of {allowed}, got {value!r}") from None
    if kind == "variant":
        cases = _VARIANTS[desc[1]]
        if isinstance(value, str) and value in cases and cases[value][1] is None:
            return cases[value][0]()
        if isinstance(value, dict) and len(value) == 1:
            ((case, payload),) = value.items()
            if case in cases:
                case_class, payload_desc = cases[case]
                if payload_desc is None:
                    if payload is not None:
                        raise BadResponse(f"{path}.{case}: expected no payload, got {payload!r}")
                    return case_class()
                return case_class(_decode(payload_desc, payload, f"{path}.{case}"))
        raise BadResponse(f"{path}: expected one of the cases {', '.join(cases)} of {desc[1]}, got {value!r}")
    raise TypeError(f"unknown type descriptor {desc!r}")


def _looks_like_send_error(value: Any) -> bool:
    return isinstance(value, dict) and value.get("kind") in ("Timeout", "Offline") and "target" in value


def _decode_reply(function: str, desc: Any, value: Any) -> Any:
    try:
        return _decode(desc, value, function)
    except BadResponse:
        if _looks_like_send_error(value):
            raise NotExposed(
                f"{function}: the callee refused the request (SendError {value.get('kind')}): the handler is "
                "probably not exposed to this caller (e.g. local-only called from another node)",
                value,
            ) from None
        raise
'''


def generate_python_stubs(interface: Interface, document: WitDocument | None = None, source: str = "") -> str:
    """Return the source of a Python module with typed callers for `interface`'s local/remote handlers.

    `document` supplies the other interfaces of the same package (for `use`); `source` is shown in
    the module docstring (where the WIT came from). Raises `StubGenerationError` naming the item
    and the reason when the API cannot be expressed.
    """
    table = build_table(interface, document)
    check_signature_types(table)
    emitter = _Emitter(interface, table)
    blocks, tables = emitter.emit_types(ordered_definitions(table))
    functions = [emitter.emit_function(item) for item in emitter.callables()]
    origin = f" from {source}" if source else ""
    http_only = sorted(
        {s.function for s in interface.signatures if s.kind == "http"}
        - {s.function for s in interface.signatures if s.kind != "http"}
    )
    header = [
        f'"""Typed callers for the `{interface.name}` API{origin}.',
        "",
        "Generated by hyperpy (`hyperpy stubs`); do not edit: regenerate when the API changes.",
    ]
    if http_only:
        names = ", ".join(http_only)
        header += ["", f"HTTP-only handlers (call them over HTTP, not from a process): {names}."]
    header.append('"""')
    preamble = (
        "\n".join(header) + "\n\n"
        "# ruff: noqa: E501, UP007\n"
        "from __future__ import annotations\n\n"
        "import importlib\nimport json\nfrom collections.abc import Awaitable, Callable\n"
        "from dataclasses import dataclass\n"
        "from enum import Enum\n"
        "from typing import Any, Generic, Protocol, TypeAlias, TypeVar, Union, cast\n\n"
        + _SUPPORT.strip("\n")
    )
    parts = [
        preamble,
        *blocks,
        *functions,
    ]
    if tables:
        parts.append("\n".join(tables))
    return "\n\n\n".join(parts) + "\n"
