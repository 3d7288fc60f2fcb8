"""Async wrappers for Hyperware's runtime modules (http-server, vfs, kv, sqlite, http-client,
homepage, net), speaking their exact wire formats (runtime-contract.md §3).

Each wrapper module declares `__hyperpy_process__`, the process it talks to; `spec.app_spec` looks
for it to infer the capabilities a package needs. The helpers here send one request and decode the
JSON answer, turning `{"Err": ...}` into `ModuleError`.
"""

from __future__ import annotations

import json
from typing import Any

from hyperpy.runtime import jsonwire
from hyperpy.runtime.process import current_runtime
from hyperpy.runtime.types import Address, ProcessId, Reply


class ModuleError(Exception):
    """A runtime module answered with an error. `detail` is its `Err` value (e.g. "KeyNotFound")."""

    def __init__(self, process: str, detail: Any, action: str = "") -> None:
        self.process = process
        self.detail = detail
        self.action = action
        where = f" ({action})" if action else ""
        super().__init__(f"{process}{where} failed: {json.dumps(detail)}")


def module_address(process: str) -> Address:
    runtime = current_runtime(f"talking to {process}")
    return Address(runtime.our.node, ProcessId.parse(process))


def our_package() -> ProcessId:
    return current_runtime("our package").our.process


async def module_request(
    process: str,
    value: Any,
    *,
    timeout: float = 5,
    blob: bytes | None = None,
    mime: str | None = None,
    action: str = "",
) -> tuple[Any, Reply]:
    """Send `value` as JSON to a runtime module and return (decoded answer, raw reply).

    Raises ModuleError for `{"Err": ...}` answers and CallTimeout when the module does not answer.
    """
    runtime = current_runtime(f"talking to {process}")
    address = Address(runtime.our.node, ProcessId.parse(process))
    reply = await runtime.request(
        address, jsonwire.dumps(value), timeout=timeout, blob=blob, mime=mime, label=action or process
    )
    try:
        decoded = json.loads(reply.body) if reply.body else None
    except ValueError:
        raise ModuleError(process, f"unreadable answer {reply.body[:80]!r}", action) from None
    if isinstance(decoded, dict) and "Err" in decoded and len(decoded) == 1:
        raise ModuleError(process, decoded["Err"], action)
    return decoded, reply


def module_send(process: str, value: Any, *, blob: bytes | None = None, mime: str | None = None) -> None:
    """Fire-and-forget JSON request to a runtime module."""
    runtime = current_runtime(f"talking to {process}")
    runtime.send(
        Address(runtime.our.node, ProcessId.parse(process)), jsonwire.dumps(value), blob=blob, mime=mime
    )


def tag_of(answer: Any) -> str | None:
    """The variant name of an externally tagged answer (`"Ok"` or `{"Read": ...}`)."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, dict) and len(answer) == 1:
        return next(iter(answer))
    return None
