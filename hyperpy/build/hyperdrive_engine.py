"""Hyperdrive's wasmtime engine, reproduced with wasmtime-py, and what it reads from a component.

Why a module of its own: it is the only part of `hyperpy check` that needs wasmtime, whose import
costs ~0.1 s; `hyperpy.build.component_abi` imports it on first use, so every other `hyperpy`
command starts without it.

Hyperdrive's engine accepts exactly the WebAssembly features in
`hyperpy.package.hyperdrive_features` (shared with the local node's engine, so `check` and the node
agree on what loads); a component needing anything else fails here, naming the feature.
"""

from __future__ import annotations

from typing import Any

import wasmtime
from wasmtime import component as wc

from hyperpy.package.hyperdrive_features import apply_hyperdrive_features


def hyperdrive_config() -> wasmtime.Config:
    """A wasmtime Config accepting exactly the WebAssembly features Hyperdrive's engine accepts.

    Optimisation is off: we compile only to validate and read types, and `none` is ~30% faster.
    """
    config = wasmtime.Config()
    config.cranelift_opt_level = "none"
    apply_hyperdrive_features(config)
    return config


_ENGINE: wasmtime.Engine | None = None


def hyperdrive_engine() -> wasmtime.Engine:
    """One shared Engine per process: engines are thread-safe and costly to create."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = wasmtime.Engine(hyperdrive_config())
    return _ENGINE


def describe_type(value_type: Any) -> str:
    """Render a wasmtime component value type in WIT syntax (records and variants spelled inline).

    wasmtime type objects carry structure, not WIT type names, so `address` appears as
    `record { node: string, process: record {...} }`. That is what wasmtime compares when linking.
    """
    simple = {
        wc.Bool: "bool",
        wc.S8: "s8",
        wc.S16: "s16",
        wc.S32: "s32",
        wc.S64: "s64",
        wc.U8: "u8",
        wc.U16: "u16",
        wc.U32: "u32",
        wc.U64: "u64",
        wc.F32: "f32",
        wc.F64: "f64",
        wc.Char: "char",
        wc.String: "string",
        wc.ErrorContext: "error-context",
    }
    for cls, name in simple.items():
        if isinstance(value_type, cls):
            return name
    if isinstance(value_type, wc.ListType):
        return f"list<{describe_type(value_type.element)}>"
    if isinstance(value_type, wc.OptionType):
        return f"option<{describe_type(value_type.payload)}>"
    if isinstance(value_type, wc.ResultType):
        ok = describe_type(value_type.ok) if value_type.ok is not None else "_"
        err = describe_type(value_type.err) if value_type.err is not None else "_"
        return f"result<{ok}, {err}>"
    if isinstance(value_type, wc.TupleType):
        return "tuple<" + ", ".join(describe_type(e) for e in value_type.elements) + ">"
    if isinstance(value_type, wc.RecordType):
        fields = ", ".join(f"{name}: {describe_type(t)}" for name, t in value_type.fields)
        return "record { " + fields + " }"
    if isinstance(value_type, wc.VariantType):
        cases = ", ".join(
            name if payload is None else f"{name}({describe_type(payload)})"
            for name, payload in value_type.cases
        )
        return "variant { " + cases + " }"
    if isinstance(value_type, wc.EnumType):
        return "enum { " + ", ".join(value_type.names) + " }"
    if isinstance(value_type, wc.FlagsType):
        return "flags { " + ", ".join(value_type.names) + " }"
    if isinstance(value_type, wc.FutureType):
        return f"future<{describe_type(value_type.payload)}>"
    if isinstance(value_type, wc.StreamType):
        return f"stream<{describe_type(value_type.payload)}>"
    if isinstance(value_type, wc.OwnType):
        return "own<resource>"
    if isinstance(value_type, wc.BorrowType):
        return "borrow<resource>"
    return type(value_type).__name__


def describe_func(func_type: wc.FuncType) -> str:
    """`func(our: string)` / `func() -> option<list<u8>>`, as WIT writes it."""
    params = ", ".join(f"{name}: {describe_type(t)}" for name, t in func_type.params)
    result = func_type.result
    return f"func({params})" + (f" -> {describe_type(result)}" if result is not None else "")


def _describe_item(item: Any) -> str:
    if isinstance(item, wc.FuncType):
        return describe_func(item)
    if isinstance(item, wc.ComponentInstanceType):
        return "instance"
    if isinstance(item, wc.ComponentType):
        return "component"
    if isinstance(item, wc.ModuleType):
        return "core module"
    if isinstance(item, wc.ResourceType):
        return "resource"
    return "type " + describe_type(item)


def _instance_functions(item: Any, engine: wasmtime.Engine) -> dict[str, str]:
    if not isinstance(item, wc.ComponentInstanceType):
        return {"": _describe_item(item)}
    functions = {}
    for name, extern in item.exports(engine).items():
        member = extern.ty
        if isinstance(member, wc.FuncType):
            functions[name] = describe_func(member)
    return functions


def read_component(data: bytes) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Compile `data` with Hyperdrive's feature set; return (imports, exports) as WIT text.

    Raises wasmtime.WasmtimeError when the component does not validate (the message names what
    failed). Imports map to their functions' signatures; exports map to a signature or a kind.
    """
    engine = hyperdrive_engine()
    component_type = wc.Component(engine, data).type
    imports = {
        name: _instance_functions(extern.ty, engine)
        for name, extern in component_type.imports(engine).items()
    }
    exports = {name: _describe_item(extern.ty) for name, extern in component_type.exports(engine).items()}
    return imports, exports
