"""kv:distro:sys — Hyperdrive's key-value store, persisted under `<home>/kv/<pkg>:<pub>/<db>/`.

Hyperdrive keeps each database in RocksDB; the emulator keeps it in one SQLite file per database
(`kv.sqlite3`, WAL mode): durable, transactional and in the standard library. The wire format and
rules are Hyperdrive's (runtime-contract.md §3.4, HD `lib/src/kv.rs` + `hyperdrive/src/kv.rs`):

* `{"Get": [key bytes]}` needs the read cap and answers `{"Get": [key]}` with the value as blob, or
  `{"Err": "KeyNotFound"}`;
* `{"Set": {"key": [..], "tx_id": null|id}}` (value = blob, else `MalformedRequest`),
  `{"Delete": {"key": [..], "tx_id": ..}}`, `"BeginTx"` → `{"BeginTx": {"tx_id": id}}` and
  `{"Commit": {"tx_id": id}}` need the write cap — the owner too, so `Open` first;
* writes with a `tx_id` are buffered until Commit (`{"Err": {"NoTx": id}}` for an unknown one);
* Open / RemoveDb / error rules in `databases.py`.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from hyperpy.node.modules.base import module_id
from hyperpy.node.modules.databases import (
    Commit,
    DatabaseModule,
    DbFailure,
    DbKey,
    DbOutcome,
    DbRequest,
    sqlite_transaction,
)
from hyperpy.node.modules.wire import U64, UNIT, ByteList, TaggedEnum, WireModel


class KeyWrite(WireModel):
    key: ByteList
    tx_id: U64 | None = None


KV_ACTION = TaggedEnum(
    "KvAction",
    {
        "Open": UNIT,
        "RemoveDb": UNIT,
        "Set": KeyWrite,
        "Delete": KeyWrite,
        "Get": ByteList,
        "BeginTx": UNIT,
        "Commit": Commit,
    },
)

SCHEMA = "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID"


class KvModule(DatabaseModule[sqlite3.Connection]):
    process_id = module_id("kv")
    kind_name = "kv"
    actions = KV_ACTION
    write_actions = frozenset({"Set", "Delete", "BeginTx", "Commit"})
    read_actions = frozenset({"Get"})

    def connect(self, directory: Path, key: DbKey) -> sqlite3.Connection:
        connection = sqlite3.connect(directory / "kv.sqlite3", isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(SCHEMA)
        return connection

    def close(self, connection: sqlite3.Connection) -> None:
        connection.close()

    def storage_error(self, error: Exception) -> DbFailure | None:
        if isinstance(error, sqlite3.Error):
            return DbFailure({"RocksDBError": str(error)}, f"storage error: {error}")
        return None

    def run(self, connection: sqlite3.Connection, request: DbRequest) -> DbOutcome:
        name, value = request.action.name, request.action.value
        if name == "Get":
            row = connection.execute("SELECT value FROM kv WHERE key = ?", (bytes(value),)).fetchone()
            if row is None:
                raise DbFailure("KeyNotFound", f"key {bytes(value)!r} not found in kv db {request.key}")
            return DbOutcome({"Get": value}, bytes(row[0]))
        if name == "BeginTx":
            tx_id = random.getrandbits(64)
            self.transactions[tx_id] = []
            return DbOutcome({"BeginTx": {"tx_id": tx_id}})
        if name == "Commit":
            operations = self.take_transaction(value.tx_id)
            with sqlite_transaction(connection):
                for operation in operations:
                    _apply(connection, *operation)
            return DbOutcome("Ok")
        # Set or Delete
        data: bytes | None = None
        if name == "Set":
            if request.blob is None:
                raise DbFailure(
                    "MalformedRequest", "Set carries the value as the request's blob; none was attached"
                )
            data = request.blob.bytes
        if value.tx_id is None:
            _apply(connection, bytes(value.key), data)
        elif value.tx_id in self.transactions:
            self.transactions[value.tx_id].append((bytes(value.key), data))
        else:
            raise DbFailure({"NoTx": value.tx_id}, f"no transaction {value.tx_id} found (BeginTx first)")
        return DbOutcome("Ok")


def _apply(connection: sqlite3.Connection, key: bytes, value: bytes | None) -> None:
    """A Set (value given) or a Delete (value None) on one key."""
    if value is None:
        connection.execute("DELETE FROM kv WHERE key = ?", (key,))
    else:
        connection.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))
