"""The control surface refuses what a web page in the developer's browser could send, while kit's own
requests keep working; the timeout header and the login redirect cannot be turned against the node.

Attacks as the hardening probe sent them: a cross-site POST (foreign `Origin`, `Content-Type:
text/plain`, which needs no CORS preflight), DNS rebinding (a foreign `Host` reaching 127.0.0.1),
huge or garbage `X-Hyperware-Http-Server-Timeout` values, `/login?redirect=` to another site.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperpy.node import Node
from hyperpy.node.control.surface import node_with_control_surface
from hyperpy.package.control_client import inject

COUNTER_APP = Path(__file__).resolve().parents[2] / "examples" / "counter"
COUNTER = "counter:counter:template.os"
RPC = "/rpc:distro:sys/message"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


NO_FOLLOW = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, str]]:
    node, surface = node_with_control_surface("fake.dev", home=tmp_path_factory.mktemp("guard"), port=0)
    node.start()
    try:
        node.install(COUNTER_APP, mode="native")
        yield node, surface.url
    finally:
        node.close()


def send(
    url: str, path: str, data: bytes | None, headers: dict[str, str], *, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with NO_FOLLOW.open(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def rpc_body(body: Any, expects: int | None = 5) -> bytes:
    return json.dumps(
        {"node": None, "process": COUNTER, "inherit": False, "expects_response": expects,
         "body": json.dumps(body), "metadata": None, "context": None, "mime": None, "data": None}
    ).encode()  # fmt: skip


def count(url: str) -> int:
    status, _, answer = send(url, RPC, rpc_body({"GetCount": None}), {"Content-Type": "application/json"})
    assert status == 200, answer
    return int(json.loads(bytes(json.loads(answer)["body"])))


KIT = {"Content-Type": "application/json"}
CROSS_SITE = [
    ({"Content-Type": "text/plain", "Origin": "http://attacker.example"}, "cross-site"),
    ({"Content-Type": "application/json", "Origin": "https://attacker.example"}, "cross-site"),
    ({"Content-Type": "text/plain"}, "application/json"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, "application/json"),
    ({"Content-Type": "application/json", "Host": "attacker.example"}, "Host"),
    ({"Content-Type": "application/json", "Host": "attacker.example:8080"}, "Host"),
    ({"Content-Type": "application/json", "Host": "127.0.0.1.attacker.example"}, "Host"),
]


@pytest.mark.parametrize(("headers", "named"), CROSS_SITE)
def test_what_a_web_page_could_send_is_refused_and_has_no_effect(
    served: tuple[Node, str], headers: dict[str, str], named: str
) -> None:
    node, url = served
    before = count(url)
    status, _, answer = send(url, RPC, rpc_body({"Increment": 5}, expects=None), headers)
    assert status == 403 and named in answer.decode()
    status, _, answer = send(url, f"/hyperpy/api/kill?id={COUNTER}", b"", headers)
    assert status == 403 and named in json.loads(answer)["error"]
    status, _, _ = send(
        url,
        "/hyperpy/api/processes",
        None,
        {k: v for k, v in headers.items() if k != "Content-Type"},
        method="GET",
    )
    assert status == (200 if named == "application/json" else 403)
    assert count(url) == before
    assert node.process(COUNTER) is not None and node.process(COUNTER).status == "running"  # type: ignore[union-attr]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "LOCALHOST", "app.localhost", "127.1.2.3"])
def test_kit_style_requests_keep_working(served: tuple[Node, str], host: str) -> None:
    _node, url = served
    port = url.rsplit(":", 1)[1]
    headers = {**KIT, "Host": f"{host}:{port}"}
    before = count(url)
    status, _, _ = send(url, RPC, rpc_body({"Increment": 2}, expects=None), headers)
    assert status == 200
    status, _, answer = send(
        url, RPC, rpc_body({"Increment": 1}), {**headers, "Origin": f"http://{host}:{port}"}
    )
    assert status == 200 and json.loads(bytes(json.loads(answer)["body"])) == before + 3
    # hyperpy's own client, which `hyperpy inject` uses, sends what kit sends
    reply = inject(url, COUNTER, json.dumps({"GetCount": None}), expects_response=5)
    assert reply is not None and json.loads(reply.body_text()) == before + 3


TIMEOUTS = [
    "9" * 25,
    "9" * 5000,
    "18446744073709551616",
    "18446744073709551615",
    "-1",
    "1.5",
    "abc",
    "",
    "\u0661".encode().decode("latin-1"),
    "+7",
    " 3 ",
    "0x10",
]


@pytest.mark.parametrize("value", TIMEOUTS)
def test_any_timeout_header_value_gets_an_answer(served: tuple[Node, str], value: str) -> None:
    _node, url = served
    headers = {**KIT, "X-Hyperware-Http-Server-Timeout": value}
    status, _, answer = send(url, RPC, rpc_body({"GetCount": None}), headers)
    assert status == 200, answer
    status, _, answer = send(
        url,
        f"/{COUNTER}/api/count",
        None,
        {"X-Hyperware-Http-Server-Timeout": value, "Cookie": login(url)},
        method="GET",
    )
    assert status == 200, answer


def login(url: str, redirect: str | None = None) -> str:
    path = "/login" if redirect is None else "/login?" + urllib.parse.urlencode({"redirect": redirect})
    status, headers, answer = send(url, path, json.dumps({"password_hash": "x"}).encode(), KIT)
    assert status in (200, 303), answer
    return headers["Set-Cookie"].split(";")[0]


@pytest.mark.parametrize(
    "target",
    [
        "https://attacker.example/",
        "//attacker.example/x",
        "/\\attacker.example",
        "@attacker.example",
        "attacker.example",
        "/ok\r\nSet-Cookie: x=y",
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_off_site(served: tuple[Node, str], target: str) -> None:
    _node, url = served
    path = "/login?" + urllib.parse.urlencode({"redirect": target})
    status, headers, answer = send(url, path, json.dumps({"password_hash": "x"}).encode(), KIT)
    assert status == 400 and "redirect must be a path on this node" in json.loads(answer)
    assert "Location" not in headers and "Set-Cookie" not in headers


def test_login_redirects_to_a_path_on_this_node(served: tuple[Node, str]) -> None:
    _node, url = served
    path = "/login?" + urllib.parse.urlencode({"redirect": f"/{COUNTER}/?tab=1"})
    status, headers, _ = send(url, path, json.dumps({"password_hash": "x"}).encode(), KIT)
    assert status == 303 and headers["Location"] == f"/{COUNTER}/?tab=1"
