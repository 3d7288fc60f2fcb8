"""timer:distro:sys driven through the NodeServices test double: exact Response shape and rules."""

from __future__ import annotations

import time

from module_doubles import FakeNode, request

from hyperpy.node.modules import TimerModule, default_modules
from hyperpy.node.wit_types import Address, Message_Response

PROC = "fake.dev@app:pkg:pub"
TIMER = "fake.dev@timer:distro:sys"


async def test_set_timer_answers_with_empty_response_and_same_id_after_delay(node: FakeNode) -> None:
    timer = TimerModule()
    await timer.start(node)
    sent_at = time.monotonic()
    await timer.handle(request(PROC, TIMER, {"SetTimer": 50}, message_id=77))
    reply = await node.next_sent()
    assert time.monotonic() - sent_at >= 0.045
    assert reply.id == 77
    assert reply.source == Address.parse(TIMER)
    assert reply.target == Address.parse(PROC)
    assert isinstance(reply.message, Message_Response)
    response, context = reply.message.value
    assert (response.body, response.metadata, response.capabilities) == (b"", None, [])
    assert response.inherit is False
    assert context is None
    assert reply.lazy_load_blob is None


async def test_zero_millis_answers_at_once_to_rsvp(node: FakeNode) -> None:
    timer = TimerModule()
    await timer.start(node)
    await timer.handle(request(PROC, TIMER, {"SetTimer": 0}, rsvp="fake.dev@other:pkg:pub", message_id=5))
    reply = node.sent.get_nowait()
    assert (reply.id, reply.target) == (5, Address.parse("fake.dev@other:pkg:pub"))


async def test_timers_pop_in_deadline_order(node: FakeNode) -> None:
    timer = TimerModule()
    await timer.start(node)
    await timer.handle(request(PROC, TIMER, {"SetTimer": 120}, message_id=1))
    await timer.handle(request(PROC, TIMER, {"SetTimer": 30}, message_id=2))
    assert [(await node.next_sent()).id, (await node.next_sent()).id] == [2, 1]


async def test_malformed_body_is_dropped_and_explained(node: FakeNode) -> None:
    timer = TimerModule()
    await timer.start(node)
    await timer.handle(request(PROC, TIMER, {"SetTimer": -3}))
    await timer.handle(request(PROC, TIMER, b"not json"))
    await timer.handle(request(PROC, TIMER, {"Sleep": 3}))
    assert await node.nothing_sent()
    printed = node.printed()
    assert "`body.SetTimer`" in printed and "greater than or equal to 0" in printed
    assert "not valid JSON" in printed
    assert "unknown TimerAction variant 'Sleep'" in printed


async def test_remote_sources_and_debug_get_no_answer(node: FakeNode) -> None:
    timer = TimerModule()
    await timer.start(node)
    await timer.handle(request("other.dev@app:pkg:pub", TIMER, {"SetTimer": 0}))
    await timer.handle(request(PROC, TIMER, {"SetTimer": 10_000}))
    await timer.handle(request(PROC, TIMER, "Debug"))
    assert await node.nothing_sent()
    assert "active timers (1)" in node.printed()
    await timer.stop()


def test_timer_is_the_only_public_default_module() -> None:
    modules = default_modules()
    assert [str(module.process_id) for module in modules if module.public] == ["timer:distro:sys"]
