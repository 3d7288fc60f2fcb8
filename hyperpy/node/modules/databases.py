"""What kv:distro:sys and sqlite:distro:sys share: the request envelope, Open/RemoveDb, caps, replies.

Both modules of Hyperdrive (HD `hyperdrive/src/kv.rs`, `sqlite.rs`; runtime-contract.md §3.4-3.5)
take `{"package_id": {"package_name": .., "publisher_node": ..}, "db": "name", "action": ..}` and:

* `Open` needs the source's package to equal `package_id` (else `MismatchingPackageId`), grants the
  source `{"kind":"read"|"write","db_key":[<package_id>,"name"]}` and creates the database;
* `RemoveDb` needs the same package match and deletes the database directory — after which the
  module opens the database again (every request "opens to ensure the db exists"), so an empty
  database remains, exactly as on Hyperdrive;
* transactions are buffered in memory until `Commit` and lost on restart;
* successes go to rsvp, or to the source when a response is expected, echoing the metadata;
  **errors are always sent** (to rsvp or source, without metadata) and printed.

The storage work runs on one worker thread per module (SQLite connections stay on the thread that
opened them, and the kernel's loop never waits for the disk).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import shutil
import sqlite3
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, expects_response, request_of
from hyperpy.node.modules.vfs import io_error_text
from hyperpy.node.modules.wire import (
    U64,
    Tagged,
    TaggedEnum,
    WireError,
    WireModel,
    decode_json,
    encode_json,
    require_object,
    validate,
)
from hyperpy.node.wit_types import Capability, LazyLoadBlob, ProcessId

OPEN_DATABASE_LIMIT = 64
BLOB_MIME = "application/octet-stream"


class PackageIdModel(WireModel):
    """`PackageId` as serde writes it inside kv/sqlite requests: an object, not a string."""

    package_name: str
    publisher_node: str

    def __str__(self) -> str:
        return f"{self.package_name}:{self.publisher_node}"

    def wire(self) -> dict[str, str]:
        return {"package_name": self.package_name, "publisher_node": self.publisher_node}


class Commit(WireModel):
    """`{"Commit": {"tx_id": id}}` of both kv and sqlite."""

    tx_id: U64


@dataclass(frozen=True)
class DbKey:
    """`(PackageId, db name)`: how Hyperdrive names a database in caps, errors and on disk."""

    package: PackageIdModel
    name: str

    def wire(self) -> list[object]:
        return [self.package.wire(), self.name]

    def __str__(self) -> str:
        return f"[{self.package}, {self.name}]"


class DbFailure(Exception):
    """An error reply: `value` is its JSON form; `explanation` is what the node prints."""

    def __init__(self, value: object, explanation: str = "") -> None:
        super().__init__(explanation or json.dumps(value))
        self.value = value
        self.explanation = explanation or json.dumps(value)


@dataclass
class DbOutcome:
    """A successful reply: the response JSON and an optional blob."""

    body: object
    data: bytes | None = None


@dataclass(frozen=True)
class DbRequest:
    """One parsed request: which database, which action (name + validated payload), the blob."""

    key: DbKey
    action: Tagged
    blob: LazyLoadBlob | None


Connection = TypeVar("Connection")


class DatabaseModule(ModuleBase, ABC, Generic[Connection]):
    """Shared machinery; subclasses provide the action enum, caps per action and the storage."""

    kind_name: str  # "kv" or "sqlite": printouts, directory under the home, error prefix
    actions: TaggedEnum
    write_actions: frozenset[str]
    read_actions: frozenset[str]
    enforce_caps: bool = True

    def __init__(self) -> None:
        super().__init__()
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=self.kind_name)
        self._connections: OrderedDict[DbKey, Connection] = OrderedDict()
        self.transactions: dict[int, list[Any]] = {}
        self._directory = Path()

    # -------------------------------------------------------------- storage hooks (worker thread)

    @abstractmethod
    def connect(self, directory: Path, key: DbKey) -> Connection:
        """Open (creating if needed) the database stored in `directory`."""

    @abstractmethod
    def close(self, connection: Connection) -> None:
        """Close a connection opened by `connect`."""

    @abstractmethod
    def run(self, connection: Connection, request: DbRequest) -> DbOutcome:
        """Apply a data action (everything except Open and RemoveDb)."""

    def storage_error(self, error: Exception) -> DbFailure | None:
        """Map a storage library error to the module's error reply, or None to re-raise."""
        return None

    # -------------------------------------------------------------- lifecycle

    async def on_start(self) -> None:
        self._directory = self.node.home / self.kind_name
        self._directory.mkdir(parents=True, exist_ok=True)

    async def on_stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_all)
        self._executor.shutdown(wait=True)

    def _close_all(self) -> None:
        while self._connections:
            _, connection = self._connections.popitem()
            self.close(connection)

    def database_path(self, key: DbKey) -> Path:
        """`<home>/<kind>/<pkg>:<pub>/<db>/` — refusing names that would leave that directory."""
        if not key.name or "/" in key.name or key.name in (".", "..") or "\0" in key.name:
            raise DbFailure(
                {"IOError": f"invalid database name {key.name!r}"},
                f"database name {key.name!r} must be a plain file name (no '/', not '.' or '..')",
            )
        return self._directory / str(key.package) / key.name

    # -------------------------------------------------------------- message handling (loop)

    async def handle(self, message: KernelMessage) -> None:
        request = self.local_request(message)
        if request is None:
            return
        try:
            parsed = self._parse(message)
            self._check_caps(message.source.process, parsed)
        except DbFailure as failure:
            self._fail(message, failure)
            return
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._perform, parsed)
        future.add_done_callback(lambda done: self._finish(message, request.metadata, done))

    def _parse(self, message: KernelMessage) -> DbRequest:
        body = request_of(message).body  # type: ignore[union-attr]
        try:
            raw = require_object(decode_json(body), ("package_id", "db", "action"), self.request_name)
            package = validate(PackageIdModel, raw["package_id"], "package_id")
            name = validate(str, raw["db"], "db")
            action = self.actions.parse(raw["action"], "action")
        except WireError as error:
            raise DbFailure("MalformedRequest", f"malformed request: {error.detail}") from None
        return DbRequest(DbKey(package, name), action, message.lazy_load_blob)

    @property
    def request_name(self) -> str:
        return "KvRequest" if self.kind_name == "kv" else "SqliteRequest"

    def cap(self, kind: str, key: DbKey) -> Capability:
        """The capability Hyperdrive issues for `kind` access to `key` (serde_json compact params)."""
        return Capability(self.address, encode_json({"kind": kind, "db_key": key.wire()}).decode())

    def _check_caps(self, source: ProcessId, request: DbRequest) -> None:
        name = request.action.name
        key = request.key
        if name in ("Open", "RemoveDb"):
            own = f"{source.package_name}:{source.publisher_node}"
            if own != str(key.package):
                raise DbFailure(
                    "MismatchingPackageId",
                    f"{source} may only {name} databases of its own package {own}, not {key.package}",
                )
            if name == "Open":
                self.node.grant_capabilities(source, [self.cap("read", key), self.cap("write", key)])
            return
        kind = "write" if name in self.write_actions else "read"
        if self.node.has_capability(source, self.cap(kind, key)):
            return
        hint = (
            f"{source} has no {kind} capability for {self.kind_name} db {key}; send Open first (it grants "
            f"read and write to the owner package) or have the owner grant {self.cap(kind, key).params}"
        )
        if self.enforce_caps:
            raise DbFailure("NoWriteCap" if kind == "write" else "NoReadCap", hint)
        self.log(
            0,
            f"{self.kind_name}: WARNING: {hint}. Hyperdrive does not enforce this check today (it accepts "
            "a missing capability), so the request goes through here too; do not rely on it.",
        )

    def _finish(self, message: KernelMessage, metadata: str | None, done: asyncio.Future[DbOutcome]) -> None:
        try:
            outcome = done.result()
        except DbFailure as failure:
            self._fail(message, failure)
            return
        except Exception as error:  # a bug here must not leave the process waiting for its timeout
            self._fail(message, DbFailure({"IOError": str(error)}, f"internal error: {error!r}"))
            return
        if message.rsvp is None and not expects_response(message):
            return
        blob = None if outcome.data is None else LazyLoadBlob(BLOB_MIME, outcome.data)
        self.respond(message, encode_json(outcome.body), blob, metadata)

    def _fail(self, message: KernelMessage, failure: DbFailure) -> None:
        verbosity = 0 if failure.value == "MalformedRequest" else 1
        self.log(verbosity, f"{self.kind_name}: request from {message.source.process}: {failure.explanation}")
        self.respond(message, encode_json({"Err": failure.value}))

    # -------------------------------------------------------------- worker thread

    def _perform(self, request: DbRequest) -> DbOutcome:
        try:
            if request.action.name == "RemoveDb":
                self._remove(request.key)
            connection = self._open(request.key)
            if request.action.name in ("Open", "RemoveDb"):
                return DbOutcome("Ok")
            return self.run(connection, request)
        except DbFailure:
            raise
        except OSError as error:
            raise DbFailure({"IOError": io_error_text(error)}) from None
        except Exception as error:
            mapped = self.storage_error(error)
            if mapped is None:
                raise
            raise mapped from None

    def _open(self, key: DbKey) -> Connection:
        connection = self._connections.get(key)
        if connection is not None:
            self._connections.move_to_end(key)
            return connection
        directory = self.database_path(key)
        directory.mkdir(parents=True, exist_ok=True)
        connection = self.connect(directory, key)
        self._connections[key] = connection
        while len(self._connections) > OPEN_DATABASE_LIMIT:
            _, oldest = self._connections.popitem(last=False)
            self.close(oldest)
        return connection

    def _remove(self, key: DbKey) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            self.close(connection)
        shutil.rmtree(self.database_path(key))

    def take_transaction(self, tx_id: int) -> list[Any]:
        """Remove and return a buffered transaction, or fail with `{"NoTx": id}`."""
        if tx_id not in self.transactions:
            raise DbFailure({"NoTx": tx_id}, f"no transaction {tx_id} found (BeginTx first; Commit ends it)")
        return self.transactions.pop(tx_id)


@contextmanager
def sqlite_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """`BEGIN` … `COMMIT`, or `ROLLBACK` and re-raise when a statement fails (Commit reports it)."""
    connection.execute("BEGIN")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
