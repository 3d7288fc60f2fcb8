"""Write a Python app's API as kit-style WIT: `api/<interface>.wit` plus the package worlds.

Why kit's exact layout: other packages find our API through `pkg/api.zip`, and their tools — kit's
Rust and TypeScript caller-utils generators (which read the files line by line), our own stub
generator, wasm-tools, componentize-py — must all understand it. So each handler gets one
`<fn>-signature-<local|remote|http>` record with the `// Function signature for:`, `// HTTP:`,
`// args:` and `// json fmt:` comments, the interface starts with `use standard.{address};`, and
the package world is `import <iface>; include process-v1;` (plus `types-<world>` with
`include lib`). A type-only interface adds no import to the component (verified with
componentize-py 0.25 + wasm-tools: the built component still imports only `standard` and WASI).

Python -> WIT (and what crosses the wire, which is always what the codec and serde_json produce):

| Python hint                         | WIT                       | JSON                          |
|-------------------------------------|---------------------------|-------------------------------|
| str / bool / int / float            | string / bool / s64 / f64 | string / bool / number        |
| bytes                               | list<u8>                  | array of numbers              |
| list[T], set[T], tuple[T, ...]      | list<T>                   | array                         |
| tuple[A, B]                         | tuple<A, B>               | array                         |
| T | None                            | option<T>                 | value or null                 |
| Ok[T] | Err[E] (Result[T, E])       | result<T, E> (None -> _)  | {"Ok": T} / {"Err": E}        |
| dataclass, TypedDict                | record (fields kebab)     | object, snake_case keys       |
| Enum with PascalCase wire names     | enum                      | "CaseName"                    |
| other Enum, Literal                 | string / s64 (+ comment)  | the value                     |
| union of dataclasses                | variant                   | {"Case": ...} / "Case"        |
| dict[K, V]                          | list<tuple<K, V>> (+ json)| object, keys sorted           |
| Any                                 | value (= string alias)    | any JSON, keys sorted         |
| Address / ProcessId                 | address / process-id      | "node@proc:pkg:pub" / "p:k:p" |
| -> None                             | no `returning` field      | null                          |

`dict`: WIT has no map type, and kit writes a Rust `HashMap` as `list<tuple<K, V>>` although serde
sends an object (kit issue 323). We write the same WIT, preceded by a `// json: map<K, V>` comment
that kit's readers skip and ours read (`reader.JSON_FORM_PREFIX`), so our stubs and TS client send
and decode an object. Where hyperpy says more than kit can (unit returns, ProcessId, URL parameters,
raw responses) the additions are likewise comments or omissions kit's readers accept; see
docs/wit-and-stubs.md. Enum values that are not PascalCase (e.g. `"low"`) cannot be a WIT enum,
because kit's callers derive the wire string from the WIT case (`low` -> `"Low"`); such enums
become `string`.

A type that cannot be expressed fails with `ApiWitError` naming the app, handler, parameter and
the reason, before anything is written.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import hashlib
import json
import re
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperpy.build.witgen.naming import (
    is_wit_identifier,
    kebab_to_pascal,
    kebab_to_snake,
    to_kebab,
    wit_ident,
)
from hyperpy.build.witgen.reader import JSON_FORM_PREFIX, RAW_RESPONSE_COMMENT
from hyperpy.package.process_module import AppImportError, import_app

HTTP_DEFAULT_METHOD = "POST"
SIGNATURE_KINDS = ("http", "local", "remote")  # kit sorts the records; this is the resulting order


class ApiWitError(ValueError):
    """The app's API cannot be written as WIT; the message names app, handler, parameter and reason."""


def interface_name_for(class_name: str) -> str:
    """kit's rule: the app class name minus a trailing `State`, kebab-cased (`CounterState` -> `counter`)."""
    base = (
        class_name[: -len("State")] if class_name.endswith("State") and class_name != "State" else class_name
    )
    name = to_kebab(base).strip("-")
    if not is_wit_identifier(name):
        raise ApiWitError(
            f"app class {class_name!r}: its WIT interface name would be {name!r}, which is not a valid "
            "WIT identifier (kebab-case words starting with a letter); rename the class"
        )
    return name


def world_name_for(package: str, publisher: str) -> str:
    """The package world, named like kit's: `counter` + `template.os` -> `counter-template-dot-os-v0`."""
    return f"{package}-{publisher.replace('.', '-dot-')}-v0"


@dataclass
class _Definition:
    name: str
    text: str
    origin: Any


@dataclass
class _Builder:
    """Turns type hints into WIT type expressions, collecting the named definitions they need."""

    app: str
    module_globals: Mapping[str, Any]
    definitions: dict[str, _Definition] = field(default_factory=dict)
    standard_uses: set[str] = field(default_factory=lambda: {"address"})
    in_progress: set[str] = field(default_factory=set)
    where: str = ""

    def fail(self, reason: str) -> ApiWitError:
        return ApiWitError(f"app {self.app}, {self.where}: {reason}")

    def define(self, name: str, origin: Any, make: typing.Callable[[], str]) -> str:
        if not is_wit_identifier(name):
            raise self.fail(
                f"type {origin!r} would be named {name!r} in WIT, which is not a valid identifier "
                "(kebab-case words each starting with a letter); rename it"
            )
        existing = self.definitions.get(name)
        if existing is not None:
            if existing.origin != origin:
                raise self.fail(
                    f"two different types are both named {name!r} in WIT ({existing.origin!r} and "
                    f"{origin!r}); rename one (generic dataclasses need a concrete subclass per use)"
                )
            return wit_ident(name)
        if name in self.in_progress:
            raise self.fail(f"type {name!r} refers to itself; WIT has no recursive types")
        if name in ("address", "process-id", "value") or name.endswith(
            ("-signature-local", "-signature-remote")
        ):
            raise self.fail(f"type name {name!r} is reserved in generated WIT; rename the type")
        self.in_progress.add(name)
        text = make()
        self.in_progress.discard(name)
        self.definitions[name] = _Definition(name, text, origin)
        return wit_ident(name)

    # -- the mapping -------------------------------------------------------------------------------
    def wit(self, hint: Any) -> str:
        from hyperpy.runtime.types import Address, Err, Ok, ProcessId

        if hint is Any or hint is object:
            self.definitions.setdefault("value", _Definition("value", "type value = string;", "json"))
            return "value"
        if hint is None or hint is type(None):
            raise self.fail("None can only be a whole return type or one side of Ok/Err; use Optional[T]")
        if hint is str:
            return "string"
        if hint is bool:
            return "bool"
        if hint is int:
            return "s64"
        if hint is float:
            return "f64"
        if hint is bytes:
            return "list<u8>"
        if hint is Address:
            return "address"
        if hint is ProcessId:
            self.standard_uses.add("process-id")
            return "process-id"
        supertype = getattr(hint, "__supertype__", None)
        if supertype is not None:
            return self.wit(supertype)
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Annotated:
            return self.wit(args[0])
        if origin is typing.Literal:
            return self.literal(args)
        if origin is typing.Union or origin is types.UnionType:
            return self.union(hint, args, Ok, Err)
        if origin in (list, set, frozenset, Sequence) or (
            origin is tuple and len(args) == 2 and args[1] is ...
        ):
            if not args:
                raise self.fail(f"{hint!r} has no element type; write e.g. list[int]")
            return f"list<{self.wit(args[0])}>"
        if origin is tuple:
            if not args or args == ((),):
                raise self.fail("the empty tuple has no WIT form; return None or a record instead")
            return "tuple<" + ", ".join(self.wit(arg) for arg in args) + ">"
        if origin in (dict, Mapping):
            if len(args) != 2:
                raise self.fail(f"{hint!r} needs key and value types, e.g. dict[str, int]")
            return f"map<{self.wit(args[0])}, {self.wit(args[1])}>"
        target = origin if origin is not None else hint
        if isinstance(target, type):
            if target in (Ok, Err):
                raise self.fail("Ok/Err must appear together as a union (Ok[T] | Err[E], or Result[T, E])")
            if issubclass(target, enum.Enum):
                return self.enum_type(target)
            if dataclasses.is_dataclass(target):
                return self.record(hint, target)
            if typing.is_typeddict(target):
                return self.typeddict(target)
        raise self.fail(
            f"unsupported type {hint!r}: use str, int, float, bool, bytes, list/set/tuple, dict, Optional, "
            "Literal, Enum, a dataclass, a TypedDict, a union of dataclasses, Ok/Err, Address or Any"
        )

    def literal(self, values: tuple[Any, ...]) -> str:
        if all(isinstance(v, str) for v in values):
            return "string"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "s64"
        raise self.fail(f"Literal{list(values)!r} mixes types; WIT needs one type (use an Enum)")

    def enum_type(self, cls: type[enum.Enum]) -> str:
        from hyperpy.runtime.codec import wire_name_of_enum_member

        wire = [wire_name_of_enum_member(member) for member in cls]
        cases = [to_kebab(value) for value in wire]
        if all(is_wit_identifier(c) and kebab_to_pascal(c) == w for c, w in zip(cases, wire, strict=True)):
            return self.define(
                to_kebab(cls.__name__),
                cls,
                lambda: (
                    f"enum {wit_ident(to_kebab(cls.__name__))} {{\n"
                    + ",\n".join(f"    {wit_ident(c)}" for c in cases)
                    + "\n}"
                ),
            )
        if all(isinstance(member.value, int) for member in cls) and not all(isinstance(w, str) for w in wire):
            return "s64"
        return "string"

    def record(self, hint: Any, cls: type) -> str:
        from hyperpy.runtime.codec import record_fields

        def make() -> str:
            lines = []
            for name, field_hint, _ in record_fields(hint, cls):
                lines.append(_typed_line("    ", self.field_name(cls, name) + ": {}", self.wit(field_hint)))
            return self.record_text(cls.__name__, lines)

        return self.define(to_kebab(cls.__name__), hint, make)

    def typeddict(self, cls: type) -> str:
        def make() -> str:
            hints = typing.get_type_hints(cls)
            lines = [
                _typed_line("    ", self.field_name(cls, name) + ": {}", self.wit(h))
                for name, h in hints.items()
            ]
            return self.record_text(cls.__name__, lines)

        return self.define(to_kebab(cls.__name__), cls, make)

    def record_text(self, class_name: str, lines: list[str]) -> str:
        name = wit_ident(to_kebab(class_name))
        if not lines:
            return f"record {name} {{}}"
        return f"record {name} {{\n" + ",\n".join(lines) + "\n}"

    def field_name(self, cls: type, name: str) -> str:
        kebab = to_kebab(name)
        if not is_wit_identifier(kebab) or kebab_to_snake(kebab) != name:
            raise self.fail(
                f"field {name!r} of {cls.__name__}: WIT field names are kebab-case and callers turn them "
                "back into snake_case JSON keys, so it must be snake_case words starting with a letter "
                f"(e.g. {re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower().strip('_')!r})"
            )
        return wit_ident(kebab)

    def union(self, hint: Any, args: tuple[Any, ...], ok: type, err: type) -> str:
        non_none = [a for a in args if a is not type(None)]
        optional = len(non_none) != len(args)
        if len(non_none) == 1:
            inner = self.wit(non_none[0])
        else:
            origins = {typing.get_origin(a) or a for a in non_none}
            if origins == {ok, err} and len(non_none) == 2:
                inner = self.result(non_none, ok)
            else:
                inner = self.variant(hint, non_none)
        return f"option<{inner}>" if optional else inner

    def result(self, cases: list[Any], ok: type) -> str:
        sides: dict[str, str] = {}
        for case in cases:
            case_args = typing.get_args(case)
            side_hint = case_args[0] if case_args else Any
            key = "ok" if (typing.get_origin(case) or case) is ok else "err"
            sides[key] = "_" if side_hint is None or side_hint is type(None) else self.wit(side_hint)
        if sides["err"] == "_":
            return "result" if sides["ok"] == "_" else f"result<{sides['ok']}>"
        return f"result<{sides['ok']}, {sides['err']}>"

    def variant(self, hint: Any, cases: list[Any]) -> str:
        from hyperpy.runtime.codec import is_newtype_case, record_fields

        for case in cases:
            origin = typing.get_origin(case) or case
            if not (isinstance(origin, type) and dataclasses.is_dataclass(origin)):
                raise self.fail(
                    f"union {hint!r}: only T | None, Ok[T] | Err[E] and unions of dataclasses have a WIT "
                    "form (and a wire form); wrap the alternatives in dataclasses"
                )
        name = self.union_name(set(cases)) or "-or-".join(to_kebab(c.__name__) for c in cases)

        def make() -> str:
            lines = []
            for case in cases:
                origin = typing.get_origin(case) or case
                case_name = wit_ident(to_kebab(origin.__name__))
                if is_newtype_case(origin):
                    (_, field_hint, _), *_ = record_fields(case, origin)
                    lines.append(_typed_line("    ", case_name + "({})", self.wit(field_hint)))
                elif not [f for f in dataclasses.fields(origin) if f.init]:
                    lines.append(f"    {case_name}")
                else:
                    lines.append(f"    {case_name}({self.record(case, origin)})")
            return f"variant {wit_ident(name)} {{\n" + ",\n".join(lines) + "\n}"

        return self.define(name, frozenset(cases), make)

    def union_name(self, cases: set[Any]) -> str | None:
        """The module-level alias naming this union (`Shape = Circle | Square` -> `shape`)."""
        for global_name, value in self.module_globals.items():
            if global_name.startswith("_"):
                continue
            origin = typing.get_origin(value)
            if (
                origin in (typing.Union, types.UnionType)
                and set(typing.get_args(value)) - {type(None)} == cases
            ):
                return to_kebab(global_name)
        return None


def erase_maps_text(text: str) -> str:
    """WIT text for a type written with hyperpy's `map<K, V>`: each becomes `list<tuple<K, V>>`."""
    out: list[str] = []
    closers: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("map<", index) and (index == 0 or text[index - 1] in "<(, "):
            out.append("list<tuple<")
            closers.append(">>")
            index += 4
            continue
        if char == "<":
            closers.append(">")
        elif char == ">":
            out.append(closers.pop())
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _typed_line(indent: str, template: str, json_type: str) -> str:
    """`<indent><template with the WIT type>`, preceded by a `// json: <type>` line when they differ.

    The comment is how a reader learns that a `list<tuple<K, V>>` is a JSON object on the wire; kit's
    generators and WIT parsers skip `//` comments, so kit reads the same WIT it would have written.
    """
    wit_type = erase_maps_text(json_type)
    line = indent + template.format(wit_type)
    if wit_type == json_type:
        return line
    return f"{indent}// {JSON_FORM_PREFIX} {json_type}\n{line}"


def _signature_record(
    builder: _Builder, handler: Any, kind: str, fn_kebab: str, return_hint: Any, has_json_return: bool
) -> str:
    """One signature record exactly as kit's `generate_signature_struct` lays it out (comments, field
    order, indentation), plus hyperpy's `// json:` and URL-parameter comments where needed."""
    from hyperpy.runtime.spec import DEFAULT_API_PATH

    lines = [f"    // Function signature for: {fn_kebab} ({kind})"]
    if kind == "http":
        method = (handler.http_methods or (HTTP_DEFAULT_METHOD,))[0].upper()
        path = handler.http_path or f"{DEFAULT_API_PATH}/{fn_kebab}"
        lines.append(f"    // HTTP: {method} {path}")
    params: list[tuple[str, str]] = []
    for param in handler.body_params:
        builder.where = f"handler {handler.name!r}, parameter {param.name!r}"
        params.append((_param_ident(builder, param.name), builder.wit(param.annotation)))
    if params:
        lines.append("    // args: (" + ", ".join(f"{n}: {erase_maps_text(t)}" for n, t in params) + ")")
        if kind != "http":
            names = [kebab_to_snake(n.lstrip("%")) for n, _ in params]
            shape = names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"
            lines.append(f'    // json fmt: {{"{handler.variant}": {shape}}}')
    else:
        lines.append("    // args: none")
        if kind != "http":
            lines.append(f'    // json fmt: {{"{handler.variant}": null}}')
    if kind == "http":
        for param in handler.params:
            if param.source in ("path", "query", "header"):
                builder.where = f"handler {handler.name!r}, parameter {param.name!r}"
                ident = _param_ident(builder, param.name)
                optional = "?" if param.has_default else ""
                wit_type = builder.wit(param.annotation)
                lines.append(f"    // {param.source}: {param.key} -> {ident}{optional}: {wit_type}")
    if kind == "http" and not has_json_return:
        lines.append(f"    // {RAW_RESPONSE_COMMENT}")
    fields = ["        target: " + ("string" if kind == "http" else "address")]
    if params:
        fields.append(
            _typed_line("        ", "arg-types: {}", "tuple<" + ", ".join(t for _, t in params) + ">")
        )
    builder.where = f"handler {handler.name!r}, return type"
    if has_json_return and return_hint is not None and return_hint is not type(None):
        fields.append(_typed_line("        ", "returning: {}", builder.wit(return_hint)))
    lines.append(f"    record {fn_kebab}-signature-{kind} {{")
    lines.append(",\n".join(fields))
    lines.append("    }")
    return "\n".join(lines)


def _param_ident(builder: _Builder, name: str) -> str:
    kebab = to_kebab(name).strip("-")
    if not is_wit_identifier(kebab):
        raise builder.fail(f"the name is not a valid WIT identifier once kebab-cased ({kebab!r}); rename it")
    return wit_ident(kebab)


def _kit_type_order(definitions: dict[str, str]) -> list[str]:
    """Type definitions in the order kit's WIT generator writes them.

    kit (`process_rust_project`, pass 4) makes an edge from each type to every other defined type whose
    name occurs *as a substring* of its definition text, then runs Kahn's algorithm taking the
    alphabetically smallest ready type first. So a type comes before the types it refers to, and the
    substring rule (a type `item` "occurs" in `record item-list`) is kept because it changes the order.
    """
    names = sorted(definitions)
    edges = {
        name: [other for other in names if other != name and other in definitions[name]] for name in names
    }
    in_degree = dict.fromkeys(names, 0)
    for deps in edges.values():
        for dep in deps:
            in_degree[dep] += 1
    ready = sorted((name for name in names if in_degree[name] == 0), reverse=True)
    ordered: list[str] = []
    while ready:
        name = ready.pop()
        ordered.append(name)
        for dep in edges[name]:
            in_degree[dep] -= 1
            if in_degree[dep] == 0:
                ready.append(dep)
                ready.sort(reverse=True)
    ordered.extend(sorted(name for name in names if name not in ordered))  # cycles: kit appends them
    return ordered


# kit's comment above the `value` alias it infers for serde_json::Value (reproduced so the bytes match).
_VALUE_ALIAS_COMMENT = (
    "// Arbitrary JSON value; encoded as string for WIT 1.0 (TS: unknown, Rust: serde_json::Value)"
)


def generate_interface_wit(
    spec: Any, module_globals: Mapping[str, Any] | None = None, source: str = ""
) -> str:
    """The `api/<interface>.wit` text for one app (an `AppSpec` from `hyperpy.runtime.spec.app_spec`).

    Byte for byte what kit's `process_rust_project` writes for the equivalent Rust signatures: `use`
    unindented on the line after `interface x {` (kit trims the assembled body), then the `value` alias,
    the type definitions (kit's order, see `_kit_type_order`) and the signature records (sorted as
    text), each group after a blank line, and one newline after the closing brace. `source` is unused
    (kept for callers); kit's file has no header, so neither has ours.
    """
    from hyperpy.runtime.spec import json_return_hint
    from hyperpy.runtime.types import Response

    del source
    interface = interface_name_for(spec.class_name)
    if module_globals is None:
        module = sys.modules.get(spec.module)
        module_globals = vars(module) if module is not None else {}
    builder = _Builder(app=spec.class_name, module_globals=module_globals)
    records: list[str] = []
    for handler in spec.handlers:
        kinds = [kind for kind in SIGNATURE_KINDS if kind in handler.kinds]
        if not kinds:
            continue
        builder.where = f"handler {handler.name!r}"
        fn_kebab = to_kebab(handler.name).strip("-")
        if not is_wit_identifier(fn_kebab) or kebab_to_pascal(fn_kebab) != handler.variant:
            raise builder.fail(
                f"the WIT name {fn_kebab!r} does not map back to the wire name {handler.variant!r} (or is "
                "not a valid WIT identifier); use snake_case words that start with a letter, e.g. get_user_v2"
            )
        return_hint = json_return_hint(handler.returns)
        has_json_return = handler.returns is not Response
        for kind in kinds:
            records.append(_signature_record(builder, handler, kind, fn_kebab, return_hint, has_json_return))
    records.sort()
    definitions = {d.name: d.text for d in builder.definitions.values() if d.name != "value"}
    content = "use standard.{" + ", ".join(sorted(builder.standard_uses)) + "};\n"
    if "value" in builder.definitions:
        content += f"\n    {_VALUE_ALIAS_COMMENT}\n    type value = string;\n"
    if definitions:
        indented = [
            "\n".join("    " + line if line else line for line in definitions[name].splitlines())
            for name in _kit_type_order(definitions)
        ]
        content += "\n" + "\n\n".join(indented) + "\n"
    if records:
        content += "\n" + "\n\n".join(records)
    return f"interface {wit_ident(interface)} {{\n{content.strip()}\n}}\n"


def generate_world_wit(
    world: str, interfaces: list[str], *, types_only: bool = False, existing: str | None = None
) -> str:
    """A package world as kit's `generate_wit_file` writes it (no trailing newline).

    `world <w> {` + one `    import <iface>;` per interface + the includes (`include process-v1;`, or
    `include lib;` for `types-<w>`), sorted. Like kit, the imports and includes of an `existing` world
    file (one not written by hyperpy) are kept first and new imports appended.
    """
    name = f"types-{world}" if types_only else world
    imports: list[str] = []
    includes: set[str] = set()
    for line in (existing or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("import "):
            imports.append(stripped)
        elif stripped.startswith("include "):
            includes.add(stripped)
    if types_only:
        includes.add("include lib;")
    elif not includes:
        includes.add("include process-v1;")
    for interface in interfaces:
        statement = f"import {wit_ident(interface)};"
        if statement not in imports:
            imports.append(statement)
    include_lines = "".join(f"    {line}\n" for line in sorted(includes))
    return f"world {name} {{\n" + "\n".join(f"    {i}" for i in imports) + f"\n{include_lines}}}"


@dataclass
class ProcessApi:
    process: str
    interface: str
    text: str


def load_process_module(root: Path, module_name: str) -> types.ModuleType:
    """Import a project's process module on the host (`hyperpy.package.process_module.import_app`,
    the one rule for the build and the node's native install); failures become ApiWitError."""
    try:
        return import_app(root, module_name)
    except AppImportError as error:
        raise ApiWitError(str(error)) from error.__cause__


def defines_wit_world(path: Path) -> bool:
    """Whether a module's source defines a top-level `WitWorld` class (read without importing it)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, UnicodeDecodeError):
        return False  # importing it will report the problem with file and line
    return any(isinstance(node, ast.ClassDef) and node.name == "WitWorld" for node in tree.body)


def is_raw_process(module: types.ModuleType) -> bool:
    """A module defining `WitWorld` implements the WIT world itself (kit style): it has no typed API."""
    return "WitWorld" in vars(module)


def project_apis(project: Any) -> list[ProcessApi]:
    """The interface text of every framework process in a `hyperpy.package.project.Project`."""
    from hyperpy.runtime.spec import app_spec

    apis: list[ProcessApi] = []
    for process in project.processes:
        path = project.module_path(process)
        if path is not None and defines_wit_world(path):
            continue  # raw processes import the WIT bindings at top level; they have no typed API
        module = load_process_module(project.root, process.module)
        if is_raw_process(module):
            continue
        spec = app_spec(module)
        if not any(kind in handler.kinds for handler in spec.handlers for kind in SIGNATURE_KINDS):
            continue  # like kit: no local/remote/http handler, no interface file
        source = str(path.relative_to(project.root)) if path is not None else process.module
        interface = interface_name_for(spec.class_name)
        clash = next((api.process for api in apis if api.interface == interface), None)
        if clash is not None:
            raise ApiWitError(
                f"processes {clash!r} and {process.name!r} both define an app class named like "
                f"{interface!r}; WIT interface names must differ, rename one"
            )
        apis.append(ProcessApi(process.name, interface, generate_interface_wit(spec, vars(module), source)))
    return apis


def _existing_imports(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return re.findall(
        r"^\s*import\s+%?([a-z0-9-]+)\s*;", path.read_text(encoding="utf-8"), flags=re.MULTILINE
    )


def generate_api_wit(project: Any) -> list[Path]:
    """Write `api/<interface>.wit` per framework process plus the package's world files; return them.

    Called by `hyperpy build` and `hyperpy wit`. Files this function wrote before but no longer
    produces (a renamed app class) are removed; hand-written or hand-edited `.wit` files are kept
    and their interfaces stay imported by the world. Nothing is written when any process fails.
    Returns the written files, world file first; an empty list when no process has a typed API.
    """
    return write_api_wit(project, project_apis(project))


# Which `api/*.wit` files hyperpy wrote, with the SHA-256 of what it wrote: kit's files carry no
# "generated" header, so this record is how a later run tells its own files (to rewrite or remove)
# from hand-written ones (to keep) and from generated files the user has since edited (also kept).
_WRITTEN_RECORD = "api-wit.json"
# Files written before this record existed started with this line; they are ours too.
_OLD_GENERATED_MARK = "// Generated by hyperpy"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _written_record(project: Any) -> dict[str, str]:
    path = Path(project.target_dir) / _WRITTEN_RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_api_wit(project: Any, apis: list[ProcessApi]) -> list[Path]:
    """`generate_api_wit` for interfaces already computed with `project_apis`."""
    api_dir: Path = project.api_dir
    world = world_name_for(project.package, project.publisher)
    world_file = api_dir / f"{world}.wit"
    types_file = api_dir / f"types-{world}.wit"
    if not apis and not api_dir.is_dir():
        return []
    record = _written_record(project)
    texts = (
        {path: path.read_text(encoding="utf-8") for path in sorted(api_dir.glob("*.wit"))}
        if api_dir.is_dir()
        else {}
    )

    def ours(path: Path) -> bool:
        text = texts[path]
        return record.get(path.name) == _digest(text) or text.startswith(_OLD_GENERATED_MARK)

    outputs: dict[Path, str] = {api_dir / f"{api.interface}.wit": api.text for api in apis}
    hand_written = [path for path in texts if path not in outputs and not ours(path)]
    kept_imports = [
        name
        for path in hand_written
        for name in re.findall(r"^\s*interface\s+%?([a-z0-9-]+)", texts[path], re.MULTILINE)
    ]
    interfaces = [api.interface for api in apis] + kept_imports
    if not interfaces:
        return []
    for path, types_only in ((world_file, False), (types_file, True)):
        existing = texts.get(path)
        kept = existing if existing is not None and not ours(path) else None
        outputs[path] = generate_world_wit(world, interfaces, types_only=types_only, existing=kept)
    api_dir.mkdir(parents=True, exist_ok=True)
    for path in texts:
        if path not in outputs and path not in hand_written:
            path.unlink()
    for path, text in outputs.items():
        if texts.get(path) != text:
            temporary = path.with_suffix(".wit.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
    target_dir = Path(project.target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    record_text = json.dumps({path.name: _digest(text) for path, text in sorted(outputs.items())}, indent=1)
    (target_dir / _WRITTEN_RECORD).write_text(record_text + "\n", encoding="utf-8")
    ordered = [world_file, types_file] + [api_dir / f"{api.interface}.wit" for api in apis]
    return [path for path in ordered if path in outputs]


def package_world(project: Any) -> str:
    """The world BUILD passes to componentize-py when the package has an API (see `generate_api_wit`)."""
    return world_name_for(project.package, project.publisher)
