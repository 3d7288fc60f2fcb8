"""The kernel: process table, routing, capability checks, kernel commands and on_exit.

Why one lock and one loop: Hyperdrive's kernel is a single task reading one channel, so it dispatches
strictly in arrival order (FIFO per sender→target) and never races with itself. Here every table is
guarded by one re-entrant lock (`_lock`), and the kernel's work runs on an asyncio loop on its own
thread, which takes the lock for every kernel callback. Runtime modules live on that loop.

The hot path is the exception: a message from a local process to another local process is routed on
the *sender's* thread, under the lock, straight into the target's inbox (`route_direct`), because a
hop through the loop cost two thread switches per message. Everything else a process sends (to a
runtime module, the kernel, another node, or a refused message) is queued to the loop. Order is kept
per sender: while any message of a process is still queued to the loop, its later messages (and its
capability calls) are queued behind it instead of taking the direct path, so the kernel sees every
process's messages in the order it sent them.

The routing rules are Hyperdrive's main loop (runtime-contract.md §1.5, §1.7): "our" is replaced by
the node name; local→remote needs the network cap; remote→local needs the target to exist and hold
the network cap; local→local needs a public target or a messaging cap, except from kernel, state and
vfs; a refused Request that expects a response gets an immediate Timeout (`throw_timeout`). Kernel
commands (§1.6) are handled when the target's process *name* is `kernel` and the source is local.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from hyperpy.node import placement
from hyperpy.node.contracts import OUT_OF_MEMORY, KernelMessage, RuntimeModule, SendErrorDelivery
from hyperpy.node.kernel_json import (
    INITIALIZE_PROCESS_ERROR,
    INITIALIZED_PROCESS,
    RUN_PROCESS_ERROR,
    STARTED_PROCESS,
    Booted,
    Debug,
    DropCapabilities,
    GrantCapabilities,
    InitializeProcess,
    KernelJsonError,
    KillProcess,
    RunProcess,
    SetOnExit,
    Shutdown,
    command_from_json,
    killed_process_body,
    on_exit_name,
)
from hyperpy.node.persistence import PersistedProcess, ProcessTableFile
from hyperpy.node.process_code import ProcessCode, intern_code
from hyperpy.node.process_host import ProcessHost
from hyperpy.node.process_thread import ProcessControl, ProcessKilled, RunOutcome, run_process_thread
from hyperpy.node.restart_backoff import RestartBackoff
from hyperpy.node.runner_factory import RunnerContext, make_runner
from hyperpy.node.terminal import Terminal
from hyperpy.node.well_known import (
    CAPABILITY_EXEMPT_SOURCES,
    KERNEL_PROCESS_ID,
    NET_PROCESS_ID,
    OUR_NODE_ALIAS,
    messaging_cap,
    network_cap,
)
from hyperpy.node.wit_types import (
    Address,
    Capability,
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
)
from hyperpy.package.names import is_hypermap_safe

T = TypeVar("T")

RUN_BODY = b"run"
RED = "\x1b[38;5;196m"
RESET = "\x1b[0m"

InstanceState = Literal["initialized", "running", "exited", "zombie"]
CapKey = tuple[Address, object]
# The parsed params of a messaging cap: `(address, MESSAGING)` is `messaging_cap(...).key()`, built
# without parsing JSON on every routed message.
MESSAGING = messaging_cap(OUR_NODE_ALIAS, KERNEL_PROCESS_ID).key()[1]


class KernelStopped(RuntimeError):
    """The node is not running (not started yet, or stopped)."""


class NetworkLink(Protocol):
    """How a kernel reaches other nodes (implemented by `hyperpy.node.network.Network`)."""

    def send(self, message: KernelMessage, sender: Kernel) -> None: ...


@dataclass
class ProcessInstance:
    """The running side of a userspace process: its code, inbox/kill switch, thread and host."""

    code: ProcessCode  # shared with every process running the same bytes
    control: ProcessControl = field(default_factory=ProcessControl)
    state: InstanceState = "initialized"
    host: ProcessHost | None = None
    thread: threading.Thread | None = None

    @property
    def mode(self) -> str:
        return self.code.mode


@dataclass
class ProcessEntry:
    """A row of the process map (Hyperdrive's `PersistedProcess` plus what runs it)."""

    id: ProcessId
    wasm_bytes_handle: str
    wit_version: int | None
    on_exit: OnExit
    public: bool
    caps: dict[CapKey, Capability]
    module: RuntimeModule | None = None
    instance: ProcessInstance | None = None

    def persisted(self) -> PersistedProcess:
        return PersistedProcess(
            self.wasm_bytes_handle, self.wit_version, self.on_exit, list(self.caps.values()), self.public
        )


@dataclass
class PendingRestart:
    """A Restart process waiting out its backoff: out of the process map, back after `handle` fires."""

    row: PersistedProcess
    code: ProcessCode
    handle: asyncio.TimerHandle | None = None


@dataclass(frozen=True)
class InjectionOutcome:
    """How an injected request ended: its Response, or a send error (with why, if the kernel refused it)."""

    response: KernelMessage | None = None
    error: SendError | None = None
    reason: str = ""


@dataclass
class Injection:
    """A request injected from outside (Node.inject): the Response with `id` sent to `address` resolves it."""

    address: Address
    future: concurrent.futures.Future[InjectionOutcome]
    timer: asyncio.TimerHandle | None = None


@dataclass(frozen=True)
class ProcessStatus:
    """A snapshot of one userspace process for listings."""

    id: ProcessId
    status: str
    public: bool
    on_exit: OnExit
    wasm_bytes_handle: str
    mode: str


class Kernel:
    """One node's kernel. Create, `start()` (boots on its own thread), `stop()`."""

    def __init__(
        self,
        *,
        name: str,
        home: Path,
        terminal: Terminal,
        modules: list[RuntimeModule],
        runner_context: RunnerContext,
        network: NetworkLink | None = None,
        restart_delay_scale: float = 1.0,
        cpus: frozenset[int] | None = None,
    ) -> None:
        self.name = name
        self.cpus = cpus  # the cores its threads are kept on (node/placement.py); None: anywhere
        self.home = home
        self.terminal = terminal
        self._modules = modules
        self._runner_context = runner_context
        self._network = network
        self._restart_delay_scale = restart_delay_scale
        self._table_file = ProcessTableFile(home)
        self._entries: dict[ProcessId, ProcessEntry] = {}
        self._reverse_caps: dict[ProcessId, dict[ProcessId, list[CapKey]]] = {}
        self._issued: set[CapKey] = set()
        self._backoffs: dict[ProcessId, RestartBackoff] = {}
        self._pending_restarts: dict[ProcessId, PendingRestart] = {}
        self._injections: dict[int, Injection] = {}
        self._persist_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._loop_ident: int | None = None  # the loop thread's id
        self._running = False
        # Guards every table below and above; see the module docstring.
        self._lock = threading.RLock()
        self._network_key = network_cap(name).key()
        self.services = KernelServices(self)

    # ============================================================================== thread and loop

    @property
    def running(self) -> bool:
        return self._running

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise KernelStopped(f"node {self.name} is not running")
        return self._loop

    def start(self) -> None:
        """Start the loop thread and boot (modules, persisted processes); returns once booted."""
        if self._running:
            return
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            placement.pin_current_thread(self.cpus)  # threads the loop starts (executors) inherit it
            asyncio.set_event_loop(loop)
            self._loop_ident = threading.get_ident()
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=main, name=f"kernel {self.name}", daemon=True)
        self._thread.start()
        ready.wait()
        self._running = True
        try:
            asyncio.run_coroutine_threadsafe(self._boot(), loop).result()
        except BaseException:
            self.stop()
            raise

    def stop(self, join_timeout: float = 5.0) -> None:
        """Kill every process, persist the table, stop the modules and the loop."""
        loop = self._loop
        if loop is None:
            return
        if self._running and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            finally:
                self._running = False
                loop.call_soon_threadsafe(loop.stop)
        self._running = False
        with self._lock:
            threads = [e.instance.thread for e in self._entries.values() if e.instance and e.instance.thread]
        if self._thread is not None:
            self._thread.join(join_timeout)
        deadline = time.monotonic() + join_timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._loop = None
        self._thread = None

    def call(self, function: Callable[[], T], timeout: float | None = None) -> T:
        """Run `function` on the kernel loop, under the kernel lock, and return its result (from any
        thread; on the loop thread it runs at once)."""
        loop = self._loop
        if loop is None or not self._running:
            raise KernelStopped(f"node {self.name} is not running")
        if threading.get_ident() == self._loop_ident:
            with self._lock:
                return function()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                with self._lock:
                    result = function()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:
            raise KernelStopped(f"node {self.name} is not running") from None
        return future.result(timeout)

    def _soon(self, function: Callable[..., Any], *args: Any) -> None:
        """Schedule `function(*args)` on the loop, under the lock, from any thread; dropped after stop."""
        self._post(self._locked, function, *args)

    def _post(self, function: Callable[..., Any], *args: Any) -> None:
        """Schedule `function(*args)` on the loop as is (no lock); silently dropped after stop."""
        loop = self._loop
        if loop is None:
            return
        try:
            if threading.get_ident() == self._loop_ident:
                loop.call_soon(function, *args)
            else:
                loop.call_soon_threadsafe(function, *args)
        except RuntimeError:
            return

    def _locked(self, function: Callable[..., Any], *args: Any) -> None:
        """Run a loop callback under the kernel lock (every timer and callback that touches tables)."""
        with self._lock:
            function(*args)

    def printout(self, verbosity: int, text: str, source: ProcessId = KERNEL_PROCESS_ID) -> None:
        self.terminal.print(verbosity, source, text)

    # ======================================================================================== boot

    async def _boot(self) -> None:
        with self._lock:
            table = self._boot_runtime_entries()
        for module in self._modules:
            await module.start(self.services)
        with self._lock:
            self._boot_processes(table)

    def _boot_runtime_entries(self) -> dict[ProcessId, PersistedProcess]:
        """The kernel's and the runtime modules' rows; returns the rest of the persisted table."""
        # No table writes until the whole table is back in memory (a module granting caps while it
        # starts must not persist a table without the userspace rows): `_persist_now` clears it.
        self._persist_scheduled = True
        table, problems = self._table_file.load()
        for problem in problems:
            self.printout(0, problem)
        runtime_ids = [KERNEL_PROCESS_ID, *(m.process_id for m in self._modules)]
        runtime_caps = [
            messaging_cap(self.name, pid) for pid in (KERNEL_PROCESS_ID, NET_PROCESS_ID, *runtime_ids)
        ]
        runtime_caps.append(network_cap(self.name))
        self._entries[KERNEL_PROCESS_ID] = self._runtime_entry(
            KERNEL_PROCESS_ID, False, runtime_caps, table.pop(KERNEL_PROCESS_ID, None)
        )
        for module in self._modules:
            self._entries[module.process_id] = self._runtime_entry(
                module.process_id, module.public, runtime_caps, table.pop(module.process_id, None), module
            )
        return table

    def _boot_processes(self, table: dict[ProcessId, PersistedProcess]) -> None:
        """Every persisted userspace process back in the map; boot on_exit requests; "run" to all."""
        boot_requests: list[KernelMessage] = []
        for process_id, row in table.items():
            if not is_hypermap_safe(process_id):
                self.printout(0, f"bootstrap: removing non-Hypermap-safe process {process_id}")
                continue
            if process_id in self._entries:
                continue
            if not row.wasm_bytes_handle:
                self.printout(
                    2,
                    f"kernel: {process_id} is not a runtime module of this node; "
                    "dropping its persisted capabilities",
                )
                continue
            code = self._read_code(process_id, row.wasm_bytes_handle)
            if code is None:
                continue
            if isinstance(row.on_exit, OnExit_Requests):
                boot_requests.extend(self._boot_exit_requests(process_id, row))
            self._entries[process_id] = ProcessEntry(
                process_id,
                row.wasm_bytes_handle,
                row.wit_version,
                row.on_exit,
                row.public,
                _cap_dict(row.capabilities),
                instance=ProcessInstance(code),
            )
        self._index_restored_capabilities()
        self._persist_now()
        for message in boot_requests:
            self._route(message)
        self._booted()

    def _runtime_entry(
        self,
        process_id: ProcessId,
        public: bool,
        runtime_caps: list[Capability],
        row: PersistedProcess | None,
        module: RuntimeModule | None = None,
    ) -> ProcessEntry:
        """The kernel's or a runtime module's row: Hyperdrive's runtime caps plus whatever it held
        before the reboot (e.g. messaging caps that non-public processes granted it), as Hyperdrive's
        bootstrap extends the persisted row instead of replacing it."""
        caps = _cap_dict(row.capabilities) if row is not None else {}
        caps.update(_cap_dict(runtime_caps))
        return ProcessEntry(process_id, "", None, OnExit_Restart(), public, caps, module=module)

    def _index_restored_capabilities(self) -> None:
        """Index every restored cap by issuer, as `add_capabilities` does for new ones.

        Why: KillProcess revokes what the killed process issued through this index. Hyperdrive keeps
        its reverse index in memory only, so after a reboot it forgets grants made before; here a
        grant is revoked by KillProcess whenever it was made (a documented difference).
        """
        for holder, entry in self._entries.items():
            for key, cap in entry.caps.items():
                self._reverse_caps.setdefault(cap.issuer.process, {}).setdefault(holder, []).append(key)
                if cap.issuer.node == self.name:
                    self._issued.add(key)

    def _read_code(self, process_id: ProcessId, handle: str) -> ProcessCode | None:
        path = self.home / "vfs" / handle.lstrip("/")
        try:
            return intern_code(path.read_bytes())
        except OSError as exc:
            self.printout(0, f"kernel: couldn't read wasm bytes for process: {process_id} at {path}: {exc}")
            return None

    def _boot_exit_requests(self, process_id: ProcessId, row: PersistedProcess) -> list[KernelMessage]:
        """A persisted process with on_exit Requests fires them at boot, to targets it may message."""
        assert isinstance(row.on_exit, OnExit_Requests)
        held = {cap.key() for cap in row.capabilities}
        messages = []
        for address, request, blob in row.on_exit.value:
            if messaging_cap(address.node, address.process).key() not in held:
                continue
            messages.append(
                KernelMessage(
                    id=random.getrandbits(64),
                    source=Address(self.name, process_id),
                    target=address,
                    rsvp=None,
                    message=Message_Request(replace(request, expects_response=None)),
                    lazy_load_blob=blob,
                )
            )
        return messages

    def _booted(self) -> None:
        """`KernelCommand::Booted`: send "run" to every userspace process (start order unspecified)."""
        for entry in list(self._entries.values()):
            if entry.instance is not None:
                self._deliver_to_process(entry, self._run_message(entry.id))

    def _run_message(self, process_id: ProcessId) -> KernelMessage:
        return KernelMessage(
            id=random.getrandbits(64),
            source=Address(self.name, KERNEL_PROCESS_ID),
            target=Address(self.name, process_id),
            rsvp=None,
            message=Message_Request(Request(False, None, RUN_BODY, None, [])),
            lazy_load_blob=None,
        )

    async def _shutdown(self) -> None:
        with self._lock:
            for entry in self._entries.values():
                if entry.instance is not None:
                    entry.instance.control.kill()
            for pending in self._pending_restarts.values():
                if pending.handle is not None:
                    pending.handle.cancel()
            self._persist_now()
            for injection in list(self._injections.values()):
                if not injection.future.done():
                    injection.future.set_exception(KernelStopped(f"node {self.name} stopped"))
            self._injections.clear()
        for module in reversed(self._modules):
            try:
                await module.stop()
            except Exception as exc:  # a module that fails to stop must not keep the node up
                self.printout(0, f"{module.process_id}: error while stopping: {exc!r}")

    # ================================================================================= persistence

    def _persist_soon(self) -> None:
        """Coalesce table writes: several changes in one loop iteration write once."""
        if self._persist_scheduled:
            return
        self._persist_scheduled = True
        self._soon(self._persist_now)

    def _persist_now(self) -> None:
        """Write every row that Hyperdrive persists: all holders whose on_exit is not None (userspace
        processes, runtime modules, the kernel), plus Restart processes waiting out their backoff."""
        self._persist_scheduled = False
        table = {
            pid: entry.persisted()
            for pid, entry in self._entries.items()
            if not isinstance(entry.on_exit, OnExit_None_)
        }
        for pid, pending in self._pending_restarts.items():
            table.setdefault(pid, pending.row)
        try:
            self._table_file.save(table)
        except OSError as exc:
            self.printout(0, f"kernel: couldn't persist the process table: {exc}")

    def _persist_if_kept(self, entry: ProcessEntry) -> None:
        """Caps of every kept holder are persisted: processes, runtime modules and the kernel itself
        (Hyperdrive's process map holds them all), so grants survive a reboot."""
        if not isinstance(entry.on_exit, OnExit_None_):
            self._persist_soon()

    # ================================================================================ capabilities

    def add_capabilities(self, holder: ProcessId, caps: list[Capability]) -> bool:
        """`CapMessage::Add`: unchecked; indexed by issuer for RevokeAll. False if no such holder."""
        entry = self._entries.get(holder)
        if entry is None:
            return False
        for cap in caps:
            key = cap.key()
            entry.caps[key] = cap
            self._reverse_caps.setdefault(cap.issuer.process, {}).setdefault(holder, []).append(key)
            if cap.issuer.node == self.name:
                self._issued.add(key)
        self._persist_if_kept(entry)
        return True

    def drop_capabilities(self, holder: ProcessId, caps: list[Capability]) -> bool:
        entry = self._entries.get(holder)
        if entry is None:
            return False
        for cap in caps:
            entry.caps.pop(cap.key(), None)
        self._persist_if_kept(entry)
        return True

    def has_capability(self, holder: ProcessId, cap: Capability) -> bool:
        entry = self._entries.get(holder)
        return entry is not None and cap.key() in entry.caps

    def all_capabilities(self, holder: ProcessId) -> list[Capability]:
        entry = self._entries.get(holder)
        return [] if entry is None else list(entry.caps.values())

    def filter_capabilities(self, holder: ProcessId, caps: list[Capability]) -> list[Capability]:
        """`CapMessage::FilterCaps`: keep caps the holder issued (by process id) or holds."""
        entry = self._entries.get(holder)
        if entry is None:
            return []
        kept = []
        for cap in caps:
            if cap.issuer.process == holder:
                self._issued.add(cap.key())
                kept.append(cap)
            elif cap.key() in entry.caps:
                kept.append(cap)
        return kept

    def _revoke_all(self, issuer: ProcessId) -> None:
        """`CapMessage::RevokeAll`: remove every indexed cap issued by `issuer` from its holders."""
        for holder, keys in self._reverse_caps.get(issuer, {}).items():
            entry = self._entries.get(holder)
            if entry is not None:
                for key in keys:
                    entry.caps.pop(key, None)
        self._persist_soon()

    # ===================================================================================== routing

    def _route(self, km: KernelMessage) -> None:
        """The kernel main loop's body for one message: normalize, check, dispatch."""
        if km.source.node == OUR_NODE_ALIAS:
            km = replace(km, source=Address(self.name, km.source.process))
        if km.target.node == OUR_NODE_ALIAS:
            km = replace(km, target=Address(self.name, km.target.process))
        our = self.name
        if km.source.node == our and km.target.node != our:
            source = self._entries.get(km.source.process)
            if source is None:
                return
            if self._network_key not in source.caps:
                self.printout(
                    0,
                    f"event loop: process {km.source.process} doesn't have capability "
                    "to send networked messages",
                )
                self._throw_timeout(km, "no network capability")
                return
        elif km.source.node != our:
            target = self._entries.get(km.target.process)
            if target is None:
                self.printout(
                    2,
                    f"event loop: got {_kind(km)} from network for {km.target.process}, "
                    "but process does not exist",
                )
                return
            if self._network_key not in target.caps:
                self.printout(
                    0,
                    f"event loop: process {km.target.process} got a message from over the network, "
                    "but doesn't have capability to receive networked messages",
                )
                return
        elif km.source.process not in CAPABILITY_EXEMPT_SOURCES:
            source = self._entries.get(km.source.process)
            if source is None:
                self._throw_timeout(km, f"source {km.source.process} is not a process on {our}")
                return
            target = self._entries.get(km.target.process)
            if target is None:
                self.printout(
                    2,
                    f"event loop: process {km.source.process} sent message to non-existing "
                    f"{km.target.process}; dropping message",
                )
                self._throw_timeout(km, f"no process {km.target.process} on {our}")
                return
            if not target.public and (km.target, MESSAGING) not in source.caps:
                self.printout(
                    0,
                    f"event loop: process {km.source.process} doesn't have capability to message process "
                    f"{km.target.process}",
                )
                self._throw_timeout(km, f"{km.source.process} may not message {km.target.process}")
                return

        if self.terminal.verbosity >= 3:
            self.printout(3, _describe_message(km))
        if km.target.node != our:
            self._send_to_network(km)
        elif km.target.process.process_name == "kernel" and km.source.node == our:
            self._handle_kernel_command(km)
        else:
            self._deliver(km)

    def _deliver(self, km: KernelMessage) -> None:
        if self._injections and isinstance(km.message, Message_Response):
            injection = self._injections.get(km.id)
            if injection is not None and injection.address == km.target:
                self._resolve_injection(km.id, InjectionOutcome(response=km))
                return
        entry = self._entries.get(km.target.process)
        if entry is None:
            self.printout(
                0,
                f"event loop: got {_kind(km)} from {km.source.process} for {km.target.process}, "
                "but target doesn't exist (perhaps it terminated)",
            )
            self._throw_timeout(km, f"no process {km.target.process} on {self.name}")
            return
        if entry.module is not None:
            if threading.get_ident() == self._loop_ident:
                self.loop.create_task(self._module_handle(entry.module, km))
            else:  # a module that sends from a worker thread (NodeServices asks for the loop)
                self._post(self._start_module_task, entry.module, km)
        elif entry.instance is not None:
            self._deliver_to_process(entry, km)

    def _start_module_task(self, module: RuntimeModule, km: KernelMessage) -> None:
        self.loop.create_task(self._module_handle(module, km))

    def route_direct(self, km: KernelMessage) -> bool:
        """Route a local process→process message on the calling thread, if nothing about it needs the
        loop: deliver it straight into the target's inbox and return True. Otherwise change nothing
        and return False (route it with `_route` on the loop). Call with the lock held.

        Exactly `_route`'s local→local case when every check passes: both on this node (no "our"
        alias), the sender a userspace process (not capability-exempt), the target a userspace
        process (not a runtime module, not a kernel command) that is public or that the sender holds
        the messaging cap for, no injected request waiting for this id, and no verbosity-3 trace.
        """
        our = self.name
        target = km.target
        if km.source.node != our or target.node != our or self.terminal.verbosity >= 3:
            return False
        target_id = target.process
        entry = self._entries.get(target_id)
        if entry is None or entry.instance is None or target_id.process_name == "kernel":
            return False
        source_id = km.source.process
        sender = self._entries.get(source_id)
        if sender is None or source_id in CAPABILITY_EXEMPT_SOURCES:
            return False
        if not entry.public and (target, MESSAGING) not in sender.caps:
            return False
        if self._injections and km.id in self._injections:
            return False
        self._deliver_to_process(entry, km)
        return True

    async def _module_handle(self, module: RuntimeModule, km: KernelMessage) -> None:
        try:
            await module.handle(km)
        except Exception as exc:  # a module bug is reported, the node keeps running
            self.printout(0, f"{module.process_id}: error handling a message: {exc!r}")
            self.printout(1, "".join(traceback.format_exception(exc)))

    def _deliver_to_process(self, entry: ProcessEntry, item: KernelMessage | SendErrorDelivery) -> None:
        """Hand a message to a process's inbox; before "run" it is buffered, "run" starts it."""
        instance = entry.instance
        if instance is None or instance.state == "zombie" or instance.control.killed:
            return
        if instance.state == "initialized" and isinstance(item, KernelMessage) and self._is_run(item):
            self._start_instance(entry, instance)
            return
        instance.control.deliver(item)

    def _is_run(self, km: KernelMessage) -> bool:
        message = km.message
        return (
            km.source == Address(self.name, KERNEL_PROCESS_ID)
            and isinstance(message, Message_Request)
            and message.value.body == RUN_BODY
            and not message.value.inherit
            and message.value.expects_response is None
            and message.value.metadata is None
            and not message.value.capabilities
        )

    def _throw_timeout(self, km: KernelMessage, reason: str) -> None:
        """An immediate Timeout for a refused Request that expects a response (userspace sources only)."""
        if not isinstance(km.message, Message_Request) or km.message.value.expects_response is None:
            return
        error = SendError(SendErrorKind.TIMEOUT, km.target, km.message, km.lazy_load_blob)
        injection = self._injections.get(km.id)
        if injection is not None and injection.address == km.source:
            self._resolve_injection(km.id, InjectionOutcome(error=error, reason=reason))
            return
        entry = self._entries.get(km.source.process)
        if entry is not None and entry.instance is not None:
            self._deliver_to_process(entry, SendErrorDelivery(km.id, error))
        elif entry is not None and entry.module is not None:
            refused = getattr(entry.module, "request_refused", None)
            if refused is not None:
                refused(km.id, reason)

    # ===================================================================================== network

    def _send_to_network(self, km: KernelMessage) -> None:
        if self._network is None:
            self.network_error(km, SendErrorKind.OFFLINE)
            return
        self._network.send(km, self)

    def network_error(self, km: KernelMessage, kind: SendErrorKind, reason: str | None = None) -> None:
        """The network could not deliver `km` (from any thread); `reason` explains it to an injector."""
        self._soon(self._deliver_network_error, km, kind, reason)

    def _deliver_network_error(self, km: KernelMessage, kind: SendErrorKind, reason: str | None) -> None:
        error = SendError(kind, km.target, km.message, km.lazy_load_blob)
        injection = self._injections.get(km.id)
        if injection is not None and injection.address == km.source:
            self._resolve_injection(
                km.id, InjectionOutcome(error=error, reason=reason or f"{km.target.node} is offline")
            )
            return
        entry = self._entries.get(km.source.process)
        if entry is None:
            why = "due to timeout" if kind is SendErrorKind.TIMEOUT else "because the receiver is offline"
            self.printout(
                0,
                f"event loop: {km.source.process} failed to deliver a message {why}; "
                "but process has already terminated",
            )
            return
        if entry.instance is not None:
            self._deliver_to_process(entry, SendErrorDelivery(km.id, error))

    def receive_from_network(self, km: KernelMessage) -> None:
        """A message from another node (any thread). Raises KernelStopped when this node is down."""
        loop = self._loop
        if loop is None or not self._running:
            raise KernelStopped(self.name)
        try:
            loop.call_soon_threadsafe(self._locked, self._route_inbound, km)
        except RuntimeError:
            raise KernelStopped(self.name) from None

    def _route_inbound(self, km: KernelMessage) -> None:
        """Prune caps that claim to be ours but that we never issued (Hyperdrive checks signatures)."""
        if isinstance(km.message, Message_Request):
            request = km.message.value
            kept = [c for c in request.capabilities if c.issuer.node != self.name or c.key() in self._issued]
            if len(kept) != len(request.capabilities):
                km = replace(km, message=Message_Request(replace(request, capabilities=kept)))
        else:
            response, context = km.message.value
            kept = [c for c in response.capabilities if c.issuer.node != self.name or c.key() in self._issued]
            if len(kept) != len(response.capabilities):
                km = replace(km, message=Message_Response((replace(response, capabilities=kept), context)))
        self._route(km)

    # ============================================================================= kernel commands

    def _handle_kernel_command(self, km: KernelMessage) -> None:
        if not isinstance(km.message, Message_Request):
            return
        try:
            command = command_from_json(km.message.value.body)
        except KernelJsonError as exc:
            self.printout(0, f"kernel: couldn't parse command: {exc}")
            return
        if isinstance(command, InitializeProcess):
            self._command_initialize(km, command)
        elif isinstance(command, Debug):
            self._kernel_reply(km, self._debug_body(command))
        elif isinstance(command, RunProcess):
            ok = self.run_process(command.id)
            self._kernel_reply(km, STARTED_PROCESS if ok else RUN_PROCESS_ERROR)
        elif isinstance(command, KillProcess):
            killed = self.kill_process(command.id, revoke=km.message.value.metadata != "no-revoke")
            if killed and km.message.value.expects_response is not None:
                self._kernel_reply(km, killed_process_body(command.id))
        elif isinstance(command, GrantCapabilities):
            self.add_capabilities(command.target, command.capabilities)
        elif isinstance(command, DropCapabilities):
            self.drop_capabilities(command.target, command.capabilities)
        elif isinstance(command, SetOnExit):
            entry = self._entries.get(command.target)
            if entry is not None:
                entry.on_exit = command.on_exit
            self._persist_soon()
        elif isinstance(command, Booted):
            self._booted()
        elif isinstance(command, Shutdown):
            self.printout(0, "kernel: Shutdown is only accepted from the node itself (stop the node instead)")

    def _debug_body(self, command: Debug) -> bytes:
        """`KernelResponse::Debug`: the process map (or one row, null when absent) as `top` reads it;
        runtime modules appear with an empty wasm handle, as in Hyperdrive's map."""
        if command.process is None:
            rows = {str(pid): entry.persisted().to_json() for pid, entry in self._entries.items()}
            return json.dumps({"Debug": {"ProcessMap": rows}}).encode()
        entry = self._entries.get(command.process)
        row = entry.persisted().to_json() if entry is not None else None
        return json.dumps({"Debug": {"Process": row}}).encode()

    def _kernel_reply(self, km: KernelMessage, body: bytes) -> None:
        self._route(
            KernelMessage(
                id=km.id,
                source=Address(self.name, KERNEL_PROCESS_ID),
                target=km.rsvp or km.source,
                rsvp=None,
                message=Message_Response((Response(False, body, None, []), None)),
                lazy_load_blob=None,
            )
        )

    def _command_initialize(self, km: KernelMessage, command: InitializeProcess) -> None:
        if km.lazy_load_blob is None:
            self.printout(0, "kernel: process startup requires bytes")
            self._kernel_reply(km, INITIALIZE_PROCESS_ERROR)
            return
        if not is_hypermap_safe(command.id):
            self.printout(
                0,
                f"kernel: process id {command.id} is not Hypermap-safe "
                "(names may contain only a-z, 0-9 and '-', publishers also '.')",
            )
            self._kernel_reply(km, INITIALIZE_PROCESS_ERROR)
            return
        if km.source.process == KERNEL_PROCESS_ID:
            caps = list(command.initial_capabilities)
        else:
            parent = self._entries.get(km.source.process)
            held = parent.caps if parent is not None else {}
            caps = []
            for cap in command.initial_capabilities:
                if cap.key() in held:
                    caps.append(cap)
                else:
                    self.printout(
                        0,
                        f"kernel: InitializeProcess caller {km.source.process} doesn't have capability "
                        f"{cap.issuer} {cap.params}",
                    )
        ok = self.initialize_process(
            command.id,
            command.wasm_bytes_handle,
            command.wit_version,
            command.on_exit,
            caps,
            command.public,
            km.lazy_load_blob.bytes,
            initializer=km.source.process,
        )
        self._kernel_reply(km, INITIALIZED_PROCESS if ok else INITIALIZE_PROCESS_ERROR)

    def initialize_process(
        self,
        process_id: ProcessId,
        wasm_bytes_handle: str,
        wit_version: int | None,
        on_exit: OnExit,
        caps: list[Capability],
        public: bool,
        code: bytes | ProcessCode,
        *,
        initializer: ProcessId,
    ) -> bool:
        """`InitializeProcess` after its checks: the process and its initializer get messaging to it.

        `code` is interned (`process_code`): processes running the same bytes share one copy."""
        own = messaging_cap(self.name, process_id)
        self.add_capabilities(initializer, [own])
        if process_id in self._entries:
            self.printout(
                0, f"kernel: error initializing process: process with ID {process_id} already exists"
            )
            return False
        self._entries[process_id] = ProcessEntry(
            process_id,
            wasm_bytes_handle,
            wit_version,
            on_exit,
            public,
            _cap_dict([*caps, own]),
            instance=ProcessInstance(intern_code(code)),
        )
        self._issued.add(own.key())
        if not isinstance(on_exit, OnExit_None_):
            self._persist_soon()
        return True

    def run_process(self, process_id: ProcessId) -> bool:
        """`RunProcess`: send "run" (a stray Request to a process that already runs)."""
        entry = self._entries.get(process_id)
        if entry is None or entry.instance is None or entry.instance.state == "zombie":
            self.printout(0, f"kernel: no such process {process_id} to run")
            return False
        self._deliver_to_process(entry, self._run_message(process_id))
        return True

    def kill_process(self, process_id: ProcessId, *, revoke: bool = True) -> bool:
        """`KillProcess`: stop the instance, remove it from the map, revoke the caps it issued."""
        pending = self._pending_restarts.pop(process_id, None)
        if pending is not None and pending.handle is not None:
            pending.handle.cancel()
        entry = self._entries.get(process_id)
        if entry is None or entry.instance is None:
            if pending is None:
                self.printout(2, f"kernel: no such process {process_id} to kill")
                return False
            self._persist_soon()
            return True
        entry.instance.control.kill()
        del self._entries[process_id]
        if revoke:
            self._revoke_all(process_id)
        self.printout(2, f"kernel: killing process {process_id}")
        self._persist_soon()
        return True

    # =================================================================================== lifecycle

    def _start_instance(self, entry: ProcessEntry, instance: ProcessInstance) -> None:
        instance.state = "running"
        address = Address(self.name, entry.id)
        host = ProcessHost(
            our=address,
            wit_version=entry.wit_version,
            on_exit=entry.on_exit,
            control=instance.control,
            port=ProcessPort(self, instance.control),
        )
        instance.host = host
        backoff = self._backoffs.setdefault(entry.id, RestartBackoff(self._restart_delay_scale))
        code, context = instance.code, self._runner_context
        # Runners are shared by processes with the same code, so the label names the code; the
        # kernel's own printout of a load failure names the process.
        label = entry.wasm_bytes_handle or "component"
        instance.thread = run_process_thread(
            name=f"{entry.id}@{self.name}",
            control=instance.control,
            make_runner=lambda: make_runner(code, context, label),
            host=host,
            our=str(address),
            cpus=self.cpus,
            on_started=lambda now: self._soon(backoff.started, now),
            on_exit=lambda outcome: self._soon(self._process_ended, entry.id, instance, outcome),
        )

    def _process_ended(self, process_id: ProcessId, instance: ProcessInstance, outcome: RunOutcome) -> None:
        """A run finished (on the loop): print, then apply the process's current on_exit."""
        entry = self._entries.get(process_id)
        if (
            outcome.kind == "killed"
            or instance.control.killed
            or entry is None
            or entry.instance is not instance
        ):
            return
        address = Address(self.name, process_id)
        if outcome.kind == "load_failed":
            instance.state = "zombie"
            self.printout(0, f"kernel: process {process_id} failed to instantiate: {outcome.detail}")
            return
        instance.state = "exited"
        if outcome.kind == "returned":
            self.printout(1, f"process {address} returned without error")
        else:
            detail = outcome.stderr if outcome.stderr else outcome.detail
            if outcome.stderr and outcome.detail.startswith(OUT_OF_MEMORY):
                detail = f"{outcome.detail}\n{outcome.stderr}"  # say why before the guest's last words
            self.printout(0, f"{RED}process {address} ended with error:{RESET}\n{detail}")
        assert instance.host is not None
        on_exit = instance.host.on_exit
        self.printout(1, f"process {process_id} has OnExit behavior {on_exit_name(on_exit)}")
        if isinstance(on_exit, OnExit_None_):
            self.kill_process(process_id, revoke=True)
        elif isinstance(on_exit, OnExit_Restart):
            self._restart(entry, instance, on_exit, outcome.ended_at)
        else:
            for target, request, blob in on_exit.value:
                self._route(
                    KernelMessage(
                        id=random.getrandbits(64),
                        source=address,
                        target=target,
                        rsvp=None,
                        message=Message_Request(replace(request, expects_response=None)),
                        lazy_load_blob=blob,
                    )
                )
            self.kill_process(process_id, revoke=True)

    def _restart(
        self, entry: ProcessEntry, instance: ProcessInstance, on_exit: OnExit, ended_at: float
    ) -> None:
        backoff = self._backoffs.setdefault(entry.id, RestartBackoff(self._restart_delay_scale))
        delay = backoff.next_delay(ended_at)
        row = PersistedProcess(
            entry.wasm_bytes_handle, entry.wit_version, on_exit, list(entry.caps.values()), entry.public
        )
        self.kill_process(entry.id, revoke=False)
        pending = PendingRestart(row, instance.code)
        if delay <= 0:
            self._reinitialize(entry.id, pending)
            return
        pending.handle = self.loop.call_later(delay, self._locked, self._reinitialize, entry.id, pending)
        self._pending_restarts[entry.id] = pending
        self._persist_soon()

    def _reinitialize(self, process_id: ProcessId, pending: PendingRestart) -> None:
        if self._pending_restarts.get(process_id) is pending:
            del self._pending_restarts[process_id]
        elif pending.handle is not None:
            return  # cancelled by a kill while waiting
        row = pending.row
        if self.initialize_process(
            process_id,
            row.wasm_bytes_handle,
            row.wit_version,
            row.on_exit,
            row.capabilities,
            row.public,
            pending.code,
            initializer=KERNEL_PROCESS_ID,
        ):
            self.run_process(process_id)

    # ================================================================================== injections

    def inject(
        self, km: KernelMessage, timeout: float | None
    ) -> concurrent.futures.Future[InjectionOutcome] | None:
        """Route `km` from outside; with `timeout`, return a future for its outcome."""
        if timeout is None:
            self.call(lambda: self._route(km))
            return None
        future: concurrent.futures.Future[InjectionOutcome] = concurrent.futures.Future()

        def start() -> None:
            injection = Injection(km.rsvp or km.source, future)
            self._injections[km.id] = injection
            injection.timer = self.loop.call_later(
                timeout,
                self._locked,
                self._resolve_injection,
                km.id,
                InjectionOutcome(
                    error=SendError(SendErrorKind.TIMEOUT, km.target, km.message, km.lazy_load_blob)
                ),
            )
            self._route(km)

        self.call(start)
        return future

    def _resolve_injection(self, request_id: int, outcome: InjectionOutcome) -> None:
        injection = self._injections.pop(request_id, None)
        if injection is None:
            return
        if injection.timer is not None:
            injection.timer.cancel()
        if not injection.future.done():
            injection.future.set_result(outcome)

    # ===================================================================================== queries

    def process_statuses(self) -> list[ProcessStatus]:
        """Every userspace process (and Restart processes waiting out their backoff)."""
        rows = []
        for entry in self._entries.values():
            if entry.instance is None:
                continue
            rows.append(
                ProcessStatus(
                    entry.id,
                    entry.instance.state,
                    entry.public,
                    entry.on_exit,
                    entry.wasm_bytes_handle,
                    entry.instance.mode,
                )
            )
        for pid, pending in self._pending_restarts.items():
            rows.append(
                ProcessStatus(
                    pid,
                    "restarting",
                    pending.row.public,
                    pending.row.on_exit,
                    pending.row.wasm_bytes_handle,
                    pending.code.mode,
                )
            )
        return sorted(rows, key=lambda r: str(r.id))

    def instance_controls(
        self, process_ids: list[ProcessId] | None = None
    ) -> list[tuple[ProcessId, ProcessControl]]:
        """The inbox/kill/readiness handles of running userspace instances (call on the loop);
        every process when `process_ids` is None. See hyperpy/node/readiness.py."""
        wanted = list(self._entries) if process_ids is None else process_ids
        found = []
        for process_id in wanted:
            entry = self._entries.get(process_id)
            if entry is not None and entry.module is None and entry.instance is not None:
                found.append((process_id, entry.instance.control))
        return found

    def has_process(self, process_id: ProcessId) -> bool:
        return process_id in self._entries


class ProcessPort:
    """`KernelPort` for one process instance: what its host may do, from the process thread.

    Sends take the direct path (`Kernel.route_direct`, on this thread) when they can and nothing of
    this process is still queued to the loop; otherwise they are queued to the loop. `_queued` counts
    this process's messages and calls handed to the loop and not yet run there (guarded by the kernel
    lock), which is what keeps the kernel's view of this process's actions in the order it made them.
    """

    def __init__(self, kernel: Kernel, control: ProcessControl) -> None:
        self._kernel = kernel
        self._control = control
        self._queued = 0

    def submit(self, message: KernelMessage) -> None:
        kernel = self._kernel
        with kernel._lock:
            if self._control.killed:
                raise ProcessKilled()
            if self._queued == 0 and kernel.route_direct(message):
                return
            loop = kernel._loop
            if loop is None:
                raise ProcessKilled()
            try:
                loop.call_soon_threadsafe(self._on_loop, message)
            except RuntimeError:
                raise ProcessKilled() from None
            self._queued += 1

    def _on_loop(self, message: KernelMessage) -> None:
        kernel = self._kernel
        with kernel._lock:
            self._queued -= 1
            if not self._control.killed:
                kernel._route(message)

    def _call(self, function: Callable[[], T]) -> T:
        """Run a capability operation: at once under the lock, or behind this process's queued sends."""
        kernel = self._kernel
        with kernel._lock:
            if self._control.killed or not kernel.running:
                raise ProcessKilled()
            if self._queued == 0:
                return function()
        try:
            return kernel.call(self._after_queued(function))
        except KernelStopped:
            raise ProcessKilled() from None

    def _after_queued(self, function: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            if self._control.killed:
                raise ProcessKilled()
            return function()

        return run

    def filter_capabilities(self, holder: ProcessId, caps: list[Capability]) -> list[Capability]:
        return self._call(lambda: self._kernel.filter_capabilities(holder, caps))

    def add_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None:
        self._call(lambda: self._kernel.add_capabilities(holder, caps))

    def drop_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None:
        self._call(lambda: self._kernel.drop_capabilities(holder, caps))

    def all_capabilities(self, holder: ProcessId) -> list[Capability]:
        return self._call(lambda: self._kernel.all_capabilities(holder))

    def print(self, verbosity: int, source: ProcessId, text: str) -> None:
        """Printed from the kernel loop: in order with the process's queued messages, and terminal
        viewers never run on a process thread (whose stdout is the process's, i.e. discarded)."""
        if self._control.killed:
            raise ProcessKilled()
        self._kernel._post(self._kernel.terminal.print, verbosity, source, text)


class KernelServices:
    """`NodeServices` for runtime modules (call on the kernel loop)."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    @property
    def our_node(self) -> str:
        return self._kernel.name

    @property
    def home(self) -> Path:
        return self._kernel.home

    def send(self, message: KernelMessage) -> None:
        kernel = self._kernel
        with kernel._lock:
            kernel._route(message)

    def new_request_id(self) -> int:
        return random.getrandbits(64)

    def has_capability(self, holder: ProcessId, cap: Capability) -> bool:
        kernel = self._kernel
        with kernel._lock:
            return kernel.has_capability(holder, cap)

    def grant_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None:
        kernel = self._kernel
        with kernel._lock:
            kernel.add_capabilities(holder, caps)

    def capabilities(self, holder: ProcessId) -> list[Capability]:
        kernel = self._kernel
        with kernel._lock:
            return kernel.all_capabilities(holder)

    def printout(self, source: ProcessId, verbosity: int, text: str) -> None:
        self._kernel.terminal.print(verbosity, source, text)

    @property
    def network_link(self) -> NetworkLink | None:
        """How this node reaches others (net:distro:sys asks a real transport for peers and PKI)."""
        return self._kernel._network


def _cap_dict(caps: list[Capability]) -> dict[CapKey, Capability]:
    return {cap.key(): cap for cap in caps}


def _kind(km: KernelMessage) -> str:
    return "Request" if isinstance(km.message, Message_Request) else "Response"


def _describe_message(km: KernelMessage) -> str:
    body = km.message.value.body if isinstance(km.message, Message_Request) else km.message.value[0].body
    preview = body[:80]
    return f"event loop: {_kind(km)} {km.id} {km.source} -> {km.target} rsvp={km.rsvp} body={preview!r}"
