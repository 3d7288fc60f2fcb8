"""Fuzzers kept in the suite (hypothesis): every decoder of outside input either accepts the input or
raises its own documented error, never anything else (a RecursionError, a KeyError, a trap...).

Targets: request bodies (deep nesting, huge numbers, any bytes) through the runtime's decoders and
codecs, HTTP routing, manifest.json / metadata.json / scripts.json, the WIT reader, kit's rpc
message and the control guard. Each runs `HYPERPY_FUZZ_EXAMPLES` inputs (200 by default, a few
seconds); set it to 20000 for a long run. Guest-side decoding in component mode is fuzzed by
test_hardening_fuzz_node.py, WebSocket frames by tests/modules/test_hardening_websocket.py.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
from dataclasses import dataclass
from typing import Annotated, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpy.build.witgen.reader import WitSyntaxError, parse_wit
from hyperpy.node.control.rpc import RpcRefused, rpc_kernel_message
from hyperpy.node.scripts import ScriptError, parse_scripts_json
from hyperpy.package.manifest import ManifestError, parse_manifest
from hyperpy.package.metadata import MetadataError, parse_metadata
from hyperpy.runtime import jsonwire
from hyperpy.runtime.codec import codec_for
from hyperpy.runtime.decorators import app, http, local
from hyperpy.runtime.errors import CodecError
from hyperpy.runtime.routing import HttpRequest, RouteError, RouteMatch, Router
from hyperpy.runtime.spec import app_spec
from hyperpy.runtime.types import Header, Query
from hyperpy.runtime.wire import BadBody, decode_args, parse_request_body

EXAMPLES = int(os.environ.get("HYPERPY_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
COUNTS: dict[str, int] = {}


def counted(target: str) -> None:
    COUNTS[target] = COUNTS.get(target, 0) + 1


# --- values ---------------------------------------------------------------------------------------

huge_ints = st.integers(min_value=-(10**40), max_value=10**40) | st.sampled_from(
    [2**63, -(2**63) - 1, 2**64, 10**4000]
)
scalars = st.none() | st.booleans() | huge_ints | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@st.composite
def deep_text(draw: st.DrawFn) -> str:
    """Nesting around a value, from shallow to far past the limit, balanced or not."""
    depth = draw(st.integers(0, 3000) | st.sampled_from([126, 127, 128, 129]))
    opener = draw(st.sampled_from(["[", '{"a":', '{"Increment":[']))
    closer = {"[": "]", '{"a":': "}", '{"Increment":[': "]}"}[opener]
    inner = json.dumps(draw(json_values))
    closing = closer * depth if draw(st.booleans()) else closer * draw(st.integers(0, depth))
    return opener * depth + inner + closing


bodies = (
    st.binary(max_size=200)
    | deep_text().map(str.encode)
    | st.builds(
        lambda name, value: json.dumps({name: value}).encode(),
        st.sampled_from(["AddItem", "Status", "GetItem", "X"]),
        json_values,
    )
    | st.builds(
        lambda digits: ('{"AddItem":{"name":"n","price":' + digits + "}}").encode(),
        st.text("0123456789", min_size=1, max_size=6000),
    )
)


class Sort(enum.Enum):
    NEW = "New"
    OLD = "Old"


@dataclass
class Item:
    name: str
    price: float = 0.0
    tags: list[str] | None = None


@app
class Shop:
    @http
    def status(self) -> str:
        return "ok"

    @http(method="POST")
    @local
    def add_item(self, item: Item) -> int:
        return 1

    @http(method="GET", path="/items/{item_id}")
    def get_item(self, item_id: int, full: Annotated[bool, Query()] = False) -> Item | None:
        return None

    @http(method="GET", path="/items")
    def list_items(self, sort: Sort = Sort.NEW, limit: int = 10) -> list[Item]:
        return []

    @http(method="GET", path="/files/{rest:path}")
    def file(self, rest: str, token: Annotated[str, Header("x-token")] = "") -> str:
        return rest

    @local
    def many(self, a: int, b: dict[str, list[int]], c: tuple[str, float] | None = None) -> int:
        return a


SPEC = app_spec(Shop)
ROUTER = Router(SPEC.handlers)
HANDLERS = {handler.variant: handler for handler in SPEC.handlers}


@FUZZ
@given(body=bodies)
def test_request_bodies_decode_or_are_refused(body: bytes) -> None:
    counted("request decoding")
    try:
        variant, payload = parse_request_body(body)
    except BadBody:
        return
    handler = HANDLERS.get(variant)
    if handler is None:
        return
    with contextlib.suppress(CodecError):
        decode_args(handler, payload)


@FUZZ
@given(text=deep_text() | st.text(max_size=300))
def test_json_decoding_never_recurses_past_the_limit(text: str) -> None:
    counted("json decoding (deep nesting, huge numbers)")
    try:
        value = jsonwire.loads(text)
    except ValueError:
        return
    for hint in (Any, list[Any], dict[str, Any], Item, list[Item], int | None):
        with contextlib.suppress(CodecError):
            codec_for(hint).decode(value, "fuzz")
    jsonwire.dumps(value)  # whatever decoded also encodes (<= 127 levels)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"]),
    path=st.lists(
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
        | st.sampled_from(["items", "files", "status", "add-item", "..", "%2F", "%ff"]),
        max_size=5,
    ).map(lambda parts: "/" + "/".join(parts)),
    body=bodies,
    query=st.dictionaries(st.sampled_from(["full", "sort", "limit", "x"]), st.text(max_size=12), max_size=3),
    headers=st.dictionaries(
        st.sampled_from(["x-token", "content-type", "user-agent"]), st.text(max_size=12), max_size=2
    ),
)
def test_http_routing_answers_every_request(
    method: str, path: str, body: bytes, query: dict[str, str], headers: dict[str, str]
) -> None:
    counted("http routing")
    result = ROUTER.resolve(HttpRequest(method, path, "http://localhost" + path, headers, query, body))
    assert isinstance(result, RouteMatch | RouteError)
    if isinstance(result, RouteError):
        assert 200 <= result.status < 500


manifest_like = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "process_name": st.text(max_size=10) | st.integers(),
            "process_wasm_path": st.text(max_size=20),
            "on_exit": st.sampled_from(["Restart", "None", "Requests"]) | json_values,
            "request_networking": st.booleans() | json_values,
            "request_capabilities": st.lists(st.text(max_size=20) | json_values, max_size=3),
            "grant_capabilities": st.lists(st.text(max_size=20) | json_values, max_size=3),
            "public": st.booleans() | json_values,
        },
    ),
    max_size=3,
)


@FUZZ
@given(
    data=st.binary(max_size=300)
    | deep_text().map(str.encode)
    | manifest_like.map(lambda v: json.dumps(v).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
)
def test_manifest_metadata_and_scripts_parsers_refuse_with_their_own_errors(data: bytes) -> None:
    counted("manifest/metadata/scripts.json")
    for parse, error in (
        (parse_manifest, ManifestError),
        (parse_metadata, MetadataError),
        (parse_scripts_json, ScriptError),
    ):
        with contextlib.suppress(error):
            parse(data)


WIT_SAMPLE = """interface shop {
    use standard.{address};
    record item { name: string, price: f64, tags: option<list<string>> }
    variant sort { new, old(u32) }
    enum color { red, green }
    add-item: func(target: address, item: item) -> result<u64, string>;
}
world shop-world { import shop; include process-v1; }
"""


@FUZZ
@given(
    text=st.text(max_size=400)
    | st.builds(
        lambda cut, junk: WIT_SAMPLE[:cut] + junk + WIT_SAMPLE[cut:],
        st.integers(0, len(WIT_SAMPLE)),
        st.text(max_size=8),
    )
    | st.integers(0, 400).map(lambda n: "interface a { type t = " + "list<" * n + "u8" + ">" * n + "; }")
)
def test_the_wit_reader_raises_only_syntax_errors(text: str) -> None:
    counted("WIT reader")
    with contextlib.suppress(WitSyntaxError):
        parse_wit(text, "fuzz.wit")


rpc_like = st.fixed_dictionaries(
    {},
    optional={
        "node": st.none() | st.text(max_size=12),
        "process": st.text(max_size=30) | st.sampled_from(["a:b:c", "echo:echo:template.os"]) | json_values,
        "inherit": st.booleans() | json_values,
        "expects_response": st.none() | huge_ints | json_values,
        "body": st.none() | st.text(max_size=30) | json_values,
        "metadata": st.none() | st.text(max_size=10),
        "context": st.none() | json_values,
        "mime": st.none() | st.text(max_size=10),
        "data": st.none() | st.text(max_size=30),
    },
)


@FUZZ
@given(
    body=st.binary(max_size=200)
    | rpc_like.map(lambda v: json.dumps(v).encode())
    | deep_text().map(str.encode)
)
def test_kits_rpc_message_is_a_message_or_a_refusal(body: bytes) -> None:
    counted("control: rpc message")
    try:
        rpc_kernel_message(body, "fake.dev", 1)
    except RpcRefused as refused:
        assert refused.status in (400, 403)


def test_zz_report_fuzz_counts() -> None:
    """Prints how many inputs each target ran in this session (for the hardening report)."""
    print(f"fuzzed inputs: {COUNTS}")
