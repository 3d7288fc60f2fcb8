"""Persisted state: save policies, schema-change tolerance, migrations, and bad state kept aside."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hyperpy.runtime.decorators import app, migrate
from hyperpy.runtime.state import (
    EveryMessage,
    EveryNMessage,
    EveryNSeconds,
    Never,
    OnDiff,
    SavePolicy,
    StateCodec,
    StateKeeper,
    transient,
)


@dataclass
class Note:
    text: str
    pinned: bool = False


@app
class NotesV1:
    notes: list[Note] = field(default_factory=list)
    total: int = 0
    cache: dict[str, int] = transient(default_factory=dict)


@app(state_version=2)
class NotesV2:
    notes: list[Note] = field(default_factory=list)
    count: int = 0  # renamed from `total` by the migration
    owner: str = "nobody"  # new field: takes its default

    @migrate(from_version=1)
    @staticmethod
    def rename_total(fields: dict[str, Any]) -> dict[str, Any]:
        fields["count"] = fields.pop("total", 0)
        return fields


@app(state_version=2)
class NotesV2WithoutMigration:
    notes: list[Note] = field(default_factory=list)
    owner: str = "nobody"


class Recorder:
    """Stands in for the host's set_state and the loop's call_later."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.scheduled: list[tuple[float, Callable[[], None]]] = []

    def keeper(self, cls: type, policy: SavePolicy, version: int = 1) -> StateKeeper:
        keeper = StateKeeper(
            StateCodec(cls, version),
            policy,
            self.writes.append,
            lambda delay, cb: self.scheduled.append((delay, cb)),
        )
        keeper.load(None)
        return keeper


def test_stored_form_has_field_names_version_and_no_transient_fields() -> None:
    codec = StateCodec(NotesV1, 1)
    state = NotesV1([Note("a")], 1, {"x": 1})
    assert json.loads(codec.encode(state)) == {
        "hyperpy_state": 1,
        "version": 1,
        "fields": {"notes": [{"text": "a", "pinned": False}], "total": 1},
    }


def test_new_version_loads_old_state_with_migration_and_defaults_without_loss() -> None:
    old = StateCodec(NotesV1, 1).encode(NotesV1([Note("a", True), Note("b")], 2))
    state, problems = StateCodec(NotesV2, 2).load(old)
    assert problems == []
    assert state == NotesV2([Note("a", True), Note("b")], count=2, owner="nobody")


def test_schema_change_without_migration_keeps_known_fields_and_ignores_removed_ones() -> None:
    old = StateCodec(NotesV1, 1).encode(NotesV1([Note("a")], 5))
    state, problems = StateCodec(NotesV2WithoutMigration, 2).load(old)
    assert problems == []
    assert state == NotesV2WithoutMigration([Note("a")], "nobody")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x93\x01\x02\x03", "stored state could not be read"),
        (b'{"count": 3}', "it is not hyperpy state"),
        (b'{"hyperpy_state":1,"version":9,"fields":{}}', "newer than this app's state_version 1"),
    ],
)
def test_unreadable_state_is_kept_aside_and_reported_never_fatal(raw: bytes, reason: str) -> None:
    codec = StateCodec(NotesV1, 1)
    state, problems = codec.load(raw)
    assert state == NotesV1()
    assert len(problems) == 1 and reason in problems[0]
    assert codec.kept_aside[-1].data == raw
    # The kept-aside bytes travel with the next save, so nothing is lost across restarts.
    saved = codec.encode(state)
    reloaded = StateCodec(NotesV1, 1)
    reloaded.load(saved)
    assert reloaded.kept_aside[-1].data == raw


def test_a_field_that_no_longer_decodes_is_reset_and_the_rest_kept() -> None:
    raw = b'{"hyperpy_state":1,"version":1,"fields":{"notes":[{"text":"a"}],"total":"many"}}'
    codec = StateCodec(NotesV1, 1)
    state, problems = codec.load(raw)
    assert state == NotesV1([Note("a")], 0)
    assert 'state.total: expected an integer, got "many"' in problems[0]


def test_failing_migration_keeps_the_old_state_aside() -> None:
    @app(state_version=2)
    class Broken:
        count: int = 0

        @migrate(from_version=1)
        @staticmethod
        def explode(fields: dict[str, Any]) -> dict[str, Any]:
            raise KeyError("total")

    old = b'{"hyperpy_state":1,"version":1,"fields":{"total":3}}'
    codec = StateCodec(Broken, 2)
    state, problems = codec.load(old)
    assert state == Broken()
    assert "migration from version 1 failed: KeyError" in problems[0]


def test_every_message_writes_after_each_handled_message() -> None:
    recorder = Recorder()
    keeper = recorder.keeper(NotesV1, EveryMessage())
    for _ in range(3):
        keeper.message_done()
    assert len(recorder.writes) == 3


def test_every_n_message_writes_every_nth() -> None:
    recorder = Recorder()
    keeper = recorder.keeper(NotesV1, EveryNMessage(2))
    for _ in range(5):
        keeper.message_done()
    assert len(recorder.writes) == 2


def test_never_writes_only_when_asked() -> None:
    recorder = Recorder()
    keeper = recorder.keeper(NotesV1, Never())
    keeper.message_done()
    assert recorder.writes == []
    keeper.instance.total = 1
    assert keeper.save() is True
    assert keeper.save() is False  # unchanged: nothing written
    assert len(recorder.writes) == 1


def test_on_diff_writes_only_when_the_stored_form_changes() -> None:
    recorder = Recorder()
    keeper = recorder.keeper(NotesV1, OnDiff())
    keeper.message_done()
    keeper.instance.total = 1
    keeper.message_done()
    keeper.message_done()
    keeper.instance.cache["ignored"] = 1  # transient: not part of the stored form
    keeper.message_done()
    assert len(recorder.writes) == 2


def test_every_n_seconds_really_saves_on_a_timer_when_changed() -> None:
    recorder = Recorder()
    keeper = recorder.keeper(NotesV1, EveryNSeconds(30))
    keeper.instance.total = 1
    keeper.message_done()
    keeper.message_done()
    assert [delay for delay, _ in recorder.scheduled] == [30]  # one flush scheduled, not one per message
    recorder.scheduled.pop()[1]()
    assert len(recorder.writes) == 1
    assert json.loads(recorder.writes[0])["fields"]["total"] == 1
    keeper.message_done()
    recorder.scheduled.pop()[1]()
    assert len(recorder.writes) == 1  # nothing changed since: no write
