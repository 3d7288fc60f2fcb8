"""kv:distro:sys and sqlite:distro:sys through the NodeServices double."""

from __future__ import annotations

import base64
import json
import sqlite3

from module_doubles import FakeNode, request, response_json

from hyperpy.node.modules.kv import KvModule
from hyperpy.node.modules.sqlite import SqliteModule, sql_parameter
from hyperpy.node.wit_types import Address, Capability, ProcessId

APP = "fake.dev@app:pkg:pub"
OTHER = "fake.dev@other:else:pub"
KV = "fake.dev@kv:distro:sys"
SQLITE = "fake.dev@sqlite:distro:sys"
PACKAGE = {"package_name": "pkg", "publisher_node": "pub"}


async def call(
    module, node: FakeNode, target: str, action: object, *, source: str = APP, db: str = "main", **kw
):
    await module.handle(request(source, target, {"package_id": PACKAGE, "db": db, "action": action}, **kw))
    return await node.next_sent()


async def test_kv_open_grants_caps_and_set_get_delete_round_trip(node: FakeNode) -> None:
    kv = KvModule()
    await kv.start(node)
    assert response_json(await call(kv, node, KV, {"Get": [1]})) == {"Err": "NoReadCap"}
    assert response_json(await call(kv, node, KV, "Open", metadata="meta")) == "Ok"
    params = json.dumps({"kind": "write", "db_key": [PACKAGE, "main"]}, separators=(",", ":"))
    assert node.has_capability(ProcessId.parse("app:pkg:pub"), Capability(Address.parse(KV), params))
    reply = await call(kv, node, KV, {"Set": {"key": [1, 2], "tx_id": None}}, blob=b"v1", metadata="m")
    assert response_json(reply) == "Ok"
    assert reply.message.value[0].metadata == "m"
    reply = await call(kv, node, KV, {"Get": [1, 2]})
    assert response_json(reply) == {"Get": [1, 2]}
    assert (reply.lazy_load_blob.mime, reply.lazy_load_blob.bytes) == ("application/octet-stream", b"v1")
    assert response_json(await call(kv, node, KV, {"Delete": {"key": [1, 2]}})) == "Ok"
    reply = await call(kv, node, KV, {"Get": [1, 2]}, metadata="x")
    assert response_json(reply) == {"Err": "KeyNotFound"}
    assert reply.message.value[0].metadata is None
    await kv.stop()


async def test_kv_errors_are_sent_even_without_expects_response(node: FakeNode) -> None:
    kv = KvModule()
    await kv.start(node)
    reply = await call(kv, node, KV, "Open", source=OTHER, expects_response=None)
    assert response_json(reply) == {"Err": "MismatchingPackageId"}
    reply = await call(kv, node, KV, {"Set": {"key": "abc"}}, expects_response=None)
    assert response_json(reply) == {"Err": "MalformedRequest"}
    assert "`action.Set.key`" in node.printed()
    await call(kv, node, KV, "Open")
    reply = await call(kv, node, KV, {"Set": {"key": [1]}})
    assert response_json(reply) == {"Err": "MalformedRequest"}
    await kv.handle(
        request(APP, KV, {"package_id": PACKAGE, "db": "main", "action": "Open"}, expects_response=None)
    )
    assert await node.nothing_sent()
    await kv.stop()


async def test_kv_transactions_are_buffered_until_commit(node: FakeNode) -> None:
    kv = KvModule()
    await kv.start(node)
    await call(kv, node, KV, "Open")
    tx_id = response_json(await call(kv, node, KV, "BeginTx"))["BeginTx"]["tx_id"]
    await call(kv, node, KV, {"Set": {"key": [9], "tx_id": tx_id}}, blob=b"tx")
    assert response_json(await call(kv, node, KV, {"Get": [9]})) == {"Err": "KeyNotFound"}
    assert response_json(await call(kv, node, KV, {"Commit": {"tx_id": tx_id}})) == "Ok"
    assert (await call(kv, node, KV, {"Get": [9]})).lazy_load_blob.bytes == b"tx"
    assert response_json(await call(kv, node, KV, {"Commit": {"tx_id": tx_id}})) == {"Err": {"NoTx": tx_id}}
    reply = await call(kv, node, KV, {"Set": {"key": [1], "tx_id": 5}}, blob=b"x")
    assert response_json(reply) == {"Err": {"NoTx": 5}}
    await kv.stop()


async def test_kv_data_and_remove_db_survive_a_restart(node: FakeNode) -> None:
    kv = KvModule()
    await kv.start(node)
    await call(kv, node, KV, "Open")
    await call(kv, node, KV, {"Set": {"key": [7]}}, blob=b"durable")
    await kv.stop()
    kv = KvModule()
    await kv.start(node)
    assert (await call(kv, node, KV, {"Get": [7]})).lazy_load_blob.bytes == b"durable"
    assert response_json(await call(kv, node, KV, "RemoveDb")) == "Ok"
    assert response_json(await call(kv, node, KV, {"Get": [7]})) == {"Err": "KeyNotFound"}
    assert (node.home / "kv/pkg:pub/main").is_dir()
    await kv.stop()


async def test_sqlite_write_query_with_parameters_and_blobs(node: FakeNode) -> None:
    db = SqliteModule()
    await db.start(node)
    assert response_json(await call(db, node, SQLITE, "Open")) == "Ok"
    create = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, score REAL)"
    assert (
        response_json(await call(db, node, SQLITE, {"Write": {"statement": create, "tx_id": None}})) == "Ok"
    )
    insert = {"Write": {"statement": "INSERT INTO t (name, data, score) VALUES (?, ?, ?)"}}
    params = json.dumps(["plain text!", base64.b64encode(b"\x00\x01").decode(), 2.5]).encode()
    assert response_json(await call(db, node, SQLITE, insert, blob=params)) == "Ok"
    reply = await call(db, node, SQLITE, {"Query": "select * from t where id = ?"}, blob=b"[1]")
    assert response_json(reply) == "Read"
    assert reply.lazy_load_blob.mime == "application/octet-stream"
    assert json.loads(reply.lazy_load_blob.bytes) == [
        {"id": 1, "name": "plain text!", "data": "AAE=", "score": 2.5}
    ]
    path = node.home / "sqlite/pkg:pub/main/main.db"
    with sqlite3.connect(path) as direct:
        assert direct.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    await db.stop()


def test_sqlite_parameter_quirks_match_hyperdrive() -> None:
    assert sql_parameter("test") == b"\xb5\xeb-"  # valid base64, so a BLOB
    assert sql_parameter("hello") == "hello"  # not base64 (length), so TEXT
    assert sql_parameter("") == b""
    assert sql_parameter(True) == 1
    assert sql_parameter(2**64) == float(2**64)
    assert sql_parameter(None) is None


async def test_sqlite_keyword_checks_tx_and_errors(node: FakeNode) -> None:
    db = SqliteModule()
    await db.start(node)
    await call(db, node, SQLITE, "Open")
    reply = await call(db, node, SQLITE, {"Query": "DELETE FROM t"})
    assert response_json(reply) == {"Err": "NotAReadKeyword"}
    reply = await call(db, node, SQLITE, {"Write": {"statement": "SELECT 1"}})
    assert response_json(reply) == {"Err": "NotAWriteKeyword"}
    reply = await call(db, node, SQLITE, {"Query": "SELECT * FROM missing"}, expects_response=None)
    assert response_json(reply) == {"Err": {"RusqliteError": "no such table: missing"}}
    reply = await call(db, node, SQLITE, {"Query": "SELECT ?"}, blob=b'{"a": 1}')
    assert response_json(reply) == {"Err": "InvalidParameters"}
    await call(db, node, SQLITE, {"Write": {"statement": "CREATE TABLE n (v INTEGER)"}})
    tx_id = response_json(await call(db, node, SQLITE, "BeginTx"))["BeginTx"]["tx_id"]
    await call(db, node, SQLITE, {"Write": {"statement": "INSERT INTO n VALUES (1)", "tx_id": tx_id}})
    reply = await call(db, node, SQLITE, {"Query": "SELECT count(*) AS c FROM n"})
    assert json.loads(reply.lazy_load_blob.bytes) == [{"c": 0}]
    assert response_json(await call(db, node, SQLITE, {"Commit": {"tx_id": tx_id}})) == "Ok"
    reply = await call(db, node, SQLITE, {"Query": "SELECT count(*) AS c FROM n"})
    assert json.loads(reply.lazy_load_blob.bytes) == [{"c": 1}]
    assert response_json(await call(db, node, SQLITE, {"Commit": {"tx_id": 3}})) == {"Err": {"NoTx": 3}}
    await db.stop()


async def test_sqlite_missing_caps_pass_with_a_warning_like_hyperdrive(node: FakeNode) -> None:
    db = SqliteModule()
    await db.start(node)
    await call(db, node, SQLITE, "Open")
    await call(db, node, SQLITE, {"Write": {"statement": "CREATE TABLE n (v INTEGER)"}})
    reply = await call(db, node, SQLITE, {"Query": "SELECT * FROM n"}, source=OTHER)
    assert response_json(reply) == "Read"
    assert "WARNING: other:else:pub has no read capability for sqlite db [pkg:pub, main]" in node.printed()
    await db.stop()
