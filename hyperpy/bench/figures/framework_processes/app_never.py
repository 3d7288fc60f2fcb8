"""The framework side of the benchmark: the smallest useful handlers, state never saved."""

from __future__ import annotations

import asyncio

from hyperpy import app, call, local
from hyperpy.state import Never


@app(name="bench", save=Never())
class Bench:
    value: int = 0

    @local
    def ping(self) -> str:
        return "pong"

    @local
    def bump(self) -> int:
        self.value += 1
        return self.value

    @local
    async def fan_out(self, target: str, calls: int) -> int:
        """`calls` concurrent calls to `target` (a raw echo); answers how many came back right."""
        bodies = await asyncio.gather(*(call(target, "echo", index) for index in range(calls)))
        return sum(1 for index, body in enumerate(bodies) if body == {"Echo": index})
