"""`wit_world`, `wit_world.imports.standard` and `componentize_py_types` for processes run natively.

Why shims: a process (kit-style raw code, or the hyperpy runtime) imports componentize-py's generated
bindings by these names. In host CPython there are no bindings, so the node installs modules under the
same names in `sys.modules`: their classes *are* `hyperpy.node.wit_types` (named and shaped like the
generated ones, checked by tests/node/test_wit_types.py) and their functions forward to the
`StandardHost` bound to the calling thread — every process runs on its own thread, so one set of
shared modules serves every process of every node in the interpreter.

Two things a wasm instance gets for free are emulated here:
* a trap cannot be caught by the guest: host traps are raised as `GuestTrap`, a BaseException, and
  once a thread has trapped every further host call traps again;
* per-process stdout/stderr: `sys.stdout`/`sys.stderr` are replaced by proxies that route writes of a
  process thread to that process (stdout discarded unless echoed, stderr kept for the crash printout)
  and everything else to the original stream.
"""

from __future__ import annotations

import io
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from hyperpy.node import wit_types
from hyperpy.node.contracts import ProcessTrap, StandardHost
from hyperpy.node.runners.stderr_tail import StderrTail

_thread_state = threading.local()
_install_lock = threading.Lock()


class GuestTrap(BaseException):
    """The guest trapped (a host function refused, as a wasm trap would); the guest cannot catch it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Sink(Protocol):
    def write(self, text: str) -> int: ...


class _Discard:
    def write(self, text: str) -> int:
        return len(text)


class _ThreadRoutedStream(io.TextIOBase):
    """A `sys.stdout`/`sys.stderr` stand-in that sends a process thread's writes to that process."""

    def __init__(self, fallback: TextIO, which: str) -> None:
        self._fallback = fallback
        self._which = which

    def _sink(self) -> _Sink | TextIO:
        sinks = getattr(_thread_state, "sinks", None)
        if sinks is None:
            return self._fallback
        return sinks[self._which]

    def write(self, text: str) -> int:
        return self._sink().write(text)

    def flush(self) -> None:
        sink = self._sink()
        if sink is self._fallback:
            self._fallback.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._fallback, "encoding", "utf-8")

    def writable(self) -> bool:
        return True


def route_std_streams() -> None:
    """Make sure `sys.stdout`/`sys.stderr` are routing proxies (tools such as pytest swap them)."""
    with _install_lock:
        if not isinstance(sys.stdout, _ThreadRoutedStream):
            sys.stdout = _ThreadRoutedStream(sys.stdout, "stdout")
        if not isinstance(sys.stderr, _ThreadRoutedStream):
            sys.stderr = _ThreadRoutedStream(sys.stderr, "stderr")


@contextmanager
def bound_to_thread(host: StandardHost, stderr: StderrTail, echo_stdout: bool) -> Iterator[None]:
    """Bind `host` (and the process's streams) to the current thread for the duration of a run."""
    _thread_state.host = host
    _thread_state.trapped = None
    _thread_state.sinks = {"stdout": sys.__stdout__ if echo_stdout else _Discard(), "stderr": stderr}
    try:
        yield
    finally:
        _thread_state.host = None
        _thread_state.sinks = None


def trapped_reason() -> str | None:
    """The reason of the trap this thread's guest hit (and perhaps swallowed), if any."""
    return getattr(_thread_state, "trapped", None)


def _host() -> StandardHost:
    trapped = getattr(_thread_state, "trapped", None)
    if trapped is not None:
        raise GuestTrap(trapped)
    host = getattr(_thread_state, "host", None)
    if host is None:
        raise RuntimeError(
            "wit_world.imports.standard was called outside a process: in native mode these functions "
            "only work on the thread the local node runs the process on"
        )
    return host


def _trap(exc: ProcessTrap) -> GuestTrap:
    _thread_state.trapped = str(exc)
    return GuestTrap(str(exc))


# The functions of `wit_world.imports.standard`, with the generated signatures.


def print_to_terminal(verbosity: int, message: str) -> None:
    _host().print_to_terminal(verbosity, message)


def our() -> wit_types.Address:
    return _host().our()


def get_on_exit() -> wit_types.OnExit:
    return _host().get_on_exit()


def set_on_exit(on_exit: wit_types.OnExit) -> None:
    _host().set_on_exit(on_exit)


def get_state() -> bytes | None:
    return _host().get_state()


def set_state(bytes: bytes) -> None:
    try:
        _host().set_state(bytes)
    except ProcessTrap as exc:
        raise _trap(exc) from None


def clear_state() -> None:
    try:
        _host().clear_state()
    except ProcessTrap as exc:
        raise _trap(exc) from None


def spawn(
    name: str | None,
    wasm_path: str,
    on_exit: wit_types.OnExit,
    request_capabilities: list[wit_types.Capability],
    grant_capabilities: list[tuple[wit_types.ProcessId, str]],
    public: bool,
) -> wit_types.ProcessId:
    try:
        return _host().spawn(name, wasm_path, on_exit, request_capabilities, grant_capabilities, public)
    except ProcessTrap as exc:
        raise _trap(exc) from None


def save_capabilities(caps: list[wit_types.Capability]) -> None:
    _host().save_capabilities(caps)


def drop_capabilities(caps: list[wit_types.Capability]) -> None:
    _host().drop_capabilities(caps)


def our_capabilities() -> list[wit_types.Capability]:
    return _host().our_capabilities()


def receive() -> tuple[wit_types.Address, wit_types.Message]:
    return _host().receive()


def has_blob() -> bool:
    return _host().has_blob()


def get_blob() -> wit_types.LazyLoadBlob | None:
    return _host().get_blob()


def last_blob() -> wit_types.LazyLoadBlob | None:
    return _host().last_blob()


def send_request(
    target: wit_types.Address,
    request: wit_types.Request,
    context: bytes | None,
    lazy_load_blob: wit_types.LazyLoadBlob | None,
) -> None:
    _host().send_request(target, request, context, lazy_load_blob)


def send_requests(
    requests: list[tuple[wit_types.Address, wit_types.Request, bytes | None, wit_types.LazyLoadBlob | None]],
) -> None:
    _host().send_requests(requests)


def send_response(response: wit_types.Response, lazy_load_blob: wit_types.LazyLoadBlob | None) -> None:
    _host().send_response(response, lazy_load_blob)


def send_and_await_response(
    target: wit_types.Address, request: wit_types.Request, lazy_load_blob: wit_types.LazyLoadBlob | None
) -> tuple[wit_types.Address, wit_types.Message]:
    try:
        return _host().send_and_await_response(target, request, lazy_load_blob)
    except ProcessTrap as exc:
        raise _trap(exc) from None


STANDARD_FUNCTIONS = (
    print_to_terminal,
    our,
    get_on_exit,
    set_on_exit,
    get_state,
    set_state,
    clear_state,
    spawn,
    save_capabilities,
    drop_capabilities,
    our_capabilities,
    receive,
    has_blob,
    get_blob,
    last_blob,
    send_request,
    send_requests,
    send_response,
    send_and_await_response,
)

STANDARD_TYPES = (
    "ProcessId",
    "PackageId",
    "Address",
    "LazyLoadBlob",
    "Capability",
    "Request",
    "Response",
    "Message_Request",
    "Message_Response",
    "Message",
    "OnExit_None_",
    "OnExit_Restart",
    "OnExit_Requests",
    "OnExit",
    "SendErrorKind",
    "SendError",
    "SpawnError",
)

RESULT_TYPES = ("Some", "Ok", "Err", "Result")
SHIM_MARK = "__hyperpy_native_shim__"


class _WitWorld:
    """Mirror of the generated `wit_world.WitWorld` protocol: a process implements `init(our)`."""

    def init(self, our: str) -> None:
        raise NotImplementedError("a process's WitWorld must define init(self, our)")


def _module(name: str, doc: str, package: bool = False) -> types.ModuleType:
    module = types.ModuleType(name, doc)
    setattr(module, SHIM_MARK, True)
    if package:
        module.__path__ = []
    return module


def install_shims() -> None:
    """Put the shim modules in `sys.modules` (idempotent; replaces generated bindings if present)."""
    with _install_lock:
        existing = sys.modules.get("wit_world.imports.standard")
        if existing is not None and getattr(existing, SHIM_MARK, False):
            return
        results = _module("componentize_py_types", "hyperpy native shim of componentize-py's result types")
        world = _module("wit_world", "hyperpy native shim of the process-v1 world", package=True)
        imports = _module("wit_world.imports", "hyperpy native shim of the world's imports", package=True)
        standard = _module("wit_world.imports.standard", "hyperpy native shim: forwards to the node's kernel")
        for name in RESULT_TYPES:
            for module in (results, world, standard):
                setattr(module, name, getattr(wit_types, name))
        for name in STANDARD_TYPES:
            setattr(standard, name, getattr(wit_types, name))
        for function in STANDARD_FUNCTIONS:
            setattr(standard, function.__name__, function)
        world.WitWorld = _WitWorld  # type: ignore[attr-defined]
        world.imports = imports  # type: ignore[attr-defined]
        imports.standard = standard  # type: ignore[attr-defined]
        sys.modules.update(
            {
                "componentize_py_types": results,
                "wit_world": world,
                "wit_world.imports": imports,
                "wit_world.imports.standard": standard,
            }
        )
