"""A process whose world also imports `hyperpy-test:foreign/weather`, which no node provides."""

from __future__ import annotations


class WitWorld:
    def init(self, our: str) -> None:
        from wit_world.imports import weather

        weather.forecast(our)
