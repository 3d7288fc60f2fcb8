"""The benchmark app saving its state after every message."""

from __future__ import annotations

from app_never import Bench

from hyperpy import app
from hyperpy.state import EveryMessage


@app(name="bench-every", save=EveryMessage())
class BenchEvery(Bench):
    """Same handlers as Bench."""
