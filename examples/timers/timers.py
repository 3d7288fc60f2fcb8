"""Timers, kv and sqlite: what Rust hyperapp lacks (`@every`, real `EveryNSeconds` saves).

* `tick` runs every half second (`@every`), counts in the state and records the latest tick in
  the kv database `ticks` (key `latest`);
* `remind(text, seconds)` answers at once with an id and, `seconds` later, a background task
  writes the reminder into the sqlite table `fired`; `fired()` lists what fired;
* the state is saved at most once a second, when it changed (`EveryNSeconds(1)`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hyperpy import app, background, every, http, init, kv, local, log, sqlite
from hyperpy.state import EveryNSeconds, transient


@dataclass
class Tick:
    number: int


@dataclass
class Reminder:
    id: int
    text: str


@app(name="timers", save=EveryNSeconds(1))
class Timers:
    ticks: int = 0
    next_reminder: int = 1
    ticks_db: kv.KvDb | None = transient(default=None)
    reminders_db: sqlite.SqliteDb | None = transient(default=None)

    @init
    async def start(self) -> None:
        self.ticks_db = await kv.open("ticks")
        self.reminders_db = await sqlite.open("reminders")
        await self.reminders_db.write("CREATE TABLE IF NOT EXISTS fired (id INTEGER PRIMARY KEY, text TEXT)")
        log("timers ready", verbosity=0)

    @every(0.5)
    async def tick(self) -> None:
        self.ticks += 1
        if self.ticks_db is not None:
            await self.ticks_db.set_json("latest", Tick(self.ticks))

    @local
    async def latest_tick(self) -> int:
        """The tick number last written to kv (0 before the first tick)."""
        if self.ticks_db is None:
            return 0
        stored = await self.ticks_db.get_json("latest", Tick)
        return stored.number if stored is not None else 0

    @local
    def ticks_so_far(self) -> int:
        return self.ticks

    @http(method="POST", path="/api/remind")
    @local
    def remind(self, text: str, seconds: float) -> int:
        """Schedule a reminder; answers its id immediately."""
        reminder = Reminder(self.next_reminder, text)
        self.next_reminder += 1
        background(self._fire_later(reminder, seconds))
        return reminder.id

    @http(method="GET", path="/api/fired")
    @local
    async def fired(self) -> list[Reminder]:
        if self.reminders_db is None:
            return []
        rows = await self.reminders_db.read("SELECT id, text FROM fired ORDER BY id")
        return [Reminder(int(row["id"]), str(row["text"])) for row in rows]

    async def _fire_later(self, reminder: Reminder, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.reminders_db is not None:
            await self.reminders_db.write(
                "INSERT INTO fired (id, text) VALUES (?, ?)", [reminder.id, reminder.text]
            )
        log(f"reminder {reminder.id} fired: {reminder.text}", verbosity=0)
