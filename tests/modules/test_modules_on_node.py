"""Every runtime module driven from a raw kit-style process on the real local node, in both modes.

The process (`projects/modprobe`) relays requests to the modules and reports what came back, so these
tests see exactly what a process sees: bodies, blobs, metadata and send errors. Real clients
(aiohttp, `websockets`) talk to it through the node's HTTP server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

import msgpack
import pytest
from node_probe import PROBE, Probe, bind, body_key, get, kv, login, restart, sqlite, vfs
from websockets.sync.client import connect

pytestmark = pytest.mark.hyperpy_modes("native", "component")


def test_timer_answers_with_an_empty_response(probe: Probe) -> None:
    result = probe.call("our@timer:distro:sys", {"SetTimer": 20})
    assert result["source"] == "fake.dev@timer:distro:sys"
    assert (result["body_b64"], result["blob_b64"], result["metadata"]) == ("", None, None)


def test_vfs_files_caps_errors_and_persistence(probe: Probe, hyperpy_node: Any) -> None:
    assert vfs(probe, "/modprobe:test.os/data", "CreateDrive")["body"] == "Ok"
    written = vfs(probe, "/modprobe:test.os/data/notes.txt", "Write", blob=b"hello vfs", metadata="m-1")
    assert (written["body"], written["metadata"]) == ("Ok", "m-1")
    read = vfs(probe, "/modprobe:test.os/data/notes.txt", "Read")
    assert (read["body"], probe.blob(read), read["mime"]) == (
        "Read",
        b"hello vfs",
        "application/octet-stream",
    )
    listing = vfs(probe, "/modprobe:test.os/data", "ReadDir")["body"]
    assert listing == {"ReadDir": [{"path": "modprobe:test.os/data/notes.txt", "file_type": "File"}]}
    assert vfs(probe, "/other:test.os/data/x", "Read")["body"] == {"Err": "NoReadCap"}
    missing = vfs(probe, "/modprobe:test.os/data/missing", "Read")["body"]
    assert missing == {"Err": {"IOError": "No such file or directory (os error 2)"}}
    malformed = probe.call("our@vfs:distro:sys", {"path": "/modprobe:test.os/data", "action": "Explode"})
    assert malformed["body"] == {"Err": "MalformedRequest"}
    assert "unknown VfsAction variant 'Explode'" in hyperpy_node.output()
    ui = vfs(probe, "/modprobe:test.os/pkg/ui/index.html", "ReadToString")["body"]
    assert "modprobe UI" in ui["ReadToString"]
    restart(hyperpy_node)
    assert probe.blob(vfs(probe, "/modprobe:test.os/data/notes.txt", "Read")) == b"hello vfs"


def test_kv_open_set_get_tx_and_persistence(probe: Probe, hyperpy_node: Any) -> None:
    assert kv(probe, {"Get": [1]})["body"] == {"Err": "NoReadCap"}
    assert kv(probe, "Open")["body"] == "Ok"
    assert kv(probe, {"Set": {"key": [1], "tx_id": None}}, blob=b"one")["body"] == "Ok"
    got = kv(probe, {"Get": [1]})
    assert (got["body"], probe.blob(got)) == ({"Get": [1]}, b"one")
    tx = kv(probe, "BeginTx")["body"]["BeginTx"]["tx_id"]
    kv(probe, {"Set": {"key": [2], "tx_id": tx}}, blob=b"two")
    assert kv(probe, {"Get": [2]})["body"] == {"Err": "KeyNotFound"}
    assert kv(probe, {"Commit": {"tx_id": tx}})["body"] == "Ok"
    restart(hyperpy_node)
    assert probe.blob(kv(probe, {"Get": [2]})) == b"two"


def test_sqlite_tables_parameters_and_persistence(probe: Probe, hyperpy_node: Any) -> None:
    assert sqlite(probe, "Open")["body"] == "Ok"
    create = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, raw BLOB)"
    assert sqlite(probe, {"Write": {"statement": create, "tx_id": None}})["body"] == "Ok"
    params = json.dumps(["plain name", "AAEC"]).encode()
    insert = {"Write": {"statement": "INSERT INTO items (name, raw) VALUES (?, ?)", "tx_id": None}}
    assert sqlite(probe, insert, blob=params)["body"] == "Ok"
    assert sqlite(probe, {"Query": "UPDATE items SET name = 'x'"})["body"] == {"Err": "NotAReadKeyword"}
    restart(hyperpy_node)
    rows = sqlite(probe, {"Query": "SELECT * FROM items"})
    assert rows["body"] == "Read"
    assert json.loads(probe.blob(rows)) == [{"id": 1, "name": "plain name", "raw": "AAEC"}]
    db_file = hyperpy_node.node.home / "sqlite" / "modprobe:test.os" / "app" / "app.db"
    assert db_file.is_file()


def test_sqlite_query_rows_carry_serde_json_float_text(probe: Probe) -> None:
    # Hyperdrive answers a Query with serde_json::to_vec(&rows): floats in ryu's form, not Python's
    # repr (1e-05, 1e+20), compact, non-ASCII as UTF-8.
    assert sqlite(probe, "Open")["body"] == "Ok"
    query = "SELECT 0.00001 AS small, 1e20 AS big, 2.5 AS half, 100.0 AS whole, 'é' AS text"
    rows = sqlite(probe, {"Query": query})
    assert probe.blob(rows) == '[{"small":0.00001,"big":1e20,"half":2.5,"whole":100.0,"text":"é"}]'.encode()


def test_http_requests_reach_the_process_and_answers_come_back(probe: Probe, hyperpy_node: Any) -> None:
    assert bind(probe, "/api/:name")["body"] == {"Ok": None}
    base = hyperpy_node.url
    port = base.rsplit(":", 1)[1]
    status, headers, body = get(
        f"{base}/{PROBE}/api/alice?x=1", method="POST", data=b"hi", headers={"X-A": "b"}
    )
    assert status == 200 and headers["Content-Type"] == "application/json"
    echoed = json.loads(body)
    incoming = echoed["request"]
    assert incoming["method"] == "POST"
    assert incoming["url"] == f"http://localhost/{PROBE}/api/alice"
    assert incoming["bound_path"] == f"/{PROBE}/api/:name"
    assert incoming["url_params"] == {"name": "alice"}
    assert incoming["query_params"] == {"x": "1"}
    assert incoming["headers"]["x-a"] == "b" and incoming["headers"]["host"] == f"localhost:{port}"
    assert echoed["body"] == "hi"
    assert get(f"{base}/{PROBE}/nothing")[0] == 404
    probe.op(
        op="http_answers",
        answers={
            f"/{PROBE}/slow": {"silent": True},
            f"/{PROBE}/teapot": {"status": 418, "body": "short and stout"},
        },
    )
    bind(probe, "/slow")
    bind(probe, "/teapot")
    assert get(f"{base}/{PROBE}/slow", headers={"X-Hyperware-Http-Server-Timeout": "1"})[0] == 408
    status, _, body = get(f"{base}/{PROBE}/teapot")
    assert (status, body) == (418, b"short and stout")


def test_static_ui_from_the_package_drive_and_login(probe: Probe, hyperpy_node: Any) -> None:
    served = probe.op(
        op="serve_file",
        vfs_path="/modprobe:test.os/pkg/ui/index.html",
        bind="/",
        mime="text/html",
        authenticated=True,
    )
    assert served["body"] == {"Ok": None}
    base = hyperpy_node.url
    status, _, body = get(f"{base}/{PROBE}/")
    assert status == 200 and b"Password" in body  # the login page stands in for the UI
    cookie = login(base)
    status, headers, body = get(f"{base}/{PROBE}/", headers={"Cookie": cookie})
    assert (status, headers["Content-Type"]) == (200, "text/html")
    assert b"modprobe UI" in body
    status, _, body = get(f"{base}/our.js", headers={"Referer": f"{base}/{PROBE}/"})
    assert (
        body
        == b'window.our = {}; window.our.node = "fake.dev"; window.our.process = "modprobe:modprobe:test.os";'
    )


def test_websocket_open_push_and_echo(probe: Probe, hyperpy_node: Any) -> None:
    bound = probe.call(
        "our@http-server:distro:sys",
        {"WebSocketBind": {"path": "/ws", "authenticated": False, "extension": False}},
    )
    assert bound["body"] == {"Ok": None}
    url = hyperpy_node.url.replace("http://", "ws://") + f"/{PROBE}/ws"
    with connect(url) as client:
        client.send("hello")
        assert client.recv(timeout=10) == "echo:hello"
        opened = body_key(probe.wait_for_event(lambda e: body_key(e, "WebSocketOpen")), "WebSocketOpen")
        assert opened["path"] == "/ws"
        channel = opened["channel_id"]
        push = {"WebSocketPush": {"channel_id": channel, "message_type": "Binary"}}
        assert probe.call("our@http-server:distro:sys", push, blob=b"\x00\x01")["body"] == {"Ok": None}
        assert client.recv(timeout=10) == b"\x00\x01"
    probe.wait_for_event(lambda e: e.get("body") == {"WebSocketClose": channel})


def test_websocket_extension_protocol_with_msgpack(probe: Probe, hyperpy_node: Any) -> None:
    bound = probe.call(
        "our@http-server:distro:sys",
        {"WebSocketBind": {"path": "/ext", "authenticated": False, "extension": True}},
    )
    assert bound["body"] == {"Ok": None}
    url = hyperpy_node.url.replace("http://", "ws://") + f"/{PROBE}/ext"
    with connect(url) as client:
        channel = body_key(probe.wait_for_event(lambda e: body_key(e, "WebSocketOpen")), "WebSocketOpen")[
            "channel_id"
        ]
        outgoing = {
            "WebSocketExtPushOutgoing": {
                "channel_id": channel,
                "message_type": "Binary",
                "desired_reply_type": "Response",
            }
        }
        result: dict[str, Any] = {}
        caller = threading.Thread(
            target=lambda: result.update(
                probe.call("our@http-server:distro:sys", outgoing, blob=b"question", expects=10)
            )
        )
        caller.start()
        frame = msgpack.unpackb(client.recv(timeout=20))
        data = frame["WebSocketExtPushData"]
        assert (data["hyperware_message_type"], bytes(data["blob"])) == ("Response", b"question")
        answer = {
            "WebSocketExtPushData": {
                "id": data["id"],
                "hyperware_message_type": "Response",
                "blob": b"answer",
            }
        }
        client.send(msgpack.packb(answer, use_bin_type=True))
        caller.join(30)
        assert result["body"] == {"WebSocketPush": {"channel_id": channel, "message_type": "Binary"}}
        assert probe.blob(result) == b"answer"


def test_http_client_fetches_from_a_real_server(probe: Probe, hyperpy_node: Any) -> None:
    url = f"{hyperpy_node.url}/our"
    result = probe.call(
        "our@http-client:distro:sys", {"Http": {"method": "GET", "version": None, "url": url, "headers": {}}}
    )
    answer = result["body"]["Ok"]["Http"]
    assert answer["status"] == 200 and answer["headers"]["Content-Type"] == "text/html"
    assert probe.blob(result) == b"fake.dev"
    failed = probe.call(
        "our@http-client:distro:sys",
        {"Http": {"method": "GET", "version": None, "url": "nope", "headers": {}}},
    )
    assert failed["body"] == {"Err": {"BadUrl": {"url": "nope"}}}


def test_net_signs_and_verifies_with_the_node_key(probe: Probe) -> None:
    signed = probe.call("our@net:distro:sys", raw=msgpack.packb("Sign"), blob=b"payload")
    assert msgpack.unpackb(base64.b64decode(signed["body_b64"])) == "Signed"
    signature = probe.blob(signed)
    verify = {"Verify": {"from": f"fake.dev@{PROBE}", "signature": list(signature)}}
    verified = probe.call("our@net:distro:sys", raw=msgpack.packb(verify), blob=b"payload")
    assert msgpack.unpackb(base64.b64decode(verified["body_b64"])) == {"Verified": True}


def test_homepage_lists_added_apps(probe: Probe, hyperpy_node: Any) -> None:
    add = {"Add": {"label": "Mod Probe", "icon": None, "path": "/", "widget": None}}
    assert probe.call("our@homepage:homepage:sys", add, expects=None) == {"sent": True}
    apps = probe.call("our@homepage:homepage:sys", "GetApps")["body"]["GetApps"]
    assert [(a["id"], a["path"], a["label"]) for a in apps] == [(PROBE, f"/{PROBE}/", "Mod Probe")]
    cookie = login(hyperpy_node.url)
    status, _, page = get(hyperpy_node.url + "/", headers={"Cookie": cookie})
    assert status == 200 and b"Mod Probe" in page


def test_vfs_cursor_actions_and_cross_package_rules(probe: Probe) -> None:
    path = "/modprobe:test.os/cursor/file.bin"
    vfs(probe, "/modprobe:test.os/cursor", "CreateDrive")
    assert vfs(probe, path, "CreateFile")["body"] == "Ok"
    assert vfs(probe, path, "WriteAll", blob=b"0123456789")["body"] == "Ok"
    assert vfs(probe, path, {"Seek": {"Start": 3}})["body"] == {"SeekFrom": {"new_offset": 3}}
    assert probe.blob(vfs(probe, path, {"ReadExact": {"length": 4}})) == b"3456"
    assert probe.blob(vfs(probe, path, "ReadToEnd")) == b"789"
    assert vfs(probe, path, "Len")["body"] == {"Len": 10}
    assert vfs(probe, path, {"SetLen": 2})["body"] == "Ok"
    hashed = vfs(probe, path, "Hash")["body"]["Hash"]
    assert bytes(hashed) == hashlib.sha256(b"01").digest()
    copy = vfs(probe, path, {"CopyFile": {"new_path": "/other:test.os/x/file.bin"}})
    assert copy["body"] == {"Err": "NoWriteCap"}
    assert vfs(probe, "/other:test.os/x", "CreateDrive")["body"] == {"Err": "NoWriteCap"}
    assert vfs(probe, "/", "ReadDir")["body"] == {"Err": "NoReadCap"}


def test_kv_and_sqlite_error_replies(probe: Probe) -> None:
    foreign = {"package_name": "someone", "publisher_node": "else.os"}
    reply = probe.call("our@kv:distro:sys", {"package_id": foreign, "db": "x", "action": "Open"})
    assert reply["body"] == {"Err": "MismatchingPackageId"}
    assert kv(probe, "Open")["body"] == "Ok"
    assert kv(probe, {"Commit": {"tx_id": 12}})["body"] == {"Err": {"NoTx": 12}}
    assert kv(probe, {"Set": {"key": [1], "tx_id": None}})["body"] == {"Err": "MalformedRequest"}
    assert sqlite(probe, "Open")["body"] == "Ok"
    missing = sqlite(probe, {"Query": "SELECT * FROM nowhere"})["body"]
    assert missing == {"Err": {"RusqliteError": "no such table: nowhere"}}
    assert sqlite(probe, {"Query": "SELECT ?"}, blob=b"not json")["body"] == {"Err": "InvalidParameters"}
    assert sqlite(probe, {"Write": {"statement": "SELECT 1", "tx_id": None}})["body"] == {
        "Err": "NotAWriteKeyword"
    }


def test_http_client_websocket_to_the_nodes_own_binding(probe: Probe, hyperpy_node: Any) -> None:
    bound = {"WebSocketBind": {"path": "/loop", "authenticated": False, "extension": False}}
    assert probe.call("our@http-server:distro:sys", bound)["body"] == {"Ok": None}
    url = hyperpy_node.url.replace("http://", "ws://") + f"/{PROBE}/loop"
    opened = probe.call(
        "our@http-client:distro:sys", {"WebSocketOpen": {"url": url, "headers": {}, "channel_id": 7}}
    )
    assert opened["body"] == {"Ok": "WebSocketAck"}
    push = {"WebSocketPush": {"channel_id": 7, "message_type": "Text"}}
    assert probe.call("our@http-client:distro:sys", push, blob=b"ping")["body"] == {"Ok": "WebSocketAck"}
    # http-server hands "ping" to the process, which echoes it; http-client delivers the echo back to it
    echoed = probe.wait_for_event(
        lambda e: e.get("from", "").endswith("@http-client:distro:sys") and body_key(e, "WebSocketPush")
    )
    assert echoed["body"] == {"WebSocketPush": {"channel_id": 7, "message_type": "Text"}}
    assert base64.b64decode(echoed["blob_b64"]) == b"echo:ping"
    closed = probe.call("our@http-client:distro:sys", {"WebSocketClose": {"channel_id": 7}})
    assert closed["body"] == {"Ok": "WebSocketAck"}
    failed = probe.call("our@http-client:distro:sys", {"WebSocketClose": {"channel_id": 7}})
    assert failed["body"] == {"Err": {"WsCloseFailed": {"channel_id": 7}}}


def test_net_knows_our_identity(probe: Probe) -> None:
    reply = probe.call("our@net:distro:sys", raw=msgpack.packb({"GetPeer": "fake.dev"}))
    name, key, routing = msgpack.unpackb(base64.b64decode(reply["body_b64"]))["Peer"]
    assert name == "fake.dev" and key.startswith("0x") and len(key) == 66
    assert list(routing) == ["Direct"]
