"""kv:distro:sys: durable key-value databases owned by this package.

`db = await kv.open("cache")` first (Open grants this process the read/write capabilities), then
`await db.set(b"k", b"v")`, `await db.get(b"k")`. Keys and values are bytes (str is UTF-8 encoded);
`get_json`/`set_json` store typed values with the hyperpy codec.
"""

from __future__ import annotations

from typing import Any

from hyperpy.runtime import jsonwire, well_known
from hyperpy.runtime.codec import codec_for, encode_untyped
from hyperpy.runtime.system import ModuleError, PackageDatabase, tag_of

__hyperpy_process__ = well_known.KV
PROCESS = __hyperpy_process__


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class KvDb(PackageDatabase):
    """An opened kv database of our package."""

    process = PROCESS

    async def get(self, key: bytes | str) -> bytes | None:
        """The value, or None when the key is absent."""
        try:
            answer, reply = await self._request({"Get": list(_bytes(key))})
        except ModuleError as error:
            if error.detail == "KeyNotFound":
                return None
            raise
        if tag_of(answer) != "Get":
            raise ModuleError(PROCESS, answer, f"Get {self.db}")
        return reply.blob.bytes if reply.blob is not None else b""

    async def set(self, key: bytes | str, value: bytes | str, tx_id: int | None = None) -> None:
        """Store `value` under `key` (inside transaction `tx_id` when given)."""
        await self._request({"Set": {"key": list(_bytes(key)), "tx_id": tx_id}}, blob=_bytes(value))

    async def delete(self, key: bytes | str, tx_id: int | None = None) -> None:
        """Delete `key` (inside transaction `tx_id` when given)."""
        await self._request({"Delete": {"key": list(_bytes(key)), "tx_id": tx_id}})

    async def get_json(self, key: bytes | str, returns: Any = Any) -> Any:
        """Decode a value stored with `set_json` as `returns` (None when absent)."""
        raw = await self.get(key)
        if raw is None:
            return None
        return codec_for(returns).decode(jsonwire.loads(raw), f"kv[{key!r}]")

    async def set_json(
        self, key: bytes | str, value: Any, hint: Any = None, tx_id: int | None = None
    ) -> None:
        """Store `value` as JSON: encoded as `hint` when given, else by its runtime type."""
        if hint is None:
            data = jsonwire.dumps(encode_untyped(value, f"kv[{key!r}]"))
        else:
            codec = codec_for(hint)
            data = jsonwire.dumps(codec.encode(value, f"kv[{key!r}]"), has_float=codec.has_float)
        await self.set(key, data, tx_id)


async def open(db: str, *, timeout: float = 5) -> KvDb:
    """Open (creating if needed) the database `db` of our package."""
    handle: KvDb = await KvDb.opened(db, timeout)
    return handle


async def remove_db(db: str, *, timeout: float = 5) -> None:
    """Delete the database `db` of our package and everything in it."""
    await (await open(db, timeout=timeout)).remove()
