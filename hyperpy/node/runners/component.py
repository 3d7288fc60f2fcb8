"""Run a process's `.wasm` component in wasmtime-py, bound to the kernel through `StandardHost`.

This is the fidelity half of the node (what ships is the component), so the instance is set up the
way Hyperdrive sets it up (runtime-contract.md §1.1-§1.3):

* the component may import only `hyperware:process/standard@1.0.0` and WASI 0.2; anything else is
  refused before instantiation with a message naming the import (Hyperdrive: "failed to instantiate");
* WASI p2 with nothing granted: no preopened directories, no environment, no arguments, an empty
  stdin, real clocks and randomness; **stdout is discarded**; **stderr** goes to a ring keeping the
  last `STDERR_TAIL_BYTES` bytes, handed to the kernel only when the process traps (a Python
  traceback shows up there); `wasi:cli/exit` ends the process like a trap;
* each `run` is a fresh Store and instance (fresh memory), which is what Restart needs; the Store
  lives and dies on the calling thread (wasmtime-py objects are not thread-safe; the compiled
  Component and the Engine are shared);
* not like Hyperdrive, which bounds neither: each Store has a memory limit and an epoch deadline
  (`run_limits`), so `kill` stops a component that loops without host calls, and one that allocates
  without bound crashes with "out of memory" instead of taking the machine's memory. The host's
  optional `stop_requested()` says when the kernel killed the process.

Every function of `standard` the component imports forwards to the `StandardHost`, with values
carried across the C API by `wasm_marshal` (type plans read once per component) and converted to
`wit_types` by `wasm_values`. A host `wit_types.Err(value)` becomes the error case of the function's result; a
`ProcessTrap`, or any other failure of the host, traps the instance and `run` raises
`ProcessCrashed`. An exception that is not an `Exception` (the kernel's `ProcessKilled`) also traps
the instance and is re-raised from `run` unchanged, so the kernel sees its own signal.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime.component import Component, Linker, LinkerInstance

from hyperpy.node.contracts import OUT_OF_MEMORY, ProcessCrashed, ProcessTrap, StandardHost
from hyperpy.node.runners import wasm_marshal
from hyperpy.node.runners import wasm_values as values
from hyperpy.node.runners.compile_cache import (
    CompileCache,
    ComponentLoadError,
    headline_and_cause,
    root_cause,
)
from hyperpy.node.runners.run_limits import DEFAULT_MEMORY_LIMIT_MB, MEMORY_LIMIT_ENV, RunLimits
from hyperpy.node.runners.stderr_tail import STDERR_TAIL_BYTES, StderrTail
from hyperpy.node.wit_types import Err

STANDARD_INTERFACE = "hyperware:process/standard@1.0.0"
STANDARD_FUNCTIONS = (
    "print-to-terminal",
    "our",
    "get-on-exit",
    "set-on-exit",
    "get-state",
    "set-state",
    "clear-state",
    "spawn",
    "save-capabilities",
    "drop-capabilities",
    "our-capabilities",
    "receive",
    "has-blob",
    "get-blob",
    "last-blob",
    "send-request",
    "send-requests",
    "send-response",
    "send-and-await-response",
)

__all__ = ["STANDARD_INTERFACE", "STDERR_TAIL_BYTES", "ComponentLoadError", "ComponentRunner", "StderrTail"]


class ComponentRunner:
    """`ProcessRunner` for a component: compile (cached) once, then one fresh instance per `run`.

    `wasm` is the component's bytes or a path to it. The constructor compiles or loads the component
    (through `cache`, else a `CompileCache(cache_dir)`) and checks its imports and its `init` export,
    raising `ComponentLoadError` with a message that names the problem — the kernel then leaves the
    process a zombie, as Hyperdrive does when instantiation fails. `label` names the component in
    messages (default: the file name, or "component"). `echo_stdout=True` lets the guest's stdout
    reach the host's stdout instead of discarding it (a debugging aid; Hyperdrive discards it).

    `run` may be called again (Restart) and from several threads at once: each call builds its own
    linker, Store and instance, and the runner itself is only read.
    """

    memory_mb: int = DEFAULT_MEMORY_LIMIT_MB
    """Linear-memory limit of each instance (`run_limits`); the constructor's `memory_mb` sets it."""

    def __init__(
        self,
        wasm: bytes | bytearray | Path | str,
        cache_dir: Path | str | None = None,
        *,
        cache: CompileCache | None = None,
        label: str | None = None,
        echo_stdout: bool = False,
        memory_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    ) -> None:
        if isinstance(wasm, (bytes, bytearray)):
            data = bytes(wasm)
            self.label = label or "component"
        else:
            path = Path(wasm)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ComponentLoadError(f"cannot read component {path}: {exc.strerror or exc}") from exc
            self.label = label or path.name
        self.cache = cache if cache is not None else CompileCache(cache_dir)
        self.echo_stdout = echo_stdout
        self.memory_mb = memory_mb
        self.component: Component = self.cache.load(data, label=self.label)
        self._check_interface()

    def _check_interface(self) -> None:
        """Refuse, with a message naming the problem, what Hyperdrive would fail to instantiate."""
        engine = self.cache.engine
        imports = self.component.type.imports(engine)
        foreign = sorted(
            name for name in imports if name != STANDARD_INTERFACE and not name.startswith("wasi:")
        )
        if foreign:
            raise ComponentLoadError(
                f"{self.label} imports {', '.join(f'`{name}`' for name in foreign)}, which a Hyperware node "
                f"does not provide: a process may import only {STANDARD_INTERFACE} and WASI 0.2 interfaces. "
                "Remove the import from the WIT world, and reach other packages by messaging their "
                "processes (function-bearing API imports must be composed in at build time)"
            )
        try:
            self.plans = wasm_marshal.imported_functions(self.component, engine, STANDARD_INTERFACE)
        except wasm_marshal.UnsupportedType as exc:
            raise ComponentLoadError(
                f"{self.label} imports {STANDARD_INTERFACE} with unexpected types: {exc}"
            ) from exc
        unknown = sorted(set(self.plans) - set(STANDARD_FUNCTIONS))
        if unknown:
            raise ComponentLoadError(
                f"{self.label} imports {', '.join(unknown)} from {STANDARD_INTERFACE}, which that interface "
                "does not have; rebuild the process against hyperware.wit 1.0.0 (`hyperpy build`)"
            )
        exports = self.component.type.exports(engine)
        if "init" not in exports:
            raise ComponentLoadError(
                f"{self.label} does not export `init: func(our: string)`; a process component must "
                "implement the world hyperware:process/process-v1 (a Python module with "
                "`class WitWorld` and `def init(self, our: str) -> None`)"
            )

    def run(self, host: StandardHost, our: str) -> None:
        """Instantiate afresh on this thread and call `init(our)`; see the module docstring."""
        limits = RunLimits(getattr(host, "stop_requested", _never), self.memory_mb)
        session = _RunSession(host, limits)
        engine = self.cache.engine
        linker = Linker(engine)
        linker.add_wasip2()
        with linker.root() as root, root.add_instance(STANDARD_INTERFACE) as standard:
            session.define_standard(standard, self.plans)
        store = wasmtime.Store(engine)
        limits.apply(store, engine)
        try:
            self._run_in(store, linker, session, our)
        finally:
            # Free the instance's memory now, on this thread, not whenever a traceback lets go of it.
            store.close()
            linker.close()

    def _run_in(self, store: wasmtime.Store, linker: Linker, session: _RunSession, our: str) -> None:
        wasi = wasmtime.WasiConfig()
        wasi.stderr_custom = session.stderr.write
        if self.echo_stdout:
            wasi.inherit_stdout()
        store.set_wasi(wasi)
        try:
            instance = linker.instantiate(store, self.component)
        except wasmtime.WasmtimeError as exc:
            raise ComponentLoadError(
                f"{self.label} failed to instantiate: {headline_and_cause(str(exc))}"
            ) from exc
        init = instance.get_func(store, "init")
        if init is None:  # _check_interface saw the export; a non-function export of that name lands here
            raise ComponentLoadError(f"{self.label} exports `init`, but not as a function")
        try:
            init(store, our)
        except BaseException as exc:
            raise session.outcome_of_trap(exc) from exc
        init.post_return(store)


def _never() -> bool:
    return False


class _RunSession:
    """One run's link to its host: the standard functions, the stderr ring, and why it trapped."""

    def __init__(self, host: StandardHost, limits: RunLimits) -> None:
        self.host = host
        self.limits = limits
        self.stderr = StderrTail()
        self.trap_reason: str | None = None
        self.signal: BaseException | None = None  # a non-Exception from the host (kernel's kill)

    # --- outcome ---------------------------------------------------------------------------------

    def outcome_of_trap(self, exc: BaseException) -> BaseException:
        """What `run` raises when `init` did not return normally."""
        if self.signal is not None:
            return self.signal
        if not isinstance(exc, Exception):  # KeyboardInterrupt & co. on this thread: not the guest's
            return exc
        if self.trap_reason is not None:
            reason = self.trap_reason
        elif isinstance(exc, wasmtime.ExitTrap):
            reason = f"process called exit (wasi:cli/exit, status {exc.code})"
        elif isinstance(exc, wasmtime.WasmtimeError):
            reason = root_cause(str(exc))
        else:  # wasmtime re-raised a Python exception from a callback it could not report otherwise
            reason = f"{type(exc).__name__}: {exc}"
        stderr = self.stderr.text()
        if "MemoryError" in stderr or "MemoryError" in reason:
            reason = (
                f"{OUT_OF_MEMORY}: the process reached its memory limit of {self.limits.memory_mb} MB "
                f"(Node(process_memory_mb=...) or ${MEMORY_LIMIT_ENV} sets it); {reason}"
            )
        return ProcessCrashed(reason, stderr)

    def _trap(self, function: str, exc: BaseException) -> wasmtime.WasmtimeError:
        """Record why the guest must trap and return the error that makes wasmtime trap it."""
        if isinstance(exc, ProcessTrap):
            reason = str(exc) or f"{function} trapped"
        elif not isinstance(exc, Exception):
            self.signal = exc
            reason = f"{function}: {type(exc).__name__}"
        elif isinstance(exc, Err):
            reason = f"host function {function} raised {exc!r}, but {function} has no error case (kernel bug)"
        else:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            reason = f"host function {function} failed: {detail} (kernel bug)\n{traceback.format_exc()}"
        if self.trap_reason is None:
            self.trap_reason = reason
        return wasmtime.WasmtimeError(reason.splitlines()[0])

    # --- the standard interface ------------------------------------------------------------------

    def define_standard(self, standard: LinkerInstance, plans: dict[str, wasm_marshal.FunctionPlan]) -> None:
        """Define the functions the component imports (and only those) in the linker instance."""
        functions = self._functions()
        for name, plan in plans.items():
            wasm_marshal.define(standard, name, plan, self._guarded(name, functions[name]))

    def _guarded(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        # Every failure becomes a WasmtimeError (a trap) whose reason this session keeps, so `run`
        # reports the host's own reason and re-raises a kernel signal such as ProcessKilled.
        def call(*args: Any) -> Any:
            try:
                return function(*args)
            except BaseException as exc:
                raise self._trap(name, exc) from None

        return call

    def _functions(self) -> dict[str, Callable[..., Any]]:
        host = self.host

        def print_to_terminal(verbosity: int, message: str) -> None:
            host.print_to_terminal(verbosity, message)

        def our() -> Any:
            return values.lower_address(host.our())

        def get_on_exit() -> Any:
            return values.lower_on_exit(host.get_on_exit())

        def set_on_exit(on_exit: Any) -> None:
            host.set_on_exit(values.lift_on_exit(on_exit))

        def get_state() -> bytes | None:
            state = host.get_state()
            return None if state is None else bytes(state)

        def set_state(data: bytes) -> None:
            host.set_state(data)

        def clear_state() -> None:
            host.clear_state()

        def spawn(
            name: str | None,
            wasm_path: str,
            on_exit: Any,
            request_capabilities: list[Any],
            grant_capabilities: list[Any],
            public: bool,
        ) -> Any:
            try:
                child = host.spawn(
                    name,
                    wasm_path,
                    values.lift_on_exit(on_exit),
                    values.lift_capabilities(request_capabilities),
                    values.lift_grant_capabilities(grant_capabilities),
                    public,
                )
            except Err as err:
                return values.lower_spawn_error(err.value)
            return values.lower_process_id(child)

        def save_capabilities(caps: list[Any]) -> None:
            host.save_capabilities(values.lift_capabilities(caps))

        def drop_capabilities(caps: list[Any]) -> None:
            host.drop_capabilities(values.lift_capabilities(caps))

        def our_capabilities() -> list[Any]:
            return values.lower_capabilities(host.our_capabilities())

        def receive() -> Any:
            try:
                incoming = host.receive()
            except Err as err:
                return values.lower_receive_err(err.value)
            return values.lower_receive_ok(incoming)

        def has_blob() -> bool:
            return bool(host.has_blob())

        def get_blob() -> Any:
            return values.lower_blob(host.get_blob())

        def last_blob() -> Any:
            return values.lower_blob(host.last_blob())

        def send_request(target: Any, request: Any, context: bytes | None, blob: Any) -> None:
            host.send_request(
                values.lift_address(target), values.lift_request(request), context, values.lift_blob(blob)
            )

        def send_requests(requests: list[Any]) -> None:
            host.send_requests(values.lift_outgoing_requests(requests))

        def send_response(response: Any, blob: Any) -> None:
            host.send_response(values.lift_response(response), values.lift_blob(blob))

        def send_and_await_response(target: Any, request: Any, blob: Any) -> Any:
            try:
                incoming = host.send_and_await_response(
                    values.lift_address(target), values.lift_request(request), values.lift_blob(blob)
                )
            except Err as err:
                return values.lower_send_error(err.value)
            return values.lower_incoming(incoming)

        return {
            "print-to-terminal": print_to_terminal,
            "our": our,
            "get-on-exit": get_on_exit,
            "set-on-exit": set_on_exit,
            "get-state": get_state,
            "set-state": set_state,
            "clear-state": clear_state,
            "spawn": spawn,
            "save-capabilities": save_capabilities,
            "drop-capabilities": drop_capabilities,
            "our-capabilities": our_capabilities,
            "receive": receive,
            "has-blob": has_blob,
            "get-blob": get_blob,
            "last-blob": last_blob,
            "send-request": send_request,
            "send-requests": send_requests,
            "send-response": send_response,
            "send-and-await-response": send_and_await_response,
        }
