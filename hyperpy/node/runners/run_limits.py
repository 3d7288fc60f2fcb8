"""CPU and memory bounds of one component run: epoch interruption and wasmtime store limits.

Why: a component that loops without calling the host cannot be stopped by the kernel's kill switch
(it only acts in host calls), and one that allocates without bound takes the machine's memory.
Hyperdrive sets neither (its kernel enables no epoch interruption and no store limits); the local
node bounds both, as a deliberate difference (docs/node.md, "Limits"):

* **CPU**: the engine is built with `epoch_interruption`; one daemon thread per engine increments
  the epoch every `EPOCH_TICK_SECONDS` while a store of it runs, and each store's deadline callback
  runs at every tick on the process's own thread: it lets the guest continue for one more tick, or
  traps it once the kernel killed the process (`host.stop_requested()`). So `kill` stops a looping
  component within a tick. Guests run with the GIL released (wasmtime-py calls the C API through
  ctypes), so a busy process does not starve the others; the tick callback takes the GIL briefly.
* **memory**: `Store.set_limits(memory_size=...)` caps each linear memory of the instance
  (`DEFAULT_MEMORY_LIMIT_MB`, or `HYPERPY_PROCESS_MEMORY_MB`, or `Node(process_memory_mb=...)`).
  A `memory.grow` beyond it fails and CPython in the guest raises `MemoryError`: uncaught (a raw
  process) or when CPython cannot recover (it aborts), the instance traps, the kernel applies
  on_exit and prints `out of memory: the process reached its memory limit of N MB ...`. A framework
  handler's MemoryError is the same crash: the runtime does not answer it but ends the process with it
  (`hyperpy.runtime.process.FATAL_FAILURES`).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable

import wasmtime
from wasmtime import _bindings as bindings
from wasmtime import _ffi as ffi

from hyperpy.node.runner_factory import DEFAULT_MEMORY_LIMIT_MB, MEMORY_LIMIT_ENV

__all__ = [
    "DEFAULT_MEMORY_LIMIT_MB",
    "EPOCH_TICK_SECONDS",
    "MEMORY_LIMIT_ENV",
    "RunLimits",
    "start_ticker",
    "stop_ticking",
]

EPOCH_TICK_SECONDS = 0.05
KILLED_TRAP = "process killed by the kernel while running without calling the host (epoch interruption)"

_DeadlineCallback = bindings._wasmtime_store_epoch_deadline_callback.argtypes[1]
_CONTINUE = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
# The C API wants a finalizer for the callback's data; there is none (the data pointer is NULL).
_NO_FINALIZER = bindings._wasmtime_store_epoch_deadline_callback.argtypes[3](lambda _data: None)

_tickers: dict[int, threading.Thread] = {}
_running: dict[int, int] = {}  # engine id -> stores running now (the ticker sleeps while none does)
_tickers_lock = threading.Condition()


def start_ticker(engine: wasmtime.Engine) -> None:
    """Count one more running store of `engine` and make sure its epoch advances every tick while any
    runs (one daemon thread per engine; idle, it waits instead of taking the GIL 20 times a second)."""
    with _tickers_lock:
        _running[id(engine)] = _running.get(id(engine), 0) + 1
        _tickers_lock.notify_all()
        if id(engine) in _tickers:
            return

        def tick() -> None:
            while True:
                with _tickers_lock:
                    _tickers_lock.wait_for(lambda: _running.get(id(engine), 0) > 0)
                time.sleep(EPOCH_TICK_SECONDS)
                engine.increment_epoch()

        thread = threading.Thread(target=tick, name="hyperpy epoch ticker", daemon=True)
        _tickers[id(engine)] = thread
        thread.start()


def stop_ticking(engine: wasmtime.Engine) -> None:
    """One running store of `engine` ended."""
    with _tickers_lock:
        _running[id(engine)] = max(0, _running.get(id(engine), 0) - 1)


class RunLimits:
    """Applied to one Store before instantiation; keeps the deadline callback alive while it runs."""

    def __init__(self, stop_requested: Callable[[], bool], memory_mb: int) -> None:
        self.stop_requested = stop_requested
        self.memory_mb = memory_mb
        self.stopped = False
        self._ticking = False
        self._callback = _DeadlineCallback(self._on_deadline)

    def release(self, engine: wasmtime.Engine) -> None:
        """The run ended: this store no longer needs the ticker."""
        if self._ticking:
            self._ticking = False
            stop_ticking(engine)

    def apply(self, store: wasmtime.Store, engine: wasmtime.Engine) -> None:
        store.set_limits(memory_size=self.memory_mb * 1024 * 1024)
        start_ticker(engine)
        self._ticking = True
        store.set_epoch_deadline(1)
        ffi.wasmtime_store_epoch_deadline_callback(store.ptr(), self._callback, None, _NO_FINALIZER)

    def _on_deadline(self, _context: object, _data: object, delta: object, kind: object) -> int:
        # Runs on the process thread, inside the guest's call; must not raise into wasmtime.
        try:
            stop = self.stop_requested()
        except BaseException:
            stop = True
        if stop:
            self.stopped = True
            error = ffi.wasmtime_error_new(KILLED_TRAP.encode())
            return ctypes.cast(error, ctypes.c_void_p).value or 0
        delta[0] = 1  # type: ignore[index]
        kind[0] = _CONTINUE  # type: ignore[index]
        return 0
