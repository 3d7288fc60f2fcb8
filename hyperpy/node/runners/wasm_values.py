"""Exact conversions between wasmtime-py 50's component values and `hyperpy.node.wit_types`.

Why a module of its own: wasmtime-py has no typed bindings any more (bindgen was removed in 39), so
every value of the `standard` interface crosses the boundary in wasmtime's *dynamic* representation,
and the kernel speaks `wit_types`. The mapping below was measured with probe components (see
`tests/runners/test_component_values.py`, which pins every case end to end through a real guest):

* a record arrives as a `wasmtime.component.Record` whose attributes carry the *kebab-case* field
  names (`process-name`, `expects-response`, `lazy-load-blob`); going out, wasmtime reads those
  attributes from any object, but an *untagged* variant case whose payload is a record is picked by
  `isinstance(value, Record)`, so we always build real `Record`s;
* `option<T>` is `None` or the bare value; `list<u8>` is `bytes`; an enum is its case name as `str`
  (`"timeout"`, `"name-taken"`);
* a variant or result is passed *untagged* when its cases have distinct Python classes and as
  `Variant(tag, payload)` when two cases share one. For this interface that means:
  - `message`: untagged — a `Record` is a request, a `tuple` is `(response, option<context>)`;
  - `on-exit`: tagged — `none` and `restart` both carry no payload;
  - `receive`'s `result<tuple<..>, tuple<..>>`: tagged (both cases are tuples);
  - `send-and-await-response`'s `result<tuple<..>, send-error>`: untagged (`tuple` vs `Record`);
  - `spawn`'s `result<process-id, spawn-error>`: untagged (`Record` vs `str`).

Functions are named `lift_*` (guest value → `wit_types`) and `lower_*` (`wit_types` → guest value).
They are deliberately plain functions over concrete shapes: this is the hot path of every message a
component sends or receives.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from typing import Any

from wasmtime import _ffi as wasmtime_ffi
from wasmtime.component import ListType, Record, Variant
from wasmtime.component import _types as wasmtime_component_types

from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message,
    Message_Request,
    Message_Response,
    OnExit,
    OnExit_None_,
    OnExit_Requests,
    OnExit_Restart,
    ProcessId,
    Request,
    Response,
    SendError,
    SendErrorKind,
    SpawnError,
)

# --- records -------------------------------------------------------------------------------------


def _record(fields: dict[str, Any]) -> Record:
    """A wasmtime `Record` with the given kebab-case attributes (the class has no constructor args)."""
    record = Record()
    record.__dict__.update(fields)
    return record


def lift_process_id(value: Any) -> ProcessId:
    return ProcessId(
        getattr(value, "process-name"), getattr(value, "package-name"), getattr(value, "publisher-node")
    )


def lower_process_id(value: ProcessId) -> Record:
    return _record(
        {
            "process-name": value.process_name,
            "package-name": value.package_name,
            "publisher-node": value.publisher_node,
        }
    )


def lift_address(value: Any) -> Address:
    return Address(value.node, lift_process_id(value.process))


def lower_address(value: Address) -> Record:
    return _record({"node": value.node, "process": lower_process_id(value.process)})


def lift_capability(value: Any) -> Capability:
    return Capability(lift_address(value.issuer), value.params)


def lower_capability(value: Capability) -> Record:
    return _record({"issuer": lower_address(value.issuer), "params": value.params})


def lift_capabilities(values: list[Any]) -> list[Capability]:
    return [lift_capability(value) for value in values]


def lower_capabilities(values: list[Capability]) -> list[Record]:
    return [lower_capability(value) for value in values]


def lift_blob(value: Any) -> LazyLoadBlob | None:
    """`option<lazy-load-blob>`: None, or a record with `mime: option<string>` and `bytes`."""
    if value is None:
        return None
    return LazyLoadBlob(value.mime, value.bytes)


def lower_blob(value: LazyLoadBlob | None) -> Record | None:
    if value is None:
        return None
    return _record({"mime": value.mime, "bytes": bytes(value.bytes)})


def lift_request(value: Any) -> Request:
    return Request(
        value.inherit,
        getattr(value, "expects-response"),
        value.body,
        value.metadata,
        lift_capabilities(value.capabilities),
    )


def lower_request(value: Request) -> Record:
    return _record(
        {
            "inherit": value.inherit,
            "expects-response": value.expects_response,
            "body": bytes(value.body),
            "metadata": value.metadata,
            "capabilities": lower_capabilities(value.capabilities),
        }
    )


def lift_response(value: Any) -> Response:
    return Response(value.inherit, value.body, value.metadata, lift_capabilities(value.capabilities))


def lower_response(value: Response) -> Record:
    return _record(
        {
            "inherit": value.inherit,
            "body": bytes(value.body),
            "metadata": value.metadata,
            "capabilities": lower_capabilities(value.capabilities),
        }
    )


# --- variants ------------------------------------------------------------------------------------


def lift_message(value: Any) -> Message:
    """`message` is untagged: a Record is the request case, a tuple `(response, context)` a response."""
    if isinstance(value, tuple):
        response, context = value
        return Message_Response((lift_response(response), context))
    return Message_Request(lift_request(value))


def lower_message(value: Message) -> Record | tuple[Record, bytes | None]:
    if isinstance(value, Message_Request):
        return lower_request(value.value)
    if isinstance(value, Message_Response):
        response, context = value.value
        return (lower_response(response), None if context is None else bytes(context))
    raise TypeError(f"expected Message_Request or Message_Response, got {type(value).__name__}")


def lift_on_exit(value: Any) -> OnExit:
    """`on-exit` is tagged: `Variant("none")`, `Variant("restart")`, `Variant("requests", [...])`."""
    if value.tag == "none":
        return OnExit_None_()
    if value.tag == "restart":
        return OnExit_Restart()
    if value.tag == "requests":
        return OnExit_Requests(
            [
                (lift_address(target), lift_request(request), lift_blob(blob))
                for target, request, blob in value.payload
            ]
        )
    raise ValueError(f"unknown on-exit case {value.tag!r}")


def lower_on_exit(value: OnExit) -> Variant:
    if isinstance(value, OnExit_None_):
        return Variant("none")
    if isinstance(value, OnExit_Restart):
        return Variant("restart")
    if isinstance(value, OnExit_Requests):
        return Variant(
            "requests",
            [
                (lower_address(target), lower_request(request), lower_blob(blob))
                for target, request, blob in value.value
            ],
        )
    raise TypeError(f"expected OnExit_None_, OnExit_Restart or OnExit_Requests, got {type(value).__name__}")


_SEND_ERROR_KIND_NAMES = {SendErrorKind.OFFLINE: "offline", SendErrorKind.TIMEOUT: "timeout"}
_SPAWN_ERROR_NAMES = {SpawnError.NAME_TAKEN: "name-taken", SpawnError.NO_FILE_AT_PATH: "no-file-at-path"}


def lower_send_error(value: SendError) -> Record:
    return _record(
        {
            "kind": _SEND_ERROR_KIND_NAMES[value.kind],
            "target": lower_address(value.target),
            "message": lower_message(value.message),
            "lazy-load-blob": lower_blob(value.lazy_load_blob),
        }
    )


def lower_spawn_error(value: SpawnError) -> str:
    return _SPAWN_ERROR_NAMES[value]


# --- composite arguments and results of the standard functions -----------------------------------


def lift_grant_capabilities(values: list[tuple[Any, str]]) -> list[tuple[ProcessId, str]]:
    """`list<tuple<process-id, json>>` of `spawn`."""
    return [(lift_process_id(process), params) for process, params in values]


def lift_outgoing_requests(
    values: list[tuple[Any, Any, bytes | None, Any]],
) -> list[tuple[Address, Request, bytes | None, LazyLoadBlob | None]]:
    """`list<tuple<address, request, option<context>, option<lazy-load-blob>>>` of `send-requests`."""
    return [
        (lift_address(target), lift_request(request), context, lift_blob(blob))
        for target, request, context, blob in values
    ]


def lower_incoming(value: tuple[Address, Message]) -> tuple[Record, Record | tuple[Record, bytes | None]]:
    """`tuple<address, message>`, the success case of `receive` and `send-and-await-response`."""
    source, message = value
    return (lower_address(source), lower_message(message))


def lower_receive_ok(value: tuple[Address, Message]) -> Variant:
    return Variant("ok", lower_incoming(value))


def lower_receive_err(value: tuple[SendError, bytes | None]) -> Variant:
    """The err case of `receive`: `tuple<send-error, option<context>>` (tagged: both cases are tuples)."""
    error, context = value
    return Variant("err", (lower_send_error(error), None if context is None else bytes(context)))


# --- a thread-safety repair for wasmtime-py 50 ---------------------------------------------------


class _PerThreadClassSet:
    """Drop-in for wasmtime-py's module-global scratch set, holding one set per thread.

    Why: to lower an untagged variant, wasmtime-py 50 (`component/_types.py`, `_lower`) clears the
    module-global `case_test_cache`, fills it with the classes of one case and then tests
    `isinstance(value, tuple(case_test_cache))`. Filling it may call into the C API (which releases
    the GIL), and every process of the node lowers values on its own thread, so another thread can
    clear or refill the set in between: the value is then matched against the wrong classes and the
    call fails with "value not valid for this variant" (or lowers the wrong case). Giving each thread
    its own set removes the shared state without changing the algorithm. Only the operations that
    code performs are provided.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _classes(self) -> set[type]:
        classes: set[type] | None = getattr(self._local, "classes", None)
        if classes is None:
            classes = set()
            self._local.classes = classes
        return classes

    def clear(self) -> None:
        self._classes().clear()

    def add(self, cls: type) -> None:
        self._classes().add(cls)

    def __iter__(self) -> Iterator[type]:
        return iter(self._classes())

    def __len__(self) -> int:
        return len(self._classes())

    def __contains__(self, cls: object) -> bool:
        return cls in self._classes()


def make_variant_lowering_thread_safe() -> bool:
    """Install the per-thread scratch set in wasmtime-py; idempotent. False if wasmtime changed shape.

    wasmtime is pinned to 50.x (pyproject); `tests/runners` fails loudly if the global disappears,
    which is the signal to re-read wasmtime's `_lower` before upgrading.
    """
    current = getattr(wasmtime_component_types, "case_test_cache", None)
    if isinstance(current, _PerThreadClassSet):
        return True
    if not isinstance(current, set):
        return False
    wasmtime_component_types.case_test_cache = _PerThreadClassSet()  # type: ignore[assignment]
    return True


# --- fast `list<u8>` for wasmtime-py 50 ----------------------------------------------------------

# wasmtime-py's C-API value is a 32-byte tagged union per element, and `ListType` converts a
# `list<u8>` one element at a time in Python (~3-5 s per MB each way, measured). Message bodies and
# blobs are `list<u8>`, so a 1 MB UI file served by a component would take seconds. The C layout is
# fixed, so the same elements can be written and read with two strided slice operations and one
# memmove instead. Only lists whose element type is u8 take this path.
_VALUE_TYPE: Any = wasmtime_ffi.wasmtime_component_val_t  # Any: the bindings annotate fields as values
_UNION_TYPE: Any = wasmtime_ffi.wasmtime_component_valunion_t
_VALUE_SIZE = ctypes.sizeof(_VALUE_TYPE)
_KIND_OFFSET = _VALUE_TYPE.kind.offset
_U8_OFFSET = _VALUE_TYPE.of.offset + _UNION_TYPE.u8.offset
_U8_KIND = bytes([wasmtime_ffi.WASMTIME_COMPONENT_U8.value])
_LIST_KIND = wasmtime_ffi.WASMTIME_COMPONENT_LIST.value


def _lower_byte_list(data: bytes, target: Any) -> None:
    count = len(data)
    raw = wasmtime_ffi.wasmtime_component_vallist_t()
    wasmtime_ffi.wasmtime_component_vallist_new_uninit(raw, count)
    if count:
        image = bytearray(count * _VALUE_SIZE)
        image[_KIND_OFFSET::_VALUE_SIZE] = _U8_KIND * count
        image[_U8_OFFSET::_VALUE_SIZE] = data
        ctypes.memmove(raw.data, (ctypes.c_char * len(image)).from_buffer(image), len(image))
    target.contents.kind = wasmtime_ffi.WASMTIME_COMPONENT_LIST
    target.contents.of.list = raw


def _lift_byte_list(value: Any) -> bytes:
    if value.kind != _LIST_KIND:
        raise TypeError(f"expected a list value, got kind {value.kind}")
    try:
        count = value.of.list.size
        if count == 0:
            return b""
        image = ctypes.string_at(value.of.list.data, count * _VALUE_SIZE)
        if image[_KIND_OFFSET::_VALUE_SIZE] != _U8_KIND * count:
            raise TypeError("expected a list of u8")
        return image[_U8_OFFSET::_VALUE_SIZE]
    finally:
        wasmtime_ffi.wasmtime_component_vallist_delete(ctypes.byref(value.of.list))


def make_byte_lists_fast() -> bool:
    """Route `list<u8>` conversions of wasmtime-py's ListType through the bulk functions above.

    Idempotent. Returns False (and changes nothing) if ListType no longer has the expected methods.
    """
    lower: Callable[..., None] | None = getattr(ListType, "convert_to_c", None)
    lift: Callable[..., Any] | None = getattr(ListType, "convert_from_c", None)
    if lower is None or lift is None or not hasattr(ListType, "_is_bytes"):
        return False
    if getattr(lower, "_hyperpy_bulk_bytes", False):
        return True

    def convert_to_c(self: Any, store: Any, val: Any, ptr: Any) -> None:
        if not self._is_bytes():
            return lower(self, store, val, ptr)
        if not isinstance(val, bytes):
            raise TypeError("expected bytes value")
        _lower_byte_list(val, ptr)
        return None

    def convert_from_c(self: Any, c: Any) -> Any:
        if not self._is_bytes():
            return lift(self, c)
        return _lift_byte_list(c)

    convert_to_c._hyperpy_bulk_bytes = True  # type: ignore[attr-defined]
    ListType.convert_to_c = convert_to_c  # type: ignore[method-assign]
    ListType.convert_from_c = convert_from_c  # type: ignore[method-assign]
    return True
