"""timer:distro:sys — an empty Response with the request's id after the requested delay.

Hyperdrive semantics (runtime-contract.md §3.6, HD `hyperdrive/src/timer.rs`): the only public runtime
module; `{"SetTimer": millis}` arms a timer whose Response (empty body, no blob, no metadata) goes to
rsvp or source with the *same id*, so the process matches it to its own context; `0` answers at once;
`"Debug"` prints the armed timers. Requests from other nodes and Responses are ignored; a body that
does not parse is dropped with a printout (Hyperdrive says only "invalid body"; we also say why).
Timers live in memory only: they are not persisted across node restarts, as on Hyperdrive.
"""

from __future__ import annotations

import asyncio
import time

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, module_id
from hyperpy.node.modules.wire import U64, UNIT, TaggedEnum, WireError, decode_json
from hyperpy.node.wit_types import Address

TIMER_ACTION = TaggedEnum("TimerAction", {"Debug": UNIT, "SetTimer": U64})


class TimerModule(ModuleBase):
    process_id = module_id("timer")
    public = True

    def __init__(self) -> None:
        super().__init__()
        # token -> (pop time in unix millis, request id, reply target, loop handle)
        self._armed: dict[int, tuple[int, int, Address, asyncio.TimerHandle]] = {}
        self._next_token = 0

    async def handle(self, message: KernelMessage) -> None:
        request = self.local_request(message, announce_remote=False)
        if request is None:
            return
        try:
            action = TIMER_ACTION.parse(decode_json(request.body), "body")
        except WireError as error:
            self.log(
                0,
                f"timer: dropped a request from {message.source} with an invalid body: {error.detail}; "
                'expected {"SetTimer": <milliseconds>} (Hyperdrive drops it silently too)',
            )
            return
        if action.name == "Debug":
            self._print_timers()
            return
        millis: int = action.value
        target = message.rsvp or message.source
        if millis == 0:
            self.respond(message, b"", target=target)
            return
        self.log(3, f"timer: set timer to pop in {millis}ms")
        pop_at = int(time.time() * 1000) + millis
        token = self._next_token
        self._next_token += 1
        handle = asyncio.get_running_loop().call_later(millis / 1000, self._pop, token, message, target)
        self._armed[token] = (pop_at, message.id, target, handle)

    def _pop(self, token: int, message: KernelMessage, target: Address) -> None:
        self._armed.pop(token, None)
        self.respond(message, b"", target=target)

    def _print_timers(self) -> None:
        self.log(0, f"timer service active timers ({len(self._armed)}):")
        for pop_at, message_id, target, _ in sorted(self._armed.values(), key=lambda entry: entry[0]):
            self.log(0, f"{pop_at}: [({message_id}, {target})]")

    async def on_stop(self) -> None:
        for *_, handle in self._armed.values():
            handle.cancel()
        self._armed.clear()
