"""The executor: asyncio features on HyperLoop, driven by a scripted stand-in for the process.

The scripted driver plays the timer module: when the loop is idle it fires the earliest timer, as
`timer:distro:sys` would answer the earliest SetTimer. So these tests take no wall-clock time.
"""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from hyperpy.runtime.loop import HyperLoop


class ScriptedDriver:
    """Fires the earliest pending timer whenever the loop has nothing to run."""

    def __init__(self) -> None:
        self.timers: list[asyncio.TimerHandle] = []
        self.reports: list[str] = []
        self.loop: HyperLoop | None = None
        self.idle_calls = 0

    def timer_scheduled(self, handle: asyncio.TimerHandle) -> None:
        self.timers.append(handle)

    def idle(self, next_deadline: float | None) -> None:
        self.idle_calls += 1
        live = [t for t in self.timers if not t.cancelled()]
        if not live:
            raise AssertionError("the loop waited for a message but nothing could ever arrive")
        earliest = min(live, key=lambda t: t.when())
        self.timers.remove(earliest)
        assert self.loop is not None
        self.loop.fire_timer(earliest)

    def report(self, text: str) -> None:
        self.reports.append(text)


@pytest.fixture
def loop() -> HyperLoop:
    driver = ScriptedDriver()
    hyper = HyperLoop(driver)
    driver.loop = hyper
    return hyper


def driver_of(loop: HyperLoop) -> ScriptedDriver:
    return loop._driver  # type: ignore[return-value]


def test_sleep_and_gather_run_concurrently_in_timer_order(loop: HyperLoop) -> None:
    order: list[str] = []

    async def worker(name: str, delay: float) -> str:
        await asyncio.sleep(delay)
        order.append(name)
        return name

    async def main() -> list[str]:
        return await asyncio.gather(worker("slow", 10), worker("fast", 1), worker("mid", 5))

    assert loop.run_until_complete(main()) == ["slow", "fast", "mid"]
    assert order == ["fast", "mid", "slow"]


def test_wait_for_times_out_and_cancels_the_inner_task(loop: HyperLoop) -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> str:
        try:
            await asyncio.wait_for(forever(), timeout=2)
        except TimeoutError:
            return "timed out"
        return "finished"

    assert loop.run_until_complete(main()) == "timed out"
    assert cancelled == [True]


def test_task_cancellation_propagates(loop: HyperLoop) -> None:
    async def main() -> bool:
        task = asyncio.get_running_loop().create_task(asyncio.sleep(100))
        await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return task.cancelled()
        return False

    assert loop.run_until_complete(main()) is True


def test_context_variables_stay_per_task_across_awaits(loop: HyperLoop) -> None:
    current: contextvars.ContextVar[str] = contextvars.ContextVar("current")

    async def handler(name: str, delay: float) -> tuple[str, str]:
        current.set(name)
        await asyncio.sleep(delay)
        before = current.get()
        await asyncio.sleep(delay / 2)
        return before, current.get()

    async def main() -> list[tuple[str, str]]:
        return await asyncio.gather(handler("a", 4), handler("b", 1), handler("c", 2))

    assert loop.run_until_complete(main()) == [("a", "a"), ("b", "b"), ("c", "c")]


def test_queues_events_and_locks_work(loop: HyperLoop) -> None:
    async def main() -> list[int]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        event = asyncio.Event()
        lock = asyncio.Lock()
        got: list[int] = []

        async def producer() -> None:
            for value in range(3):
                await asyncio.sleep(1)
                await queue.put(value)
            event.set()

        async def consumer() -> None:
            await event.wait()
            async with lock:
                while not queue.empty():
                    got.append(await queue.get())

        await asyncio.gather(producer(), consumer())
        return got

    assert loop.run_until_complete(main()) == [0, 1, 2]


def test_unretrieved_task_exception_is_reported_not_raised(loop: HyperLoop) -> None:
    async def boom() -> None:
        raise ValueError("lost")

    async def main() -> None:
        asyncio.get_running_loop().create_task(boom())
        await asyncio.sleep(1)

    loop.run_until_complete(main())
    import gc

    gc.collect()
    reports = "\n".join(driver_of(loop).reports)
    assert "ValueError: lost" in reports


def test_many_timers_fire_in_deadline_order(loop: HyperLoop) -> None:
    fired: list[int] = []

    async def main() -> None:
        for index in range(50):
            loop.call_later((50 - index) * 0.1, fired.append, index)
        await asyncio.sleep(10)

    loop.run_until_complete(main())
    assert fired == list(range(49, -1, -1))


def test_run_in_executor_explains_why_it_is_unavailable(loop: HyperLoop) -> None:
    with pytest.raises(RuntimeError, match="has no threads"):
        loop.run_in_executor(None, print)


def test_due_timers_run_by_the_clock_even_if_the_timer_service_never_answers(loop: HyperLoop) -> None:
    fired: list[str] = []
    handle = loop.call_at(loop.time() - 1, fired.append, "past")
    driver_of(loop).timers.remove(handle)  # the timer service will never answer this one

    async def main() -> None:
        await asyncio.sleep(0)

    loop.run_until_complete(main())
    assert fired == ["past"]
