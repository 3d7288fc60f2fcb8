"""The benchmark app saving its state when its stored form changed."""

from __future__ import annotations

from app_never import Bench

from hyperpy import app
from hyperpy.state import OnDiff


@app(name="bench-ondiff", save=OnDiff())
class BenchOnDiff(Bench):
    """Same handlers as Bench."""
