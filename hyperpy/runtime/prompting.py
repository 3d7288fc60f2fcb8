"""The kernel's prompting message as the runtime mirrors it, and what it sends while waiting.

`send_response` answers whichever request is the kernel's *prompting message*: the last received
request that expects a response, restored to an earlier one when a response (or send error) to
one of our requests arrives — to the prompting message current when that request was sent
(runtime-contract.md §1.4). `ProcessRuntime` keeps `prompting` in step with the kernel using these
records, so it knows when an answer can be sent and which outstanding requests will bring a given
request back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hyperpy.runtime.types import Reply

ANCHOR_FIRST_DELAY = 0.002
ANCHOR_MAX_DELAY = 0.5


class Answerable:
    """A received request that expects a response, until it is answered.

    `keys`: contexts of our outstanding requests sent while this was the kernel's prompting message
    (their responses make it prompting again). `deferred`: an answer waiting for that moment.
    `gives_up_at`: when the requester stops waiting (its `expects_response`); after that no anchor
    is sent for it, so a handler that never finishes does not keep the process polling forever.
    """

    __slots__ = ("anchor_delay", "answered", "deferred", "gives_up_at", "keys")

    def __init__(self, gives_up_at: float) -> None:
        self.answered = False
        self.deferred: tuple[bytes, bytes | None, str | None, str | None] | None = None
        self.keys: set[bytes] = set()
        self.anchor_delay = ANCHOR_FIRST_DELAY
        self.gives_up_at = gives_up_at


class _Unknown:
    """The kernel's prompting message is one we cannot identify (see `_on_request`)."""

    def __repr__(self) -> str:
        return "<unknown prompting message>"


UNKNOWN = _Unknown()
Prompting = Answerable | _Unknown | None


@dataclass(slots=True)
class Outstanding:
    """One of our requests awaiting a response: a call, a timer, or an anchor."""

    kind: str
    saved: Prompting
    owner: Answerable | None
    future: asyncio.Future[Reply] | None = None
    handle: asyncio.TimerHandle | None = None
    label: str = ""
    deadline: float = 0.0  # loop time at which the kernel's timeout for a call would fire

    def live_for(self, request: Answerable) -> bool:
        if self.kind == "anchor":
            return True
        if self.owner is not request:
            return False
        if self.future is not None:
            return not self.future.done()
        if self.handle is not None:
            return not self.handle.cancelled()
        return False
