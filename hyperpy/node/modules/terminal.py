"""terminal:terminal:sys — the node's command line: aliases, and running scripts as processes.

Mirrors Hyperdrive's terminal app (`hyperdrive/packages/terminal/terminal/src/lib.rs`):

* A Request from the terminal's own address is a command line (the runtime terminal — here
  `hyperpy run`'s stdin or `Node.terminal_command` — sends it so). The head word is an alias or a
  full `script:package:publisher`; the rest of the line, as it is, is the argument string.
* Running a script: read `/<package>:<publisher>/pkg/scripts.json` and the script's `.wasm` through
  vfs, send `GrantCapabilities` for its grants, `InitializeProcess` with a random process name in
  the script's package (on_exit None, the entry's `public`, the capabilities `hyperpy.node.scripts`
  computes), `RunProcess`, then the argument string as a Request body. The script prints its result
  and returns; the kernel removes it (on_exit None). Errors print `error calling script: <why>`.
* Requests from processes of the terminal's own package (the `alias` script) carry
  `{"EditAlias": {"alias", "process"}}`; aliases persist in `<home>/terminal/aliases.json` (Hyperdrive
  keeps them in the terminal's state) and the distro's defaults are re-added at every boot.
* A Response the terminal did not wait for is printed as text.

Like Hyperdrive's terminal the module holds messaging caps to the kernel and every runtime module,
the network cap and vfs root: a `root` script gets exactly those. The distro scripts are installed
at boot as the package `terminal:sys` (see `hyperpy.node.distro`).

Runs (lines and `cast`s) are recorded as `ScriptRun`s so tools can read a script's output and
answer: a cast sends the arguments with `expects_response`, so the script answers instead of
printing (process_lib `script!`), and the answer is kept on the run.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.kernel_json import capability_to_json, serde_json_text
from hyperpy.node.modules.base import ModuleBase, expects_response, request_of
from hyperpy.node.persistence import atomic_write
from hyperpy.node.runners.native import NativeModuleRef
from hyperpy.node.scripts import (
    FAILED_TO_READ_WASM,
    KERNEL_UNRESPONSIVE,
    NO_SCRIPT_IN_MANIFEST,
    NO_SCRIPTS_MANIFEST,
    SCRIPTS_FILE,
    DotScriptsEntry,
    ScriptError,
    granted_caps,
    parse_scripts_json,
    requested_caps,
    unknown_name,
)
from hyperpy.node.well_known import KERNEL_PROCESS_ID, VFS_PROCESS_ID
from hyperpy.node.wit_types import Address, Capability, LazyLoadBlob, Message_Response, ProcessId
from hyperpy.runtime import jsonwire

TERMINAL_PROCESS_ID = ProcessId("terminal", "terminal", "sys")
TERMINAL_PACKAGE = TERMINAL_PROCESS_ID.package_id()
ALIASES_FILE = Path("terminal") / "aliases.json"
ASK_TIMEOUT = 5.0
CAST_EXPECTS_RESPONSE = 24 * 60 * 60
RUN_HISTORY = 256


@dataclass
class ScriptRun:
    """One script started by the terminal (a typed line or a cast)."""

    id: str
    script: ProcessId
    args: str
    process: ProcessId | None = None  # the spawned process, once initialized
    error: str | None = None  # why it could not start
    answer: str | None = None  # the answer to a cast
    started_at: float = field(default_factory=time.time)
    spawned: asyncio.Event = field(default_factory=asyncio.Event)


def default_aliases() -> dict[str, ProcessId]:
    from hyperpy.node.distro import DISTRO_SCRIPTS

    return {name: ProcessId(name, *_package_parts()) for name in DISTRO_SCRIPTS}


def _package_parts() -> tuple[str, str]:
    return TERMINAL_PACKAGE.package_name, TERMINAL_PACKAGE.publisher_node


def install_distro_scripts(home: Path) -> None:
    """Write the `terminal:sys` package drive: a native marker per distro script and its scripts.json."""
    from hyperpy.node.distro import DISTRO_SCRIPTS

    drive = home / "vfs" / str(TERMINAL_PACKAGE) / "pkg"
    drive.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, (module, entry) in DISTRO_SCRIPTS.items():
        marker = NativeModuleRef(f"hyperpy.node.distro.{module}").to_marker()
        path = drive / f"{name}.wasm"
        if not path.is_file() or path.read_bytes() != marker:
            atomic_write(path, marker)
        entries[f"{name}.wasm"] = entry.to_json()
    text = json.dumps(entries, indent=4, sort_keys=True).encode()
    path = drive / SCRIPTS_FILE
    if not path.is_file() or path.read_bytes() != text:
        atomic_write(path, text)


class TerminalModule(ModuleBase):
    process_id = TERMINAL_PROCESS_ID

    def __init__(self) -> None:
        super().__init__()
        self.aliases: dict[str, ProcessId] = {}
        self.runs: OrderedDict[str, ScriptRun] = OrderedDict()
        self._pending: dict[int, asyncio.Future[KernelMessage]] = {}
        self._cast_requests: dict[int, ScriptRun] = {}
        self._spawn_lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------------- lifecycle

    async def on_start(self) -> None:
        self._spawn_lock = asyncio.Lock()
        install_distro_scripts(self.node.home)
        self.aliases = {**self._load_aliases(), **default_aliases()}
        root = Capability(Address(self.node.our_node, VFS_PROCESS_ID), serde_json_text({"root": True}))
        self.node.grant_capabilities(self.process_id, [root])

    async def on_stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _aliases_path(self) -> Path:
        return self.node.home / ALIASES_FILE

    def _load_aliases(self) -> dict[str, ProcessId]:
        path = self._aliases_path()
        try:
            stored = jsonwire.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            self.log(0, f"terminal: ignoring unreadable aliases file {path}: {error}")
            return {}
        aliases = {}
        for alias, process in stored.items() if isinstance(stored, dict) else ():
            try:
                aliases[str(alias)] = ProcessId.parse(str(process))
            except ValueError:
                self.log(0, f"terminal: ignoring alias {alias!r} in {path}: {process!r} is not a process id")
        return aliases

    def _save_aliases(self) -> None:
        data = {alias: str(process) for alias, process in sorted(self.aliases.items())}
        try:
            atomic_write(self._aliases_path(), json.dumps(data, indent=2).encode())
        except OSError as error:
            self.log(0, f"terminal: could not save aliases to {self._aliases_path()}: {error}")

    # --------------------------------------------------------------------------------- messages

    async def handle(self, message: KernelMessage) -> None:
        if isinstance(message.message, Message_Response):
            self._on_response(message)
            return
        request = request_of(message)
        if request is None:
            return
        our = self.node.our_node
        if message.source == self.address:
            self._start(self.run_line(request.body.decode("utf-8", errors="replace")))
        elif message.source.node == our and message.source.process.package_id() == TERMINAL_PACKAGE:
            self._edit_alias(message, request.body)
        else:
            self.log(2, f"ignoring message from {message.source}")

    def _on_response(self, message: KernelMessage) -> None:
        future = self._pending.pop(message.id, None)
        if future is not None:
            if not future.done():
                future.set_result(message)
            return
        response, _context = message.message.value  # type: ignore[misc]
        text = response.body.decode("utf-8", errors="replace")
        run = self._cast_requests.pop(message.id, None)
        if run is not None:
            run.answer = text
            return
        self.log(0, text)

    def _edit_alias(self, message: KernelMessage, body: bytes) -> None:
        try:
            edit = jsonwire.loads(body)["EditAlias"]
            alias, process = edit["alias"], edit.get("process")
            if not isinstance(alias, str) or not (process is None or isinstance(process, str)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            self.log(0, f"failed to parse TerminalRequest from {message.source}")
            return
        if process is not None:
            try:
                parsed = ProcessId.parse(process)
            except ValueError:
                outcome = "InvalidProcessId"
            else:
                self.log(0, f"alias {alias} set for {process}")
                self.aliases[alias] = parsed
                outcome = "AliasSet"
        elif alias in self.aliases:
            del self.aliases[alias]
            self.log(0, f"alias {alias} removed")
            outcome = "AliasRemoved"
        else:
            self.log(0, f"alias {alias} not found")
            outcome = "AliasNotFound"
        if outcome != "InvalidProcessId":
            self._save_aliases()
        if expects_response(message):
            self.respond(message, json.dumps({"EditAlias": outcome}).encode())

    # ------------------------------------------------------------------------------ running

    def _start(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def resolve(self, name: str) -> ProcessId:
        """An alias or a full process id; raise ScriptError(UnknownName) otherwise."""
        process = self.aliases.get(name)
        if process is not None:
            return process
        try:
            return ProcessId.parse(name)
        except ValueError:
            raise unknown_name(name) from None

    async def run_line(self, line: str) -> ScriptRun | None:
        """`parse_command`: run the script a command line names; print why not when it cannot."""
        if not line:
            return None
        head, _, args = line.partition(" ")
        try:
            script = self.resolve(head)
        except ScriptError as error:
            self.log(0, f"error calling script: {error}")
            return None
        return await self.run(script, args)

    def cast(self, script: ProcessId, args: str) -> ScriptRun:
        """Start `script` for a tool (on the loop): the run is returned at once, its answer kept."""
        run = self._new_run(script, args)
        self._start(self._spawn(run, answer=True))
        return run

    async def run(self, script: ProcessId, args: str) -> ScriptRun:
        run = self._new_run(script, args)
        await self._spawn(run, answer=False)
        return run

    def _new_run(self, script: ProcessId, args: str) -> ScriptRun:
        run = ScriptRun(str(uuid.uuid4()), script, args)
        self.runs[run.id] = run
        while len(self.runs) > RUN_HISTORY:
            self.runs.popitem(last=False)
        return run

    async def _spawn(self, run: ScriptRun, *, answer: bool) -> None:
        assert self._spawn_lock is not None
        try:
            async with self._spawn_lock:
                await self._handle_run(run, answer)
        except ScriptError as error:
            run.error = str(error)
            self.log(0, f"error calling script: {error}")
        finally:
            run.spawned.set()

    async def _handle_run(self, run: ScriptRun, answer: bool) -> None:
        script = run.script
        package = f"{script.package_name}:{script.publisher_node}"
        entry = await self._entry(script, package)
        wasm_path = f"/{package}/pkg/{script.process_name}.wasm"
        wasm = await self._vfs_read(wasm_path)
        if wasm is None:
            raise ScriptError(FAILED_TO_READ_WASM)
        node = self.node.our_node
        process = ProcessId(str(random.getrandbits(64)), script.package_name, script.publisher_node)
        for holder, cap in granted_caps(entry, node, process):
            self._kernel(
                {"GrantCapabilities": {"target": str(holder), "capabilities": [capability_to_json(cap)]}},
                None,
            )
        terminal_caps = self._own_capabilities() if entry.root else []
        caps = requested_caps(entry, node, self.address, terminal_caps)
        initialize = {
            "InitializeProcess": {
                "id": str(process),
                "wasm_bytes_handle": wasm_path,
                "wit_version": entry.wit_version,
                "on_exit": "None",
                "initial_capabilities": [capability_to_json(cap) for cap in caps],
                "public": entry.public,
            }
        }
        reply = await self._ask_kernel(initialize, LazyLoadBlob(None, wasm))
        if reply is None:
            raise ScriptError(KERNEL_UNRESPONSIVE)
        if _body(reply) != b'"InitializedProcess"':
            raise ScriptError(f"the kernel refused to start {script} (see the lines above)")
        run.process = process
        if await self._ask_kernel({"RunProcess": str(process)}) is None:
            raise ScriptError(KERNEL_UNRESPONSIVE)
        target = Address(node, process)
        if answer:
            request_id = self.node.new_request_id()
            self._cast_requests[request_id] = run
            self.request(
                target, run.args.encode(), expects_response=CAST_EXPECTS_RESPONSE, request_id=request_id
            )
        else:
            self.request(target, run.args.encode())

    def _own_capabilities(self) -> list[Capability]:
        return self.node.capabilities(self.process_id)

    async def _entry(self, script: ProcessId, package: str) -> DotScriptsEntry:
        data = await self._vfs_read(f"/{package}/pkg/{SCRIPTS_FILE}")
        if data is None:
            raise ScriptError(NO_SCRIPTS_MANIFEST)
        entry = parse_scripts_json(data).get(f"{script.process_name}.wasm")
        if entry is None:
            raise ScriptError(NO_SCRIPT_IN_MANIFEST)
        return entry

    async def _vfs_read(self, path: str) -> bytes | None:
        body = json.dumps({"path": path, "action": "Read"}).encode()
        reply = await self._ask(Address(self.node.our_node, VFS_PROCESS_ID), body)
        if reply is None or _body(reply) != b'"Read"':
            return None
        return reply.lazy_load_blob.bytes if reply.lazy_load_blob is not None else b""

    def _kernel(self, command: object, blob: LazyLoadBlob | None) -> None:
        self.request(Address(self.node.our_node, KERNEL_PROCESS_ID), json.dumps(command).encode(), blob=blob)

    async def _ask_kernel(self, command: object, blob: LazyLoadBlob | None = None) -> KernelMessage | None:
        body = json.dumps(command).encode()
        return await self._ask(Address(self.node.our_node, KERNEL_PROCESS_ID), body, blob)

    async def _ask(
        self, target: Address, body: bytes, blob: LazyLoadBlob | None = None
    ) -> KernelMessage | None:
        """Send a request and wait up to 5 s for its response (None when none came)."""
        request_id = self.node.new_request_id()
        future: asyncio.Future[KernelMessage] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self.request(target, body, blob=blob, expects_response=int(ASK_TIMEOUT), request_id=request_id)
            return await asyncio.wait_for(future, ASK_TIMEOUT)
        except TimeoutError:
            return None
        finally:
            self._pending.pop(request_id, None)


def _body(message: KernelMessage) -> bytes:
    response, _context = message.message.value  # type: ignore[misc]
    return bytes(response.body)
