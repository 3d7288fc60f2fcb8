"""The marshaller's plans: the same Python shapes as wasmtime-py, carried through real C values.

Plans come from the mirror component's own imports (the `standard` interface as componentize-py
compiled it). Each value is lowered into a C value and lifted back; the tagging decisions are
compared with wasmtime-py's rule applied to the same types.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import pytest
from wasmtime import _ffi as ffi
from wasmtime.component import Record, Variant

from hyperpy.node.runners import wasm_marshal
from hyperpy.node.runners import wasm_values as values
from hyperpy.node.runners.compile_cache import CompileCache
from hyperpy.node.runners.component import STANDARD_FUNCTIONS, STANDARD_INTERFACE
from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    OnExit_Requests,
    ProcessId,
    Request,
    Response,
    SendError,
    SendErrorKind,
    SpawnError,
)

ADDRESS = Address("fake.dev", ProcessId("p", "k", "sys"))
REQUEST = Request(True, 2**64 - 1, bytes(range(256)) * 3, "m", [Capability(ADDRESS, '"messaging"')])
RESPONSE = Response(False, b"", None, [])
BLOB = LazyLoadBlob(None, b"\x00\xff")


@pytest.fixture(scope="module")
def plans(mirror_wasm: Path, compiled_cache_dir: Path) -> dict[str, wasm_marshal.FunctionPlan]:
    cache = CompileCache(compiled_cache_dir)
    component = cache.load(mirror_wasm.read_bytes())
    return wasm_marshal.imported_functions(component, cache.engine, STANDARD_INTERFACE)


def round_trip(plan: wasm_marshal.Plan, value: Any) -> Any:
    slot = ffi.wasmtime_component_val_t()
    plan.lower(value, slot)
    try:
        return plan.lift(slot)
    finally:
        ffi.wasmtime_component_val_delete(ctypes.byref(slot))


def test_the_mirror_imports_every_standard_function(plans: dict[str, wasm_marshal.FunctionPlan]) -> None:
    assert sorted(plans) == sorted(STANDARD_FUNCTIONS)


def test_tagging_matches_wasmtime_py(
    plans: dict[str, wasm_marshal.FunctionPlan], mirror_wasm: Path, compiled_cache_dir: Path
) -> None:
    """A variant is tagged here exactly when wasmtime-py would tag it (its `_tagged` rule)."""
    cache = CompileCache(compiled_cache_dir)
    component = cache.load(mirror_wasm.read_bytes())
    standard = component.type.imports(cache.engine)[STANDARD_INTERFACE].ty
    for name, extern in standard.exports(cache.engine).items():
        func_type = extern.ty
        if name not in plans:  # a type export (node-id, address, ...), not a function
            continue
        plan = plans[name]
        pairs = list(zip([t for _, t in func_type.params], plan.params, strict=True))
        if func_type.result is not None:
            pairs.append((func_type.result, plan.result))
        for value_type, value_plan in pairs:
            _compare_tagging(value_type, value_plan)


def _compare_tagging(value_type: Any, plan: Any) -> None:
    if hasattr(value_type, "_tagged"):
        assert plan.tagged == value_type._tagged(), type(value_type).__name__
    children: list[tuple[Any, Any]] = []
    if hasattr(value_type, "fields"):
        children = [(t, p) for (_, t), (_, p) in zip(value_type.fields, plan.fields, strict=True)]
    elif hasattr(value_type, "elements"):
        children = list(zip(value_type.elements, plan.elements, strict=True))
    elif hasattr(value_type, "element") and hasattr(plan, "element"):
        children = [(value_type.element, plan.element)]
    elif hasattr(plan, "cases"):
        types = [t for _, t in value_type._cases()]
        children = [(t, p) for t, (_, p) in zip(types, plan.cases, strict=True) if t is not None]
    for child_type, child_plan in children:
        _compare_tagging(child_type, child_plan)


@pytest.mark.parametrize(
    ("function", "index", "value"),
    [
        ("send-request", 0, values.lower_address(ADDRESS)),
        ("send-request", 1, values.lower_request(REQUEST)),
        ("send-request", 2, b"context"),
        ("send-request", 2, None),
        ("send-request", 3, values.lower_blob(BLOB)),
        ("set-on-exit", 0, values.lower_on_exit(OnExit_Requests([(ADDRESS, REQUEST, None)]))),
        ("spawn", 0, None),
        ("spawn", 0, "child"),
        ("spawn", 5, True),
        ("print-to-terminal", 0, 255),
        ("print-to-terminal", 1, "ünïcødé"),
    ],
)
def test_parameters_round_trip(
    plans: dict[str, wasm_marshal.FunctionPlan], function: str, index: int, value: Any
) -> None:
    assert round_trip(plans[function].params[index], value) == value


@pytest.mark.parametrize(
    ("function", "value"),
    [
        ("receive", values.lower_receive_ok((ADDRESS, Message_Request(REQUEST)))),
        ("receive", values.lower_receive_ok((ADDRESS, Message_Response((RESPONSE, b"ctx"))))),
        (
            "receive",
            values.lower_receive_err(
                (SendError(SendErrorKind.TIMEOUT, ADDRESS, Message_Request(REQUEST), BLOB), None)
            ),
        ),
        ("send-and-await-response", values.lower_incoming((ADDRESS, Message_Response((RESPONSE, None))))),
        (
            "send-and-await-response",
            values.lower_send_error(
                SendError(SendErrorKind.OFFLINE, ADDRESS, Message_Request(REQUEST), None)
            ),
        ),
        ("spawn", values.lower_process_id(ADDRESS.process)),
        ("spawn", values.lower_spawn_error(SpawnError.NAME_TAKEN)),
        ("get-state", None),
        ("get-state", b""),
        ("get-state", b"\x00" * 100_000),
        ("our-capabilities", []),
    ],
)
def test_results_round_trip(plans: dict[str, wasm_marshal.FunctionPlan], function: str, value: Any) -> None:
    result = plans[function].result
    assert result is not None
    assert round_trip(result, value) == value


def test_untagged_and_tagged_shapes(plans: dict[str, wasm_marshal.FunctionPlan]) -> None:
    receive, spawn = plans["receive"].result, plans["spawn"].result
    assert receive is not None and spawn is not None
    assert isinstance(
        round_trip(receive, Variant("ok", values.lower_incoming((ADDRESS, Message_Request(REQUEST))))),
        Variant,
    )
    assert isinstance(round_trip(spawn, values.lower_process_id(ADDRESS.process)), Record)
    assert round_trip(spawn, "no-file-at-path") == "no-file-at-path"


@pytest.mark.parametrize(
    ("function", "index", "value", "message"),
    [
        ("print-to-terminal", 0, 256, "expected u8"),
        ("print-to-terminal", 0, True, "expected u8"),
        ("spawn", 0, 5, "matches no case"),
        ("send-request", 2, "text", "matches no case"),
        ("set-on-exit", 0, Variant("sometimes"), "expected Variant with a tag in"),
        ("send-request", 1, values.lower_address(ADDRESS), "has no attribute"),
    ],
)
def test_values_of_the_wrong_shape_are_refused(
    plans: dict[str, wasm_marshal.FunctionPlan], function: str, index: int, value: Any, message: str
) -> None:
    with pytest.raises((TypeError, AttributeError), match=message):
        plans[function].params[index].lower(value, ffi.wasmtime_component_val_t())


def test_spawn_error_names_are_the_wit_enum(plans: dict[str, wasm_marshal.FunctionPlan]) -> None:
    spawn = plans["spawn"].result
    assert spawn is not None
    with pytest.raises(TypeError, match="matches no case"):
        spawn.lower(SpawnError.NAME_TAKEN, ffi.wasmtime_component_val_t())
