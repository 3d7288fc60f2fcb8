"""A fixed app whose generated WIT is compared with `expected/` (every mapping of from_app.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, TypedDict

from hyperpy.runtime.decorators import app, http, init, local, remote
from hyperpy.runtime.types import Address, Err, Ok


class Priority(Enum):
    Low = "Low"
    High = "High"
    VeryUrgent = "VeryUrgent"


class Mood(Enum):
    happy = "happy"
    sad = "sad"


@dataclass
class Note:
    id: int
    title: str
    body: str | None
    priority: Priority
    attachment: bytes
    tags: list[str]
    owner: Address
    extra: Any = None


@dataclass
class Created:
    at: int


@dataclass
class Archived:
    pass


@dataclass
class Stats:
    counts: dict[str, int] = field(default_factory=dict)
    span: tuple[int, float] = (0, 0.0)


class Filter(TypedDict):
    text: str
    limit: int


NoteEvent = Created | Archived


@app(name="Notes")
class NotesState:
    notes: list[Note] = field(default_factory=list)

    @init
    async def start(self) -> None:
        self.notes = []

    @local
    @remote
    def add_note(self, title: str, priority: Priority) -> Ok[int] | Err[str]:
        return Ok(len(self.notes))

    @local
    def get_note(self, id: int) -> Note | None:
        return None

    @remote
    def list_notes(self) -> list[Note]:
        return self.notes

    @local
    def record_event(self, event: NoteEvent, mood: Mood, kind: Literal["a", "b"]) -> list[NoteEvent]:
        return [event]

    @local
    def forget(self, id: int) -> None:
        return None

    @http(method="GET", path="/api/stats")
    def get_stats(self) -> Stats:
        return Stats()

    @http
    def search(self, query: Filter, limit: int | None) -> Ok[list[Note]] | Err[str]:
        return Ok([])
