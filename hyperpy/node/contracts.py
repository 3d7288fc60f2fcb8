"""The seams inside the local node: what the kernel, the process runners and runtime modules promise
each other.

Three parts of the node are built independently and meet only here:

* **Process runners** (`runners/component.py` for a `.wasm` in wasmtime-py, `runners/native.py` for
  the same module imported into host CPython) execute a process's `init(our)` on the process's own
  thread. Every host import the guest calls is forwarded to one `StandardHost`, whose methods are
  named and typed exactly like the WIT functions (values are `wit_types` dataclasses). A runner never
  touches kernel tables; it converts values and calls `StandardHost`.
* **The kernel** implements `StandardHost` per process (Hyperdrive's `ProcessState`: prompting
  message, last blob, contexts, queued messages), routes `KernelMessage`s, checks capabilities and
  applies `on_exit`. It runs an asyncio event loop on its own thread; process threads block on their
  inboxes.
* **Runtime modules** (`modules/*.py`: http-server, vfs, kv, sqlite, timer, ...) are host-side
  processes living on the kernel's event loop. They receive `KernelMessage`s through `handle` and talk
  back through `NodeServices`.

Everything here is an interface; the behaviour behind it follows
`shared/reference/runtime-contract.md` §1-§3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message,
    OnExit,
    ProcessId,
    Request,
    Response,
    SendError,
)


class ProcessTrap(Exception):
    """Raised by a host function to trap the guest on purpose (e.g. send-and-await to itself).

    In component mode the runner lets it propagate into wasmtime, which traps the instance; in native
    mode it propagates out of `init`. Either way the kernel treats the process as crashed and applies
    its on_exit. The message is shown to the developer.
    """


@dataclass(slots=True)
class KernelMessage:
    """One message in flight between two addresses, as Hyperdrive's `KernelMessage`.

    `message` is `Message_Request(Request)` or `Message_Response((Response, None))`; the context slot
    of a Response is always None on the wire (the receiver gets back its *own* stored context).
    """

    id: int
    source: Address
    target: Address
    rsvp: Address | None
    message: Message
    lazy_load_blob: LazyLoadBlob | None


@dataclass(slots=True)
class SendErrorDelivery:
    """A send error queued to the process that sent `id` (timeout, refused, or offline)."""

    id: int
    error: SendError


class StandardHost(Protocol):
    """The `standard` interface as seen from one process. Called only on that process's thread.

    Result-returning WIT functions raise `wit_types.Err(value)` for their error case, exactly like the
    generated guest bindings do, so runners pass errors through untouched. `ProcessTrap` traps.
    """

    def print_to_terminal(self, verbosity: int, message: str) -> None: ...
    def our(self) -> Address: ...
    def get_on_exit(self) -> OnExit: ...
    def set_on_exit(self, on_exit: OnExit) -> None: ...
    def get_state(self) -> bytes | None: ...
    def set_state(self, bytes: bytes) -> None: ...
    def clear_state(self) -> None: ...
    def spawn(
        self,
        name: str | None,
        wasm_path: str,
        on_exit: OnExit,
        request_capabilities: list[Capability],
        grant_capabilities: list[tuple[ProcessId, str]],
        public: bool,
    ) -> ProcessId: ...
    def save_capabilities(self, caps: list[Capability]) -> None: ...
    def drop_capabilities(self, caps: list[Capability]) -> None: ...
    def our_capabilities(self) -> list[Capability]: ...
    def receive(self) -> tuple[Address, Message]: ...
    def has_blob(self) -> bool: ...
    def get_blob(self) -> LazyLoadBlob | None: ...
    def last_blob(self) -> LazyLoadBlob | None: ...
    def send_request(
        self, target: Address, request: Request, context: bytes | None, lazy_load_blob: LazyLoadBlob | None
    ) -> None: ...
    def send_requests(
        self, requests: list[tuple[Address, Request, bytes | None, LazyLoadBlob | None]]
    ) -> None: ...
    def send_response(self, response: Response, lazy_load_blob: LazyLoadBlob | None) -> None: ...
    def send_and_await_response(
        self, target: Address, request: Request, lazy_load_blob: LazyLoadBlob | None
    ) -> tuple[Address, Message]: ...


class ProcessRunner(Protocol):
    """Runs one instance of a process on the calling thread until `init` returns or traps.

    `run` returns normally when init returned; it raises `ProcessCrashed` when the guest trapped (a
    wasm trap, a `ProcessTrap`, or in native mode any exception escaping `init`). A fresh call to
    `run` is a fresh instance (fresh memory / freshly imported module) — that is what Restart needs.
    """

    def run(self, host: StandardHost, our: str) -> None: ...


OUT_OF_MEMORY = "out of memory"
"""How a crash reason starts when a component hit its memory limit (the kernel prints it first)."""


class ProcessCrashed(Exception):
    """The guest trapped. `stderr_tail` holds the last ~5 KB of its stderr, shown on the terminal."""

    def __init__(self, reason: str, stderr_tail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.stderr_tail = stderr_tail


class NodeServices(Protocol):
    """What a runtime module may ask of its node. Called only on the kernel's event loop."""

    @property
    def our_node(self) -> str: ...

    @property
    def home(self) -> Path:
        """The node's home directory; the VFS root is `home / "vfs"` (drive = `vfs/<pkg>:<pub>/<drive>`)."""
        ...

    def send(self, message: KernelMessage) -> None:
        """Route a message exactly as if a process had sent it (caps checked on delivery)."""
        ...

    def new_request_id(self) -> int: ...

    def has_capability(self, holder: ProcessId, cap: Capability) -> bool: ...

    def grant_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None: ...

    def capabilities(self, holder: ProcessId) -> list[Capability]:
        """Every capability `holder` holds (what a `root` script of the terminal inherits)."""
        ...

    def printout(self, source: ProcessId, verbosity: int, text: str) -> None:
        """Write a line to the node's terminal output (shown when `verbosity` ≤ the node's level)."""
        ...

    @property
    def network_link(self) -> object | None:
        """The node's `NetworkLink` (in-memory `Network` or real `NetTransport`), for net:distro:sys."""
        ...


class RequestRefused(Exception):
    """The kernel refused a request a runtime module sent (no such process, no capability).

    Hyperdrive's kernel answers such a request with an immediate Timeout; a userspace process sees
    it as a SendError, a runtime module that implements `request_refused(request_id, reason)` (e.g.
    http-server for the rpc endpoint and HTTP bindings) gets it there, with the kernel's reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RuntimeModule(Protocol):
    """A host-side runtime process such as `vfs:distro:sys`. Lives on the kernel's event loop."""

    process_id: ProcessId
    public: bool

    async def start(self, node: NodeServices) -> None: ...

    async def handle(self, message: KernelMessage) -> None:
        """Handle one message routed to this module (already capability-checked by the kernel)."""
        ...

    async def stop(self) -> None: ...
