"""Fuzzing what runs in the guest: hypothesis-made request bodies (deep nesting, huge numbers, any
bytes, wrong shapes) injected into a framework process in both modes, and hypothesis-made requests
to the control endpoints over real HTTP. Every request gets an answer, the process never restarts,
the node never answers 500. `HYPERPY_FUZZ_EXAMPLES` (default 200) / 5 inputs each by default."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpy.testing.harness import HyperpyNode

PROBE_APP = Path(__file__).resolve().parents[1] / "runtime" / "apps" / "probe"
PROBE = "probe:probe:test.os"
PEER = "peer:probe:test.os"
EXAMPLES = max(10, int(os.environ.get("HYPERPY_FUZZ_EXAMPLES", "200")) // 5)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**64, -(2**63) - 1])
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
handlers = st.sampled_from(
    ["Increment", "AddTally", "Echo", "CheckedDivide", "GetCount", "Boom", "Nope", "SlowEcho"]
)
bodies = (
    st.binary(max_size=100)
    | st.builds(lambda h, v: json.dumps({h: v}).encode(), handlers, values)
    | st.builds(
        lambda h, d: (
            (json.dumps(h)[:-1] + '":' + "[" * d + "1" + "]" * d + "}").replace('"', '{"', 1).encode()
        ),
        handlers,
        st.integers(100, 4000),
    )
    | st.builds(
        lambda digits: ('{"Increment":' + digits + "}").encode(),
        st.text("0123456789", min_size=18, max_size=5000),
    )
)


@pytest.fixture
def probe(hyperpy_node: HyperpyNode) -> HyperpyNode:
    hyperpy_node.install(PROBE_APP)
    hyperpy_node.wait_for_output(f"probe: ready as fake.dev@{PROBE}", timeout=120)
    return hyperpy_node


@pytest.mark.hyperpy_modes("component", "native")
def test_guest_decoding_answers_every_fuzzed_request(probe: HyperpyNode) -> None:
    answered = {"n": 0}

    @FUZZ
    @given(body=bodies)
    def fuzz(body: bytes) -> None:
        reply = probe.node.inject(PROBE, body, expects_response=30, source=PEER)
        assert reply is not None, body[:200]
        answered["n"] += 1

    fuzz()
    answer = probe.node.inject(PROBE, json.dumps({"GetCount": None}), expects_response=30, source=PEER)
    assert answer is not None and isinstance(json.loads(answer.body), int)
    assert "OnExit behavior" not in probe.output(all=True)  # never crashed
    print(f"fuzzed inputs: guest request decoding {answered['n']}")


rpc_bodies = st.binary(max_size=200) | st.builds(
    lambda process, body, expects, data: json.dumps(
        {"node": None, "process": process, "inherit": False, "expects_response": expects, "body": body,
         "metadata": None, "context": None, "mime": None, "data": data}
    ).encode(),
    st.sampled_from([PROBE, "a:b:c", "nope", ""]) | st.text(max_size=12),
    st.text(max_size=40) | st.just('{"GetCount":null}'),
    st.none() | st.integers(-5, 2**65) | st.just(1),
    st.none() | st.text(max_size=20),
)  # fmt: skip
control_headers = st.fixed_dictionaries(
    {"Content-Type": st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-8"])},
    optional={
        "Origin": st.sampled_from(["http://attacker.example", "http://localhost:1", "null"]),
        "X-Hyperware-Http-Server-Timeout": st.text("0123456789+-. abc", max_size=30),
    },
)


@pytest.mark.hyperpy_modes("native")
def test_control_endpoints_answer_every_fuzzed_request(probe: HyperpyNode) -> None:
    paths = st.sampled_from(
        [
            "/rpc:distro:sys/message",
            "/hyperpy/api/kill?id=x:y:z",
            "/hyperpy/api/process?id=",
            "/v1/cast",
            "/v1/sessions/status",
            "/login?redirect=//x",
        ]
    )
    seen = {"n": 0}

    @FUZZ
    @given(path=paths, body=rpc_bodies, headers=control_headers)
    def fuzz(path: str, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(probe.url + path, data=body, method="POST", headers=headers)
        try:
            with NO_PROXY.open(request, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status < 500, (path, body[:100], headers)
        seen["n"] += 1

    fuzz()
    assert probe.node.process(PROBE) is not None
    print(f"fuzzed inputs: control endpoints {seen['n']}")
