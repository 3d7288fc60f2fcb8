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

How a call stays cheap (issue 18: lowering a `receive` result took ~45 C calls, ~47 µs):

* C values are read and written in place through one `memoryview` of the address space with
  precompiled `struct` layouts (`wasmtime/component/val.h`: a 32-byte value, kind byte at 0, payload
  at 8; a record entry is a 16-byte name then the value), not through ctypes structure objects;
* the only C calls left are the C API's allocators and `wasmtime_component_val_clone`, bound through
  `ctypes.PyDLL` so they keep the GIL: they are a few hundred nanoseconds of malloc and memcpy, and
  releasing the GIL on each made every one a chance for another thread to take it (a cross-core
  hand-off). Calls *into* wasm still go through wasmtime-py and release the GIL, as they must;
* every record, tuple and variant case has a pre-built *template* (its field names, boxes and nested
  fixed-shape records already allocated) that one `val_clone` copies into place; the fields are
  then written over placeholders;
* records made only of strings (process ids, addresses, capabilities) keep a bounded LRU cache of
  their lowered form (`LoweredCache`), keyed by their field values, outside the value objects: a
  recurring address lowers as one `val_clone`.

Memory ownership follows the C API (`wasmtime/component/val.h`, `linker.rs`): the arguments belong
to wasmtime, which drops them after the callback, so they are only read; the result is built with the
C API's allocators into a private value and moved into wasmtime's slot only when complete. Every
step keeps the private value a valid tree (placeholders are `bool` false, new list elements are
zeroed before they count), so a failure half-way frees it with `val_delete` instead of handing
wasmtime a half-initialised value.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import struct
import sys
import threading
import traceback
from abc import ABC, abstractmethod
from collections import OrderedDict
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
_ENTRY_SIZE = ctypes.sizeof(ffi.wasmtime_component_valrecord_entry_t)
_ENTRY_VALUE: int = ffi.wasmtime_component_valrecord_entry_t.val.offset  # type: ignore[attr-defined]
_KIND_OFFSET: int = _VALUE.kind.offset  # type: ignore[attr-defined]
_PAYLOAD: int = _VALUE.of.offset  # type: ignore[attr-defined]
_U8_OFFSET: int = _PAYLOAD + ffi.wasmtime_component_valunion_t.u8.offset  # type: ignore[attr-defined]
if (_VALUE_SIZE, _ENTRY_SIZE, _ENTRY_VALUE, _KIND_OFFSET, _PAYLOAD) != (32, 48, 16, 0, 8):
    raise ImportError("wasmtime's component value layout changed; update hyperpy's wasm_marshal")

# The whole address space as bytes: C values are read and written in place with `struct`.
_MEMORY = memoryview((ctypes.c_char * (sys.maxsize // 2)).from_address(0)).cast("B")
_KIND = struct.Struct("<B")
_VECTOR = struct.Struct("<B7xQQ")  # kind, size, data: string, enum, list, record, tuple
_VARIANT = struct.Struct("<B7xQQQ")  # kind, discriminant size, discriminant data, payload box
_OPTION = struct.Struct("<B7xQ")  # kind, payload box (NULL for none)
_RESULT = struct.Struct("<B7x?7xQ")  # kind, is_ok, payload box (NULL when the case has none)
_POINTER = struct.Struct("<Q")


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

# The C API's allocators, bound again through PyDLL so that calling them keeps the GIL (see the
# module docstring). Same shared object as wasmtime-py's, so the same allocator.
_LIBRARY = ctypes.PyDLL(ffi.dll._name)


def _bind(name: str, restype: Any, *argtypes: Any) -> Any:
    function = getattr(_LIBRARY, name)
    function.restype, function.argtypes = restype, list(argtypes)
    return function


_Pointer, _Size = ctypes.c_void_p, ctypes.c_size_t
_byte_vec_new = _bind("wasm_byte_vec_new", None, _Pointer, _Size, ctypes.c_char_p)
_list_new = _bind("wasmtime_component_vallist_new_uninit", None, _Pointer, _Size)
_record_new = _bind("wasmtime_component_valrecord_new_uninit", None, _Pointer, _Size)
_tuple_new = _bind("wasmtime_component_valtuple_new_uninit", None, _Pointer, _Size)
_box = _bind("wasmtime_component_val_new", _Pointer, _Pointer)  # moves the value given into a box
_clone = _bind("wasmtime_component_val_clone", None, _Pointer, _Pointer)
_delete = _bind("wasmtime_component_val_delete", None, _Pointer)


class UnsupportedType(TypeError):
    """A function type uses something this marshaller does not carry (resources, streams, flags)."""


def _wrong_kind(kind: int, what: str) -> TypeError:
    return TypeError(f"expected a {what} value from wasmtime, got kind {kind}")


def _text(size: int, data: int) -> str:
    return str(_MEMORY[data : data + size], "utf-8") if size else ""


def _pointer_at(address: int) -> int:
    pointer: int = _POINTER.unpack_from(_MEMORY, address)[0]
    return pointer


def _zeroed_list(address: int, count: int, new: Any, stride: int) -> int:
    """Allocate `count` elements at `address + 8` with `new`, zero them, return their address."""
    new(address + _PAYLOAD, count)
    data = _pointer_at(address + _PAYLOAD + 8)
    if count:
        _MEMORY[data : data + count * stride] = bytes(count * stride)
    return data


class _Owned:
    """A C value owned by Python (a template or a cache entry), freed with the C API when dropped."""

    __slots__ = ("address", "storage")

    def __init__(self) -> None:
        self.storage = _VALUE()
        self.address: int = ctypes.addressof(self.storage)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown the library may be gone
            _delete(self.address)


# --- plans ---------------------------------------------------------------------------------------


class Plan(ABC):
    """How one component value type travels: `lift` (C value → Python) and `lower` (Python → C).

    The work is done on addresses (`lift_at`, `lower_at`); `lift`/`lower` take a ctypes
    `wasmtime_component_val_t`. A plan whose values have a fixed shape (record, tuple) also has a
    `template`: a parent embeds a copy of it in its own template and then calls `fill_at`, which
    writes only the fields.
    """

    classes: tuple[type, ...] = ()  # the Python classes `lift` produces (wasmtime-py's add_classes)
    template: _Owned | None = None  # set when a parent may embed this plan's shape (see fill_at)

    def lift(self, value: Any) -> Any:
        """Read the C value `value` (a `wasmtime_component_val_t`) into its Python form."""
        return self.lift_at(ctypes.addressof(value))

    def lower(self, value: Any, target: Any) -> None:
        """Write the Python `value` into the C value `target`, allocating with the C API."""
        self.lower_at(value, ctypes.addressof(target))

    @abstractmethod
    def lift_at(self, address: int) -> Any:
        """Read the C value at `address`."""

    @abstractmethod
    def lower_at(self, value: Any, address: int) -> None:
        """Write `value` as a C value at `address`, which holds a value that owns nothing."""

    def fill_at(self, value: Any, address: int) -> None:
        """Write `value` at `address`, which holds a copy of `self.template` (plans that have one)."""
        self.lower_at(value, address)


def _embed(plan: Plan, address: int) -> None:
    """Put `plan`'s template (if it has one) at `address` inside a template being built."""
    if plan.template is not None:
        _clone(plan.template.address, address)


def _writer(plan: Plan) -> Callable[[Any, int], None]:
    """How a parent whose template embeds `plan`'s writes a value of it."""
    return plan.fill_at if plan.template is not None else plan.lower_at


class _Scalar(Plan):
    def __init__(self, kind: int, code: str, python: Any, check: Callable[[Any], bool], what: str) -> None:
        self.kind, self.python, self.check, self.what = kind, python, check, what
        self.layout = struct.Struct(f"<B7x{code}")
        self.classes = (python,)
        self.narrow = code == "f"  # f32: ctypes rounding, infinities past its range (like wasmtime-py)

    def lift_at(self, address: int) -> Any:
        kind, value = self.layout.unpack_from(_MEMORY, address)
        if kind != self.kind:
            raise _wrong_kind(kind, self.what)
        return value

    def lower_at(self, value: Any, address: int) -> None:
        if not isinstance(value, self.python) or not self.check(value):
            raise TypeError(f"expected {self.what}, got {value!r}")
        packed: Any = ctypes.c_float(value).value if self.narrow else value
        self.layout.pack_into(_MEMORY, address, self.kind, packed)


def _int_plan(kind: Any, code: str, what: str, low: int, high: int) -> _Scalar:
    return _Scalar(_kind(kind), code, int, lambda v: not isinstance(v, bool) and low <= v <= high, what)


_SCALARS: dict[type, Callable[[], Plan]] = {
    wc.Bool: lambda: _Scalar(BOOL, "?", bool, lambda v: True, "bool"),
    wc.U8: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U8, "B", "u8", 0, 2**8 - 1),
    wc.U16: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U16, "H", "u16", 0, 2**16 - 1),
    wc.U32: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U32, "I", "u32", 0, 2**32 - 1),
    wc.U64: lambda: _int_plan(ffi.WASMTIME_COMPONENT_U64, "Q", "u64", 0, 2**64 - 1),
    wc.S8: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S8, "b", "s8", -(2**7), 2**7 - 1),
    wc.S16: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S16, "h", "s16", -(2**15), 2**15 - 1),
    wc.S32: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S32, "i", "s32", -(2**31), 2**31 - 1),
    wc.S64: lambda: _int_plan(ffi.WASMTIME_COMPONENT_S64, "q", "s64", -(2**63), 2**63 - 1),
    wc.F32: lambda: _Scalar(_kind(ffi.WASMTIME_COMPONENT_F32), "f", float, lambda v: True, "f32"),
    wc.F64: lambda: _Scalar(_kind(ffi.WASMTIME_COMPONENT_F64), "d", float, lambda v: True, "f64"),
}


class _String(Plan):
    """A string (and, as `_Enum`, an enum's case name): a byte vector after the kind byte."""

    classes = (str,)
    kind, what = STRING, "string"

    def lift_at(self, address: int) -> str:
        kind, size, data = _VECTOR.unpack_from(_MEMORY, address)
        if kind != self.kind:
            raise _wrong_kind(kind, self.what)
        return _text(size, data)

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")

    def lower_at(self, value: Any, address: int) -> None:
        self.check(value)
        encoded = value.encode("utf-8")
        _byte_vec_new(address + _PAYLOAD, len(encoded), encoded)  # one call: allocate and copy
        _KIND.pack_into(_MEMORY, address, self.kind)


class _Bytes(Plan):
    """`list<u8>` as `bytes`, copied in bulk: each element is a 32-byte C value, read/written by stride."""

    classes = (bytes,)

    def lift_at(self, address: int) -> bytes:
        kind, count, data = _VECTOR.unpack_from(_MEMORY, address)
        if kind != LIST:
            raise _wrong_kind(kind, "list<u8>")
        if count == 0:
            return b""
        image = _MEMORY[data : data + count * _VALUE_SIZE].tobytes()
        if image[_KIND_OFFSET::_VALUE_SIZE] != _U8_KIND_BYTE * count:
            raise TypeError("expected a list of u8 values from wasmtime")
        return image[_U8_OFFSET::_VALUE_SIZE]

    def lower_at(self, value: Any, address: int) -> None:
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, got {type(value).__name__}")
        count = len(value)
        _list_new(address + _PAYLOAD, count)
        if count:
            image = bytearray(count * _VALUE_SIZE)
            image[_KIND_OFFSET::_VALUE_SIZE] = _U8_KIND_BYTE * count
            image[_U8_OFFSET::_VALUE_SIZE] = value
            data = _pointer_at(address + _PAYLOAD + 8)
            _MEMORY[data : data + len(image)] = image
        _KIND.pack_into(_MEMORY, address, LIST)


class _List(Plan):
    classes = (list,)

    def __init__(self, element: Plan) -> None:
        self.element = element

    def lift_at(self, address: int) -> list[Any]:
        kind, count, data = _VECTOR.unpack_from(_MEMORY, address)
        if kind != LIST:
            raise _wrong_kind(kind, "list")
        lift = self.element.lift_at
        return [lift(data + index * _VALUE_SIZE) for index in range(count)]

    def lower_at(self, value: Any, address: int) -> None:
        if not isinstance(value, list):
            raise TypeError(f"expected list, got {type(value).__name__}")
        data = _zeroed_list(address, len(value), _list_new, _VALUE_SIZE)
        _KIND.pack_into(_MEMORY, address, LIST)
        lower = self.element.lower_at
        for index, item in enumerate(value):
            lower(item, data + index * _VALUE_SIZE)


class LoweredCache:
    """A bounded cache of lowered values (least recently used out first), kept apart from the values.

    Keys are the values' contents (tuples of strings), entries are C values this cache owns; a hit
    is copied into place with one `val_clone`. Shared by the threads running processes of one
    component, hence the lock: an entry must not be freed by an eviction while another thread copies
    it (the copy itself keeps the GIL, but the lookup before it does not).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a LoweredCache holds at least one value")
        self.capacity = capacity
        self._entries: OrderedDict[Any, _Owned] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def copy_into(self, key: Any, address: int) -> bool:
        """Clone the value cached under `key` to `address`; False (nothing written) if absent."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False
            self._entries.move_to_end(key)
            _clone(entry.address, address)
            return True

    def keep(self, key: Any, address: int) -> None:
        """Cache a copy of the complete C value at `address` under `key`."""
        entry = _Owned()
        _clone(address, entry.address)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)  # _Owned.__del__ frees the C value


LOWERED_CACHE_SIZE = 256  # distinct addresses/capabilities per record type a component's host sees


def _keyer(plan: Plan) -> Callable[[Any], Any] | None:
    """The cache key of a value of `plan` when its lowered form depends on strings only, else None."""
    if isinstance(plan, _String):  # and _Enum
        return lambda value: value if isinstance(value, str) else _no_key()
    if isinstance(plan, _Record):
        parts = [(name, _keyer(field)) for name, field in plan.fields]
        if not parts or any(keyer is None for _, keyer in parts):
            return None
        keyers = [(name, keyer) for name, keyer in parts if keyer is not None]
        return lambda value: tuple(keyer(getattr(value, name)) for name, keyer in keyers)
    return None


class _NoKey(Exception):
    """The value cannot be a cache key (wrong type): lower it the plain way, which reports why."""


def _no_key() -> Any:
    raise _NoKey


class _Record(Plan):
    classes = (Record,)

    def __init__(self, fields: list[tuple[str, Plan]]) -> None:
        self.fields = fields
        self.writers = [(name, _writer(plan)) for name, plan in fields]
        self.lifters = [
            (name, plan.lift_at, index * _ENTRY_SIZE + _ENTRY_VALUE)
            for index, (name, plan) in enumerate(fields)
        ]
        self.key = _keyer(self)
        self.cache = LoweredCache(LOWERED_CACHE_SIZE) if self.key is not None else None
        # The template: names allocated, fixed-shape fields embedded, the rest `bool` placeholders.
        # A cached record is cloned whole (from the cache or its template), never embedded.
        template = _Owned()
        data = _zeroed_list(template.address, len(fields), _record_new, _ENTRY_SIZE)
        for index, (name, plan) in enumerate(fields):
            encoded = name.encode("utf-8")
            _byte_vec_new(data + index * _ENTRY_SIZE, len(encoded), encoded)
            _embed(plan, data + index * _ENTRY_SIZE + _ENTRY_VALUE)
        _KIND.pack_into(_MEMORY, template.address, RECORD)
        self.own_template = template
        self.template = None if self.cache is not None else template

    def lift_at(self, address: int) -> Record:
        kind, count, data = _VECTOR.unpack_from(_MEMORY, address)
        if kind != RECORD:
            raise _wrong_kind(kind, "record")
        if count != len(self.fields):
            raise TypeError(f"expected a record of {len(self.fields)} fields, got {count}")
        record = Record()
        record.__dict__.update((name, lift(data + offset)) for name, lift, offset in self.lifters)
        return record

    def lower_at(self, value: Any, address: int) -> None:
        if self.cache is None or self.key is None:
            _clone(self.own_template.address, address)
            self.fill_at(value, address)
            return
        try:
            key = self.key(value)
            hash(key)
        except (_NoKey, TypeError):
            key = None
        if key is not None and self.cache.copy_into(key, address):
            return
        _clone(self.own_template.address, address)
        self.fill_at(value, address)
        if key is not None:
            self.cache.keep(key, address)

    def fill_at(self, value: Any, address: int) -> None:
        data = _pointer_at(address + _PAYLOAD + 8)
        for index, (name, write) in enumerate(self.writers):
            write(getattr(value, name), data + index * _ENTRY_SIZE + _ENTRY_VALUE)


class _Tuple(Plan):
    classes = (tuple,)

    def __init__(self, elements: list[Plan]) -> None:
        self.elements = elements
        self.writers = [_writer(plan) for plan in elements]
        template = _Owned()
        data = _zeroed_list(template.address, len(elements), _tuple_new, _VALUE_SIZE)
        for index, plan in enumerate(elements):
            _embed(plan, data + index * _VALUE_SIZE)
        _KIND.pack_into(_MEMORY, template.address, TUPLE)
        self.template = template

    def lift_at(self, address: int) -> tuple[Any, ...]:
        kind, count, data = _VECTOR.unpack_from(_MEMORY, address)
        if kind != TUPLE:
            raise _wrong_kind(kind, "tuple")
        if count != len(self.elements):
            raise TypeError(f"expected a tuple of {len(self.elements)}, got {count}")
        return tuple(plan.lift_at(data + index * _VALUE_SIZE) for index, plan in enumerate(self.elements))

    def lower_at(self, value: Any, address: int) -> None:
        self._check(value)
        assert self.template is not None
        _clone(self.template.address, address)
        self.fill_at(value, address)

    def _check(self, value: Any) -> None:
        if not isinstance(value, tuple) or len(value) != len(self.elements):
            raise TypeError(f"expected a tuple of {len(self.elements)}, got {value!r}")

    def fill_at(self, value: Any, address: int) -> None:
        self._check(value)
        data = _pointer_at(address + _PAYLOAD + 8)
        for index, (write, item) in enumerate(zip(self.writers, value, strict=True)):
            write(item, data + index * _VALUE_SIZE)


class _Enum(_String):
    kind, what = ENUM, "enum"

    def __init__(self, names: list[str]) -> None:
        self.names = frozenset(names)

    def check(self, value: Any) -> None:
        if value not in self.names:
            raise TypeError(f"expected one of {sorted(self.names)}, got {value!r}")


def _boxed_template(plan: Plan | None) -> int:
    """A new C-API box (for a case template) holding `plan`'s template or a placeholder; 0 for none."""
    if plan is None:
        return 0
    placeholder = _VALUE()  # `bool` false, moved into the box
    box: int = _box(ctypes.addressof(placeholder))
    _embed(plan, box)
    return box


class _Cases(Plan):
    """Variant, option and result: tagged or untagged exactly as wasmtime-py decides (`_tagged`).

    Each case with a payload has a template (for a variant also its discriminant name) whose box
    holds the payload's template; a lowering clones it and writes the payload into the box.
    """

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
        self.writers = {name: None if plan is None else _writer(plan) for name, plan in cases}
        self.templates = {name: self._case_template(name, plan) for name, plan in cases}

    @abstractmethod
    def _case_template(self, name: str, plan: Plan | None) -> _Owned | None:
        """The pre-built C value of case `name` (None when the case is written without one)."""

    def _lift_case(self, name: str, payload: int) -> Any:
        """`payload` is the address (possibly 0) of the case's payload."""
        entry = self.by_name.get(name)
        if entry is None:
            raise TypeError(f"unknown case {name!r} from wasmtime")
        plan = entry[1]
        lifted = None if plan is None else plan.lift_at(payload)
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

    def _write_case(self, value: Any, address: int, box_at: int) -> str:
        """Clone the template of `value`'s case to `address` and write its payload; its name."""
        name, _plan, payload = self._choose(value)
        template = self.templates[name]
        if template is None:
            return name
        _clone(template.address, address)
        write = self.writers[name]
        if write is not None:
            write(payload, _pointer_at(address + box_at))
        return name


class _Variant(_Cases):
    def _case_template(self, name: str, plan: Plan | None) -> _Owned | None:
        template = _Owned()
        encoded = name.encode("utf-8")
        _byte_vec_new(template.address + _PAYLOAD, len(encoded), encoded)
        _POINTER.pack_into(_MEMORY, template.address + _PAYLOAD + 16, _boxed_template(plan))
        _KIND.pack_into(_MEMORY, template.address, VARIANT)
        return template

    def lift_at(self, address: int) -> Any:
        kind, size, data, payload = _VARIANT.unpack_from(_MEMORY, address)
        if kind != VARIANT:
            raise _wrong_kind(kind, "variant")
        return self._lift_case(_text(size, data), payload)

    def lower_at(self, value: Any, address: int) -> None:
        self._write_case(value, address, _PAYLOAD + 16)


class _Option(_Cases):
    def __init__(self, payload: Plan) -> None:
        super().__init__([("none", None), ("some", payload)])
        self.payload = payload

    def _case_template(self, name: str, plan: Plan | None) -> _Owned | None:
        if plan is None:
            return None
        template = _Owned()
        _OPTION.pack_into(_MEMORY, template.address, OPTION, _boxed_template(plan))
        return template

    def lift_at(self, address: int) -> Any:
        kind, payload = _OPTION.unpack_from(_MEMORY, address)
        if kind != OPTION:
            raise _wrong_kind(kind, "option")
        return self._lift_case("some" if payload else "none", payload)

    def lower_at(self, value: Any, address: int) -> None:
        if self._write_case(value, address, _PAYLOAD) == "none":
            _OPTION.pack_into(_MEMORY, address, OPTION, 0)


class _Result(_Cases):
    def __init__(self, ok: Plan | None, err: Plan | None) -> None:
        super().__init__([("ok", ok), ("err", err)])

    def _case_template(self, name: str, plan: Plan | None) -> _Owned | None:
        if plan is None:
            return None
        template = _Owned()
        _RESULT.pack_into(_MEMORY, template.address, RESULT, name == "ok", _boxed_template(plan))
        return template

    def lift_at(self, address: int) -> Any:
        kind, is_ok, payload = _RESULT.unpack_from(_MEMORY, address)
        if kind != RESULT:
            raise _wrong_kind(kind, "result")
        return self._lift_case("ok" if is_ok else "err", payload)

    def lower_at(self, value: Any, address: int) -> None:
        name = self._write_case(value, address, _PAYLOAD + 8)
        if self.templates[name] is None:
            _RESULT.pack_into(_MEMORY, address, RESULT, name == "ok", 0)


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
        self.lifters = [param.lift_at for param in self.params]
        result = func_type.result
        self.result = None if result is None else plan_for(result)


# --- host functions ------------------------------------------------------------------------------

_handlers: dict[int, tuple[FunctionPlan, Handler]] = {}
_handles = itertools.count(1)


def _error_pointer(message: str) -> int:
    pointer = ffi.wasmtime_error_new(message.encode("utf-8", errors="replace"))
    return ctypes.cast(pointer, ctypes.c_void_p).value or 0


# The C callback type with plain addresses (wasmtime-py's declares typed pointers, which cost a
# ctypes object each per call); cast to wasmtime-py's type where it is registered.
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_size_t,
)


@_CALLBACK
def _dispatch(
    data: int | None,
    _context: Any,
    _type: Any,
    args: int | None,
    nargs: int,
    results: int | None,
    nresults: int,
) -> int:
    try:
        plan, handler = _handlers[data or 0]
        if nargs != len(plan.params) or nresults != (0 if plan.result is None else 1):
            return _error_pointer("host function called with an unexpected signature")
        base = args or 0
        returned = handler(*[lift(base + index * _VALUE_SIZE) for index, lift in enumerate(plan.lifters)])
        if plan.result is not None and results:
            built = _VALUE()  # private until complete; the slot holds Bool(false)
            address = ctypes.addressof(built)
            try:
                plan.result.lower_at(returned, address)
            except BaseException:
                _delete(address)  # a valid tree at every step (see the module docstring)
                raise
            _MEMORY[results : results + _VALUE_SIZE] = _MEMORY[address : address + _VALUE_SIZE]
        return 0
    except wasmtime.WasmtimeError as exc:
        return _error_pointer(str(exc))
    except BaseException as exc:  # never unwind through the C callback
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _error_pointer(f"host function failed: {detail}")


_DISPATCH = ctypes.cast(_dispatch, ffi.wasmtime_component_func_callback_t)


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
        instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), _DISPATCH, handle, _forget
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
