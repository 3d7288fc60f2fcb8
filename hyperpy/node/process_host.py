"""The `standard` interface for one process: Hyperdrive's `ProcessState` and `standard_host_v1.rs`.

Why this is separate from the kernel: in Hyperdrive the per-process bookkeeping — the prompting
message, the last blob, the contexts of outstanding requests with their timeout timers, the queue of
messages that arrived during a send-and-await — lives *in the process task*, not in the kernel.
Here it lives on the process thread, in this object, and touches the kernel only through
`KernelPort` (send a message, ask the capability table); the timeouts of its requests are its own
(`request_deadlines`), fired on this thread while it waits for its inbox. Every rule below follows
runtime-contract.md §1.4 and Hyperdrive's source, including the quirks: responses without a context
are dropped, fire-and-forget requests keep the previous prompting message, `inherit` on a response
uses the last blob even when a blob was passed, get/set-state and spawn restore `last_blob` but not
`last_message_blobbed`.

Called only on the process's own thread (the runners guarantee it).
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from hyperpy.node.contracts import KernelMessage, ProcessTrap, SendErrorDelivery
from hyperpy.node.kernel_json import InitializeProcess, RunProcess, SetOnExit, command_to_json
from hyperpy.node.process_thread import KILL, Arrival, ProcessControl, ProcessKilled
from hyperpy.node.request_deadlines import Deadline, RequestDeadlines
from hyperpy.node.well_known import (
    KERNEL_PROCESS_ID,
    STATE_PROCESS_ID,
    VFS_PROCESS_ID,
    messaging_cap,
)
from hyperpy.node.wit_types import (
    Address,
    Capability,
    Err,
    LazyLoadBlob,
    Message,
    Message_Request,
    Message_Response,
    OnExit,
    ProcessId,
    Request,
    Response,
    SendError,
    SendErrorKind,
    SpawnError,
)
from hyperpy.package.names import is_hypermap_safe
from hyperpy.runtime import jsonwire
from hyperpy.runtime.readiness import is_ready_line

# get-state / set-state / clear-state / spawn wait this long for the runtime (Hyperdrive: 5 s).
INTERNAL_TIMEOUT_SECS = 5


class KernelPort(Protocol):
    """What a process host may ask of the kernel. Every method is safe to call from the process thread."""

    def submit(self, message: KernelMessage) -> None:
        """Route `message` (in the order this process submits; raises ProcessKilled once killed)."""
        ...

    def filter_capabilities(self, holder: ProcessId, caps: list[Capability]) -> list[Capability]: ...
    def add_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None: ...
    def drop_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None: ...
    def all_capabilities(self, holder: ProcessId) -> list[Capability]: ...
    def print(self, verbosity: int, source: ProcessId, text: str) -> None: ...


@dataclass(slots=True)
class _Context:
    """An outstanding request: the prompting message to restore and the sender's own context."""

    prompting_message: KernelMessage | None
    context: bytes | None
    deadline: Deadline


_Received = KernelMessage | SendErrorDelivery


class ProcessHost:
    """`StandardHost` for one running instance of a process."""

    def __init__(
        self,
        *,
        our: Address,
        wit_version: int | None,
        on_exit: OnExit,
        control: ProcessControl,
        port: KernelPort,
    ) -> None:
        self._our = our
        self._wit_version = wit_version
        self.on_exit = on_exit
        self._control = control
        self._port = port
        self._prompting_message: KernelMessage | None = None
        self._last_blob: LazyLoadBlob | None = None
        self._last_message_blobbed = False
        self._contexts: dict[int, _Context] = {}
        self._deadlines = RequestDeadlines()
        self._held: Arrival | None = None  # an inbox entry taken out early, handed out next
        self._message_queue: deque[_Received] = deque()
        self._kernel_address = Address(our.node, KERNEL_PROCESS_ID)

    # ------------------------------------------------------------------------------ printing, identity

    def stop_requested(self) -> bool:
        """Whether the kernel killed this process: a runner that can interrupt its guest between host
        calls (the component runner's epoch callback) polls it, on this process's thread."""
        return self._control.killed

    def _alive(self) -> None:
        if self._control.killed:
            raise ProcessKilled()

    def print_to_terminal(self, verbosity: int, message: str) -> None:
        self._alive()
        if not self._control.ready and is_ready_line(message):
            self._control.mark_ready()
        process = self._our.process
        self._port.print(verbosity, process, f"{process.package_name}:{process.publisher_node}: {message}")

    def _print_debug(self, content: str) -> None:
        self.print_to_terminal(2, content)

    def our(self) -> Address:
        self._alive()
        return self._our

    # --------------------------------------------------------------------------------------- on exit

    def get_on_exit(self) -> OnExit:
        self._alive()
        return self.on_exit

    def set_on_exit(self, on_exit: OnExit) -> None:
        self._alive()
        self.on_exit = on_exit
        body = command_to_json(SetOnExit(self._our.process, on_exit))
        self._send_request(
            self._kernel_address, self._kernel_address, Request(False, None, body, None, []), None, None
        )
        self._print_debug("set new on-exit behavior")

    # ----------------------------------------------------------------------------------------- state

    def _state_request(self, action: str, metadata: str | None, blob: LazyLoadBlob | None) -> bool:
        """send-and-await to state:distro:sys with the kernel as (spoofed) source; True on a Response."""
        body = jsonwire.dumps({action: str(self._our.process)})
        request = Request(False, INTERNAL_TIMEOUT_SECS, body, metadata, [])
        target = Address(self._our.node, STATE_PROCESS_ID)
        return self._await_internal(self._kernel_address, target, request, blob) is not None

    def get_state(self) -> bytes | None:
        self._alive()
        old_last_blob = self._last_blob
        got = self._state_request("GetState", str(self._our.process), None)
        value = None
        if got and self._last_message_blobbed and self._last_blob is not None:
            value = self._last_blob.bytes
        self._last_blob = old_last_blob
        return value

    def set_state(self, bytes: bytes) -> None:
        self._alive()
        old_last_blob = self._last_blob
        ok = self._state_request("SetState", str(self._our.process), LazyLoadBlob(None, bytes))
        self._last_blob = old_last_blob
        if not ok:
            raise ProcessTrap("filesystem did not respond properly to SetState!!")
        self._print_debug("persisted state")

    def clear_state(self) -> None:
        self._alive()
        old_last_blob = self._last_blob
        ok = self._state_request("DeleteState", None, None)
        self._last_blob = old_last_blob
        if not ok:
            raise ProcessTrap("filesystem did not respond properly to ClearState!!")
        self._print_debug("cleared persisted state")

    # ----------------------------------------------------------------------------------------- spawn

    def spawn(
        self,
        name: str | None,
        wasm_path: str,
        on_exit: OnExit,
        request_capabilities: list[Capability],
        grant_capabilities: list[tuple[ProcessId, str]],
        public: bool,
    ) -> ProcessId:
        self._alive()
        old_last_blob = self._last_blob
        try:
            return self._spawn(name, wasm_path, on_exit, request_capabilities, grant_capabilities, public)
        finally:
            self._last_blob = old_last_blob

    def _spawn(
        self,
        name: str | None,
        wasm_path: str,
        on_exit: OnExit,
        request_capabilities: list[Capability],
        grant_capabilities: list[tuple[ProcessId, str]],
        public: bool,
    ) -> ProcessId:
        # 1. read the code through vfs with our own capabilities
        vfs = Address(self._our.node, VFS_PROCESS_ID)
        read = jsonwire.dumps({"path": wasm_path, "action": "Read"})
        reply = self._await_internal(
            self._our, vfs, Request(False, INTERNAL_TIMEOUT_SECS, read, None, []), None
        )
        if reply is None or not _body_is(reply, "Read") or self._last_blob is None:
            raise Err(SpawnError.NO_FILE_AT_PATH)
        code = self._last_blob.bytes
        # 2. the child's id: our package and publisher; a bad name traps, as `.check()?` does
        child = ProcessId(
            name if name is not None else str(random.getrandbits(64)), *_package_of(self._our.process)
        )
        if not is_hypermap_safe(child):
            raise ProcessTrap(f"spawn: process id {child} is not hypermap-safe: names must be [a-z0-9-]")
        # 3. requested caps: only those we hold or issued
        initial = self._port.filter_capabilities(self._our.process, list(request_capabilities))
        # 4. InitializeProcess, as the kernel; only a missing response means NameTaken
        init = command_to_json(
            InitializeProcess(child, wasm_path, self._wit_version, on_exit, initial, public)
        )
        request = Request(False, INTERNAL_TIMEOUT_SECS, init, None, [])
        if (
            self._await_internal(
                self._kernel_address, self._kernel_address, request, LazyLoadBlob(None, code)
            )
            is None
        ):
            raise Err(SpawnError.NAME_TAKEN)
        # 5. grants: caps issued by the child
        for holder, params in grant_capabilities:
            self._port.add_capabilities(holder, [Capability(Address(self._our.node, child), params)])
        # 6. RunProcess
        run = Request(False, INTERNAL_TIMEOUT_SECS, command_to_json(RunProcess(child)), None, [])
        started = self._await_internal(self._kernel_address, self._kernel_address, run, None)
        if started is None:
            raise Err(SpawnError.NAME_TAKEN)
        if not _body_is(started, "StartedProcess"):
            raise Err(SpawnError.NO_FILE_AT_PATH)
        # 7. parent and child may message each other
        self._port.add_capabilities(child, [messaging_cap(self._our.node, self._our.process)])
        self._port.add_capabilities(self._our.process, [messaging_cap(self._our.node, child)])
        self._print_debug("spawned a new process")
        return child

    # ---------------------------------------------------------------------------------- capabilities

    def save_capabilities(self, caps: list[Capability]) -> None:
        self._alive()
        self._port.add_capabilities(self._our.process, list(caps))

    def drop_capabilities(self, caps: list[Capability]) -> None:
        self._alive()
        self._port.drop_capabilities(self._our.process, list(caps))

    def our_capabilities(self) -> list[Capability]:
        self._alive()
        return self._port.all_capabilities(self._our.process)

    # ---------------------------------------------------------------------------------------- blobs

    def has_blob(self) -> bool:
        self._alive()
        return self._last_message_blobbed

    def get_blob(self) -> LazyLoadBlob | None:
        self._alive()
        return self._last_blob if self._last_message_blobbed else None

    def last_blob(self) -> LazyLoadBlob | None:
        self._alive()
        return self._last_blob

    # -------------------------------------------------------------------------------------- sending

    def send_request(
        self, target: Address, request: Request, context: bytes | None, lazy_load_blob: LazyLoadBlob | None
    ) -> None:
        self._alive()
        self._send_request(None, target, request, context, lazy_load_blob)

    def send_requests(
        self, requests: list[tuple[Address, Request, bytes | None, LazyLoadBlob | None]]
    ) -> None:
        self._alive()
        for target, request, context, blob in requests:
            self._send_request(None, target, request, context, blob)

    def _send_request(
        self,
        fake_source: Address | None,
        target: Address,
        request: Request,
        context: bytes | None,
        blob: LazyLoadBlob | None,
    ) -> int:
        """Hyperdrive's `ProcessState::send_request`: id, blob, caps, context + timer, rsvp."""
        request = Request(
            request.inherit,
            request.expects_response,
            request.body,
            request.metadata,
            list(request.capabilities),
        )
        prompting = self._prompting_message
        if request.inherit and prompting is not None:
            request_id = prompting.id
        else:
            request_id = random.getrandbits(64)
            while request_id in self._contexts:
                request_id = random.getrandbits(64)
        if blob is not None:
            blob = LazyLoadBlob(blob.mime, blob.bytes)
        elif request.inherit:
            blob = self._last_blob
        if request.capabilities:
            request.capabilities = self._port.filter_capabilities(self._our.process, request.capabilities)
        if request.expects_response is not None:
            at = time.monotonic() + request.expects_response
            deadline = self._deadlines.add(at, request_id, target, request, blob)
            self._contexts[request_id] = _Context(prompting, context, deadline)
            rsvp: Address | None = self._our
        elif request.inherit and prompting is not None:
            rsvp = prompting.rsvp
        else:
            rsvp = None
        message = KernelMessage(
            id=request_id,
            source=fake_source or self._our,
            target=target,
            rsvp=rsvp,
            message=Message_Request(request),
            lazy_load_blob=blob,
        )
        self._port.submit(message)
        return request_id

    def send_response(self, response: Response, lazy_load_blob: LazyLoadBlob | None) -> None:
        self._alive()
        prompting = self._prompting_message
        if prompting is None:
            self._port.print(
                0,
                KERNEL_PROCESS_ID,
                f"kernel: need non-None prompting_message to handle Response {response!r}",
            )
            return
        response = Response(response.inherit, response.body, response.metadata, list(response.capabilities))
        if response.inherit:
            blob = self._last_blob
        else:
            blob = None if lazy_load_blob is None else LazyLoadBlob(lazy_load_blob.mime, lazy_load_blob.bytes)
        if response.capabilities:
            response.capabilities = self._port.filter_capabilities(self._our.process, response.capabilities)
        self._port.submit(
            KernelMessage(
                id=prompting.id,
                source=self._our,
                target=prompting.rsvp or prompting.source,
                rsvp=None,
                message=Message_Response((response, None)),
                lazy_load_blob=blob,
            )
        )

    # ------------------------------------------------------------------------------------ receiving

    def receive(self) -> tuple[Address, Message]:
        self._alive()
        if not self._control.ready and not self._contexts:
            # Waiting for messages with none of its own requests open: a raw process's main loop.
            # (A framework app is still binding or in @init then; it prints its ready line instead.)
            self._control.mark_ready()
        item = self._message_queue.popleft() if self._message_queue else self._ingest()
        outcome = self._to_guest(item)
        if isinstance(outcome[0], SendError):
            raise Err(outcome)
        return outcome  # type: ignore[return-value]

    def send_and_await_response(
        self, target: Address, request: Request, lazy_load_blob: LazyLoadBlob | None
    ) -> tuple[Address, Message]:
        self._alive()
        if request.expects_response is None:
            raise ProcessTrap(
                f"kernel: got invalid send_and_await_response() Request from {self._our.process}: "
                "must expect response"
            )
        if target == self._our:
            raise ProcessTrap(
                f"kernel: got invalid send_and_await_response() Request from and to {self._our}: "
                "cannot await a Request to `our`: will deadlock"
            )
        request_id = self._send_request(None, target, request, None, lazy_load_blob)
        outcome = self._to_guest(self._specific(request_id))
        if isinstance(outcome[0], SendError):
            raise Err(outcome[0])
        if isinstance(outcome[1], Message_Request):
            raise ProcessTrap("fatal: received Request instead of Response")
        return outcome  # type: ignore[return-value]

    def _await_internal(
        self, source: Address, target: Address, request: Request, blob: LazyLoadBlob | None
    ) -> tuple[Address, Message] | None:
        """send-and-await on the host's own behalf (state, spawn): None on a send error or odd reply."""
        request_id = self._send_request(source, target, request, None, blob)
        outcome = self._to_guest(self._specific(request_id))
        if isinstance(outcome[0], SendError) or isinstance(outcome[1], Message_Request):
            return None
        return outcome  # type: ignore[return-value]

    def _next_item(self) -> _Received:
        """The next inbox entry, or the Timeout of a request whose deadline came first.

        The timeout fires here, on this thread (see request_deadlines): the inbox is waited on until
        the earliest deadline at most, and an entry that arrived after that deadline is held back
        until the timeout has been handed out - the order Hyperdrive's timer task would give.
        """
        deadlines = self._deadlines
        if self._held is not None:
            arrived, item = self._held
            self._held = None
        else:
            due = deadlines.earliest()
            try:
                if due is None:
                    arrived, item = self._control.inbox.get()
                else:
                    wait = min(due - time.monotonic(), threading.TIMEOUT_MAX)
                    inbox = self._control.inbox
                    arrived, item = inbox.get(timeout=wait) if wait > 0 else inbox.get_nowait()
            except queue.Empty:
                return self._timed_out(deadlines.pop_earliest())
        if item is KILL or self._control.killed:
            raise ProcessKilled()
        due = deadlines.earliest()
        if due is not None and arrived > due:
            self._held = (arrived, item)
            return self._timed_out(deadlines.pop_earliest())
        return item  # type: ignore[return-value]

    @staticmethod
    def _timed_out(deadline: Deadline) -> SendErrorDelivery:
        message = Message_Request(deadline.request)
        error = SendError(SendErrorKind.TIMEOUT, deadline.target, message, deadline.blob)
        return SendErrorDelivery(deadline.request_id, error)

    def _ingest(self) -> _Received:
        """Next message worth handing to the guest: responses and errors need an open context."""
        while True:
            item = self._next_item()
            if isinstance(item, KernelMessage) and isinstance(item.message, Message_Request):
                return item
            context = self._contexts.get(item.id)
            if context is not None:
                self._deadlines.cancel(context.deadline)
                return item

    def _specific(self, awaited: int) -> _Received:
        """Wait for the message with id `awaited`; queue everything else in arrival order."""
        for index, item in enumerate(self._message_queue):
            if isinstance(item, KernelMessage) and item.id == awaited:
                del self._message_queue[index]
                return item
        while True:
            item = self._ingest()
            if item.id == awaited:
                return item
            self._message_queue.append(item)

    def _take_blob(self, message: KernelMessage) -> None:
        if message.lazy_load_blob is not None:
            self._last_blob = message.lazy_load_blob
            self._last_message_blobbed = True
        else:
            self._last_message_blobbed = False

    def _to_guest(self, item: _Received) -> tuple[Address, Message] | tuple[SendError, bytes | None]:
        """Hyperdrive's `kernel_message_to_process_receive`."""
        if isinstance(item, SendErrorDelivery):
            self._last_message_blobbed = False
            context = self._contexts.pop(item.id, None)
            if context is None:
                return (item.error, None)
            self._prompting_message = context.prompting_message
            return (item.error, context.context)
        self._take_blob(item)
        if isinstance(item.message, Message_Request):
            request = item.message.value
            if request.expects_response is not None or item.rsvp is not None:
                self._prompting_message = item
            return (item.source, item.message)
        response, _their_context = item.message.value
        context = self._contexts.pop(item.id, None)
        if context is None:
            self._prompting_message = item
            return (item.source, Message_Response((response, None)))
        self._prompting_message = context.prompting_message
        return (item.source, Message_Response((response, context.context)))


def _package_of(process: ProcessId) -> tuple[str, str]:
    return (process.package_name, process.publisher_node)


def _body_is(reply: tuple[Address, Message], expected: str) -> bool:
    """True when a Response body is the JSON string `expected` (a unit variant such as "Read")."""
    message = reply[1]
    if not isinstance(message, Message_Response):
        return False
    try:
        return json.loads(message.value[0].body) == expected
    except (ValueError, UnicodeDecodeError):
        return False
