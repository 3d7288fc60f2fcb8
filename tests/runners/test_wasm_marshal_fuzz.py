"""The fast marshaller against wasmtime-py's own conversions (the plain path), and its lowered cache.

Every parameter and result type of the `standard` interface (as the mirror component imports it)
gets random values: lowered by our plans and lifted by wasmtime-py's `convert_from_c`, and lowered by
wasmtime-py's `convert_to_c` and lifted by our plans, both must give the value back. The cache of
lowered records (addresses, process ids, capabilities) is checked bounded and correct after
evictions. Hypothesis runs a few dozen examples per type here (a few seconds); raise
`HYPERPY_FUZZ_EXAMPLES` for a longer run.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_wasm_marshal import round_trip  # tests/runners is on sys.path (rootdir import mode)
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component import Record, Variant

from hyperpy.node.runners import wasm_marshal
from hyperpy.node.runners import wasm_values as values
from hyperpy.node.runners.compile_cache import CompileCache
from hyperpy.node.runners.component import STANDARD_INTERFACE
from hyperpy.node.wit_types import Address, Capability, ProcessId

EXAMPLES = int(os.environ.get("HYPERPY_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def standard(mirror_wasm: Path, compiled_cache_dir: Path) -> tuple[Any, wasmtime.Engine]:
    cache = CompileCache(compiled_cache_dir)
    component = cache.load(mirror_wasm.read_bytes())
    return component, cache.engine


def _typed_plans(standard: tuple[Any, wasmtime.Engine]) -> list[tuple[str, Any, wasm_marshal.Plan]]:
    """(label, wasmtime-py value type, our plan) for every parameter and result of `standard`."""
    component, engine = standard
    instance = component.type.imports(engine)[STANDARD_INTERFACE].ty
    pairs: list[tuple[str, Any, wasm_marshal.Plan]] = []
    for name, extern in sorted(instance.exports(engine).items()):
        func_type = extern.ty
        if not isinstance(func_type, wc.FuncType):
            continue
        typed = [(f"{name}({param})", value_type) for param, value_type in func_type.params]
        if func_type.result is not None:
            typed.append((f"{name} -> result", func_type.result))
        for label, value_type in typed:
            if all(value_type != seen for _, seen, _ in pairs):  # the same type once (address, ...)
                pairs.append((label, value_type, wasm_marshal.plan_for(value_type)))
    return pairs


def _strategy(plan: wasm_marshal.Plan) -> st.SearchStrategy[Any]:
    """Python values of `plan`'s type, in wasmtime-py's shapes."""
    if isinstance(plan, wasm_marshal._Scalar):
        if plan.python is bool:
            return st.booleans()
        if plan.python is float:
            return st.floats(allow_nan=False, width=32 if plan.narrow else 64)
        low, high = {
            "u8": (0, 2**8 - 1),
            "u16": (0, 2**16 - 1),
            "u32": (0, 2**32 - 1),
            "u64": (0, 2**64 - 1),
            "s8": (-(2**7), 2**7 - 1),
            "s16": (-(2**15), 2**15 - 1),
            "s32": (-(2**31), 2**31 - 1),
            "s64": (-(2**63), 2**63 - 1),
        }[plan.what]
        return st.integers(low, high)
    if isinstance(plan, wasm_marshal._Enum):
        return st.sampled_from(sorted(plan.names))
    if isinstance(plan, wasm_marshal._String):
        return st.text(max_size=12)
    if isinstance(plan, wasm_marshal._Bytes):
        return st.binary(max_size=40)
    if isinstance(plan, wasm_marshal._List):
        return st.lists(_strategy(plan.element), max_size=3)
    if isinstance(plan, wasm_marshal._Record):
        names = [name for name, _ in plan.fields]
        return st.tuples(*[_strategy(field) for _, field in plan.fields]).map(
            lambda items: _record(dict(zip(names, items, strict=True)))
        )
    if isinstance(plan, wasm_marshal._Tuple):
        return st.tuples(*[_strategy(element) for element in plan.elements])
    if isinstance(plan, wasm_marshal._Cases):
        options = []
        for name, case in plan.cases:
            payload = st.none() if case is None else _strategy(case)
            options.append(payload.map(lambda p, n=name: Variant(n, p)) if plan.tagged else payload)
        return st.one_of(options)
    raise AssertionError(f"no strategy for {type(plan).__name__}")


def _record(fields: dict[str, Any]) -> Record:
    record = Record()
    record.__dict__.update(fields)
    return record


def _fast_then_plain(value_type: Any, plan: wasm_marshal.Plan, value: Any) -> Any:
    slot = ffi.wasmtime_component_val_t()
    plan.lower(value, slot)
    try:
        return value_type.convert_from_c(slot)
    finally:
        ffi.wasmtime_component_val_delete(ctypes.byref(slot))


def _plain_then_fast(store: wasmtime.Store, value_type: Any, plan: wasm_marshal.Plan, value: Any) -> Any:
    slot = ffi.wasmtime_component_val_t()
    value_type.convert_to_c(store, value, ctypes.pointer(slot))
    try:
        return plan.lift(slot)
    finally:
        ffi.wasmtime_component_val_delete(ctypes.byref(slot))


def test_lowering_and_lifting_match_wasmtime_py(standard: tuple[Any, wasmtime.Engine]) -> None:
    """Each direction of the fast path agrees with wasmtime-py's plain conversion, type by type."""
    store = wasmtime.Store(standard[1])
    pairs = _typed_plans(standard)
    assert len(pairs) > 15  # every distinct parameter and result type of the interface

    for label, value_type, plan in pairs:
        _fuzz_one(store, label, value_type, plan)


def _fuzz_one(store: wasmtime.Store, label: str, value_type: Any, plan: wasm_marshal.Plan) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_strategy(plan))
    def agree(value: Any) -> None:
        assert _fast_then_plain(value_type, plan, value) == value, label
        assert _plain_then_fast(store, value_type, plan, value) == value, label

    agree()


ADDRESSES = [Address(f"node-{i}.os", ProcessId(f"p{i}", "pkg", "sys")) for i in range(7)]


@pytest.fixture
def small_cache_plans(
    standard: tuple[Any, wasmtime.Engine], monkeypatch: pytest.MonkeyPatch
) -> dict[str, wasm_marshal.FunctionPlan]:
    monkeypatch.setattr(wasm_marshal, "LOWERED_CACHE_SIZE", 3)
    component, engine = standard
    return wasm_marshal.imported_functions(component, engine, STANDARD_INTERFACE)


def test_recurring_records_are_cached_and_the_cache_is_bounded(
    small_cache_plans: dict[str, wasm_marshal.FunctionPlan],
) -> None:
    address_plan = small_cache_plans["send-request"].params[0]
    assert isinstance(address_plan, wasm_marshal._Record) and address_plan.cache is not None
    cache = address_plan.cache
    for address in ADDRESSES:  # 7 distinct addresses through a cache of 3
        lowered = values.lower_address(address)
        assert round_trip(address_plan, lowered) == lowered
        assert len(cache) <= 3
    assert len(cache) == 3
    # the oldest were evicted; lowering them again is still right (and caches them again) ...
    for address in ADDRESSES:
        lowered = values.lower_address(address)
        assert round_trip(address_plan, lowered) == lowered
        assert values.lift_address(round_trip(address_plan, lowered)) == address
    assert len(cache) == 3
    # ... and a cached entry is a copy: the value it came from is not consulted again.
    recent = values.lower_address(ADDRESSES[-1])
    slot = ffi.wasmtime_component_val_t()
    assert cache.copy_into(("node-6.os", ("p6", "pkg", "sys")), ctypes.addressof(slot))
    try:
        assert address_plan.lift(slot) == recent
    finally:
        ffi.wasmtime_component_val_delete(ctypes.byref(slot))


def test_records_with_lists_are_not_cached_and_nested_addresses_are(
    small_cache_plans: dict[str, wasm_marshal.FunctionPlan],
) -> None:
    """A request carries bytes: never cached. A capability's issuer is (through the capability)."""
    request_plan = small_cache_plans["send-request"].params[1]
    assert isinstance(request_plan, wasm_marshal._Record) and request_plan.cache is None
    capability_plan = small_cache_plans["save-capabilities"].params[0]
    assert isinstance(capability_plan, wasm_marshal._List)
    capabilities = [Capability(address, f'{{"n": {i}}}') for i, address in enumerate(ADDRESSES)]
    for round_ in range(2):
        lowered = values.lower_capabilities(capabilities)
        assert values.lift_capabilities(round_trip(capability_plan, lowered)) == capabilities, round_
    element = capability_plan.element
    assert isinstance(element, wasm_marshal._Record) and element.cache is not None
    assert len(element.cache) == 3


def test_values_that_cannot_be_keys_are_refused_as_without_the_cache(
    small_cache_plans: dict[str, wasm_marshal.FunctionPlan],
) -> None:
    address_plan = small_cache_plans["send-request"].params[0]
    process = values.lower_process_id(ADDRESSES[0].process)
    wrong = _record({"node": ["not", "a", "string"], "process": process})
    with pytest.raises(TypeError, match="expected str"):
        address_plan.lower(wrong, ffi.wasmtime_component_val_t())
    missing = _record({"node": "fake.dev"})
    with pytest.raises(AttributeError, match="process"):
        address_plan.lower(missing, ffi.wasmtime_component_val_t())
