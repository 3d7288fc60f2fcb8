"""sqlite:distro:sys — real SQLite files at `<home>/sqlite/<pkg>:<pub>/<db>/<db>.db`, WAL mode.

Semantics are Hyperdrive's (runtime-contract.md §3.5, HD `lib/src/sqlite.rs` + `hyperdrive/src/sqlite.rs`):

* `{"Write": {"statement": "..", "tx_id": null|id}}`: the statement's first word (upper-cased) must be
  a write keyword, else `NotAWriteKeyword`; with a `tx_id` it is buffered until Commit — an unknown
  `tx_id` silently starts a new buffer, as on Hyperdrive;
* `{"Query": ".."}`: first word must be a read keyword, else `NotAReadKeyword`; answers `"Read"` with
  blob = JSON array of row objects (BLOB columns as standard base64);
* parameters come as blob = JSON array: integers → INTEGER (outside i64 → REAL), other numbers → REAL,
  bool → 0/1, null → NULL, and **a string that is valid standard base64 becomes a BLOB, otherwise
  TEXT** (so `"test"` is stored as 3 bytes — Hyperdrive's quirk, reproduced); anything else →
  `InvalidParameters`;
* `"BeginTx"` / `{"Commit": {"tx_id": id}}` (`{"NoTx": id}` if unknown); SQLite errors →
  `{"RusqliteError": "<message>"}`;
* **deliberate difference — a sandbox**: every connection has an SQLite authorizer
  (`SandboxedConnection`) that refuses what would reach a file other than the database's own:
  `ATTACH` of a file (also how `VACUUM INTO 'path'` opens its target), the `load_extension()`
  function and the pragmas that point SQLite at other directories (`temp_store_directory`,
  `data_store_directory`). Hyperdrive runs such statements (ATTACH is even a read keyword there), so
  a process can read or write any SQLite file the node user can, other packages' databases included;
  here they answer `{"RusqliteError": "not authorized: ..."}` (the variant a Rust caller already
  decodes for SQLite errors) naming what was refused. `ATTACH ':memory:'`, plain `VACUUM` (which
  attaches a private temporary file) and every other statement behave as on Hyperdrive;
* capabilities: Hyperdrive asks its cap table for write (Write/BeginTx/Commit) or read (Query) but
  accepts the answer whatever it is, so a missing cap does not stop the request there. The emulator
  lets it through too and prints a warning naming the missing cap.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

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
from hyperpy.node.modules.wire import U64, UNIT, TaggedEnum, WireModel, encode_json
from hyperpy.runtime import jsonwire

READ_KEYWORDS = frozenset({"ANALYZE", "ATTACH", "BEGIN", "EXPLAIN", "PRAGMA", "SELECT", "VALUES", "WITH"})
WRITE_KEYWORDS = frozenset(
    {
        "ALTER",
        "ANALYZE",
        "COMMIT",
        "CREATE",
        "DELETE",
        "DETACH",
        "DROP",
        "END",
        "INSERT",
        "REINDEX",
        "RELEASE",
        "RENAME",
        "REPLACE",
        "ROLLBACK",
        "SAVEPOINT",
        "UPDATE",
        "VACUUM",
    }
)
SqlValue = int | float | str | bytes | None
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
# Attach targets that reach no shared file: an in-memory database, and the private temporary file
# SQLite itself attaches for a plain VACUUM (an empty name).
PRIVATE_ATTACH_NAMES = frozenset({"", ":memory:"})
REFUSED_PRAGMAS = frozenset({"temp_store_directory", "data_store_directory"})
REFUSED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})


class SandboxedConnection(sqlite3.Connection):
    """A connection whose statements can touch no file but the database's own (and its WAL/SHM).

    The SQLite authorizer is consulted while a statement is prepared, for every action it would take
    (an ATTACH with its file name, each pragma, each function call); the first refusal is remembered in
    `refused` so the answer can say what was refused instead of SQLite's bare "not authorized".
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: str | None = None
        self.set_authorizer(self._authorize)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
    ) -> int:
        reason = None
        if action == sqlite3.SQLITE_ATTACH and (arg1 or "") not in PRIVATE_ATTACH_NAMES:
            reason = (
                f"ATTACH (or VACUUM INTO) of {arg1!r}: a process may only use its own database file; "
                "open another database with its own Open request, or attach ':memory:'"
            )
        elif action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in REFUSED_PRAGMAS:
            reason = f"PRAGMA {arg1}: it points SQLite at another directory of the node's machine"
        elif action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
            reason = f"{arg2}(): loading code into the node is not allowed"
        if reason is None:
            return sqlite3.SQLITE_OK
        self.refused = reason
        return sqlite3.SQLITE_DENY

    def execute_checked(self, statement: str, parameters: list[SqlValue]) -> sqlite3.Cursor:
        """`execute`, with a refusal by the sandbox reported as the reason it was refused."""
        self.refused = None
        try:
            return self.execute(statement, parameters)
        except sqlite3.DatabaseError as error:
            if self.refused is None:
                raise
            reason, self.refused = self.refused, None
            raise DbFailure({"RusqliteError": f"not authorized: {reason}"}, f"refused: {reason}") from error


class Write(WireModel):
    statement: str
    tx_id: U64 | None = None


SQLITE_ACTION = TaggedEnum(
    "SqliteAction",
    {"Open": UNIT, "RemoveDb": UNIT, "Write": Write, "Query": str, "BeginTx": UNIT, "Commit": Commit},
)


def first_word(statement: str) -> str:
    words = statement.split()
    return words[0].upper() if words else ""


def base64_blob(text: str) -> bytes | None:
    """The bytes `text` encodes in canonical padded standard base64 (Rust's STANDARD engine), or None."""
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if base64.b64encode(decoded).decode() == text else None


def sql_parameter(value: object) -> SqlValue:
    """Convert one JSON parameter as Hyperdrive's `json_to_sqlite` does."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if I64_MIN <= value <= I64_MAX else float(value)
    if isinstance(value, float) or value is None:
        return value
    if isinstance(value, str):
        blob = base64_blob(value)
        return value if blob is None else blob
    raise DbFailure(
        "InvalidParameters", f"parameter {json.dumps(value)} is not a number, string, bool or null"
    )


def sql_parameters(blob: bytes | None) -> list[SqlValue]:
    """Parameters from the request blob (none → no parameters); not a JSON array → InvalidParameters."""
    if blob is None:
        return []
    try:
        values = jsonwire.loads(blob)
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list):
        raise DbFailure(
            "InvalidParameters", 'the parameters blob must be a JSON array, e.g. [1, "text", null]'
        )
    return [sql_parameter(value) for value in values]


def json_value(value: object) -> object:
    """A column value as Hyperdrive writes it into the Read blob (BLOB → standard base64)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


class SqliteModule(DatabaseModule[SandboxedConnection]):
    process_id = module_id("sqlite")
    kind_name = "sqlite"
    actions = SQLITE_ACTION
    write_actions = frozenset({"Write", "BeginTx", "Commit"})
    read_actions = frozenset({"Query"})
    enforce_caps = False

    def connect(self, directory: Path, key: DbKey) -> SandboxedConnection:
        connection = sqlite3.connect(
            directory / f"{key.name}.db",
            isolation_level=None,
            check_same_thread=False,
            factory=SandboxedConnection,
        )
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def close(self, connection: SandboxedConnection) -> None:
        connection.close()

    def storage_error(self, error: Exception) -> DbFailure | None:
        if isinstance(error, sqlite3.Error | OverflowError):
            return DbFailure({"RusqliteError": str(error)}, f"SQLite error: {error}")
        return None

    def run(self, connection: SandboxedConnection, request: DbRequest) -> DbOutcome:
        name, value = request.action.name, request.action.value
        blob = None if request.blob is None else request.blob.bytes
        if name == "Query":
            if first_word(value) not in READ_KEYWORDS:
                raise DbFailure(
                    "NotAReadKeyword",
                    f"Query must start with one of {', '.join(sorted(READ_KEYWORDS))}; "
                    f"got {first_word(value)!r} (use Write for statements that change data)",
                )
            cursor = connection.execute_checked(value, sql_parameters(blob))
            columns = [column[0] for column in cursor.description or []]
            rows = [dict(zip(columns, map(json_value, row), strict=True)) for row in cursor.fetchall()]
            return DbOutcome("Read", encode_json(rows))
        if name == "Write":
            if first_word(value.statement) not in WRITE_KEYWORDS:
                raise DbFailure(
                    "NotAWriteKeyword",
                    f"Write must start with one of {', '.join(sorted(WRITE_KEYWORDS))}; "
                    f"got {first_word(value.statement)!r} (use Query for reads)",
                )
            parameters = sql_parameters(blob)
            if value.tx_id is None:
                connection.execute_checked(value.statement, parameters)
            else:
                self.transactions.setdefault(value.tx_id, []).append((value.statement, parameters))
            return DbOutcome("Ok")
        if name == "BeginTx":
            tx_id = random.getrandbits(64)
            self.transactions[tx_id] = []
            return DbOutcome({"BeginTx": {"tx_id": tx_id}})
        # Commit
        statements = self.take_transaction(value.tx_id)
        with sqlite_transaction(connection):
            for statement, parameters in statements:
                connection.execute_checked(statement, parameters)
        return DbOutcome("Ok")
