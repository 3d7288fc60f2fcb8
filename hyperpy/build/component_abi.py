"""What a Hyperware node sees in a `.wasm`: its kind, its WebAssembly features, imports and exports.

Why this module exists: Hyperdrive only tells you at install time (and only in its terminal) that a
process "failed to instantiate" or is an "invalid wasm file" (runtime-contract.md §1.1). Everything
that decides this is a property of the binary, so we read it here, before deployment:

* **kind** - Hyperdrive calls `Component::new`, so a core module is refused outright.
* **features** - Hyperdrive's wasmtime 33 engine is `Config::new()` plus the component model. We
  compile with a wasmtime Config that enables exactly the WebAssembly 2.0 feature set plus the
  post-2.0 proposals Hyperdrive's engine accepts and our components use (extended-const,
  multi-memory, tail-call), and explicitly *disables* everything newer that wasmtime-py 50 turns on
  by default (component-model async, exceptions, GC, ...), so a component that only loads on a newer
  wasmtime fails here with the feature named. This is deliberately conservative: relaxed-SIMD and
  threads are refused too, because nothing we build needs them and a false alarm is cheaper than a
  process that a node refuses.
* **imports/exports** - read from the compiled component's type (`Component.type`), with each
  function's signature rendered in WIT syntax so error messages can show what was found.

Compiling an ~18 MB Python component takes 2-3 s even without optimisation, so the facts (never the
verdict, which `hyperpy.build.check` derives each time) are cached on disk, keyed by the binary's
sha256, the wasmtime version and the feature set.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as wasmtime_ffi  # the C-API setters the Config class does not wrap yet
from wasmtime import component as wc

# Bump when the shape of ComponentFacts or the inspection changes, so old cache entries are ignored.
FACTS_FORMAT = 1

WASM_MAGIC = b"\x00asm"
CORE_MODULE_LAYER = b"\x01\x00\x00\x00"  # version 1, layer 0
COMPONENT_LAYER = b"\x01\x00"  # bytes 6..8 of a component header (layer 1)

KIND_COMPONENT = "component"
KIND_CORE_MODULE = "core-module"
KIND_NOT_WASM = "not-wasm"

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

# Validation messages of wasmparser (as bundled with wasmtime 50) -> the proposal a user would know.
# Checked in order; the first phrase found names the feature. Only consulted for messages that say
# a feature is missing (see `_MISSING_FEATURE_PHRASES`), so an ordinary malformed binary is not
# blamed on a proposal.
_FEATURE_HINTS: tuple[tuple[str, str], ...] = (
    ("component model async", "component-model-async (async functions, streams, futures, tasks)"),
    ("component model error-context", "component-model-async (error-context)"),
    ("exceptions", "exception-handling"),
    ("gc feature", "gc (garbage-collected structs and arrays)"),
    ("gc proposal", "gc (garbage-collected structs and arrays)"),
    ("function references", "function-references"),
    ("memory64", "memory64 (64-bit memories)"),
    ("threads", "threads (shared memories and atomics)"),
    ("relaxed simd", "relaxed-simd"),
    ("wide arithmetic", "wide-arithmetic"),
    ("custom page sizes", "custom-page-sizes"),
    ("stack switching", "stack-switching"),
)
_MISSING_FEATURE_PHRASES = ("not enabled", "must be enabled", "require", "without the", "not supported")


@dataclass(frozen=True)
class ComponentFacts:
    """Everything `hyperpy check` needs to know about one binary, JSON-serializable for the cache.

    `imports` maps each import name to its functions (function name -> WIT signature); an import
    that is not an instance (a bare function, a type, a module) maps to `{"": <what it is>}`.
    `exports` maps each export name to its WIT signature (functions) or its kind (anything else).
    `validation_error` is wasmtime's message when the binary does not validate under Hyperdrive's
    features (imports/exports are then unknown and empty); `feature` names the proposal if known.
    """

    kind: str
    size: int
    sha256: str
    validation_error: str | None = None
    feature: str | None = None
    imports: dict[str, dict[str, str]] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)

    @property
    def validates(self) -> bool:
        return self.kind == KIND_COMPONENT and self.validation_error is None


def wasm_kind(data: bytes) -> str:
    """`component`, `core-module` or `not-wasm`, from the 8-byte header alone."""
    if len(data) < 8 or data[:4] != WASM_MAGIC:
        return KIND_NOT_WASM
    if data[4:8] == CORE_MODULE_LAYER:
        return KIND_CORE_MODULE
    if data[6:8] == COMPONENT_LAYER:
        return KIND_COMPONENT
    return KIND_NOT_WASM


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


def feature_fingerprint() -> str:
    """A short hash of the feature set and wasmtime version; part of every cache key."""
    text = json.dumps(
        {
            "config": HYPERDRIVE_CONFIG_FEATURES,
            "capi_off": HYPERDRIVE_CAPI_FEATURES_OFF,
            "wasmtime": wasmtime_version(),
            "format": FACTS_FORMAT,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def wasmtime_version() -> str:
    return importlib_metadata.version("wasmtime")


def feature_from_validation_error(message: str) -> str | None:
    """Name the WebAssembly proposal a wasmtime validation message complains about, if recognisable."""
    lowered = message.lower()
    if not any(phrase in lowered for phrase in _MISSING_FEATURE_PHRASES):
        return None
    for needle, feature in _FEATURE_HINTS:
        if needle in lowered:
            return feature
    return None


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


def _inspect_uncached(data: bytes, digest: str) -> ComponentFacts:
    kind = wasm_kind(data)
    if kind != KIND_COMPONENT:
        return ComponentFacts(kind=kind, size=len(data), sha256=digest)
    engine = hyperdrive_engine()
    try:
        component = wc.Component(engine, data)
    except wasmtime.WasmtimeError as exc:
        message = " ".join(str(exc).split())
        return ComponentFacts(
            kind=kind,
            size=len(data),
            sha256=digest,
            validation_error=message,
            feature=feature_from_validation_error(message),
        )
    component_type = component.type
    imports = {
        name: _instance_functions(extern.ty, engine)
        for name, extern in component_type.imports(engine).items()
    }
    exports = {name: _describe_item(extern.ty) for name, extern in component_type.exports(engine).items()}
    return ComponentFacts(kind=kind, size=len(data), sha256=digest, imports=imports, exports=exports)


def check_cache_dir() -> Path:
    """Where inspection facts are cached: `$HYPERPY_CACHE_DIR/check`, else the user cache directory."""
    root = os.environ.get("HYPERPY_CACHE_DIR")
    if root:
        return Path(root) / "check"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hyperpy" / "check"


def inspect_component(data: bytes, *, use_cache: bool = True) -> ComponentFacts:
    """Facts about `data` as Hyperdrive's engine sees them (cached on disk by content hash)."""
    digest = hashlib.sha256(data).hexdigest()
    cache_file = check_cache_dir() / f"{digest}-{feature_fingerprint()}.json"
    if use_cache and cache_file.is_file():
        try:
            return ComponentFacts(**json.loads(cache_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            cache_file.unlink(missing_ok=True)  # a damaged entry is recomputed, never trusted
    facts = _inspect_uncached(data, digest)
    if use_cache:
        _write_cache(cache_file, facts)
    return facts


def _write_cache(cache_file: Path, facts: ComponentFacts) -> None:
    """Best effort: a read-only or full disk must not make `hyperpy check` fail."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(asdict(facts), sort_keys=True), encoding="utf-8")
        temporary.replace(cache_file)
    except OSError:
        return
