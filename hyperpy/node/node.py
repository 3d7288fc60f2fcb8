"""The public face of the local node: `Node` (one emulated Hyperdrive node) and `Emulator` (several).

Why a thin facade: the kernel lives on its own thread and speaks kernel types; the CLI, the pytest
plugin and the control surface want blocking calls with plain arguments — boot, install, inject a
request and get the response, read the terminal, list and kill processes, restart the node. Every
method here is safe to call from any thread other than the node's own threads. See docs/node.md.
"""

from __future__ import annotations

import importlib
import inspect
import random
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hyperpy.node import placement
from hyperpy.node.contracts import KernelMessage, RuntimeModule
from hyperpy.node.install import (
    InstalledPackage,
    apply_package,
    prepare_package,
    unpack_package,
)
from hyperpy.node.kernel import Kernel, KernelStopped, ProcessStatus
from hyperpy.node.kernel_json import on_exit_to_json
from hyperpy.node.modules.state import StateModule, read_state
from hyperpy.node.net.transport import NetConfig, NetTransport
from hyperpy.node.network import Network
from hyperpy.node.placement import CpuSetting
from hyperpy.node.process_thread import ProcessControl
from hyperpy.node.readiness import DEFAULT_READY_TIMEOUT, ProcessStartError, start_problems
from hyperpy.node.runner_factory import RunnerContext, memory_limit_mb
from hyperpy.node.runners.compile_cache_dir import default_cache_dir
from hyperpy.node.runners.native import NativeModuleRef
from hyperpy.node.terminal import Terminal
from hyperpy.node.well_known import CAPABILITY_EXEMPT_SOURCES, HTTP_SERVER_PROCESS_ID, STATE_PROCESS_ID
from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message_Request,
    PackageId,
    ProcessId,
    Request,
    SendErrorKind,
)
from hyperpy.package.names import is_publisher_safe
from hyperpy.runtime import jsonwire

ModuleSource = list[RuntimeModule] | Callable[[], list[RuntimeModule]]


class InjectError(Exception):
    """An injected request could not be sent or was not answered."""


class InjectTimeout(InjectError):
    """No Response in time, or the kernel refused the request (then the message says why)."""


class InjectOffline(InjectError):
    """The target node is unknown or offline."""


@dataclass(frozen=True)
class InjectResponse:
    """The Response to an injected request."""

    source: Address
    body: bytes
    metadata: str | None
    blob: LazyLoadBlob | None
    capabilities: list[Capability]

    def json(self) -> Any:
        return jsonwire.loads(self.body)

    def text(self) -> str:
        return self.body.decode()


@dataclass(frozen=True)
class ProcessInfo:
    """A userspace process as `Node.processes()` reports it."""

    id: ProcessId
    status: str  # "initialized" | "running" | "exited" | "zombie" | "restarting"
    public: bool
    on_exit: Any  # JSON form: "None" | "Restart" | {"Requests": [...]}
    mode: str  # "component" | "native"
    wasm_path: str

    @classmethod
    def of(cls, status: ProcessStatus) -> ProcessInfo:
        return cls(
            status.id,
            status.status,
            status.public,
            on_exit_to_json(status.on_exit),
            status.mode,
            status.wasm_bytes_handle,
        )


def _process_id(value: str | ProcessId) -> ProcessId:
    return value if isinstance(value, ProcessId) else ProcessId.parse(value)


def _body_bytes(body: bytes | str | Any) -> bytes:
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return jsonwire.dumps(body)


def _default_modules(http_port: int) -> list[RuntimeModule]:
    """`hyperpy.node.modules.default_modules(...)`, if the runtime modules provide it."""
    try:
        package = importlib.import_module("hyperpy.node.modules")
    except ImportError:
        return []
    factory = getattr(package, "default_modules", None)
    if factory is None:
        return []
    config_class = getattr(package, "ModulesConfig", None)
    if config_class is not None and inspect.signature(factory).parameters:
        return list(factory(config_class(http_port=http_port)))
    return list(factory())


class Node:
    """One emulated Hyperdrive node. Use as a context manager, or call `start()` / `close()`."""

    def __init__(
        self,
        name: str = "fake.dev",
        home: str | Path | None = None,
        *,
        verbosity: int = 0,
        modules: ModuleSource | None = None,
        network: Network | None = None,
        net: NetConfig | None = None,
        restart_delay_scale: float = 1.0,
        echo_stdout: bool = False,
        cache_dir: str | Path | None = None,
        http_port: int = 0,
        cpus: CpuSetting = None,
        process_memory_mb: int | None = None,
    ) -> None:
        if not is_publisher_safe(name):
            raise ValueError(
                f"node name {name!r} must use only a-z, 0-9, '-' and '.' (for example 'fake.dev')"
            )
        self.name = name
        self._temporary_home = home is None
        self.home = (
            Path(tempfile.mkdtemp(prefix=f"hyperpy-{name}-")) if home is None else Path(home).resolve()
        )
        self.terminal = Terminal(name, verbosity)
        if network is not None and net is not None:
            raise ValueError("give a node either network= (in-memory, one process) or net= (real sockets)")
        self.network = network or Network()
        self._net = net
        self._transport: NetTransport | None = None
        self._modules = modules
        self._http_port = http_port
        self._restart_delay_scale = restart_delay_scale
        # Which cores the node's threads run on (None: the scheduler decides); see node/placement.py.
        self.cpus = placement.resolve(cpus)
        # The compiled-component cache is content-addressed, so one per machine serves every node.
        self._runner_context = RunnerContext(
            Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(),
            echo_stdout,
            memory_limit_mb(process_memory_mb),
        )
        self._kernel: Kernel | None = None
        self._lock = threading.RLock()

    # ---------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Node:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None or not self._kernel.running:
            raise KernelStopped(f"node {self.name} is not running; call start() first")
        return self._kernel

    @property
    def cache_dir(self) -> Path:
        """Where this node's compiled components are cached (see `Node(cache_dir=...)`)."""
        return self._runner_context.cache_dir

    @property
    def running(self) -> bool:
        return self._kernel is not None and self._kernel.running

    @property
    def services(self) -> Any:
        """The `NodeServices` runtime modules get (use only on the kernel loop)."""
        return self.kernel.services

    def _module_list(self) -> list[RuntimeModule]:
        if self._modules is None:
            modules = _default_modules(self._http_port)
        elif callable(self._modules):
            modules = list(self._modules())
        else:
            modules = list(self._modules)
        return [StateModule(), *(m for m in modules if m.process_id != STATE_PROCESS_ID)]

    def start(self) -> Node:
        """Boot the node: runtime modules, then every persisted process."""
        with self._lock:
            if self.running:
                return self
            for directory in ("vfs", "kernel", "state"):
                (self.home / directory).mkdir(parents=True, exist_ok=True)
            transport = None
            if self._net is not None:
                from hyperpy.node.net.keys import load_key

                transport = NetTransport(self.name, load_key(self.home), self._net, self.terminal)
            kernel = Kernel(
                name=self.name,
                home=self.home,
                terminal=self.terminal,
                modules=self._module_list(),
                runner_context=self._runner_context,
                network=transport or self.network,
                restart_delay_scale=self._restart_delay_scale,
                cpus=self.cpus,
            )
            if transport is not None:
                transport.start(kernel)
            else:
                self.network.attach(kernel)
            try:
                kernel.start()
            except BaseException:
                if transport is not None:
                    transport.stop()
                self.network.detach(kernel)
                raise
            self._kernel = kernel
            self._transport = transport
        self._report_start(kernel, None, DEFAULT_READY_TIMEOUT)
        return self

    def _report_start(self, kernel: Kernel, process_ids: list[ProcessId] | None, timeout: float) -> None:
        """Wait until the booted processes answer; print (not raise) what did not: the node runs on."""
        controls = kernel.call(lambda: kernel.instance_controls(process_ids))
        for problem in start_problems(controls, timeout):
            kernel.printout(0, f"not ready: {problem}")

    @property
    def transport(self) -> NetTransport | None:
        """The node's real network (started with `net=`), else None (in-memory `network`)."""
        return self._transport

    def stop(self) -> None:
        """Shut down cleanly: processes stop, the process table is persisted, modules stop."""
        with self._lock:
            kernel, self._kernel = self._kernel, None
            transport, self._transport = self._transport, None
            if kernel is None:
                return
            try:
                kernel.stop()
            finally:
                self.network.detach(kernel)
                if transport is not None:
                    transport.stop()

    def restart(self) -> None:
        """Stop and boot again on the same home; returns when the persisted processes are back and
        answer (see `install`)."""
        with self._lock:
            self.stop()
            self.start()

    def close(self) -> None:
        """Stop, and delete the home directory if the node made it."""
        self.stop()
        if self._temporary_home:
            shutil.rmtree(self.home, ignore_errors=True)

    # ------------------------------------------------------------------------------------ install

    def install(
        self,
        source: str | Path | bytes,
        *,
        mode: str = "component",
        package_id: str | PackageId | None = None,
        native_modules: Mapping[str, str | Path | NativeModuleRef] | None = None,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> InstalledPackage:
        """Install (or reinstall) a package as the app store does; see docs/node.md.

        Returns when every process of the package answers: a framework app has bound its HTTP paths
        and finished `@init`, a raw process waits in `receive()` (hyperpy/node/readiness.py). Raises
        `ProcessStartError` naming the process when one crashed (an `@init` that raised), failed to
        load, or is not ready after `ready_timeout` seconds; `ready_timeout=None` returns at once,
        as Hyperdrive's app store does.
        """
        prepared = prepare_package(source, mode=mode, package_id=package_id, native_modules=native_modules)
        with self._lock:
            kernel = self.kernel
            unpack_package(prepared, self.home)

            def apply() -> tuple[list[ProcessId], list[tuple[ProcessId, ProcessControl]]]:
                started = apply_package(kernel, prepared, self.home)
                return started, kernel.instance_controls(started)

            processes, controls = kernel.call(apply)
        if ready_timeout is not None:
            problems = start_problems(controls, ready_timeout)
            if problems:
                raise ProcessStartError(
                    f"{prepared.package_id} was installed but did not start: " + "; ".join(problems)
                )
        return InstalledPackage(prepared.package_id, prepared.version_hash, processes, mode)

    # ------------------------------------------------------------------------------------- inject

    def inject(
        self,
        target: str | Address | ProcessId,
        body: bytes | str | Any,
        *,
        blob: bytes | LazyLoadBlob | None = None,
        expects_response: int | None = 15,
        metadata: str | None = None,
        source: str | ProcessId = HTTP_SERVER_PROCESS_ID,
    ) -> InjectResponse | None:
        """Send a Request as `kit inject-message` does and wait for its Response.

        `target` is `process:package:publisher` (on this node) or a full address. `source` (also the
        rsvp) defaults to http-server, as kit's rpc endpoint; it must be a process on this node. With
        `expects_response=None` the request is fire-and-forget and None is returned.
        """
        kernel = self.kernel
        if isinstance(target, Address):
            target_address = target
        elif isinstance(target, ProcessId):
            target_address = Address(self.name, target)
        else:
            target_address = (
                Address.parse(target) if "@" in target else Address(self.name, ProcessId.parse(target))
            )
        source_id = _process_id(source)
        if source_id not in CAPABILITY_EXEMPT_SOURCES and not kernel.call(
            lambda: kernel.has_process(source_id)
        ):
            raise InjectError(
                f"inject source {source_id} is not a process on node {self.name}; pass source= a runtime "
                "module or process that exists (the default, http-server:distro:sys, needs the http-server "
                "module)"
            )
        if isinstance(blob, bytes | bytearray):
            blob = LazyLoadBlob("application/octet-stream", bytes(blob))
        source_address = Address(self.name, source_id)
        message = KernelMessage(
            id=random.getrandbits(64),
            source=source_address,
            target=target_address,
            rsvp=source_address,
            message=Message_Request(Request(False, expects_response, _body_bytes(body), metadata, [])),
            lazy_load_blob=blob,
        )
        future = kernel.inject(message, None if expects_response is None else float(expects_response))
        if future is None:
            return None
        assert expects_response is not None
        outcome = future.result(timeout=expects_response + 30)
        if outcome.response is not None:
            response, _context = outcome.response.message.value  # type: ignore[misc]
            return InjectResponse(
                outcome.response.source,
                response.body,
                response.metadata,
                outcome.response.lazy_load_blob,
                list(response.capabilities),
            )
        assert outcome.error is not None
        why = f": {outcome.reason}" if outcome.reason else ""
        if outcome.error.kind is SendErrorKind.OFFLINE:
            raise InjectOffline(
                f"request to {target_address} failed: node {target_address.node} is offline{why}"
            )
        raise InjectTimeout(f"request to {target_address} got no response within {expects_response} s{why}")

    # ------------------------------------------------------------------------------------ queries

    def processes(self) -> list[ProcessInfo]:
        kernel = self.kernel
        return [ProcessInfo.of(status) for status in kernel.call(kernel.process_statuses)]

    def process(self, process_id: str | ProcessId) -> ProcessInfo | None:
        wanted = _process_id(process_id)
        return next((info for info in self.processes() if info.id == wanted), None)

    def capabilities(self, process_id: str | ProcessId) -> list[Capability]:
        kernel, wanted = self.kernel, _process_id(process_id)
        return kernel.call(lambda: kernel.all_capabilities(wanted))

    def kill(self, process_id: str | ProcessId) -> bool:
        """KillProcess (with revoke), as the kernel does it. False if there was no such process."""
        kernel, wanted = self.kernel, _process_id(process_id)
        return kernel.call(lambda: kernel.kill_process(wanted, revoke=True))

    def get_state(self, process_id: str | ProcessId) -> bytes | None:
        """The bytes the process last saved with set-state (None if none)."""
        return read_state(self.home, _process_id(process_id))

    # ----------------------------------------------------------------------------------- terminal

    def _terminal_app(self) -> Any:
        from hyperpy.node.modules.terminal import TERMINAL_PROCESS_ID, TerminalModule

        kernel = self.kernel
        entry = kernel.call(lambda: kernel._entries.get(TERMINAL_PROCESS_ID))
        module = entry.module if entry is not None else None
        if not isinstance(module, TerminalModule):
            raise ScriptRunError(
                f"node {self.name} runs without terminal:terminal:sys (it was given its own module list); "
                "add hyperpy.node.modules.TerminalModule() to run scripts"
            )
        return module

    def terminal_command(self, line: str) -> None:
        """Type `line` into the node's terminal, as Hyperdrive's runtime terminal sends it: a Request
        from terminal:terminal:sys to itself. Output appears in `node.terminal` as printouts."""
        module = self._terminal_app()
        kernel = self.kernel
        address = Address(self.name, module.process_id)
        message = KernelMessage(
            id=random.getrandbits(64),
            source=address,
            target=address,
            rsvp=None,
            message=Message_Request(Request(False, None, line.encode(), None, [])),
            lazy_load_blob=None,
        )
        kernel.inject(message, None)

    def cast(self, script: str, args: str = "") -> str:
        """Start a script for a tool (an alias or `script:package:publisher`) with the argument string;
        returns the session id. The script answers the terminal instead of printing its result, and
        `script_session(id)` reads its output and answer."""
        from hyperpy.node.scripts import ScriptError

        module = self._terminal_app()
        kernel = self.kernel
        try:
            process = kernel.call(lambda: module.resolve(script))
        except ScriptError as error:
            raise ScriptRunError(str(error)) from None
        run = kernel.call(lambda: module.cast(process, args))
        return str(run.id)

    def script_session(self, session_id: str) -> ScriptSession:
        """What a cast (or a typed command) has done so far; KeyError for an unknown id."""
        module = self._terminal_app()
        kernel = self.kernel

        def read() -> ScriptSession:
            run = module.runs.get(session_id)
            if run is None:
                raise KeyError(session_id)
            starting = run.process is None and run.error is None and not run.spawned.is_set()
            running = run.process is not None and kernel.has_process(run.process)
            return ScriptSession(
                run.id,
                str(run.script),
                run.args,
                str(run.process) if run.process else None,
                starting or running,
                run.answer,
                run.error,
            )

        session = kernel.call(read)
        if session.process is not None:
            process = ProcessId.parse(session.process)
            output = [p.text for p in self.terminal.lines(all=True) if p.source == process]
            session = replace(session, output=output)
        return session

    def kill_script_session(self, session_id: str) -> bool:
        """Stop a session's script process (KillProcess); False when it had already ended."""
        session = self.script_session(session_id)
        if session.process is None or not session.active:
            return False
        return self.kill(session.process)


@dataclass(frozen=True)
class ScriptSession:
    """A script run started through the terminal: `output` is what its process printed."""

    id: str
    script: str
    args: str
    process: str | None
    active: bool
    answer: str | None
    error: str | None
    output: list[str] = field(default_factory=list)


class ScriptRunError(Exception):
    """The node cannot run the script (unknown name, or no terminal); the message says why."""


class Emulator:
    """Several nodes in one Python process, joined by one in-memory `Network`, or with
    `real_network=True` by real TCP/WebSocket connections on loopback (each node listens on free
    ports and publishes itself in a PKI directory under `root`, private to this emulator)."""

    def __init__(self, root: str | Path | None = None, *, real_network: bool = False) -> None:
        self._temporary_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="hyperpy-emulator-")) if root is None else Path(root)
        self.network = Network()
        self.real_network = real_network
        self._nodes: dict[str, Node] = {}

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def nodes(self) -> dict[str, Node]:
        return dict(self._nodes)

    def add_node(self, name: str, **options: Any) -> Node:
        """Create and boot a node named `name` with home `<root>/<name>` (options as for `Node`)."""
        if name in self._nodes:
            raise ValueError(f"the emulator already has a node named {name!r}")
        options.setdefault("home", self.root / name)
        if self.real_network:
            from hyperpy.node.net.pki import DirectoryPki

            options.setdefault("net", NetConfig(DirectoryPki(self.root / "pki")))
        else:
            options.setdefault("network", self.network)
        node = Node(name, **options)
        node.start()
        self._nodes[name] = node
        return node

    def node(self, name: str) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            raise KeyError(
                f"no node {name!r} in the emulator (nodes: {', '.join(self._nodes) or 'none'})"
            ) from None

    def set_offline(self, name: str, offline: bool = True) -> None:
        """Take a node off the network (messages to/from it fail with Offline) or bring it back."""
        if self.real_network:
            transport = self.node(name).transport
            if transport is not None:
                transport.set_offline(offline)
            return
        self.network.set_offline(name, offline)

    def close(self) -> None:
        for node in list(self._nodes.values()):
            node.close()
        self._nodes.clear()
        if self._temporary_root:
            shutil.rmtree(self.root, ignore_errors=True)
