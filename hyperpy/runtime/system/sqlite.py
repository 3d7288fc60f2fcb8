"""sqlite:distro:sys: SQLite databases owned by this package.

`db = await sqlite.open("app")`, then `await db.write("INSERT ...", [1, "x"])` and
`rows = await db.read("SELECT ...")` (a list of dicts). Parameters travel as a JSON array: a
*string* that happens to be valid base64 is stored as a BLOB by the node (a Hyperdrive quirk), and
`bytes` parameters are sent as base64 for that reason; BLOB columns come back as base64 strings.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hyperpy.runtime import jsonwire
from hyperpy.runtime.codec import json_has_float
from hyperpy.runtime.system import ModuleError, module_request, our_package, tag_of

__hyperpy_process__ = "sqlite:distro:sys"
PROCESS = __hyperpy_process__


def _params(params: Sequence[Any]) -> bytes:
    values = [
        base64.b64encode(bytes(p)).decode("ascii") if isinstance(p, bytes | bytearray) else p for p in params
    ]
    return jsonwire.dumps(values, has_float=json_has_float(values))


@dataclass
class SqliteDb:
    package_name: str
    publisher_node: str
    db: str
    timeout: float = 5

    async def _request(self, action: Any, *, blob: bytes | None = None) -> tuple[Any, Any]:
        body = {
            "package_id": {"package_name": self.package_name, "publisher_node": self.publisher_node},
            "db": self.db,
            "action": action,
        }
        return await module_request(
            PROCESS, body, blob=blob, timeout=self.timeout, action=f"{tag_of(action)} {self.db}"
        )

    async def read(self, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a SELECT (or WITH/PRAGMA/...) and return its rows as dicts."""
        answer, reply = await self._request({"Query": query}, blob=_params(params))
        if answer != "Read":
            raise ModuleError(PROCESS, answer, f"Query {self.db}")
        rows = json.loads(reply.blob.bytes) if reply.blob is not None and reply.blob.bytes else []
        return list(rows)

    async def write(self, statement: str, params: Sequence[Any] = (), tx_id: int | None = None) -> None:
        """Run an INSERT/UPDATE/CREATE/... statement (inside transaction `tx_id` if given)."""
        await self._request({"Write": {"statement": statement, "tx_id": tx_id}}, blob=_params(params))

    async def begin_tx(self) -> int:
        answer, _ = await self._request("BeginTx")
        return int(answer["BeginTx"]["tx_id"])

    async def commit_tx(self, tx_id: int) -> None:
        await self._request({"Commit": {"tx_id": tx_id}})


async def open(db: str, *, timeout: float = 5) -> SqliteDb:
    package = our_package()
    handle = SqliteDb(package.package_name, package.publisher_node, db, timeout)
    await handle._request("Open")
    return handle


async def remove_db(db: str, *, timeout: float = 5) -> None:
    package = our_package()
    await SqliteDb(package.package_name, package.publisher_node, db, timeout)._request("RemoveDb")
