"""The WebAssembly features Hyperdrive's engine accepts, and how to give a wasmtime-py Config the same.

Why here: `hyperpy check` (`hyperpy.build`) validates components under these features and the local
node (`hyperpy.node`, which never imports the build) compiles them under the same ones, so a component
`check` passes is one the node loads and the other way round. One table, used by both, cannot drift.

Hyperdrive's engine (wasmtime 33, runtime-contract.md §1.1) is `Config::new()` plus the component
model: the WebAssembly 2.0 features (mutable globals, sign-extension, saturating float-to-int,
multi-value, bulk memory, reference types, SIMD) plus the proposals its wasmtime enabled by default
that our components use (extended-const, multi-memory, tail-call). wasmtime-py 50 enables much more
by default (component-model async, exceptions, GC, ...); each of those is switched off explicitly, so
a component that only a newer wasmtime accepts fails, naming the feature. Deliberately conservative:
relaxed-SIMD and threads are refused too, because nothing we build needs them and a false alarm is
cheaper than a process a node refuses.

wasmtime is imported only when a Config is configured, so importing `hyperpy.package` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import wasmtime

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


def apply_hyperdrive_features(config: wasmtime.Config) -> None:
    """Switch `config`'s WebAssembly features to exactly Hyperdrive's set (before it builds an Engine).

    Only features are touched; compiler settings such as the optimisation level stay the caller's.
    """
    import ctypes

    from wasmtime import _ffi as wasmtime_ffi  # the C-API setters `wasmtime.Config` does not wrap

    for name, enabled in HYPERDRIVE_CONFIG_FEATURES.items():
        setattr(config, name, enabled)
    for setter in HYPERDRIVE_CAPI_FEATURES_OFF:
        getattr(wasmtime_ffi, setter)(config.ptr(), ctypes.c_bool(False))
