"""http-client, net and homepage through the NodeServices doubles (real sockets where they apply)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import msgpack
from aiohttp import web
from module_doubles import FakeNode, RoutingNode, request, request_json, response_json
from test_http_server_module import FakeApp, serving

from hyperpy.node.modules.homepage import HomepageModule, our_js
from hyperpy.node.modules.http_client import HttpClientModule, pascal_case
from hyperpy.node.modules.net import NetModule
from hyperpy.node.wit_types import Address, Capability, LazyLoadBlob, Message_Response

APP = "fake.dev@app:pkg:pub"
CLIENT = "fake.dev@http-client:distro:sys"
NET = "fake.dev@net:distro:sys"
HOMEPAGE = "fake.dev@homepage:homepage:sys"


@asynccontextmanager
async def upstream() -> AsyncIterator[str]:
    """A plain aiohttp server for http-client to talk to: echoes, sets headers, and a WebSocket echo."""

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        payload = {"method": request.method, "body": body.decode(), "query": request.query_string}
        response = web.json_response(payload, status=202)
        response.headers["x-lower-case"] = "kept"
        return response

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str("welcome")
        async for frame in socket:
            if frame.data == "bye":
                await socket.close()
            elif frame.type == aiohttp.WSMsgType.TEXT:
                await socket.send_str("echo:" + frame.data)
            else:
                await socket.send_bytes(frame.data[::-1])
        return socket

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/ws", ws)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_pascal_case_headers() -> None:
    assert pascal_case("content-type") == "Content-Type"
    assert pascal_case("X-LOWER-case") == "X-Lower-Case"


async def test_http_client_round_trip_and_error_shapes(node: FakeNode) -> None:
    client = HttpClientModule()
    await client.start(node)
    async with upstream() as host:
        body = {"Http": {"method": "POST", "version": None, "url": f"http://{host}/echo?q=1", "headers": {}}}
        await client.handle(request(APP, CLIENT, body, blob=b"hello", expects_response=None))
        reply = await node.next_sent()
        answer = response_json(reply)["Ok"]["Http"]
        assert answer["status"] == 202
        assert answer["headers"]["Content-Type"] == "application/json; charset=utf-8"
        assert answer["headers"]["X-Lower-Case"] == "kept"
        assert reply.lazy_load_blob.mime is None
        assert json.loads(reply.lazy_load_blob.bytes) == {"method": "POST", "body": "hello", "query": "q=1"}
        cases = [
            ({"method": "GE T", "url": f"http://{host}/", "headers": {}}, {"BadMethod": {"method": "GE T"}}),
            ({"method": "GET", "url": "not a url", "headers": {}}, {"BadUrl": {"url": "not a url"}}),
            (
                {"method": "GET", "version": "HTTP/9", "url": f"http://{host}/", "headers": {}},
                {"BadVersion": {"version": "HTTP/9"}},
            ),
            (
                {"method": "GET", "url": "http://127.0.0.1:1", "headers": {}},
                {"ExecuteRequestFailed": "error sending request for url (http://127.0.0.1:1/)"},
            ),
        ]
        for outgoing, error in cases:
            await client.handle(request(APP, CLIENT, {"Http": outgoing}))
            assert response_json(await node.next_sent()) == {"Err": error}
        await client.handle(request(APP, CLIENT, {"Http": {"method": "GET"}}))
        assert response_json(await node.next_sent()) == {"Err": "MalformedRequest"}
        await client.handle(request(APP, CLIENT, {"Http": {"method": "GET"}}, expects_response=None))
        assert await node.nothing_sent()
    await client.stop()


async def test_http_client_websocket_open_push_close(node: FakeNode) -> None:
    client = HttpClientModule()
    await client.start(node)
    async with upstream() as host:
        opening = {"WebSocketOpen": {"url": f"ws://{host}/ws", "headers": {}, "channel_id": 3}}
        await client.handle(request(APP, CLIENT, opening, message_id=900))
        received = [await node.next_sent(), await node.next_sent()]
        acks = [m for m in received if isinstance(m.message, Message_Response)]
        pushes = [m for m in received if not isinstance(m.message, Message_Response)]
        assert response_json(acks[0]) == {"Ok": "WebSocketAck"}
        assert request_json(pushes[0]) == {"WebSocketPush": {"channel_id": 3, "message_type": "Text"}}
        assert pushes[0].id == 900
        assert pushes[0].lazy_load_blob == LazyLoadBlob("text/plain", b"welcome")
        push = {"WebSocketPush": {"channel_id": 3, "message_type": "Binary"}}
        await client.handle(request(APP, CLIENT, push, blob=b"abc"))
        messages = [await node.next_sent(), await node.next_sent()]
        echoed = next(m for m in messages if not isinstance(m.message, Message_Response))
        assert echoed.lazy_load_blob == LazyLoadBlob("application/octet-stream", b"cba")
        await client.handle(
            request(APP, CLIENT, {"WebSocketPush": {"channel_id": 3, "message_type": "Text"}}, blob=b"\xff")
        )
        assert response_json(await node.next_sent()) == {"Err": "WsPushBadText"}
        await client.handle(
            request(APP, CLIENT, {"WebSocketPush": {"channel_id": 8, "message_type": "Text"}})
        )
        assert response_json(await node.next_sent()) == {"Err": {"WsPushUnknownChannel": {"channel_id": 8}}}
        await client.handle(
            request(APP, CLIENT, {"WebSocketClose": {"channel_id": 3}}, expects_response=None)
        )
        ending = [await node.next_sent(), await node.next_sent()]
        ack = next(m for m in ending if isinstance(m.message, Message_Response))
        closed = next(m for m in ending if not isinstance(m.message, Message_Response))
        assert response_json(ack) == {"Ok": "WebSocketAck"}
        assert request_json(closed) == {"WebSocketClose": {"channel_id": 3}}
        await client.handle(request(APP, CLIENT, {"WebSocketClose": {"channel_id": 3}}))
        assert response_json(await node.next_sent()) == {"Err": {"WsCloseFailed": {"channel_id": 3}}}
        bad = {"WebSocketOpen": {"url": "ws://127.0.0.1:1/x", "headers": {}, "channel_id": 4}}
        await client.handle(request(APP, CLIENT, bad))
        assert response_json(await node.next_sent()) == {
            "Err": {"WsOpenFailed": {"url": "ws://127.0.0.1:1/x"}}
        }
    await client.stop()


async def test_net_sign_verify_and_identities(tmp_path) -> None:
    first, second = FakeNode(home=tmp_path / "a"), FakeNode(home=tmp_path / "b", our_node="fake2.dev")
    net, other = NetModule(port=lambda: 8080), NetModule()
    await net.start(first)
    await other.start(second)
    await net.handle(request(APP, NET, msgpack.packb("Sign"), blob=b"data"))
    signed = await first.next_sent()
    assert msgpack.unpackb(signed.message.value[0].body) == "Signed"
    signature = signed.lazy_load_blob.bytes
    assert len(signature) == 64
    verify = {"Verify": {"from": APP, "signature": list(signature)}}
    await net.handle(request(APP, NET, msgpack.packb(verify), blob=b"data"))
    assert msgpack.unpackb((await first.next_sent()).message.value[0].body) == {"Verified": True}
    tampered = {"Verify": [APP, signature]}
    await net.handle(request(APP, NET, msgpack.packb(tampered, use_bin_type=True), blob=b"other"))
    assert msgpack.unpackb((await first.next_sent()).message.value[0].body) == {"Verified": False}
    await other.handle(
        request("fake2.dev@app:pkg:pub", "fake2.dev@net:distro:sys", msgpack.packb(verify), blob=b"data")
    )
    assert msgpack.unpackb((await second.next_sent()).message.value[0].body) == {"Verified": True}
    await net.handle(request(APP, NET, msgpack.packb("GetPeers")))
    peers = msgpack.unpackb((await first.next_sent()).message.value[0].body)["Peers"]
    assert [peer[0] for peer in peers] == ["fake2.dev"]
    await net.handle(request(APP, NET, msgpack.packb({"GetPeer": "fake.dev"})))
    peer = msgpack.unpackb((await first.next_sent()).message.value[0].body)["Peer"]
    assert (
        peer[0] == "fake.dev"
        and peer[1].startswith("0x")
        and peer[2] == {"Direct": ["127.0.0.1", {"ws": 8080}]}
    )
    await net.handle(request(APP, NET, msgpack.packb({"GetPeer": "nobody.dev"})))
    assert msgpack.unpackb((await first.next_sent()).message.value[0].body) == {"Peer": None}
    await net.handle(request(APP, NET, b'{"json": "not msgpack"}'))
    assert await first.nothing_sent()
    assert "not a NetAction" in first.printed()
    key = net.public_key()
    await net.stop()
    await other.stop()
    restarted = NetModule()
    await restarted.start(first)
    assert restarted.public_key() == key
    await restarted.stop()


def test_our_js_names_node_and_the_loading_process() -> None:
    assert our_js("fake.dev", None) == 'window.our = {}; window.our.node = "fake.dev";'
    script = our_js("fake.dev", "http://localhost:8080/app:pkg:pub/ui/index.html")
    assert script.endswith('window.our.process = "app:pkg:pub";')


async def test_homepage_add_get_apps_and_pages(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        homepage = HomepageModule(server)
        await homepage.start(node)
        node.route_to("homepage:homepage:sys", homepage.handle)
        add = {"Add": {"label": "My App", "icon": None, "path": "/ui", "widget": "<b>hi</b>"}}
        await homepage.handle(request(APP, HOMEPAGE, add, expects_response=None))
        await homepage.handle(request(APP, HOMEPAGE, "GetApps"))
        apps = json.loads((await app.next()).message.value[0].body)["GetApps"]
        assert apps == [
            {
                "id": "app:pkg:pub",
                "process": "app",
                "package_name": "pkg",
                "publisher": "pub",
                "path": "/app:pkg:pub/ui",
                "label": "My App",
                "base64_icon": None,
                "widget": "<b>hi</b>",
                "order": 0,
                "favorite": False,
            }
        ]
        base = f"http://localhost:{server.port}"
        name, token = server.auth_cookie()
        async with aiohttp.ClientSession() as client:
            async with client.get(base + "/our") as response:
                assert await response.text() == "fake.dev"
            async with client.get(
                base + "/our.js", headers={"Referer": base + "/app:pkg:pub/ui"}
            ) as response:
                assert response.headers["Content-Type"] == "application/javascript"
                assert 'window.our.process = "app:pkg:pub";' in await response.text()
            async with client.get(base + "/", headers={"Cookie": f"{name}={token}"}) as response:
                page = await response.text()
                assert 'href="/app:pkg:pub/ui"' in page and "My App" in page
            async with client.get(base + "/") as response:
                assert "password" in await response.text()
        remove_other = {"RemoveOther": "app:pkg:pub"}
        await homepage.handle(request("fake.dev@x:y:z", HOMEPAGE, remove_other))
        assert "must attach the capability" in node.printed()
        assert homepage.apps
        cap = Capability(Address.parse(HOMEPAGE), '"RemoveOther"')
        await homepage.handle(request("fake.dev@x:y:z", HOMEPAGE, remove_other, capabilities=[cap]))
        assert not homepage.apps
        await homepage.stop()
