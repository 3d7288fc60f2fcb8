"""Exact conversions between wasmtime-py 50's component values and `hyperpy.node.wit_types`.

Why a module of its own: wasmtime-py has no typed bindings any more (bindgen was removed in 39), so
every value of the `standard` interface crosses the boundary in wasmtime's *dynamic* representation,
and the kernel speaks `wit_types`. The shapes are wasmtime-py's own (measured with probe
components, and kept by `wasm_marshal`, which carries them across the C API);
`tests/runners/test_component_values.py` pins every case end to end through a real guest:

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

from typing import Any

from wasmtime.component import Record, Variant

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
