"""Resolve the names a kit API interface refers to, for the stub generators.

Why separate: the Python and TypeScript generators need the same answers — which definition a
name means (own type, `use`d from another interface of the package, or a Hyperware `standard`
type), in an order where every type comes after the types it mentions, and a clear error naming
the signature and the type when something is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperpy.build.witgen.model import (
    STRING_LIKE_STANDARD_TYPES,
    AliasDef,
    Interface,
    ListType,
    MapType,
    NamedType,
    OptionType,
    Prim,
    RecordDef,
    ResultType,
    TypeDef,
    VariantDef,
    WitDocument,
    WitType,
)


class StubGenerationError(ValueError):
    """The API cannot be expressed as stubs; the message names interface, item and reason."""


# kit's auto-generated alias for serde_json::Value: WIT says string, the wire carries any JSON.
JSON_VALUE_ALIAS = "value"


@dataclass
class TypeTable:
    """Every definition an interface can name, keyed by the local (possibly aliased) name."""

    interface: Interface
    definitions: dict[str, TypeDef] = field(default_factory=dict)
    standard: set[str] = field(default_factory=set)  # local names meaning a string-like standard type

    def lookup(self, name: str, where: str) -> TypeDef | None:
        """The definition of `name`, or None for a standard string-like type; raise if unknown."""
        if name in self.standard:
            return None
        definition = self.definitions.get(name)
        if definition is None:
            raise StubGenerationError(
                f"interface {self.interface.name!r}: {where} refers to type {name!r}, which is neither "
                f"defined in the interface nor brought in with `use` (known: "
                f"{', '.join(sorted(self.definitions)) or 'none'})"
            )
        return definition


def is_json_value_alias(definition: TypeDef) -> bool:
    return (
        isinstance(definition, AliasDef)
        and definition.name == JSON_VALUE_ALIAS
        and definition.target == Prim("string")
    )


def build_table(interface: Interface, document: WitDocument | None) -> TypeTable:
    table = TypeTable(interface)
    for typedef in interface.types:
        table.definitions[typedef.name] = typedef
    for use in interface.uses:
        source = document.interface(use.interface) if document else None
        for original, alias in use.names:
            if use.interface == "standard" and original in STRING_LIKE_STANDARD_TYPES:
                table.standard.add(alias)
                continue
            if source is None:
                raise StubGenerationError(
                    f"interface {interface.name!r}: `use {use.interface}.{{{original}}}` names an interface "
                    f"that is not part of this API (only `standard.{{address, process-id, package-id}}` "
                    "and the package's own interfaces can be used)"
                )
            definition = source.type_named(original)
            if definition is None:
                raise StubGenerationError(
                    f"interface {interface.name!r}: `use {use.interface}.{{{original}}}`: interface "
                    f"{use.interface!r} defines no type {original!r}"
                )
            table.definitions[alias] = definition
    if "address" not in table.definitions:
        # kit always writes `use standard.{address};`; tolerate files that forgot it.
        table.standard.add("address")
    return table


def referenced_names(wit_type: WitType | None) -> list[str]:
    """Named types mentioned by a type expression, in order of appearance."""
    if wit_type is None or isinstance(wit_type, Prim):
        return []
    if isinstance(wit_type, NamedType):
        return [wit_type.name]
    if isinstance(wit_type, ListType):
        return referenced_names(wit_type.element)
    if isinstance(wit_type, OptionType):
        return referenced_names(wit_type.inner)
    if isinstance(wit_type, ResultType):
        return referenced_names(wit_type.ok) + referenced_names(wit_type.err)
    if isinstance(wit_type, MapType):
        return referenced_names(wit_type.key) + referenced_names(wit_type.value)
    names: list[str] = []
    for item in wit_type.items:
        names.extend(referenced_names(item))
    return names


def definition_dependencies(definition: TypeDef) -> list[str]:
    if isinstance(definition, RecordDef):
        return [name for f in definition.fields for name in referenced_names(f.type)]
    if isinstance(definition, VariantDef):
        return [name for case in definition.cases for name in referenced_names(case.type)]
    if isinstance(definition, AliasDef):
        return referenced_names(definition.target)
    return []


def ordered_definitions(table: TypeTable) -> list[tuple[str, TypeDef]]:
    """All definitions the interface needs (its own and used ones), dependencies first.

    Raises for unknown names and for recursive types (which WIT forbids and JSON stubs cannot
    express without boxing).
    """
    needed: list[str] = [typedef.name for typedef in table.interface.types]
    for signature in table.interface.signatures:
        for param in signature.params:
            needed.extend(referenced_names(param.type))
        needed.extend(referenced_names(signature.returning))
    ordered: list[tuple[str, TypeDef]] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join((*trail, name))
            raise StubGenerationError(f"interface {table.interface.name!r}: recursive type {cycle}")
        definition = table.lookup(name, f"type {trail[-1]!r}" if trail else "a signature")
        if definition is None:
            state[name] = "done"
            return
        state[name] = "visiting"
        for dependency in definition_dependencies(definition):
            visit(dependency, (*trail, name))
        state[name] = "done"
        ordered.append((name, definition))

    for name in needed:
        visit(name, ())
    return ordered


def check_signature_types(table: TypeTable) -> None:
    """Fail early, naming the signature, for any parameter or return type that is not defined."""
    for signature in table.interface.signatures:
        where = f"{signature.function}-signature-{signature.kind}"
        for param in signature.params:
            for name in referenced_names(param.type):
                table.lookup(name, f"{where} parameter {param.name!r}")
        for name in referenced_names(signature.returning):
            table.lookup(name, f"{where} return type")
