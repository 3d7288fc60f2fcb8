"""sqlite:distro:sys: SQLite databases owned by this package.

`db = await sqlite.open("app")`, then `await db.write("INSERT ...", [1, "x"])` and
`rows = await db.read("SELECT ...")` (a list of dicts). Parameters travel as a JSON array: a
*string* that happens to be valid base64 is stored as a BLOB by the node (a Hyperdrive quirk), and
`bytes` parameters are sent as base64 for that reason; BLOB columns come back as base64 strings.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from hyperpy.runtime import jsonwire, well_known
from hyperpy.runtime.codec import json_has_float
from hyperpy.runtime.system import ModuleError, PackageDatabase

__hyperpy_process__ = well_known.SQLITE
PROCESS = __hyperpy_process__


def _params(params: Sequence[Any]) -> bytes:
    values = [
        base64.b64encode(bytes(p)).decode("ascii") if isinstance(p, bytes | bytearray) else p for p in params
    ]
    return jsonwire.dumps(values, has_float=json_has_float(values))


class SqliteDb(PackageDatabase):
    """An opened sqlite database of our package."""

    process = PROCESS

    async def read(self, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a SELECT (or WITH/PRAGMA/...) and return its rows as dicts."""
        answer, reply = await self._request({"Query": query}, blob=_params(params))
        if answer != "Read":
            raise ModuleError(PROCESS, answer, f"Query {self.db}")
        rows = jsonwire.loads(reply.blob.bytes) if reply.blob is not None and reply.blob.bytes else []
        return list(rows)

    async def write(self, statement: str, params: Sequence[Any] = (), tx_id: int | None = None) -> None:
        """Run an INSERT/UPDATE/CREATE/... statement (inside transaction `tx_id` if given)."""
        await self._request({"Write": {"statement": statement, "tx_id": tx_id}}, blob=_params(params))


async def open(db: str, *, timeout: float = 5) -> SqliteDb:
    """Open (creating if needed) the database `db` of our package."""
    handle: SqliteDb = await SqliteDb.opened(db, timeout)
    return handle


async def remove_db(db: str, *, timeout: float = 5) -> None:
    """Delete the database `db` of our package and everything in it."""
    await (await open(db, timeout=timeout)).remove()
