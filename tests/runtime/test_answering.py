"""How the runtime answers the right request when several are pending (process.py docstring).

The scripted host plays the kernel side, so the test can check *when* each answer goes out
relative to the kernel's prompting message (which `send_response` answers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from scripted_standard import ScriptedHost, request, run_script

from hyperpy.runtime.decorators import app, local
from hyperpy.runtime.host import UNREAD, Incoming
from hyperpy.runtime.state import Never
from hyperpy.runtime.types import Address


@app(save=Never())
class Waiter:
    @local
    async def wait(self) -> str:
        await self.event().wait()
        return "released"

    @local
    def release(self) -> bool:
        self.event().set()
        return True

    def event(self) -> asyncio.Event:
        if not hasattr(self, "_event"):
            self._event = asyncio.Event()
        return self._event


def timer_reply_to_last_anchor(host: ScriptedHost) -> Incoming:
    key = next(
        context
        for kind, *rest in reversed(host.sent)
        if kind == "request"
        for (target, _, context) in [rest]
        if context and context.startswith(b"hyperpy:anchor:")
    )
    source = Address.parse("fake.dev@timer:distro:sys")
    return Incoming("response", source, "timer:distro:sys", "fake.dev", b"", None, None, False, key, UNREAD)


def run(script: list[Incoming | Callable[[ScriptedHost], Incoming]]) -> list[tuple[Any, ...]]:
    sent = run_script(Waiter, script)
    problems = [entry[1] for entry in sent if entry[0] == "print"]
    assert problems == [], problems
    return sent


def test_an_answer_ready_in_another_turn_waits_for_its_request_to_be_prompting_again() -> None:
    sent = run([request({"Wait": None}), request({"Release": None}), timer_reply_to_last_anchor])
    kinds = [(entry[0], entry[1]) for entry in sent]
    # 1. `Wait` suspends with nothing outstanding in its turn: an anchor timer is sent in its turn.
    assert kinds[0] == ("request", "timer:distro:sys")
    assert sent[0][2] == b'{"SetTimer":2}' and sent[0][3].startswith(b"hyperpy:anchor:")
    # 2. `Release` is answered at once (it is prompting); `Wait` finishes in the same turn but its
    #    answer must not be sent now: the kernel would deliver it to Release's requester.
    assert sent[1] == ("response", b"true")
    # 3. The anchor's answer makes `Wait` prompting again: now its answer goes out.
    assert sent[2] == ("response", b'"released"')
    assert len(sent) == 3


def test_no_anchor_for_a_request_whose_requester_has_stopped_waiting() -> None:
    sent = run([request({"Wait": None}, expects_response=0), request({"Release": None})])
    assert sent == [("response", b"true")]


def test_fire_and_forget_requests_are_never_answered() -> None:
    sent = run([request({"Release": None}, expects_response=None)])
    assert sent == []
