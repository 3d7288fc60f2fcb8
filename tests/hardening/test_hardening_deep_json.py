"""Deeply nested JSON from outside gets an error answer, never a trap, a RecursionError or silence.

Every decoder of untrusted JSON goes through `jsonwire.loads`, which refuses nesting deeper than
serde_json's default limit (127 arrays/objects; the 128th is "recursion limit exceeded"), so a body a
Rust process would refuse is refused here too, in both modes, and the process stays up.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hyperpy.runtime import jsonwire
from hyperpy.runtime.routing import HttpRequest, Router
from hyperpy.runtime.wire import BadBody, parse_request_body
from hyperpy.testing.harness import HyperpyNode

PROBE_APP = Path(__file__).resolve().parents[1] / "runtime" / "apps" / "probe"
PROBE = "probe:probe:test.os"
PEER = "peer:probe:test.os"


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("depth", [127])
def test_serde_json_depth_is_accepted(depth: int) -> None:
    assert jsonwire.loads(nested(depth)) is not None
    assert jsonwire.loads('{"a":' * (depth - 1) + nested(1) + "}" * (depth - 1)) is not None


@pytest.mark.parametrize("depth", [128, 1_000, 5_000, 200_000])
def test_deeper_than_serde_json_is_a_value_error_naming_the_limit(depth: int) -> None:
    for text in (nested(depth), '{"a":' * depth + "1" + "}" * depth, "[" * depth):
        with pytest.raises(ValueError, match="recursion limit exceeded: nested deeper than 127"):
            jsonwire.loads(text)
        with pytest.raises(ValueError, match="recursion limit exceeded"):
            jsonwire.loads(text.encode())


def test_brackets_inside_strings_neither_count_nor_hide_depth() -> None:
    assert jsonwire.loads(json.dumps(["[" * 5000, "]" * 5000, '\\"[' * 300])) is not None
    hidden = "[" * 100 + json.dumps("]" * 100 + '\\"' + "]" * 50) + "," + nested(100) + "]" * 100
    with pytest.raises(ValueError, match="recursion limit exceeded"):
        jsonwire.loads(hidden)


def test_request_decoders_answer_deep_bodies_with_their_own_errors() -> None:
    body = ('{"Increment":' + nested(5_000) + "}").encode()
    with pytest.raises(BadBody, match="recursion limit exceeded"):
        parse_request_body(body)
    answer = Router(()).resolve(HttpRequest("POST", "/x", "http://localhost/x", {}, {}, body))
    assert getattr(answer, "status", None) == 404


@pytest.fixture
def probe(hyperpy_node: HyperpyNode) -> HyperpyNode:
    hyperpy_node.install(PROBE_APP)
    hyperpy_node.wait_for_output(f"probe: ready as fake.dev@{PROBE}", timeout=60)
    return hyperpy_node


@pytest.mark.hyperpy_modes("component", "native")
def test_a_deep_request_is_refused_and_the_process_keeps_serving(probe: HyperpyNode) -> None:
    for depth in (127, 1_000, 5_000, 100_000):
        raw = '{"Increment":' + nested(depth) + "}"
        response = probe.node.inject(PROBE, raw, expects_response=20, source=PEER)
        assert response is not None, f"depth {depth}: no answer"
        error = json.loads(response.metadata or "{}")["hyperpy"]
        assert error["error"] == "BadRequest"
        assert "recursion limit exceeded" in error["message"]
    # 126 levels inside the 1-level envelope is what serde_json accepts: decoded, then refused by type
    response = probe.node.inject(PROBE, '{"Increment":' + nested(126) + "}", expects_response=20, source=PEER)
    assert response is not None
    assert "expected an integer" in json.loads(response.metadata or "{}")["hyperpy"]["message"]
    answer = probe.node.inject(PROBE, json.dumps({"Increment": 2}), expects_response=20, source=PEER)
    assert answer is not None and json.loads(answer.body) == 2
    assert "restart" not in probe.output().lower()


@pytest.mark.hyperpy_modes("component", "native")
def test_a_deep_http_body_gets_an_http_answer(probe: HyperpyNode) -> None:
    request = urllib.request.Request(
        f"{probe.url}/{PROBE}/fail", data=('{"Teapot":' + nested(50_000) + "}").encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 405
    with pytest.raises(urllib.error.HTTPError) as teapot:  # still serving: the teapot answers 418
        urllib.request.urlopen(f"{probe.url}/{PROBE}/teapot", timeout=30)
    assert teapot.value.code == 418
