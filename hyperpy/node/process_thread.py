"""One process instance on its own thread: inbox, kill switch, runner, and the exit report.

Why a thread per process: a guest's `receive()` blocks (Hyperdrive runs each process as a task whose
host calls are awaited); wasmtime-py stores must stay on one thread; native guests are ordinary
blocking Python. The kernel loop never waits for a process: it puts messages in the inbox and learns
about the end of a run through `on_exit`, called on the kernel loop.

Killing: Python cannot stop a thread, so a kill sets `killed`, wakes a blocked `receive()` with a
sentinel and makes every later host call raise `ProcessKilled` (a BaseException, so a guest's
`except Exception` does not swallow it; in wasm it traps the instance). A guest spinning without host
calls is stopped in component mode by the runner's epoch callback (`runners/run_limits.py`, which
polls the host's `stop_requested()`); natively it cannot be: its thread is a daemon and its messages
are ignored.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from hyperpy.node import placement
from hyperpy.node.contracts import (
    KernelMessage,
    ProcessCrashed,
    ProcessRunner,
    SendErrorDelivery,
    StandardHost,
)


class ProcessKilled(BaseException):
    """Raised by host functions of a process the kernel has killed; ends the run without on_exit."""


class _KillSentinel:
    """Put in an inbox to wake a blocked receive after a kill."""


KILL = _KillSentinel()

InboxItem = KernelMessage | SendErrorDelivery | _KillSentinel
# An inbox entry: when it arrived (time.monotonic()) and what. The arrival time lets the process host
# order a message against the deadline of one of its own requests (see ProcessHost._next_item).
Arrival = tuple[float, InboxItem]


class ProcessControl:
    """What the kernel and the process thread share: the inbox and the kill switch.

    `deliver` may be called from any thread (the kernel loop, or a sender's thread routing directly).
    """

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Arrival] = queue.SimpleQueue()
        self.killed = False
        self.trapped = False
        # Set once the instance answers (see ProcessHost.mark_ready) or its run ended (`outcome`).
        self.settled = threading.Event()
        self.ready = False
        self.outcome: RunOutcome | None = None

    def mark_ready(self) -> None:
        if not self.ready:
            self.ready = True
            self.settled.set()

    def mark_ended(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self.settled.set()

    def deliver(self, item: KernelMessage | SendErrorDelivery) -> None:
        self.inbox.put((time.monotonic(), item))

    def kill(self) -> None:
        self.killed = True
        self.inbox.put((time.monotonic(), KILL))


OutcomeKind = Literal["returned", "crashed", "load_failed", "killed"]


@dataclass
class RunOutcome:
    """How a run ended. `detail` is the crash reason / load error; `stderr` the guest's stderr tail."""

    kind: OutcomeKind
    detail: str = ""
    stderr: str = ""
    started_at: float = 0.0
    ended_at: float = 0.0


def run_process_thread(
    *,
    name: str,
    control: ProcessControl,
    make_runner: Callable[[], ProcessRunner],
    host: StandardHost,
    our: str,
    cpus: frozenset[int] | None = None,
    on_started: Callable[[float], None],
    on_exit: Callable[[RunOutcome], None],
) -> threading.Thread:
    """Start the thread that builds the runner (compile / import) and runs `init(our)`.

    `on_started(t)` and `on_exit(outcome)` are called on the process thread; the kernel passes
    functions that hop onto its loop.
    """

    def main() -> None:
        started = time.monotonic()
        on_started(started)
        outcome = _run(control, make_runner, host, our, cpus)
        outcome.started_at = started
        outcome.ended_at = time.monotonic()
        control.mark_ended(outcome)
        on_exit(outcome)

    thread = threading.Thread(target=main, name=f"process {name}", daemon=True)
    thread.start()
    return thread


def _run(
    control: ProcessControl,
    make_runner: Callable[[], ProcessRunner],
    host: StandardHost,
    our: str,
    cpus: frozenset[int] | None,
) -> RunOutcome:
    # A first compile keeps every core the program may use (Cranelift compiles in parallel, and its
    # worker threads inherit the mask of the thread that starts them); the process itself then runs
    # where the node's threads do. This thread was started by a placed one, hence the release first.
    placement.release_current_thread(cpus)
    try:
        runner = make_runner()
    except ProcessKilled:
        return RunOutcome("killed")
    except BaseException as exc:
        return RunOutcome("load_failed", _describe(exc))
    placement.pin_current_thread(cpus)
    try:
        runner.run(host, our)
    except ProcessKilled:
        return RunOutcome("killed")
    except ProcessCrashed as crash:
        if control.killed:
            return RunOutcome("killed")
        return RunOutcome("crashed", crash.reason, crash.stderr_tail)
    except BaseException as exc:
        if control.killed:
            return RunOutcome("killed")
        return RunOutcome("load_failed", _describe(exc))
    if control.killed:
        return RunOutcome("killed")
    return RunOutcome("returned")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
