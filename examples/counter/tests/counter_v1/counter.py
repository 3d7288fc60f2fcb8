"""Version 1 of the counter example: the count was stored as `value`, and no changes were kept."""

from __future__ import annotations

from hyperpy import app, local
from hyperpy.state import EveryMessage


@app(name="counter", save=EveryMessage())
class Counter:
    value: int = 0

    @local
    def increment(self, by: int = 1) -> int:
        self.value += by
        return self.value
