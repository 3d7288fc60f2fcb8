"""What a Hyperware node sees in a `.wasm`: its kind, its WebAssembly features, imports and exports.

Why this module exists: Hyperdrive only tells you at install time (and only in its terminal) that a
process "failed to instantiate" or is an "invalid wasm file" (runtime-contract.md §1.1). Everything
that decides this is a property of the binary, so we read it here, before deployment:

* **kind** - Hyperdrive calls `Component::new`, so a core module is refused outright.
* **features** - the binary is compiled with a wasmtime Config that accepts exactly what
  Hyperdrive's wasmtime 33 engine accepts (`hyperpy.package.hyperdrive_features`, applied by
  `hyperpy.build.hyperdrive_engine`); a failure is mapped
  to the WebAssembly proposal it needs.
* **imports/exports** - read from the compiled component's type (`Component.type`), with each
  function's signature rendered in WIT syntax so error messages can show what was found.

wasmtime itself is imported only when a component is actually compiled, so `hyperpy` commands that
never check anything do not pay for it.

Compiling an ~18 MB Python component takes 2-3 s even without optimisation, so the facts (never the
verdict, which `hyperpy.build.check` derives each time) are cached on disk, keyed by the binary's
sha256, the wasmtime version and the feature set.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

from hyperpy.package.cache import machine_cache_dir
from hyperpy.package.hyperdrive_features import HYPERDRIVE_CAPI_FEATURES_OFF, HYPERDRIVE_CONFIG_FEATURES

# Bump when the shape of ComponentFacts or the inspection changes, so old cache entries are ignored.
FACTS_FORMAT = 1

WASM_MAGIC = b"\x00asm"
CORE_MODULE_LAYER = b"\x01\x00\x00\x00"  # version 1, layer 0
COMPONENT_LAYER = b"\x01\x00"  # bytes 6..8 of a component header (layer 1)

KIND_COMPONENT = "component"
KIND_CORE_MODULE = "core-module"
KIND_NOT_WASM = "not-wasm"

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


def _inspect_uncached(data: bytes, digest: str) -> ComponentFacts:
    kind = wasm_kind(data)
    if kind != KIND_COMPONENT:
        return ComponentFacts(kind=kind, size=len(data), sha256=digest)
    import wasmtime

    from hyperpy.build.hyperdrive_engine import read_component

    try:
        imports, exports = read_component(data)
    except wasmtime.WasmtimeError as exc:
        message = " ".join(str(exc).split())
        return ComponentFacts(
            kind=kind,
            size=len(data),
            sha256=digest,
            validation_error=message,
            feature=feature_from_validation_error(message),
        )
    return ComponentFacts(kind=kind, size=len(data), sha256=digest, imports=imports, exports=exports)


def check_cache_dir() -> Path:
    """Where inspection facts are cached: `$HYPERPY_CACHE_DIR/check`, else the user cache directory."""
    return machine_cache_dir("check")


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
