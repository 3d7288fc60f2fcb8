"""The chat example on two local nodes, in component and native mode."""

from __future__ import annotations

import json
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from websockets.sync.client import connect

from hyperpy.testing.harness import HyperpyNode

EXAMPLE = Path(__file__).resolve().parents[1]
CHAT = "chat:chat:template.os"

pytestmark = pytest.mark.hyperpy_modes("component", "native")


@pytest.fixture
def pair(hyperpy_nodes) -> tuple[HyperpyNode, HyperpyNode]:  # type: ignore[no-untyped-def]
    first, second = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (first, second):
        node.install(EXAMPLE)
        node.wait_for_output("chat: ready", timeout=30)
    return first, second


def login_cookie(node: HyperpyNode) -> str:
    """Log in to the node's web server (any password works on a local node); returns the cookie."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps({"password_hash": "local", "subdomain": None}).encode()
    opener.open(urllib.request.Request(node.url + "/login", data=body, method="POST"), timeout=10).read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def test_a_message_reaches_the_other_node_with_a_verified_author(
    pair: tuple[HyperpyNode, HyperpyNode],
) -> None:
    first, second = pair
    assert first.request_json(CHAT, {"Send": ["fake2.dev", "hello"]}) == {"Ok": 1}
    assert second.request_json(CHAT, {"Send": ["fake.dev", "hi back"]}) == {"Ok": 2}
    history = first.request_json(CHAT, {"History": "fake2.dev"})
    assert [(m["author"], m["text"]) for m in history] == [("fake.dev", "hello"), ("fake2.dev", "hi back")]
    assert second.request_json(CHAT, {"Partners": None}) == ["fake.dev"]


def test_sending_to_an_offline_node_fails_cleanly(hyperpy_nodes) -> None:  # type: ignore[no-untyped-def]
    first, second = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (first, second):
        node.install(EXAMPLE)
        node.wait_for_output("chat: ready", timeout=30)
    hyperpy_nodes.set_offline("fake2.dev")
    assert first.request_json(CHAT, {"Send": ["fake2.dev", "anyone?"]}) == {"Err": "fake2.dev is offline"}
    assert first.request_json(CHAT, {"History": "fake2.dev"}) == []
    hyperpy_nodes.set_offline("fake2.dev", False)
    assert first.request_json(CHAT, {"Send": ["fake2.dev", "back?"]}) == {"Ok": 1}


def test_http_send_and_websocket_push(pair: tuple[HyperpyNode, HyperpyNode]) -> None:
    first, second = pair
    cookie = login_cookie(second)
    ws_url = second.url.replace("http://", "ws://") + f"/{CHAT}/ws"
    with connect(ws_url, additional_headers={"Cookie": cookie}, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10)) == {"partners": []}
        request = urllib.request.Request(
            first.url + f"/{CHAT}/api/send",
            data=json.dumps({"to": "fake2.dev", "text": "over http"}).encode(),
            method="POST",
            headers={"Cookie": login_cookie(first)},
        )
        with urllib.request.urlopen(request, timeout=20) as answer:
            assert json.loads(answer.read()) == {"Ok": 1}
        pushed = json.loads(socket.recv(timeout=10))
        assert (pushed["from"], pushed["author"], pushed["text"]) == ("fake.dev", "fake.dev", "over http")
        socket.send(json.dumps({"to": "fake.dev", "text": "from the browser"}))
        assert json.loads(socket.recv(timeout=20)) == {"sent": 2}
        socket.send("not json")
        assert "error" in json.loads(socket.recv(timeout=10))
    second.wait_for_output("chat: web client left", timeout=10)  # the @ws_close hook ran
    texts = [m["text"] for m in first.request_json(CHAT, {"History": "fake2.dev"})]
    assert texts == ["over http", "from the browser"]
