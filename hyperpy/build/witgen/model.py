"""The in-memory model of a kit-style API interface: types, type definitions and handler signatures.

Why one model: three generators (Python caller stubs, the TypeScript client, and our own WIT writer)
and one reader (any package's `api/*.wit`, Rust or Python) meet here. The reader turns WIT text into
these objects; generators only ever look at these objects, so a stub generated from a Rust package's
WIT and one generated from our own Python app go through exactly the same code.

Names are kept in WIT's kebab-case; generators convert them with `naming`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PRIMITIVES = frozenset(
    {"bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "char", "string"}
)
INTEGERS = frozenset({"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"})
FLOATS = frozenset({"f32", "f64"})

# Types of `hyperware:process/standard` that cross the hyperapp JSON wire as plain strings
# (process_lib serialises Address as "node@process:package:publisher", ProcessId as
# "process:package:publisher", PackageId as "package:publisher").
STRING_LIKE_STANDARD_TYPES = frozenset({"address", "process-id", "package-id"})

HandlerKind = Literal["local", "remote", "http"]
HANDLER_KINDS: tuple[HandlerKind, ...] = ("local", "remote", "http")


@dataclass(frozen=True)
class Prim:
    """A WIT primitive: bool, integers, floats, char, string."""

    name: str


@dataclass(frozen=True)
class ListType:
    element: WitType


@dataclass(frozen=True)
class OptionType:
    inner: WitType


@dataclass(frozen=True)
class ResultType:
    """`result<ok, err>`; either side may be absent (`result<_, e>`, `result<t>`, `result`)."""

    ok: WitType | None
    err: WitType | None


@dataclass(frozen=True)
class TupleType:
    items: tuple[WitType, ...]


@dataclass(frozen=True)
class MapType:
    """A JSON object `{key: value}`: WIT has no map, so the WIT text says `list<tuple<K, V>>` (kit's
    form for a Rust `HashMap`) and a `// json: map<K, V>` comment before the field tells readers that
    the wire carries an object (see `from_app`); kit's own readers skip the comment."""

    key: WitType
    value: WitType


@dataclass(frozen=True)
class NamedType:
    """A reference to a type defined in the interface or brought in with `use`."""

    name: str


WitType = Prim | ListType | OptionType | ResultType | TupleType | MapType | NamedType


@dataclass
class Field:
    name: str
    type: WitType
    docs: list[str] = field(default_factory=list)


@dataclass
class Case:
    """A variant case; `type` is None for a case without payload."""

    name: str
    type: WitType | None
    docs: list[str] = field(default_factory=list)


@dataclass
class RecordDef:
    name: str
    fields: list[Field]
    docs: list[str] = field(default_factory=list)


@dataclass
class EnumDef:
    name: str
    cases: list[str]
    docs: list[str] = field(default_factory=list)


@dataclass
class VariantDef:
    name: str
    cases: list[Case]
    docs: list[str] = field(default_factory=list)


@dataclass
class FlagsDef:
    name: str
    flags: list[str]
    docs: list[str] = field(default_factory=list)


@dataclass
class AliasDef:
    name: str
    target: WitType
    docs: list[str] = field(default_factory=list)


TypeDef = RecordDef | EnumDef | VariantDef | FlagsDef | AliasDef


@dataclass
class Param:
    name: str
    type: WitType


@dataclass
class UrlParam:
    """An HTTP handler parameter taken from the URL path, the query string or a header (hyperpy's
    `@http(path="/x/{id}")`, `Query`, `Header`); written as a `// path: <key> -> <name>: <type>`
    comment above the signature record, since only body parameters are in `arg-types`."""

    source: Literal["path", "query", "header"]
    key: str
    name: str
    type: WitType
    optional: bool = False  # the handler has a default (written `<name>?: <type>`): may be left out


@dataclass
class Signature:
    """One `<function>-signature-<kind>` record: how to call one handler through one door.

    `args_named` tells whether the parameter names came from the WIT (an `// args:` comment or the
    older one-field-per-parameter form) or were made up as `arg0, arg1, ...`.
    """

    function: str
    kind: HandlerKind
    params: list[Param]
    returning: WitType | None
    http_method: str | None = None
    http_path: str | None = None
    args_named: bool = True
    docs: list[str] = field(default_factory=list)
    url_params: list[UrlParam] = field(default_factory=list)
    # An HTTP handler answering with a raw HTTP response (hyperpy `Response`: HTML, files) rather
    # than JSON; marked by a `// returns: raw HTTP response` comment (kit has no such handlers).
    raw_response: bool = False


@dataclass
class UseDecl:
    """`use <interface>.{a, b as c};` — names imported from another interface."""

    interface: str
    names: list[tuple[str, str]]  # (original, local alias)


@dataclass
class WitFunction:
    """A plain WIT function in an interface (not a kit signature record); kept for completeness."""

    name: str
    params: list[Param]
    result: WitType | None


@dataclass
class Interface:
    name: str
    types: list[TypeDef] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    uses: list[UseDecl] = field(default_factory=list)
    functions: list[WitFunction] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    source: str = ""

    def type_named(self, name: str) -> TypeDef | None:
        for typedef in self.types:
            if typedef.name == name:
                return typedef
        return None

    def used_names(self) -> dict[str, tuple[str, str]]:
        """Local alias -> (interface, original name) for every name brought in with `use`."""
        return {alias: (use.interface, original) for use in self.uses for original, alias in use.names}


@dataclass
class WorldItem:
    kind: Literal["import", "export", "include", "use"]
    name: str


@dataclass
class World:
    name: str
    items: list[WorldItem] = field(default_factory=list)
    source: str = ""

    def imports(self) -> list[str]:
        return [item.name for item in self.items if item.kind == "import"]


@dataclass
class WitDocument:
    """Everything parsed from one or more WIT files (one package, as kit lays `api/` out)."""

    package: str | None = None
    interfaces: list[Interface] = field(default_factory=list)
    worlds: list[World] = field(default_factory=list)

    def interface(self, name: str) -> Interface | None:
        for interface in self.interfaces:
            if interface.name == name:
                return interface
        return None

    def merge(self, other: WitDocument) -> None:
        self.package = self.package or other.package
        self.interfaces.extend(other.interfaces)
        self.worlds.extend(other.worlds)
