"""Starter app for tests/runtime/test_startup_and_rollback.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hyperpy import CallTimeout, app, call, http, init, local


@dataclass
class Item:
    name: str


@app(name="starter", authenticated=False)
class Starter:
    setups: int = 0  # @init runs; requests that arrive before it finished must see it done
    fail_on_start: bool = False
    items: list[Item] = field(default_factory=list)

    @init
    async def start(self) -> None:
        await asyncio.sleep(0.3)  # like awaiting sqlite's CREATE TABLE
        if self.fail_on_start:
            raise RuntimeError("the database could not be opened")
        self.setups += 1

    @http(method="GET", path="/api/setups")
    @local
    def get_setups(self) -> int:
        return self.setups

    @local
    def arm(self, fail: bool) -> bool:
        self.fail_on_start = fail
        return fail

    @http
    @local
    def add(self, name: str, fail: bool = False) -> list[Item]:
        self.items.append(Item(name))
        self.setups += 100
        if fail:
            raise ValueError(f"refused {name}")
        self.setups -= 100
        return self.items

    @local
    async def add_later(self, name: str, fail: bool = False) -> list[Item]:
        self.items.append(Item(name))
        await asyncio.sleep(0.01)
        if fail:
            raise ValueError(f"refused {name} later")
        return self.items

    @http(method="GET", path="/api/items")
    @local
    def get_items(self) -> list[Item]:
        return self.items

    @local
    async def try_call(self, target: str, timeout: float) -> str:
        try:
            await call(target, "get_setups", timeout=timeout)
        except CallTimeout as error:
            return f"{'refused' if error.refused else 'timeout'}: {error}"
        return "answered"

    @http(method="POST", path="/api/items", status=201)
    def create(self, name: str) -> Item:
        self.items.append(Item(name))
        return self.items[-1]

    @http(method="DELETE", path="/api/items", status=204)
    def clear(self) -> None:
        self.items.clear()
