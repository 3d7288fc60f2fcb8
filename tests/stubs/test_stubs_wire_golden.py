"""Golden wire bytes: every shape of signature, called through the generated Python stubs on a node.

For each case the expected bytes are written down from the Rust source's rules, not from what hyperpy
produces:

* the request is what kit's Rust caller-utils sends (kit `src/build/caller_utils_generator.rs`,
  `generate_async_function`): `json!({"Pascal": null | arg | (a, b, ...)})`, i.e. a serde_json
  `Value` (object keys sorted: no `preserve_order` anywhere in the dependency tree; records are
  wit-bindgen structs turned into Values, so their keys are sorted too), written by
  `serde_json::to_vec` (no spaces, raw UTF-8, ryu float text: `1e20`, `0.00001`, `2.0`);
* the response is what a Rust hyperapp sends (hyperprocess-macro, `generate_response_handling`:
  `serde_json::to_vec(&result)` of the handler's typed return value): struct fields in declaration
  order, `()` as `null`, `Result` as `{"Ok": ..}` / `{"Err": ..}`, unit enum variants as `"Name"`,
  `serde_json::Value` with sorted keys, and maps as a `BTreeMap<String, _>` writes them (sorted).

The stub's request bytes must equal the Rust caller's, the node's answer must equal the Rust
hyperapp's, and the stub must decode it into the expected Python value — natively and with the
process built into a WebAssembly component.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hyperpy.build.witgen.from_app import generate_api_wit
from hyperpy.build.witgen.reader import read_api_dir
from hyperpy.build.witgen.stubs_python import generate_python_stubs
from hyperpy.package.project import load_project
from tests.stubs.conftest import FIXTURES, import_generated

REPO = Path(__file__).resolve().parents[2]
WIRE = "wire:wire:template.os"
TARGET = f"fake.dev@{WIRE}"

# (stub function, arguments built from the stub module, Rust caller's request, Rust hyperapp's answer,
#  the value the stub returns, built from the stub module)
Case = tuple[str, Callable[[Any], tuple[Any, ...]], bytes, bytes, Callable[[Any], Any]]

CASES: list[Case] = [
    ("ping", lambda s: (), b'{"Ping":null}', b'"pong"', lambda s: "pong"),
    ("nothing", lambda s: (), b'{"Nothing":null}', b"null", lambda s: None),
    (
        "echo_str",
        lambda s: ('h\u00e9llo "q"\n\u2603\\',),
        '{"EchoStr":"h\u00e9llo \\"q\\"\\n\u2603\\\\"}'.encode(),
        '"h\u00e9llo \\"q\\"\\n\u2603\\\\"'.encode(),
        lambda s: 'h\u00e9llo "q"\n\u2603\\',
    ),
    ("echo_str", lambda s: ("",), b'{"EchoStr":""}', b'""', lambda s: ""),
    (
        "echo_int",
        lambda s: (-9223372036854775808,),
        b'{"EchoInt":-9223372036854775808}',
        b"-9223372036854775808",
        lambda s: -9223372036854775808,
    ),
    (
        "echo_int",
        lambda s: (9223372036854775807,),
        b'{"EchoInt":9223372036854775807}',
        b"9223372036854775807",
        lambda s: 9223372036854775807,
    ),
    ("echo_float", lambda s: (1e20,), b'{"EchoFloat":1e20}', b"1e20", lambda s: 1e20),
    ("echo_float", lambda s: (1e-05,), b'{"EchoFloat":0.00001}', b"0.00001", lambda s: 1e-05),
    ("echo_float", lambda s: (1e-07,), b'{"EchoFloat":1e-7}', b"1e-7", lambda s: 1e-07),
    ("echo_float", lambda s: (1e16,), b'{"EchoFloat":1e16}', b"1e16", lambda s: 1e16),
    ("echo_float", lambda s: (2,), b'{"EchoFloat":2.0}', b"2.0", lambda s: 2.0),
    ("echo_float", lambda s: (-0.0,), b'{"EchoFloat":-0.0}', b"-0.0", lambda s: -0.0),
    (
        "echo_float",
        lambda s: (0.1 + 0.2,),
        b'{"EchoFloat":0.30000000000000004}',
        b"0.30000000000000004",
        lambda s: 0.1 + 0.2,
    ),
    ("echo_float", lambda s: (5e-324,), b'{"EchoFloat":5e-324}', b"5e-324", lambda s: 5e-324),
    (
        "echo_float",
        lambda s: (1.7976931348623157e308,),
        b'{"EchoFloat":1.7976931348623157e308}',
        b"1.7976931348623157e308",
        lambda s: 1.7976931348623157e308,
    ),
    ("halve", lambda s: (3,), b'{"Halve":3}', b"1.5", lambda s: 1.5),
    ("negate", lambda s: (True,), b'{"Negate":true}', b"false", lambda s: False),
    ("add", lambda s: (2, 3), b'{"Add":[2,3]}', b"5", lambda s: 5),
    (
        "describe",
        lambda s: ("ann", 7, 1.5),
        b'{"Describe":["ann",7,1.5]}',
        b'"ann:7:1.5"',
        lambda s: "ann:7:1.5",
    ),
    ("maybe_next", lambda s: (None,), b'{"MaybeNext":null}', b"null", lambda s: None),
    ("maybe_next", lambda s: (4,), b'{"MaybeNext":4}', b"5", lambda s: 5),
    ("total", lambda s: ([1, 2, 3],), b'{"Total":[1,2,3]}', b"6", lambda s: 6),
    ("total", lambda s: ([],), b'{"Total":[]}', b"0", lambda s: 0),
    (
        "split_words",
        lambda s: ("a bb  c",),
        b'{"SplitWords":"a bb  c"}',
        b'["a","bb","c"]',
        lambda s: ["a", "bb", "c"],
    ),
    (
        "count_words",
        lambda s: (["pear", "apple", "pear", "Zed"],),
        b'{"CountWords":["pear","apple","pear","Zed"]}',
        b'{"Zed":1,"apple":1,"pear":2}',
        lambda s: {"Zed": 1, "apple": 1, "pear": 2},
    ),
    (
        "sum_values",
        lambda s: ({"b": 2, "a": 1, "\u00e9": 3},),
        '{"SumValues":{"a":1,"b":2,"\u00e9":3}}'.encode(),
        b"6",
        lambda s: 6,
    ),
    (
        "invert",
        lambda s: ({10: "x", 2: "y", -1: "z"},),
        b'{"Invert":{"-1":"z","10":"x","2":"y"}}',
        b'{"x":10,"y":2,"z":-1}',
        lambda s: {"x": 10, "y": 2, "z": -1},
    ),
    (
        "make_point",
        lambda s: (1.0, 2.5),
        b'{"MakePoint":[1.0,2.5]}',
        b'{"x":1.0,"y":2.5,"label":"1.0,2.5"}',
        lambda s: s.Point(x=1.0, y=2.5, label="1.0,2.5"),
    ),
    (
        "norm",
        lambda s: (s.Point(x=3.0, y=4.0, label="p"),),
        b'{"Norm":{"label":"p","x":3.0,"y":4.0}}',
        b"5.0",
        lambda s: 5.0,
    ),
    (
        "rename",
        lambda s: (s.User(user_id=7, name="ann"),),
        b'{"Rename":{"name":"ann","user_id":7}}',
        b'{"user_id":7,"name":"ANN"}',
        lambda s: s.User(user_id=7, name="ANN"),
    ),
    ("raise_level", lambda s: (s.Level.LOW,), b'{"RaiseLevel":"Low"}', b'"High"', lambda s: s.Level.HIGH),
    (
        "area",
        lambda s: (s.Shape_Square(s.Square(side=3.0)),),
        b'{"Area":{"Square":{"side":3.0}}}',
        b"9.0",
        lambda s: 9.0,
    ),
    ("area", lambda s: (s.Shape_Empty(),), b'{"Area":"Empty"}', b"0.0", lambda s: 0.0),
    (
        "shape_of",
        lambda s: (2,),
        b'{"ShapeOf":2}',
        b'{"Square":{"side":2.0}}',
        lambda s: s.Shape_Square(s.Square(side=2.0)),
    ),
    ("shape_of", lambda s: (0,), b'{"ShapeOf":0}', b'"Empty"', lambda s: s.Shape_Empty()),
    (
        "reverse_bytes",
        lambda s: (b"\x00\x01\xff",),
        b'{"ReverseBytes":[0,1,255]}',
        b"[255,1,0]",
        lambda s: b"\xff\x01\x00",
    ),
    ("divide", lambda s: (7, 2), b'{"Divide":[7,2]}', b'{"Ok":3}', lambda s: s.Ok(3)),
    (
        "divide",
        lambda s: (7, 0),
        b'{"Divide":[7,0]}',
        b'{"Err":"division by zero"}',
        lambda s: s.Err("division by zero"),
    ),
    ("check", lambda s: (1,), b'{"Check":1}', b'{"Ok":null}', lambda s: s.Ok(None)),
    ("check", lambda s: (-1,), b'{"Check":-1}', b'{"Err":"negative"}', lambda s: s.Err("negative")),
    (
        "whoami",
        lambda s: ("other.os@proc:pkg:pub.os",),
        b'{"Whoami":"other.os@proc:pkg:pub.os"}',
        b'"other.os@proc:pkg:pub.os"',
        lambda s: "other.os@proc:pkg:pub.os",
    ),
    (
        "process_of",
        lambda s: ("other.os@proc:pkg:pub.os",),
        b'{"ProcessOf":"other.os@proc:pkg:pub.os"}',
        b'"proc:pkg:pub.os"',
        lambda s: "proc:pkg:pub.os",
    ),
    (
        "echo_any",
        lambda s: ({"b": 1, "a": [{"d": 1.0, "c": None}], "\u00e9": True},),
        '{"EchoAny":{"a":[{"c":null,"d":1.0}],"b":1,"\u00e9":true}}'.encode(),
        '{"a":[{"c":null,"d":1.0}],"b":1,"\u00e9":true}'.encode(),
        lambda s: {"a": [{"c": None, "d": 1.0}], "b": 1, "\u00e9": True},
    ),
    ("echo_any", lambda s: ([3, "x"],), b'{"EchoAny":[3,"x"]}', b'[3,"x"]', lambda s: [3, "x"]),
    ("swap", lambda s: ((1, "one"),), b'{"Swap":[1,"one"]}', b'["one",1]', lambda s: ("one", 1)),
    (
        "stock",
        lambda s: ("ann", {"pear": 2, "apple": 5}),
        b'{"Stock":["ann",{"apple":5,"pear":2}]}',
        b'{"owner":"ann","items":{"apple":5,"pear":2}}',
        lambda s: s.Inventory(owner="ann", items={"apple": 5, "pear": 2}),
    ),
    (
        "points",
        lambda s: (2, None),
        b'{"Points":[2,null]}',
        b'[{"x":0.0,"y":-0.0,"label":"none"},{"x":1.0,"y":-1.0,"label":"none"}]',
        lambda s: [s.Point(x=0.0, y=-0.0, label="none"), s.Point(x=1.0, y=-1.0, label="none")],
    ),
]


def test_the_golden_table_covers_what_the_issue_lists() -> None:
    assert len(CASES) >= 30
    assert len({name for name, *_ in CASES}) >= 30


@pytest.fixture(scope="module")
def wire_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wire") / "wire"
    shutil.copytree(
        FIXTURES / "wire_pkg", root, ignore=shutil.ignore_patterns("target", "pkg", "__pycache__")
    )
    generate_api_wit(load_project(root))
    return root


@pytest.fixture(scope="module")
def stub(wire_project: Path) -> ModuleType:
    document = read_api_dir(wire_project / "api")
    interface = document.interface("wire")
    assert interface is not None
    path = wire_project / "wire_stub.py"
    path.write_text(generate_python_stubs(interface, document, "wire"), encoding="utf-8")
    module = import_generated(path, "wire_golden_stub")
    yield module
    sys.modules.pop(module.__name__, None)


@pytest.fixture(scope="module", params=["native", "component"])
def wire_node(
    request: pytest.FixtureRequest, wire_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    from hyperpy.node import Node

    source: Path = wire_project
    if request.param == "component":
        from hyperpy.build import build_project

        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setenv(
            "HYPERPY_CACHE_DIR", os.environ.get("HYPERPY_CACHE_DIR", str(REPO / ".hyperpy-cache"))
        )
        try:
            source = build_project(wire_project, progress=False).zip_path
        finally:
            monkeypatch.undo()
    with Node("fake.dev", home=tmp_path_factory.mktemp("home"), restart_delay_scale=0.01) as node:
        node.install(source, mode=request.param)
        yield node


@pytest.mark.parametrize("case", CASES, ids=[f"{index}-{name}" for index, (name, *_) in enumerate(CASES)])
def test_stub_sends_the_rust_callers_bytes_and_the_node_answers_the_rust_hyperapps(
    case: Case, stub: ModuleType, wire_node: Any
) -> None:
    name, make_args, request_body, response_body, make_expected = case
    seen: list[tuple[bytes, bytes]] = []

    async def transport(target: str, body: bytes, timeout: float) -> bytes:
        assert target == TARGET
        reply = await asyncio.to_thread(
            wire_node.inject, WIRE, body, expects_response=120, source="timer:distro:sys"
        )
        assert reply is not None
        seen.append((body, reply.body))
        return bytes(reply.body)

    stub.use_transport(transport)
    try:
        result = asyncio.run(getattr(stub, name)(TARGET, *make_args(stub)))
    finally:
        stub.use_transport(None)
    ((sent, answered),) = seen
    assert sent == request_body, "the stub's request differs from the Rust caller's"
    assert answered == response_body, "the node's answer differs from the Rust hyperapp's"
    expected = make_expected(stub)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("number", "body"),
    [
        (float("nan"), b'{"EchoFloat":null}'),
        (float("inf"), b'{"EchoFloat":null}'),
        (float("-inf"), b'{"EchoFloat":null}'),
    ],
)
def test_non_finite_floats_are_sent_as_serde_json_writes_them(
    stub: ModuleType, number: float, body: bytes
) -> None:
    """`json!(f64::NAN)` is `Value::Null`, so a Rust caller sends `null` (never the non-JSON `NaN`)."""
    sent: list[bytes] = []

    async def transport(target: str, request: bytes, timeout: float) -> bytes:
        sent.append(request)
        return b"0.0"

    stub.use_transport(transport)
    try:
        assert asyncio.run(stub.echo_float(TARGET, number)) == 0.0
    finally:
        stub.use_transport(None)
    assert sent == [body]
