"""state:distro:sys — where `get-state`/`set-state`/`clear-state` keep process state (§3.10).

Why a runtime module and not a dict in the kernel: on Hyperdrive the host functions are a
send-and-await to this module with the kernel as (spoofed) source and a 5 s timeout, and that
round trip is observable (the `last_message_blobbed` quirk, a trap when no answer comes). Keeping the
module makes both modes behave the same way.

Rules reproduced from Hyperdrive's `state.rs`: only our node, and only sources in package `distro` or
`terminal` with publisher `sys` (so processes must use the host functions); `{"GetState": id}` answers
`"GetState"` with the bytes as blob (mime `application/octet-stream`), `{"SetState": id}` stores the
request blob, `{"DeleteState": id}` removes it, `"Backup"` copies everything; successes are answered
only when a response is wanted (rsvp or expects_response) and echo the request metadata; errors
(`{"Err": {"NotFound": {"process_id": ..}}}` …) are always sent, to rsvp or else source. Values live in
`<home>/state/<process-id>`, written atomically; state survives restarts, reboots and reinstalls.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, request_of, wants_reply
from hyperpy.node.persistence import atomic_write
from hyperpy.node.well_known import STATE_PROCESS_ID
from hyperpy.node.wit_types import LazyLoadBlob, ProcessId
from hyperpy.runtime import jsonwire

OCTET_STREAM = "application/octet-stream"


class StateError(Exception):
    """A `StateError` variant, serialized as Hyperdrive does: `{"Err": {<variant>: {...}}}`."""

    def __init__(self, variant: str, **fields: Any) -> None:
        super().__init__(variant)
        self.variant = variant
        self.fields = fields

    def body(self) -> bytes:
        return jsonwire.dumps({"Err": {self.variant: self.fields}})


def state_path(home: Path, process: ProcessId) -> Path:
    """Where the state of `process` is stored."""
    return home / "state" / str(process)


def read_state(home: Path, process: ProcessId) -> bytes | None:
    try:
        return state_path(home, process).read_bytes()
    except FileNotFoundError:
        return None


class StateModule(ModuleBase):
    """The state store, one file per process under `<home>/state/`."""

    process_id = STATE_PROCESS_ID
    public = False

    async def handle(self, message: KernelMessage) -> None:
        source = message.source
        if source.node != self.node.our_node:
            self.log(
                1,
                f"state: got request from {source.node}, "
                f"but requests must come from our node {self.node.our_node}",
            )
            return
        if (
            source.process.package_name not in ("distro", "terminal")
            or source.process.publisher_node != "sys"
        ):
            self.log(
                1, f"state: got request from {source.process}, but requests must come from kernel or terminal"
            )
            return
        try:
            body, blob = await self._perform(message)
        except StateError as error:
            self.respond(message, error.body(), target=message.rsvp or message.source)
            return
        if wants_reply(message):
            request = request_of(message)
            self.respond(message, body, blob, metadata=request.metadata if request else None)

    async def _perform(self, message: KernelMessage) -> tuple[bytes, LazyLoadBlob | None]:
        request = request_of(message)
        if request is None:
            raise StateError("BadRequest", error="not a request")
        try:
            action = jsonwire.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateError("BadJson", error=f"parse into StateAction failed: {exc}") from None
        home = self.node.home
        if action == "Backup":
            await asyncio.to_thread(_backup, home)
            return b'"Backup"', None
        if not (isinstance(action, dict) and len(action) == 1):
            raise StateError("BadJson", error=f"parse into StateAction failed: unknown action {action!r}")
        ((name, target),) = action.items()
        try:
            process = ProcessId.parse(target) if isinstance(target, str) else None
        except ValueError:
            process = None
        if name not in ("GetState", "SetState", "DeleteState") or process is None:
            raise StateError("BadJson", error=f"parse into StateAction failed: {action!r}")
        path = state_path(home, process)
        if name == "SetState":
            if message.lazy_load_blob is None:
                raise StateError("BadBytes", action="SetState")
            await _io(atomic_write, path, message.lazy_load_blob.bytes)
            return b'"SetState"', None
        if name == "GetState":
            value = await _io(read_state, home, process)
            if value is None:
                raise StateError("NotFound", process_id=str(process))
            return b'"GetState"', LazyLoadBlob(OCTET_STREAM, value)
        await _io(path.unlink, missing_ok=True)
        return b'"DeleteState"', None


async def _io(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except OSError as exc:
        raise StateError("IOError", error=str(exc)) from None


def _backup(home: Path) -> None:
    source = home / "state"
    destination = home / "kernel" / "backup" / "state"
    if destination.exists():
        shutil.rmtree(destination)
    if source.exists():
        shutil.copytree(source, destination)
