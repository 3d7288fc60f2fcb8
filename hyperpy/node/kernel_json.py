"""The kernel's JSON: `KernelCommand`, `KernelResponse`, `OnExit`, capabilities, requests and blobs.

Why serde's exact shapes: processes build these bodies themselves (process_lib's `kernel_types`, or
a Python process writing JSON by hand) and send them to `kernel:distro:sys`; `spawn` and
`set-on-exit` send them too; the persisted process table uses them. Enums are externally tagged
(`"Restart"`, `{"RunProcess": "a:b:c"}`), `Vec<u8>` is an array of numbers, ids and addresses are
strings (runtime-contract.md, notation and §1.6).

Decoding raises `KernelJsonError` naming the field; the kernel turns that into the printout
"kernel: couldn't parse command" as Hyperdrive does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    OnExit,
    OnExit_None_,
    OnExit_Requests,
    OnExit_Restart,
    ProcessId,
    Request,
)
from hyperpy.runtime import jsonwire


class KernelJsonError(ValueError):
    """A kernel JSON value of the wrong shape; the message names the field and what was expected."""


# ---------------------------------------------------------------------------------------------- decode


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise KernelJsonError(what)


def _bytes(value: Any, field: str) -> bytes:
    _expect(
        isinstance(value, list) and all(isinstance(b, int) and 0 <= b <= 255 for b in value),
        f"{field}: expected an array of byte values 0-255",
    )
    return bytes(value)


def process_id_from_json(value: Any, field: str = "process id") -> ProcessId:
    _expect(isinstance(value, str), f"{field}: expected a string 'process:package:publisher'")
    try:
        return ProcessId.parse(value)
    except ValueError as exc:
        raise KernelJsonError(f"{field}: {exc}") from None


def address_from_json(value: Any, field: str = "address") -> Address:
    _expect(isinstance(value, str), f"{field}: expected a string 'node@process:package:publisher'")
    try:
        return Address.parse(value)
    except ValueError as exc:
        raise KernelJsonError(f"{field}: {exc}") from None


def capability_from_json(value: Any, field: str = "capability") -> Capability:
    """`{"issuer": "node@p:k:s", "params": "<json text>"}`; Hyperdrive's `[cap, signature]` pair too."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], dict):
        value = value[0]
    _expect(isinstance(value, dict), f"{field}: expected an object {{'issuer': ..., 'params': ...}}")
    _expect(isinstance(value.get("params"), str), f"{field}.params: expected a string of JSON text")
    return Capability(address_from_json(value.get("issuer"), f"{field}.issuer"), value["params"])


def capabilities_from_json(value: Any, field: str = "capabilities") -> list[Capability]:
    _expect(isinstance(value, list), f"{field}: expected an array of capabilities")
    return [capability_from_json(item, f"{field}[{index}]") for index, item in enumerate(value)]


def blob_from_json(value: Any, field: str = "blob") -> LazyLoadBlob | None:
    if value is None:
        return None
    _expect(isinstance(value, dict), f"{field}: expected null or {{'mime': ..., 'bytes': [...]}}")
    mime = value.get("mime")
    _expect(mime is None or isinstance(mime, str), f"{field}.mime: expected null or a string")
    return LazyLoadBlob(mime, _bytes(value.get("bytes"), f"{field}.bytes"))


def request_from_json(value: Any, field: str = "request") -> Request:
    _expect(isinstance(value, dict), f"{field}: expected a request object")
    inherit = value.get("inherit")
    expects = value.get("expects_response")
    metadata = value.get("metadata")
    _expect(isinstance(inherit, bool), f"{field}.inherit: expected true or false")
    _expect(
        expects is None or (isinstance(expects, int) and not isinstance(expects, bool) and expects >= 0),
        f"{field}.expects_response: expected null or a number of seconds",
    )
    _expect(metadata is None or isinstance(metadata, str), f"{field}.metadata: expected null or a string")
    return Request(
        inherit,
        expects,
        _bytes(value.get("body"), f"{field}.body"),
        metadata,
        capabilities_from_json(value.get("capabilities", []), f"{field}.capabilities"),
    )


def on_exit_from_json(value: Any, field: str = "on_exit") -> OnExit:
    if value == "None":
        return OnExit_None_()
    if value == "Restart":
        return OnExit_Restart()
    _expect(
        isinstance(value, dict) and set(value) == {"Requests"} and isinstance(value["Requests"], list),
        f'{field}: expected "None", "Restart" or {{"Requests": [[address, request, blob], ...]}}',
    )
    requests = []
    for index, triple in enumerate(value["Requests"]):
        where = f"{field}.Requests[{index}]"
        _expect(isinstance(triple, list) and len(triple) == 3, f"{where}: expected [address, request, blob]")
        requests.append(
            (
                address_from_json(triple[0], f"{where}[0]"),
                request_from_json(triple[1], f"{where}[1]"),
                blob_from_json(triple[2], f"{where}[2]"),
            )
        )
    return OnExit_Requests(requests)


# ---------------------------------------------------------------------------------------------- encode


def serde_json_text(value: Any) -> str:
    """JSON text of a `serde_json::Value` as `to_string` writes it (compact; object keys sorted, as its
    default map): capability params. Written by `hyperpy.runtime.jsonwire`, the one serde_json writer."""
    return jsonwire.dumps_str(value, sort_keys=True)


def capability_to_json(cap: Capability) -> dict[str, Any]:
    return {"issuer": str(cap.issuer), "params": cap.params}


def blob_to_json(blob: LazyLoadBlob | None) -> dict[str, Any] | None:
    return None if blob is None else {"mime": blob.mime, "bytes": list(blob.bytes)}


def request_to_json(request: Request) -> dict[str, Any]:
    return {
        "inherit": request.inherit,
        "expects_response": request.expects_response,
        "body": list(request.body),
        "metadata": request.metadata,
        "capabilities": [capability_to_json(c) for c in request.capabilities],
    }


def on_exit_to_json(on_exit: OnExit) -> Any:
    if isinstance(on_exit, OnExit_None_):
        return "None"
    if isinstance(on_exit, OnExit_Restart):
        return "Restart"
    return {
        "Requests": [
            [str(address), request_to_json(request), blob_to_json(blob)]
            for address, request, blob in on_exit.value
        ]
    }


def on_exit_name(on_exit: OnExit) -> str:
    """Display form used in printouts ("None", "Restart", "Requests")."""
    if isinstance(on_exit, OnExit_None_):
        return "None"
    if isinstance(on_exit, OnExit_Restart):
        return "Restart"
    return "Requests"


# ---------------------------------------------------------------------------------------- commands


@dataclass
class InitializeProcess:
    id: ProcessId
    wasm_bytes_handle: str
    wit_version: int | None
    on_exit: OnExit
    initial_capabilities: list[Capability]
    public: bool


@dataclass
class RunProcess:
    id: ProcessId


@dataclass
class KillProcess:
    id: ProcessId


@dataclass
class GrantCapabilities:
    target: ProcessId
    capabilities: list[Capability]


@dataclass
class DropCapabilities:
    target: ProcessId
    capabilities: list[Capability]


@dataclass
class SetOnExit:
    target: ProcessId
    on_exit: OnExit


@dataclass
class Booted:
    pass


@dataclass
class Shutdown:
    pass


@dataclass
class Debug:
    """`KernelCommand::Debug(KernelPrint)`: `process` None asks for the whole process map (`top`)."""

    process: ProcessId | None = None


KernelCommand = (
    Debug
    | InitializeProcess
    | RunProcess
    | KillProcess
    | GrantCapabilities
    | DropCapabilities
    | SetOnExit
    | Booted
    | Shutdown
)


def command_from_json(body: bytes) -> KernelCommand:
    """Parse a `KernelCommand` body (bytes of JSON); raise KernelJsonError naming what is wrong."""
    try:
        value = jsonwire.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KernelJsonError(f"not JSON: {exc}") from None
    if value == "Booted":
        return Booted()
    if value == "Shutdown":
        return Shutdown()
    _expect(
        isinstance(value, dict) and len(value) == 1, 'expected a KernelCommand such as {"RunProcess": ...}'
    )
    ((name, payload),) = value.items()
    if name == "Debug":
        if payload == "ProcessMap":
            return Debug()
        _expect(
            isinstance(payload, dict) and set(payload) == {"Process"},
            'Debug: expected "ProcessMap" or {"Process": "process:package:publisher"}',
        )
        return Debug(process_id_from_json(payload["Process"], "Debug.Process"))
    if name == "RunProcess":
        return RunProcess(process_id_from_json(payload, "RunProcess"))
    if name == "KillProcess":
        return KillProcess(process_id_from_json(payload, "KillProcess"))
    if name not in ("InitializeProcess", "GrantCapabilities", "DropCapabilities", "SetOnExit"):
        raise KernelJsonError(f"unknown KernelCommand {name!r}")
    _expect(isinstance(payload, dict), f"{name}: expected an object")
    if name == "InitializeProcess":
        wit_version = payload.get("wit_version")
        public = payload.get("public")
        handle = payload.get("wasm_bytes_handle")
        _expect(isinstance(handle, str), "InitializeProcess.wasm_bytes_handle: expected a string")
        _expect(
            wit_version is None or isinstance(wit_version, int),
            "InitializeProcess.wit_version: expected a number",
        )
        _expect(isinstance(public, bool), "InitializeProcess.public: expected true or false")
        return InitializeProcess(
            process_id_from_json(payload.get("id"), "InitializeProcess.id"),
            handle,
            wit_version,
            on_exit_from_json(payload.get("on_exit"), "InitializeProcess.on_exit"),
            capabilities_from_json(
                payload.get("initial_capabilities"), "InitializeProcess.initial_capabilities"
            ),
            public,
        )
    if name in ("GrantCapabilities", "DropCapabilities"):
        target = process_id_from_json(payload.get("target"), f"{name}.target")
        caps = capabilities_from_json(payload.get("capabilities"), f"{name}.capabilities")
        return (
            GrantCapabilities(target, caps) if name == "GrantCapabilities" else DropCapabilities(target, caps)
        )
    return SetOnExit(
        process_id_from_json(payload.get("target"), "SetOnExit.target"),
        on_exit_from_json(payload.get("on_exit"), "SetOnExit.on_exit"),
    )


def command_to_json(command: KernelCommand) -> bytes:
    """Serialize a command exactly as process_lib would."""
    value: Any
    if isinstance(command, InitializeProcess):
        value = {
            "InitializeProcess": {
                "id": str(command.id),
                "wasm_bytes_handle": command.wasm_bytes_handle,
                "wit_version": command.wit_version,
                "on_exit": on_exit_to_json(command.on_exit),
                "initial_capabilities": [capability_to_json(c) for c in command.initial_capabilities],
                "public": command.public,
            }
        }
    elif isinstance(command, RunProcess):
        value = {"RunProcess": str(command.id)}
    elif isinstance(command, KillProcess):
        value = {"KillProcess": str(command.id)}
    elif isinstance(command, GrantCapabilities | DropCapabilities):
        value = {
            type(command).__name__: {
                "target": str(command.target),
                "capabilities": [capability_to_json(c) for c in command.capabilities],
            }
        }
    elif isinstance(command, SetOnExit):
        value = {"SetOnExit": {"target": str(command.target), "on_exit": on_exit_to_json(command.on_exit)}}
    else:
        value = type(command).__name__
    return jsonwire.dumps(value)


# KernelResponse bodies (unit variants are plain strings).
INITIALIZED_PROCESS = b'"InitializedProcess"'
INITIALIZE_PROCESS_ERROR = b'"InitializeProcessError"'
STARTED_PROCESS = b'"StartedProcess"'
RUN_PROCESS_ERROR = b'"RunProcessError"'


def killed_process_body(process: ProcessId) -> bytes:
    return jsonwire.dumps({"KilledProcess": str(process)})
