"""Host functions for components, with value marshalling planned once per function type.

Why not `LinkerInstance.add_func`: wasmtime-py 50 rebuilds the whole type tree of a function from the
C API on *every* call and asks the C API again for every record field, variant case and list element
while converting (profiled: ~1,400 Python calls and ~70% of the time of one `send-request` +
`receive`; a `list<u8>` body costs seconds per MB). It also keeps per-call scratch state in module
globals (`case_test_cache`, `LAST_EXCEPTION`) that threads running different processes share.

Here the type of each imported function is read once, when the runner loads the component, into a
tree of plain-Python *plans*; a call then only walks C values along its plan. The Python shapes are
exactly wasmtime-py's (so `wasm_values` and its tests stay the contract): a record is a
`wasmtime.component.Record` with kebab-case attributes, `option<T>` is None or the value, an enum is
its case name, `list<u8>` is `bytes`, and a variant/result is passed untagged when its cases have
distinct Python classes and as `Variant(tag, payload)` otherwise — decided once per type, with
wasmtime-py's own rule.

Memory ownership follows the C API (`wasmtime/component/val.h`, `linker.rs`): the arguments belong
to wasmtime, which drops them after the callback, so they are only read; the result is built with the
C API's allocators into a private value and moved into wasmtime's slot only when complete, so a
failure half-way leaks a little memory instead of handing wasmtime a half-initialised value.
"""

from __future__ import annotations

import ctypes
import itertools
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi  # the C API; wasmtime-py exposes no typed host functions
from wasmtime import component as wc
from wasmtime.component import Record, Variant

# A handler gets the lifted arguments and returns the value to lower (None for no result). It must
# not raise except to trap: a `WasmtimeError` traps with its message; anything else traps too.
Handler = Callable[..., Any]

_VALUE = ffi.wasmtime_component_val_t
_VALUE_SIZE = ctypes.sizeof(_VALUE)
_KIND_OFFSET: int = _VALUE.kind.offset  # type: ignore[attr-defined]
_U8_OFFSET: int = _VALUE.of.offset + ffi.wasmtime_component_valunion_t.u8.offset  # type: ignore[attr-defined]


def _kind(constant: Any) -> int:
    return int(constant.value)


BOOL, STRING, LIST, RECORD, TUPLE, VARIANT, ENUM, OPTION, RESULT = (
    _kind(ffi.WASMTIME_COMPONENT_BOOL),
    _kind(ffi.WASMTIME_COMPONENT_STRING),
    _kind(ffi.WASMTIME_COMPONENT_LIST),
    _kind(ffi.WASMTIME_COMPONENT_RECORD),
    _kind(ffi.WASMTIME_COMPONENT_TUPLE),
    _kind(ffi.WASMTIME_COMPONENT_VARIANT),
    _kind(ffi.WASMTIME_COMPONENT_ENUM),
    _kind(ffi.WASMTIME_COMPONENT_OPTION),
    _kind(ffi.WASMTIME_COMPONENT_RESULT),
)
U8 = _kind(ffi.WASMTIME_COMPONENT_U8)
_U8_KIND_BYTE = bytes([U8])


class UnsupportedType(TypeError):
    """A function type uses something this marshaller does not carry (resources, streams, flags)."""


def _check_kind(value: Any, kind: int, what: str) -> None:
    if value.kind != kind:
        raise TypeError(f"expected a {what} value from wasmtime, got kind {value.kind}")


def _read_name(vec: Any) -> str:
    size = vec.size
    return ctypes.string_at(vec.data, size).decode("utf-8") if size else ""


def _name_vec(text: str) -> Any:
    return _bytes_vec(text.encode("utf-8"))


def _bytes_vec(data: bytes) -> Any:
    """A `wasm_byte_vec_t` allocated by the C API (wasmtime frees it) holding `data`."""
    vec = ffi.wasm_byte_vec_t()
    ffi.wasm_byte_vec_new_uninitialized(ctypes.byref(vec), len(data))
    if data:
        ctypes.memmove(vec.data, data, len(data))
    return vec


def _boxed(plan: Plan, value: Any) -> Any:
    """A C-API box holding `value` lowered by `plan` (for variant/option/result payloads)."""
    payload = _VALUE()
    plan.lower(value, payload)
    return ffi.wasmtime_component_val_new(ctypes.byref(payload))


# --- plans ---------------------------------------------------------------------------------------


class Plan(ABC):
    """How one component value type travels: `lift` (C value → Python) and `lower` (Python → C)."""

    classes: tuple[type, ...] = ()  # the Python classes `lift` produces (wasmtime-py's add_classes)

    @abstractmethod
    def lift(self, value: Any) -> Any:
        """Read the C value `value` (a `wasmtime_component_val_t`) into its Python form."""

    @abstractmethod
    def lower(self, value: Any, target: Any) -> None:
        """Write the Python `value` into the C value `target`, allocating with the C API."""


class _Scalar(Plan):
    def __init__(self, kind: int, field: str, python: type, check: Callable[[Any], bool], what: str) -> None:
        self.kind, self.field, self.python, self.check, self.what = kind, field, python, check, what
        self.classes = (python,)

    def lift(self, value: Any) -> Any:
        _check_kind(value, self.kind, self.what)
        return getattr(value.of, self.field)

    def lower(self, value: Any, target: Any) -> None:
        if not isinstance(value, self.python) or not self.check(value):
            raise TypeError(f"expected {self.what}, got {value!r}")
        target.kind = self.kind
        setattr(target.of, self.field, value)


def _int_plan(kind: Any, field: str, low: int, high: int) -> _Scalar:
    return _Scalar(_kind(kind), field, int, lambda v: not isinstance(v, bool) and low <= v <= high, field)


_SCALARS: dict[type, Callable[[], Plan]] = {
    wc.Bool: lambda: _Scalar(BOOL, "boolean", bool, lambda v: True, "bool"),
    wc.U8: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U8, "u8", 0, 2**8 - 1),
    wc.U16: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U16, "u16", 0, 2**16 - 1),
    wc.U32: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U32, "u32", 0, 2**32 - 1),
    wc.U64: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U64, "u64", 0, 2**64 - 1),
    wc.S8: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S8, "s8", -(2**7), 2**7 - 1),
    wc.S16: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S16, "s16", -(2**15), 2**15 - 1),
    wc.S32: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S32, "s32", -(2**31), 2**31 - 1),
    wc.S64: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S64, "s64", -(2**63), 2**63 - 1),
    wc.F32: lambda: _Scalar(_kind(ffi.WASMTIME_COMPONENT_F32), "f32", float, lambda v: True, "f32"),
    wc.F64: lambda: _Scalar(_kind(ffi.WASMTIME_COMPONENT_F64), "f64", float, lambda v: True, "f64"),
}


class _String(Plan):
    classes = (str,)

    def lift(self, value: Any) -> str:
        _check_kind(value, STRING, "string")
        return _read_name(value.of.string)

    def lower(self, value: Any, target: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        target.kind = STRING
        target.of.string = _name_vec(value)


class _Bytes(Plan):
    """`list<u8>` as `bytes`, copied in bulk: each element is a 32-byte C value, read/written by stride."""

    classes = (bytes,)

    def lift(self, value: Any) -> bytes:
        _check_kind(value, LIST, "list<u8>")
        count = value.of.list.size
        if count == 0:
            return b""
        image = ctypes.string_at(value.of.list.data, count * _VALUE_SIZE)
        if image[_KIND_OFFSET::_VALUE_SIZE] != _U8_KIND_BYTE * count:
            raise TypeError("expected a list of u8 values from wasmtime")
        return image[_U8_OFFSET::_VALUE_SIZE]

    def lower(self, value: Any, target: Any) -> None:
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, got {type(value).__name__}")
        count = len(value)
        target.kind = LIST
        ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(target.of.list), count)
        if count:
            image = bytearray(count * _VALUE_SIZE)
            image[_KIND_OFFSET::_VALUE_SIZE] = _U8_KIND_BYTE * count
            image[_U8_OFFSET::_VALUE_SIZE] = value
            ctypes.memmove(target.of.list.data, (ctypes.c_char * len(image)).from_buffer(image), len(image))


class _List(Plan):
    classes = (list,)

    def __init__(self, element: Plan) -> None:
        self.element = element

    def lift(self, value: Any) -> list[Any]:
        _check_kind(value, LIST, "list")
        items = value.of.list
        lift = self.element.lift
        return [lift(items.data[index]) for index in range(items.size)]

    def lower(self, value: Any, target: Any) -> None:
        if not isinstance(value, list):
            raise TypeError(f"expected list, got {type(value).__name__}")
        target.kind = LIST
        ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(target.of.list), len(value))
        data = target.of.list.data
        lower = self.element.lower
        for index, item in enumerate(value):
            lower(item, data[index])


class _Record(Plan):
    classes = (Record,)

    def __init__(self, fields: list[tuple[str, Plan]]) -> None:
        self.fields = fields
        self.encoded_names = [name.encode("utf-8") for name, _ in fields]

    def lift(self, value: Any) -> Record:
        _check_kind(value, RECORD, "record")
        entries = value.of.record
        if entries.size != len(self.fields):
            raise TypeError(f"expected a record of {len(self.fields)} fields, got {entries.size}")
        record = Record()
        record.__dict__.update(
            (name, plan.lift(entries.data[index].val)) for index, (name, plan) in enumerate(self.fields)
        )
        return record

    def lower(self, value: Any, target: Any) -> None:
        target.kind = RECORD
        ffi.wasmtime_component_valrecord_new_uninit(ctypes.byref(target.of.record), len(self.fields))
        data = target.of.record.data
        for index, (name, plan) in enumerate(self.fields):
            entry = data[index]
            entry.name = _bytes_vec(self.encoded_names[index])
            plan.lower(getattr(value, name), entry.val)


class _Tuple(Plan):
    classes = (tuple,)

    def __init__(self, elements: list[Plan]) -> None:
        self.elements = elements

    def lift(self, value: Any) -> tuple[Any, ...]:
        _check_kind(value, TUPLE, "tuple")
        items = value.of.tuple
        if items.size != len(self.elements):
            raise TypeError(f"expected a tuple of {len(self.elements)}, got {items.size}")
        return tuple(plan.lift(items.data[index]) for index, plan in enumerate(self.elements))

    def lower(self, value: Any, target: Any) -> None:
        if not isinstance(value, tuple) or len(value) != len(self.elements):
            raise TypeError(f"expected a tuple of {len(self.elements)}, got {value!r}")
        target.kind = TUPLE
        ffi.wasmtime_component_valtuple_new_uninit(ctypes.byref(target.of.tuple), len(self.elements))
        data = target.of.tuple.data
        for index, (plan, item) in enumerate(zip(self.elements, value, strict=True)):
            plan.lower(item, data[index])


class _Enum(Plan):
    classes = (str,)

    def __init__(self, names: list[str]) -> None:
        self.names = frozenset(names)

    def lift(self, value: Any) -> str:
        _check_kind(value, ENUM, "enum")
        return _read_name(value.of.enumeration)

    def lower(self, value: Any, target: Any) -> None:
        if value not in self.names:
            raise TypeError(f"expected one of {sorted(self.names)}, got {value!r}")
        target.kind = ENUM
        target.of.enumeration = _name_vec(value)


class _Cases(Plan):
    """Variant, option and result: tagged or untagged exactly as wasmtime-py decides (`_tagged`)."""

    def __init__(self, cases: list[tuple[str, Plan | None]]) -> None:
        self.cases = cases
        seen: set[type] = set()
        self.tagged = False
        self.case_classes: list[tuple[type, ...]] = []
        for _, plan in cases:
            classes = (object,) if plan is None else plan.classes
            if seen & set(classes):
                self.tagged = True
            seen |= set(classes)
            self.case_classes.append(classes)
        self.classes = (Variant,) if self.tagged else tuple(seen)
        self.by_name = {name: (index, plan) for index, (name, plan) in enumerate(cases)}

    def _lift_case(self, name: str, payload: Any) -> Any:
        """`payload` is a C-value pointer (possibly NULL) holding the case's payload."""
        entry = self.by_name.get(name)
        if entry is None:
            raise TypeError(f"unknown case {name!r} from wasmtime")
        plan = entry[1]
        lifted = None if plan is None else plan.lift(payload.contents)
        return Variant(name, lifted) if self.tagged else lifted

    def _choose(self, value: Any) -> tuple[str, Plan | None, Any]:
        """The case for `value` (and its payload), with wasmtime-py's matching rules."""
        if self.tagged:
            if not isinstance(value, Variant) or value.tag not in self.by_name:
                raise TypeError(f"expected Variant with a tag in {list(self.by_name)}, got {value!r}")
            return value.tag, self.by_name[value.tag][1], value.payload
        for (name, plan), classes in zip(self.cases, self.case_classes, strict=True):
            if plan is None:
                if value is None:
                    return name, None, None
            elif isinstance(value, classes):
                return name, plan, value
        raise TypeError(f"value {value!r} matches no case of {[name for name, _ in self.cases]}")


class _Variant(_Cases):
    def lift(self, value: Any) -> Any:
        _check_kind(value, VARIANT, "variant")
        return self._lift_case(_read_name(value.of.variant.discriminant), value.of.variant.val)

    def lower(self, value: Any, target: Any) -> None:
        name, plan, payload = self._choose(value)
        target.kind = VARIANT
        target.of.variant.discriminant = _name_vec(name)
        target.of.variant.val = None if plan is None else _boxed(plan, payload)


class _Option(_Cases):
    def __init__(self, payload: Plan) -> None:
        super().__init__([("none", None), ("some", payload)])
        self.payload = payload

    def lift(self, value: Any) -> Any:
        _check_kind(value, OPTION, "option")
        inner = value.of.option
        return self._lift_case("some" if inner else "none", inner)

    def lower(self, value: Any, target: Any) -> None:
        _, plan, payload = self._choose(value)
        target.kind = OPTION
        target.of.option = None if plan is None else _boxed(plan, payload)


class _Result(_Cases):
    def __init__(self, ok: Plan | None, err: Plan | None) -> None:
        super().__init__([("ok", ok), ("err", err)])

    def lift(self, value: Any) -> Any:
        _check_kind(value, RESULT, "result")
        result = value.of.result
        return self._lift_case("ok" if result.is_ok else "err", result.val)

    def lower(self, value: Any, target: Any) -> None:
        name, plan, payload = self._choose(value)
        target.kind = RESULT
        target.of.result.is_ok = name == "ok"
        target.of.result.val = None if plan is None else _boxed(plan, payload)


def plan_for(value_type: Any) -> Plan:
    """The plan for a wasmtime-py value type (read from the C API once, here)."""
    for cls, make in _SCALARS.items():
        if isinstance(value_type, cls):
            return make()
    if isinstance(value_type, wc.String):
        return _String()
    if isinstance(value_type, wc.ListType):
        element = value_type.element
        return _Bytes() if isinstance(element, wc.U8) else _List(plan_for(element))
    if isinstance(value_type, wc.RecordType):
        return _Record([(name, plan_for(field)) for name, field in value_type.fields])
    if isinstance(value_type, wc.TupleType):
        return _Tuple([plan_for(element) for element in value_type.elements])
    if isinstance(value_type, wc.VariantType):
        return _Variant([(name, None if case is None else plan_for(case)) for name, case in value_type.cases])
    if isinstance(value_type, wc.EnumType):
        return _Enum(value_type.names)
    if isinstance(value_type, wc.OptionType):
        return _Option(plan_for(value_type.payload))
    if isinstance(value_type, wc.ResultType):
        ok, err = value_type.ok, value_type.err
        return _Result(None if ok is None else plan_for(ok), None if err is None else plan_for(err))
    raise UnsupportedType(f"{type(value_type).__name__} values are not supported in host functions")


class FunctionPlan:
    """The parameter and result plans of one imported function."""

    def __init__(self, func_type: wc.FuncType) -> None:
        self.params = [plan_for(value_type) for _, value_type in func_type.params]
        result = func_type.result
        self.result = None if result is None else plan_for(result)


# --- host functions ------------------------------------------------------------------------------

_handlers: dict[int, tuple[FunctionPlan, Handler]] = {}
_handles = itertools.count(1)


def _error_pointer(message: str) -> int:
    pointer = ffi.wasmtime_error_new(message.encode("utf-8", errors="replace"))
    return ctypes.cast(pointer, ctypes.c_void_p).value or 0


@ffi.wasmtime_component_func_callback_t  # type: ignore[misc]
def _dispatch(
    data: int | None, _context: Any, _type: Any, args: Any, nargs: int, results: Any, nresults: int
) -> int:
    try:
        plan, handler = _handlers[data or 0]
        if nargs != len(plan.params) or nresults != (0 if plan.result is None else 1):
            return _error_pointer("host function called with an unexpected signature")
        returned = handler(*[param.lift(args[index]) for index, param in enumerate(plan.params)])
        if plan.result is not None:
            built = _VALUE()
            plan.result.lower(returned, built)
            ctypes.memmove(results, ctypes.byref(built), _VALUE_SIZE)  # the slot holds Bool(false)
        return 0
    except wasmtime.WasmtimeError as exc:
        return _error_pointer(str(exc))
    except BaseException as exc:  # never unwind through the C callback
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _error_pointer(f"host function failed: {detail}")


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _forget(data: int | None) -> None:
    _handlers.pop(data or 0, None)


def define(instance: wc.LinkerInstance, name: str, plan: FunctionPlan, handler: Handler) -> None:
    """Define `name` in `instance` (a linker instance) as `handler`, marshalled by `plan`.

    Handlers run on the thread that called into wasm. They are forgotten when wasmtime drops the
    linker's definition (the finalizer).
    """
    handle = next(_handles)
    _handlers[handle] = (plan, handler)
    encoded = name.encode("utf-8")
    error = ffi.wasmtime_component_linker_instance_add_func(
        instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), _dispatch, handle, _forget
    )
    if error:
        _handlers.pop(handle, None)
        raise wasmtime.WasmtimeError._from_ptr(error)


def imported_functions(
    component: wc.Component, engine: wasmtime.Engine, interface: str
) -> dict[str, FunctionPlan]:
    """Plans for every function `component` imports from `interface` (empty if it imports none)."""
    imports = component.type.imports(engine)
    extern = imports.get(interface)
    if extern is None:
        return {}
    instance_type = extern.ty
    if not isinstance(instance_type, wc.ComponentInstanceType):
        raise UnsupportedType(f"{interface} is imported as {type(instance_type).__name__}, not an instance")
    plans = {}
    for name, member in instance_type.exports(engine).items():
        func_type = member.ty
        if isinstance(func_type, wc.FuncType):
            plans[name] = FunctionPlan(func_type)
    return plans
