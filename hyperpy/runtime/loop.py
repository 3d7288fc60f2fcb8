"""An asyncio event loop that runs inside a Hyperware process, driven by `receive()`.

Inside a component `asyncio.new_event_loop()` fails (no selectors, no sockets), yet app authors want
`async def`, `asyncio.gather`, `wait_for`, `sleep`, tasks and cancellation. This loop implements the
part of `asyncio.AbstractEventLoop` those need (callbacks, timers, futures, tasks, exception
handling) and delegates waiting to a *driver*: when nothing is runnable, the driver blocks on the
process's next message and dispatches it, which makes futures ready. Timers are real: each
`call_at` is reported to the driver, which asks `timer:distro:sys` to wake the process in time.

The loop holds no global state; several processes can each run one on their own thread.
"""

from __future__ import annotations

import asyncio
import heapq
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from contextvars import Context
from typing import Any, Protocol, TypeVar, TypeVarTuple, Unpack

_Ts = TypeVarTuple("_Ts")
_T = TypeVar("_T")


class LoopDriver(Protocol):
    """What the loop needs from the process runtime."""

    def timer_scheduled(self, handle: asyncio.TimerHandle) -> None:
        """A timer was created; make sure the process wakes up by `handle.when()`."""

    def idle(self, next_deadline: float | None) -> None:
        """Nothing is runnable: block until one message arrives and dispatch it."""

    def report(self, text: str) -> None:
        """Print an unhandled problem (exception in a callback or task) to the node terminal."""


class HyperLoop(asyncio.AbstractEventLoop):
    """A single-threaded asyncio loop whose only source of events is its driver."""

    def __init__(self, driver: LoopDriver) -> None:
        self._driver = driver
        self._ready: deque[asyncio.Handle] = deque()
        self._scheduled: list[asyncio.TimerHandle] = []  # a heap by deadline
        self._armed: set[asyncio.TimerHandle] = set()  # scheduled, neither run nor cancelled
        self._stopping = False
        self._running = False
        self._closed = False
        self._debug = False
        self._exception_handler: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], Any] | None = None
        self._task_factory: Any = None

    # --- running ----------------------------------------------------------------------------------

    def run_forever(self) -> None:
        self._check_closed()
        if self._running:
            raise RuntimeError("this loop is already running")
        self._running = True
        self._stopping = False
        old_loop = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self)
        try:
            while not self._stopping:
                self._run_once()
        finally:
            self._running = False
            self._stopping = False
            asyncio.events._set_running_loop(old_loop)

    def run_until_complete(self, future: Any) -> Any:
        self._check_closed()
        task = asyncio.ensure_future(future, loop=self)
        task.add_done_callback(lambda _: self.stop())
        self.run_forever()
        if not task.done():
            raise RuntimeError("the loop stopped before the future completed")
        return task.result()

    def _run_once(self) -> None:
        self._move_due_timers()
        if not self._ready:
            next_deadline = self._next_deadline()
            self._driver.idle(next_deadline)
            self._move_due_timers()
        for _ in range(len(self._ready)):
            if self._stopping:  # also when the driver stopped us while idle (a crashing handler)
                break
            handle = self._ready.popleft()
            if not handle.cancelled():
                handle._run()

    def _next_deadline(self) -> float | None:
        while self._scheduled and not self.is_armed(self._scheduled[0]):
            self._armed.discard(heapq.heappop(self._scheduled))
        return self._scheduled[0].when() if self._scheduled else None

    def _move_due_timers(self) -> None:
        if not self._scheduled:
            return
        now = self.time()
        while self._scheduled:
            head = self._scheduled[0]
            if not self.is_armed(head):
                self._armed.discard(heapq.heappop(self._scheduled))
                continue
            if head.when() > now:
                break
            heapq.heappop(self._scheduled)
            self._armed.discard(head)
            self._ready.append(head)

    def is_armed(self, handle: asyncio.TimerHandle) -> bool:
        """Whether `handle` is still waiting to run (neither run nor cancelled)."""
        return handle in self._armed and not handle.cancelled()

    def fire_timer(self, handle: asyncio.TimerHandle) -> None:
        """The timer service says `handle` is due: run it now even if our clock disagrees slightly.
        Its heap entry stays behind and is dropped when it reaches the top."""
        if self.is_armed(handle):
            self._armed.discard(handle)
            self._ready.append(handle)

    def stop(self) -> None:
        self._stopping = True

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._running:
            raise RuntimeError("cannot close a running loop")
        self._closed = True
        self._ready.clear()
        self._scheduled.clear()
        self._armed.clear()

    def _check_closed(self) -> None:
        if self._closed:
            raise RuntimeError("the event loop is closed")

    async def shutdown_asyncgens(self) -> None:
        return None

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        return None

    # --- scheduling -------------------------------------------------------------------------------

    def call_soon(
        self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts, context: Context | None = None
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(
        self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts, context: Context | None = None
    ) -> asyncio.Handle:
        # A process is single-threaded; this exists because asyncio internals call it.
        return self.call_soon(callback, *args, context=context)

    def call_later(
        self,
        delay: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_at(self.time() + max(0.0, delay), callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        handle = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, handle)
        self._armed.add(handle)
        self._driver.timer_scheduled(handle)
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        # asyncio calls this from TimerHandle.cancel(); the heap entry is dropped lazily.
        self._armed.discard(handle)

    def time(self) -> float:
        return time.monotonic()

    # --- futures and tasks ------------------------------------------------------------------------

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(
        self, coro: Any, *, name: str | None = None, context: Context | None = None
    ) -> asyncio.Task[Any]:
        self._check_closed()
        if self._task_factory is not None:
            if context is None:
                task = self._task_factory(self, coro)
            else:
                task = self._task_factory(self, coro, context=context)
            if name is not None:
                task.set_name(name)
            return task
        return asyncio.Task(coro, loop=self, name=name, context=context)

    def set_task_factory(self, factory: Any) -> None:
        self._task_factory = factory

    def get_task_factory(self) -> Any:
        return self._task_factory

    # --- errors and debug -------------------------------------------------------------------------

    def get_exception_handler(self) -> Any:
        return self._exception_handler

    def set_exception_handler(self, handler: Any) -> None:
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        message = context.get("message") or "unhandled exception in the event loop"
        exception = context.get("exception")
        lines = [message]
        for key in ("task", "future", "handle"):
            if key in context:
                lines.append(f"  {key}: {context[key]!r}"[:300])
        if exception is not None:
            lines.append("".join(traceback.format_exception(exception)).rstrip())
        self._driver.report("\n".join(lines))

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is None:
            self.default_exception_handler(context)
            return
        try:
            self._exception_handler(self, context)
        except Exception as error:
            self.default_exception_handler(
                {"message": "the exception handler itself failed", "exception": error, "original": context}
            )

    def get_debug(self) -> bool:
        return self._debug

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled

    # --- what a Hyperware process cannot do -------------------------------------------------------

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[Unpack[_Ts]], _T], *args: *_Ts
    ) -> asyncio.Future[_T]:
        raise RuntimeError(
            "run_in_executor is unavailable: a Hyperware process has no threads; call the function "
            "directly, or split long work into steps separated by `await asyncio.sleep(0)`"
        )
