"""The "timer:distro:sys did not answer" warning means a missing grant, not a loaded node."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from scripted_standard import ScriptedHost, request, run_script

from hyperpy.runtime.decorators import app, local
from hyperpy.runtime.host import UNREAD, Incoming
from hyperpy.runtime.state import Never
from hyperpy.runtime.types import Address

WARNING = "timer:distro:sys did not answer in time"


@app(save=Never())
class Sleeper:
    @local
    async def nap(self) -> str:
        await asyncio.sleep(0.01)
        return "rested"


def timer_answer(kind: str) -> Callable[[ScriptedHost], Incoming]:
    """The timer's response ("response") or the kernel's Timeout ("error") for the last sleep."""

    def build(host: ScriptedHost) -> Incoming:
        key = next(
            entry[3]
            for entry in reversed(host.sent)
            if entry[0] == "request" and entry[3] and entry[3].startswith(b"hyperpy:timer:")
        )
        source = Address.parse("fake.dev@timer:distro:sys")
        error = "timeout" if kind == "error" else None
        return Incoming(
            kind, source, "timer:distro:sys", "fake.dev", b"", None, None, False, key, UNREAD, error
        )

    return build


def printed(script: list[Incoming | Callable[[ScriptedHost], Incoming]]) -> list[str]:
    return [entry[1] for entry in run_script(Sleeper, script) if entry[0] == "print"]


def test_a_timeout_after_the_timer_has_answered_once_is_load_not_a_missing_grant() -> None:
    nap = request({"Nap": None})
    lines = printed([nap, timer_answer("response"), nap, timer_answer("error")])
    assert not any(WARNING in line for line in lines), lines


def test_a_timer_that_never_answers_is_reported_once() -> None:
    nap = request({"Nap": None})
    lines = printed([nap, timer_answer("error"), nap, timer_answer("error")])
    assert sum(WARNING in line for line in lines) == 1, lines
