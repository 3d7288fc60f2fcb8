"""http-server:distro:sys on a real socket, with fake processes behind a routing NodeServices double."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import msgpack
import websockets
from module_doubles import RoutingNode, reply, request, request_json, response_json

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.http_server import HttpServerModule
from hyperpy.node.wit_types import Address, LazyLoadBlob, Message_Request, Message_Response

APP = "fake.dev@app:pkg:pub"
SERVER = "fake.dev@http-server:distro:sys"


class FakeApp:
    """A process that records what http-server sends it and answers HTTP requests from a script."""

    def __init__(self, node: RoutingNode, address: str = APP) -> None:
        self.node = node
        self.address = Address.parse(address)
        self.received: asyncio.Queue[KernelMessage] = asyncio.Queue()
        self.answer: tuple[bytes | dict, bytes | None] | None = ({"status": 200, "headers": {}}, b"ok")
        node.route_to(address.split("@")[1], self.deliver)

    async def deliver(self, message: KernelMessage) -> None:
        self.received.put_nowait(message)
        if isinstance(message.message, Message_Request) and self.answer is not None:
            body = request_json(message)
            if isinstance(body, dict) and "Http" in body:
                answer_body, answer_blob = self.answer
                blob = None if answer_blob is None else LazyLoadBlob(None, answer_blob)
                self.node.send(reply(message, self.address, answer_body, blob))

    async def next(self) -> KernelMessage:
        return await asyncio.wait_for(self.received.get(), 5)


@asynccontextmanager
async def serving(node: RoutingNode, timeout: float = 15.0) -> AsyncIterator[HttpServerModule]:
    server = HttpServerModule(port=0, timeout=timeout)
    await server.start(node)
    node.route_to("http-server:distro:sys", server.handle)
    try:
        yield server
    finally:
        await server.stop()


async def act(server: HttpServerModule, node: RoutingNode, body: object, *, source: str = APP, **kw) -> None:
    await server.handle(request(source, SERVER, body, **kw))


async def test_bound_request_reaches_the_process_with_exact_fields(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    app.answer = ({"status": 201, "headers": {"Content-Type": "text/plain", "X-Thing": "1"}}, b"created")
    async with serving(node) as server:
        await act(
            server,
            node,
            {"Bind": {"path": "/api/:id", "authenticated": False, "local_only": False, "cache": False}},
        )
        assert response_json(await app.next()) == {"Ok": None}
        async with aiohttp.ClientSession() as client:
            url = f"http://localhost:{server.port}/app:pkg:pub/api/7/?a=1&b=x%20y&a=2"
            async with client.post(url, data=b"payload", headers={"X-Custom": "Yes"}) as response:
                assert response.status == 201
                assert response.headers["Content-Type"] == "text/plain"
                assert response.headers["X-Thing"] == "1"
                assert await response.read() == b"created"
        incoming = await app.next()
        assert incoming.source == Address.parse(SERVER)
        assert incoming.message.value.expects_response == 15
        assert incoming.lazy_load_blob == LazyLoadBlob(None, b"payload")
        http = request_json(incoming)["Http"]
        assert list(http) == [
            "source_socket_addr",
            "method",
            "url",
            "bound_path",
            "headers",
            "url_params",
            "query_params",
        ]
        assert http["method"] == "POST"
        assert http["url"] == "http://localhost/app:pkg:pub/api/7"
        assert http["bound_path"] == "/app:pkg:pub/api/:id"
        assert http["url_params"] == {"id": "7"}
        assert http["query_params"] == {"a": "2", "b": "x y"}
        assert http["headers"]["x-custom"] == "Yes"
        assert http["headers"]["host"] == f"localhost:{server.port}"
        assert http["source_socket_addr"].startswith("127.0.0.1:")


async def test_unbound_timeout_and_unparseable_answers(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node, timeout=0.3) as server:
        bind = {"Bind": {"path": "/x", "authenticated": False, "local_only": False, "cache": False}}
        await act(server, node, bind, expects_response=None)
        async with aiohttp.ClientSession() as client:
            base = f"http://127.0.0.1:{server.port}"
            async with client.get(f"{base}/app:pkg:pub/nothing") as response:
                assert response.status == 404
            app.answer = None
            async with client.get(f"{base}/app:pkg:pub/x") as response:
                assert response.status == 408
            async with client.get(f"{base}/app:pkg:pub/x", headers={"X-Hyperware-Http-Server-Timeout": "1"}):
                pass
            assert (await app.next()).message.value.expects_response == 1
            app.answer = ({"status": "200"}, b"")
            async with client.get(f"{base}/app:pkg:pub/x") as response:
                assert response.status == 500
            assert "is not an HttpResponse" in node.printed()
            await act(server, node, {"Unbind": {"path": "/x"}}, expects_response=None)
            async with client.get(f"{base}/app:pkg:pub/x") as response:
                assert response.status == 404


async def test_cache_serves_the_blob_and_root_binding_catches_sub_paths(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        ui = {"Bind": {"path": "/", "authenticated": False, "local_only": False, "cache": True}}
        await act(server, node, ui, blob=b"<h1>ui</h1>", mime="text/html")
        assert response_json(await app.next()) == {"Ok": None}
        await act(
            server,
            node,
            {"Bind": {"path": "/nocache", "authenticated": False, "local_only": False, "cache": True}},
        )
        assert response_json(await app.next()) == {"Err": "NoBlob"}
        async with aiohttp.ClientSession() as client:
            base = f"http://127.0.0.1:{server.port}"
            for path in ("/app:pkg:pub", "/app:pkg:pub/", "/app:pkg:pub/deep/link"):
                async with client.get(base + path) as response:
                    assert (response.status, await response.text()) == (200, "<h1>ui</h1>")
                    assert response.headers["Content-Type"] == "text/html"
            async with client.post(base + "/app:pkg:pub/deep") as response:
                assert response.status == 200
            forwarded = request_json(await app.next())["Http"]
            assert forwarded["bound_path"] == "/app:pkg:pub"


async def test_login_cookie_flow_guards_authenticated_paths(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        await act(
            server, node, {"Bind": {"path": "/p", "authenticated": True, "local_only": False, "cache": False}}
        )
        await app.next()
        base = f"http://localhost:{server.port}"
        async with aiohttp.ClientSession() as client:
            async with client.get(base + "/app:pkg:pub/p") as response:
                assert response.status == 200
                assert "password" in await response.text()
            async with client.post(
                base + "/login", json={"password_hash": "x", "subdomain": None}
            ) as response:
                assert response.status == 200
                assert "hyperware-auth_fake.dev=" in response.headers["Set-Cookie"]
            async with client.get(base + "/app:pkg:pub/p") as response:
                assert (response.status, await response.read()) == (200, b"ok")
        name, value = server.auth_cookie()
        async with (
            aiohttp.ClientSession() as client,
            client.get(base + "/app:pkg:pub/p", headers={"Cookie": f"{name}={value}"}) as response,
        ):
            assert await response.read() == b"ok"


async def test_local_only_refuses_proxied_requests(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        await act(
            server, node, {"Bind": {"path": "/l", "authenticated": False, "local_only": True, "cache": False}}
        )
        await app.next()
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{server.port}/app:pkg:pub/l"
            async with client.get(url) as response:
                assert response.status == 200
            async with client.get(url, headers={"X-Forwarded-For": "10.0.0.1"}) as response:
                assert response.status == 403


async def test_action_errors_are_always_sent_and_explained(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    async with serving(node) as server:
        await act(server, node, {"Bind": {"path": "/x"}}, expects_response=None)
        assert response_json(await node.next_sent()) == {"Err": "MalformedRequest"}
        assert "`body.Bind.authenticated`: field required" in node.printed()
        bind = {"Bind": {"path": "/x", "authenticated": False, "local_only": False, "cache": False}}
        await act(server, node, bind, source="fake.dev@Bad_Name:pkg:pub")
        assert response_json(await node.next_sent()) == {"Err": "InvalidSourceProcess"}
        await act(server, node, {"WebSocketPush": {"channel_id": 1, "message_type": "Text"}}, blob=b"x")
        assert response_json(await node.next_sent()) == {"Err": "WsChannelNotFound"}
        await act(server, node, {"WebSocketPush": {"channel_id": 1, "message_type": "Ping"}}, blob=b"x" * 126)
        assert response_json(await node.next_sent()) == {"Err": "WsPingPongTooLong"}
        await act(server, node, {"WebSocketPush": {"channel_id": 1, "message_type": "Text"}})
        assert response_json(await node.next_sent()) == {"Err": "NoBlob"}
        await act(server, node, {"WebSocketClose": 99})
        assert response_json(await node.next_sent()) == {"Ok": None}


async def test_websocket_open_push_close_both_ways(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        await act(
            server, node, {"WebSocketBind": {"path": "/ws", "authenticated": False, "extension": False}}
        )
        await app.next()
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/app:pkg:pub/ws") as client:
            opened = request_json(await app.next())["WebSocketOpen"]
            assert opened["path"] == "/ws"
            assert opened["forwarded_for"] is None
            channel = opened["channel_id"]
            await client.send("hello")
            pushed = await app.next()
            assert request_json(pushed) == {"WebSocketPush": {"channel_id": channel, "message_type": "Text"}}
            assert pushed.lazy_load_blob == LazyLoadBlob(None, b"hello")
            await client.send(b"\x01\x02")
            assert (await app.next()).lazy_load_blob.bytes == b"\x01\x02"
            push = {"WebSocketPush": {"channel_id": channel, "message_type": "Binary"}}
            await act(server, node, push, blob=b"\x09")
            assert response_json(await app.next()) == {"Ok": None}
            assert await client.recv() == b"\x09"
            await act(
                server, node, {"WebSocketPush": {"channel_id": channel, "message_type": "Text"}}, blob=b"t"
            )
            await app.next()
            assert await client.recv() == "t"
            await act(server, node, push, source="fake.dev@other:pkg:pub", blob=b"x")
            assert response_json(await node.next_sent()) == {"Err": "WsChannelNotFound"}
            await act(server, node, {"WebSocketClose": channel})
            await app.next()
            await client.wait_closed()
        closed = [request_json(await app.next()) for _ in range(1)]
        assert closed == [{"WebSocketClose": channel}]


async def test_client_close_is_reported_to_the_process(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        await act(
            server, node, {"WebSocketBind": {"path": "/ws", "authenticated": False, "extension": False}}
        )
        await app.next()
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/app:pkg:pub/ws"):
            channel = request_json(await app.next())["WebSocketOpen"]["channel_id"]
        kinds = []
        while True:
            body = request_json(await app.next())
            kinds.append(next(iter(body)))
            if "WebSocketClose" in body:
                assert body == {"WebSocketClose": channel}
                break
        assert kinds[-1] == "WebSocketClose"


async def test_extension_protocol_wraps_and_routes_replies(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        await act(
            server, node, {"WebSocketBind": {"path": "/ext", "authenticated": False, "extension": True}}
        )
        await app.next()
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/app:pkg:pub/ext") as client:
            channel = request_json(await app.next())["WebSocketOpen"]["channel_id"]
            outgoing = {
                "WebSocketExtPushOutgoing": {
                    "channel_id": channel,
                    "message_type": "Binary",
                    "desired_reply_type": "Response",
                }
            }
            await act(server, node, outgoing, blob=b"\x00\xff", message_id=4242)
            frame = await client.recv()
            assert frame == msgpack.packb(
                {"WebSocketExtPushData": {"id": 4242, "hyperware_message_type": "Response", "blob": [0, 255]}}
            )
            assert msgpack.unpackb(frame) == {
                "WebSocketExtPushData": {"id": 4242, "hyperware_message_type": "Response", "blob": [0, 255]}
            }
            assert app.received.empty()  # ExtPushOutgoing never gets an Ok
            answer = {
                "WebSocketExtPushData": {"id": 4242, "hyperware_message_type": "Response", "blob": b"ans"}
            }
            await client.send(msgpack.packb(answer, use_bin_type=True))
            routed = await app.next()
            assert routed.id == 4242
            assert isinstance(routed.message, Message_Response)
            body = json.loads(routed.message.value[0].body)
            assert body == {"WebSocketPush": {"channel_id": channel, "message_type": "Binary"}}
            assert routed.lazy_load_blob == LazyLoadBlob(None, b"ans")
            as_request = ["WebSocketExtPushData", [7, "Request", list(b"req")]]
            await client.send(msgpack.packb({as_request[0]: as_request[1]}))
            routed = await app.next()
            assert (routed.id, routed.lazy_load_blob.bytes) == (7, b"req")
            assert isinstance(routed.message, Message_Request)
            await client.send(b"plain bytes")
            routed = await app.next()
            assert routed.lazy_load_blob.bytes == b"plain bytes"
            text = {
                "WebSocketExtPushOutgoing": {
                    "channel_id": channel,
                    "message_type": "Text",
                    "desired_reply_type": "Request",
                }
            }
            await act(server, node, text, blob=b"x")
            assert response_json(await app.next()) == {"Err": "NoBlob"}


async def test_system_routes_and_awaited_responses(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    async with serving(node) as server:

        async def hello(http_request: aiohttp.web.Request) -> aiohttp.web.Response:
            waiting = server.expect(31337)
            node.send(reply(request(SERVER, APP, {}, message_id=31337), Address.parse(APP), b"pong"))
            answer = await waiting
            return aiohttp.web.Response(body=answer.message.value[0].body)

        server.add_system_route("GET", "/hello", hello)
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"http://127.0.0.1:{server.port}/hello") as response,
        ):
            assert await response.read() == b"pong"


async def test_secure_bind_serves_only_its_subdomain_with_its_own_cookie(tmp_path) -> None:
    node = RoutingNode(home=tmp_path)
    app = FakeApp(node)
    async with serving(node) as server:
        await act(server, node, {"SecureBind": {"path": "/s", "cache": False}})
        assert response_json(await app.next()) == {"Ok": None}
        other = {"Bind": {"path": "/open", "authenticated": True, "local_only": False, "cache": False}}
        await act(server, node, other, source="fake.dev@else:other:pub", expects_response=None)
        url = f"http://127.0.0.1:{server.port}/app:pkg:pub/s"
        async with aiohttp.ClientSession() as client:
            async with client.get(url, allow_redirects=False) as response:
                assert response.status == 307
                assert response.headers["Location"] == f"http://pkg-pub.127.0.0.1:{server.port}/app:pkg:pub/s"
            host = {"Host": f"pkg-pub.localhost:{server.port}"}
            async with client.get(url, headers=host) as response:
                assert "password" in await response.text()
            name, token = server.auth_cookie(app.address.process)
            assert name == "hyperware-auth_fake.dev@app:pkg:pub"
            async with client.get(url, headers={**host, "Cookie": f"{name}={token}"}) as response:
                assert (response.status, await response.read()) == (200, b"ok")
            general = "=".join(server.auth_cookie())
            foreign = f"http://127.0.0.1:{server.port}/else:other:pub/open"
            async with client.get(foreign, headers={**host, "Cookie": general}) as response:
                assert response.status == 403
