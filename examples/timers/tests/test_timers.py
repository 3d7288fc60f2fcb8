"""The timers example on the local node, in component and native mode."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hyperpy.testing.harness import HyperpyNode

EXAMPLE = Path(__file__).resolve().parents[1]
TIMERS = "timers:timers:template.os"

pytestmark = pytest.mark.hyperpy_modes("component", "native")


def eventually(probe: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    """Poll `probe` until it returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


@pytest.fixture
def timers(hyperpy_node: HyperpyNode) -> HyperpyNode:
    hyperpy_node.install(EXAMPLE)
    hyperpy_node.wait_for_output("timers ready", timeout=30)
    return hyperpy_node


def test_periodic_handler_ticks_and_records_in_kv(timers: HyperpyNode) -> None:
    eventually(lambda: timers.request_json(TIMERS, {"LatestTick": None}) >= 2, "two ticks recorded in kv")
    assert timers.request_json(TIMERS, {"TicksSoFar": None}) >= 2


def test_every_n_seconds_really_saves(timers: HyperpyNode) -> None:
    def saved_ticks() -> int:
        stored = timers.get_state(TIMERS)
        return json.loads(stored)["fields"]["ticks"] if stored else 0

    eventually(lambda: saved_ticks() >= 1, "a timed state save")


def test_reminders_fire_later_into_sqlite(timers: HyperpyNode) -> None:
    assert timers.request_json(TIMERS, {"Remind": ["tea", 0.3]}) == 1
    assert timers.request_json(TIMERS, {"Remind": ["coffee", 0.1]}) == 2
    timers.wait_for_output("reminder 1 fired: tea", timeout=10)
    timers.wait_for_output("reminder 2 fired: coffee", timeout=10)
    fired = timers.request_json(TIMERS, {"Fired": None})
    assert fired == [{"id": 1, "text": "tea"}, {"id": 2, "text": "coffee"}]
