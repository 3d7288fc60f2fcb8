"""POST /rpc:distro:sys/message turns kit's JSON into the Request Hyperdrive sends and answers like it."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from collections.abc import Iterator

import pytest
from aiohttp import web
from control_doubles import AppThread, RecordingServices

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.control.rpc import RpcEndpoint
from hyperpy.node.wit_types import (
    Address,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    ProcessId,
    Response,
)
from hyperpy.package.control_client import inject

HTTP_SERVER = Address("fake.dev", ProcessId("http-server", "distro", "sys"))


class ResponseTable:
    """Test double for http-server's table of HTTP requests awaiting a Response."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[KernelMessage]] = {}
        self.forgotten: list[int] = []

    def expect(self, request_id: int) -> asyncio.Future[KernelMessage]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = future
        return future

    def forget(self, request_id: int) -> None:
        self.waiting.pop(request_id, None)
        self.forgotten.append(request_id)


class Endpoint:
    def __init__(self, services: RecordingServices) -> None:
        self.services = services
        self.table = ResponseTable()
        self.answer: tuple[bytes, LazyLoadBlob | None] | None = None
        services.on_send = self._deliver
        app = web.Application()
        app.router.add_post("/rpc:distro:sys/message", RpcEndpoint(lambda: services, self.table).handle)
        self.server = AppThread(app)

    def _deliver(self, message: KernelMessage) -> None:
        """Play the target process: answer a request that expects a response, if an answer is set."""
        if self.answer is None or message.rsvp is None:
            return
        body, blob = self.answer
        response = KernelMessage(
            id=message.id,
            source=message.target,
            target=message.rsvp,
            rsvp=None,
            message=Message_Response((Response(False, body, None, []), None)),
            lazy_load_blob=blob,
        )
        self.table.waiting[message.id].set_result(response)


@pytest.fixture
def endpoint(services) -> Iterator[Endpoint]:
    served = Endpoint(services)
    served.server.start()
    yield served
    served.server.stop()


def post(url: str, payload: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST as `kit inject-message` does (reqwest `.json(..)`: Content-Type application/json, no Origin)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url + "/rpc:distro:sys/message", data=payload, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_a_blocking_message_becomes_a_request_from_http_server_and_returns_the_response(endpoint) -> None:
    endpoint.answer = (b'{"Echo":"hi"}', LazyLoadBlob("text/plain", b"\x00\xffblob"))
    rpc = {
        "node": None,
        "process": "echo:echo:template.os",
        "inherit": False,
        "expects_response": 15,
        "body": '{"Echo":"hi"}',
        "metadata": None,
        "context": None,
        "mime": "application/octet-stream",
        "data": base64.b64encode(b"payload").decode(),
    }

    status, body = post(endpoint.server.url, json.dumps(rpc).encode())

    assert status == 200
    assert json.loads(body) == {
        "body": list(b'{"Echo":"hi"}'),
        "lazy_load_blob": {"mime": "text/plain", "bytes": list(base64.b64encode(b"\x00\xffblob"))},
    }
    (sent,) = endpoint.services.sent
    assert sent.source == HTTP_SERVER and sent.rsvp == HTTP_SERVER
    assert sent.target == Address("fake.dev", ProcessId("echo", "echo", "template.os"))
    assert isinstance(sent.message, Message_Request)
    assert sent.message.value.body == b'{"Echo":"hi"}'
    assert sent.message.value.expects_response == 15
    assert sent.message.value.inherit is False
    assert sent.lazy_load_blob == LazyLoadBlob("application/octet-stream", b"payload")
    assert endpoint.table.forgotten == [sent.id]


def test_fire_and_forget_answers_an_empty_200_without_rsvp(endpoint) -> None:
    rpc = {"process": "echo:echo:template.os", "body": "x", "node": "fake2.dev"}

    status, body = post(endpoint.server.url, json.dumps(rpc).encode())

    assert (status, body) == (200, b"")
    (sent,) = endpoint.services.sent
    assert sent.rsvp is None and sent.target.node == "fake2.dev"
    assert endpoint.table.waiting == {}


def test_no_response_within_the_timeout_is_408(endpoint) -> None:
    rpc = {"process": "echo:echo:template.os", "body": "x", "expects_response": 15}

    status, _ = post(endpoint.server.url, json.dumps(rpc).encode(), {"X-Hyperware-Http-Server-Timeout": "0"})

    assert status == 408
    assert endpoint.table.waiting == {}


@pytest.mark.parametrize(
    "payload",
    [b"not json", b'{"body":"x"}', b'{"process":"not-a-process-id"}'],
    ids=["json", "no-process", "bad-id"],
)
def test_malformed_messages_are_400_and_send_nothing(endpoint, payload: bytes) -> None:
    status, _ = post(endpoint.server.url, payload)

    assert status == 400
    assert endpoint.services.sent == []


def test_proxied_requests_are_refused_as_not_local(endpoint) -> None:
    status, _ = post(endpoint.server.url, b'{"process":"a:b:c"}', {"X-Forwarded-For": "203.0.113.9"})

    assert status == 403
    assert endpoint.services.sent == []


def test_undecodable_data_means_no_blob(endpoint) -> None:
    post(endpoint.server.url, b'{"process":"a:b:c","data":"***"}')

    assert endpoint.services.sent[0].lazy_load_blob is None


def test_the_client_round_trips_through_the_endpoint(endpoint) -> None:
    endpoint.answer = (b"pong", LazyLoadBlob(None, b"blob bytes"))

    result = inject(endpoint.server.url, "a:b:c", "ping", blob=b"in")

    assert result.body_text() == "pong"
    assert result.blob() == b"blob bytes"
