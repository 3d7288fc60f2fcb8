"""Async wrappers for Hyperware's runtime modules (http-server, vfs, kv, sqlite, http-client,
homepage, net), speaking their exact wire formats (runtime-contract.md §3).

Each wrapper module declares `__hyperpy_process__`, the process it talks to; `spec.app_spec` looks
for it to infer the capabilities a package needs. The helpers here send one request and decode the
JSON answer, turning `{"Err": ...}` into `ModuleError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

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
        decoded = jsonwire.loads(reply.body) if reply.body else None
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


@dataclass
class PackageDatabase:
    """A database of our package in kv or sqlite: both take `{"package_id", "db", "action"}`."""

    package_name: str
    publisher_node: str
    db: str
    timeout: float = 5
    process: ClassVar[str] = ""

    async def _request(self, action: Any, *, blob: bytes | None = None) -> tuple[Any, Reply]:
        body = {
            "package_id": {"package_name": self.package_name, "publisher_node": self.publisher_node},
            "db": self.db,
            "action": action,
        }
        return await module_request(
            self.process, body, blob=blob, timeout=self.timeout, action=f"{tag_of(action)} {self.db}"
        )

    @classmethod
    async def opened(cls, db: str, timeout: float) -> Any:
        """Open (creating if needed) database `db` of our package; Open grants us its caps."""
        package = our_package()
        handle = cls(package.package_name, package.publisher_node, db, timeout)
        await handle._request("Open")
        return handle

    async def remove(self) -> None:
        """Delete the whole database."""
        await self._request("RemoveDb")

    async def begin_tx(self) -> int:
        """Start a transaction; pass its id as `tx_id` to writes, then `commit_tx` it."""
        answer, _ = await self._request("BeginTx")
        return int(answer["BeginTx"]["tx_id"])

    async def commit_tx(self, tx_id: int) -> None:
        await self._request({"Commit": {"tx_id": tx_id}})
