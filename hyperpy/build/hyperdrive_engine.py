"""Hyperdrive's wasmtime engine, reproduced with wasmtime-py, and what it reads from a component.

Why a module of its own: it is the only part of `hyperpy check` that needs wasmtime, whose import
costs ~0.1 s; `hyperpy.build.component_abi` imports it on first use, so every other `hyperpy`
command starts without it.

Hyperdrive's engine (wasmtime 33, runtime-contract.md §1.1) is `Config::new()` plus the component
model: the WebAssembly 2.0 features (mutable globals, sign-extension, saturating float-to-int,
multi-value, bulk memory, reference types, SIMD) plus the proposals its wasmtime enabled by default
that our components use (extended-const, multi-memory, tail-call). wasmtime-py 50 enables much more
by default (component-model async, exceptions, GC, ...); each of those is switched off explicitly so
a component that only a newer wasmtime accepts fails here, naming the feature. Deliberately
conservative: relaxed-SIMD and threads are refused too, because nothing we build needs them and a
false alarm is cheaper than a process a node refuses.
"""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime
from wasmtime import _ffi as wasmtime_ffi  # the C-API setters the Config class does not wrap yet
from wasmtime import component as wc

# Features set through `wasmtime.Config` properties: True = Hyperdrive's wasmtime 33 accepts it.
# Mutable globals, sign-extension, saturating float-to-int and extended-const have no switch: they
# are always on in wasmtime, and in wasmtime 33 too.
HYPERDRIVE_CONFIG_FEATURES: dict[str, bool] = {
    "wasm_component_model": True,
    "wasm_simd": True,
    "wasm_bulk_memory": True,
    "wasm_multi_value": True,
    "wasm_reference_types": True,
    "wasm_multi_memory": True,
    "wasm_tail_call": True,
    "wasm_relaxed_simd": False,
    "wasm_threads": False,
    "wasm_memory64": False,
    "wasm_function_references": False,
    "wasm_gc": False,
    "wasm_exceptions": False,
    "wasm_wide_arithmetic": False,
    "wasm_custom_page_sizes": False,
    "wasm_stack_switching": False,
    "wasm_component_model_map": False,
    "wasm_component_model_implements": False,
}
# Features only reachable through the C API in wasmtime-py 50; all are newer than wasmtime 33, and
# component-model async is on by default in wasmtime-py 50, so each must be switched off explicitly.
HYPERDRIVE_CAPI_FEATURES_OFF: tuple[str, ...] = (
    "wasmtime_config_wasm_component_model_async_set",
    "wasmtime_config_wasm_component_model_async_stackful_set",
    "wasmtime_config_wasm_component_model_more_async_builtins_set",
    "wasmtime_config_wasm_component_model_accessors_set",
    "wasmtime_config_wasm_component_model_canonical_names_set",
    "wasmtime_config_wasm_compact_imports_set",
    "wasmtime_config_wasm_branch_hinting_set",
)


def hyperdrive_config() -> wasmtime.Config:
    """A wasmtime Config accepting exactly the WebAssembly features Hyperdrive's engine accepts.

    Optimisation is off: we compile only to validate and read types, and `none` is ~30% faster.
    """
    config = wasmtime.Config()
    config.cranelift_opt_level = "none"
    for name, enabled in HYPERDRIVE_CONFIG_FEATURES.items():
        setattr(config, name, enabled)
    for setter in HYPERDRIVE_CAPI_FEATURES_OFF:
        getattr(wasmtime_ffi, setter)(config.ptr(), ctypes.c_bool(False))
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
