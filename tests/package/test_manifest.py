"""pkg/manifest.json: exactly Hyperdrive's schema, with one `file: field: problem (fix)` line per problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hyperpy.package.manifest import (
    CapabilityGrant,
    ManifestEntry,
    ManifestError,
    OnExitRequests,
    manifest_json,
    parse_manifest,
)


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "process_name": "echo",
        "process_wasm_path": "/echo.wasm",
        "on_exit": "Restart",
        "request_networking": False,
        "request_capabilities": [],
        "grant_capabilities": [],
        "public": False,
    }
    base.update(overrides)
    return base


def problems(data: Any) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(json.dumps(data), "pkg/manifest.json")
    return str(caught.value).splitlines()


def test_every_documented_form_parses() -> None:
    requests = {
        "Requests": [
            [
                "our.os@timer:distro:sys",
                {
                    "inherit": False,
                    "expects_response": None,
                    "body": [1, 2],
                    "metadata": None,
                    "capabilities": [],
                },
                {"mime": "text/plain", "bytes": [104, 105]},
            ],
            [
                "our.os@x:y:z",
                {"inherit": True, "expects_response": 5, "body": [], "metadata": "{}", "capabilities": []},
                None,
            ],
        ]
    }
    data = [
        entry(
            request_networking=True,
            request_capabilities=[
                "http-server:distro:sys",
                {"process": "vfs:distro:sys", "params": {"root": True}},
            ],
            grant_capabilities=[{"process": "x:y:z", "params": "RemoveOther"}, "a:b:c"],
            public=True,
        ),
        entry(process_name="two", process_wasm_path="/two.wasm", on_exit="None"),
        entry(process_name="three", process_wasm_path="/three.wasm", on_exit=requests),
    ]
    parsed = parse_manifest(json.dumps(data))
    assert [e.process_name for e in parsed] == ["echo", "two", "three"]
    assert parsed[0].request_capabilities[1] == CapabilityGrant(
        process="vfs:distro:sys", params={"root": True}
    )
    assert isinstance(parsed[2].on_exit, OnExitRequests)
    assert parsed[0].wasm_file_name == "echo.wasm"
    # The writer reproduces the same JSON data (tuples become arrays, fields keep Hyperdrive's order).
    assert json.loads(manifest_json(parsed)) == data
    assert list(json.loads(manifest_json(parsed))[0]) == list(entry())


def test_writer_is_deterministic_text() -> None:
    parsed = parse_manifest(json.dumps([entry()]))
    text = manifest_json(parsed)
    assert text == manifest_json(parse_manifest(text))
    assert text.endswith("]\n")


def test_all_seven_fields_are_required() -> None:
    data = entry()
    del data["public"], data["on_exit"]
    lines = problems([data])
    assert "pkg/manifest.json: [0].on_exit: required field is missing (add this field)" in lines
    assert "pkg/manifest.json: [0].public: required field is missing (add this field)" in lines


def test_unknown_fields_are_typos_with_a_suggestion() -> None:
    lines = problems([entry(publik=True)])
    assert "pkg/manifest.json: [0].publik: unknown field (did you mean 'public'?)" in lines


def test_bools_are_strict() -> None:
    lines = problems([entry(public="true", request_networking=1)])
    assert "pkg/manifest.json: [0].public: Input should be a valid boolean (write true or false)" in lines
    assert any(line.startswith("pkg/manifest.json: [0].request_networking:") for line in lines)


def test_on_exit_forms() -> None:
    (line,) = problems([entry(on_exit="Stop")])
    assert line == (
        "pkg/manifest.json: [0].on_exit: "
        'on_exit must be "None", "Restart" or {"Requests": [[address, request, blob]]}'
    )
    bad_request = {
        "inherit": False,
        "expects_response": None,
        "body": [300],
        "metadata": None,
        "capabilities": [1],
    }
    lines = problems([entry(on_exit={"Requests": [["no-at-sign:a:b", bad_request, None]]})])
    assert any(
        "[0].on_exit.Requests[0][0]: target address 'no-at-sign:a:b' is not an address" in x for x in lines
    )
    assert any("[0].on_exit.Requests[0][1].body[0]:" in x for x in lines)
    assert any("[0].on_exit.Requests[0][1].capabilities: must be empty []" in x for x in lines)


def test_capability_entry_forms() -> None:
    lines = problems([entry(request_capabilities=["http-server", {"process": "vfs:distro:sys"}, 7])])
    assert any(
        x.startswith("pkg/manifest.json: [0].request_capabilities[0]: capability 'http-server'")
        for x in lines
    )
    assert (
        "pkg/manifest.json: [0].request_capabilities[1].params: required field is missing (add this field)"
        in lines
    )
    assert any(
        x.startswith("pkg/manifest.json: [0].request_capabilities[2]: a capability is a process id")
        for x in lines
    )


def test_params_may_be_any_json_including_null() -> None:
    (parsed,) = parse_manifest(json.dumps([entry(grant_capabilities=[{"process": "a:b:c", "params": None}])]))
    assert parsed.grant_capabilities == [CapabilityGrant(process="a:b:c", params=None)]


def test_names_and_paths_follow_hypermap_rules() -> None:
    lines = problems([entry(process_name="Echo", process_wasm_path="echo.wasm")])
    assert any(
        x.startswith("pkg/manifest.json: [0].process_name: process_name 'Echo' is not hypermap-safe")
        for x in lines
    )
    assert any(
        x.startswith("pkg/manifest.json: [0].process_wasm_path:") and "'/echo.wasm'" in x for x in lines
    )


def test_duplicate_process_names_and_non_array() -> None:
    lines = problems([entry(), entry()])
    assert lines == [
        "pkg/manifest.json: [1].process_name: process 'echo' is already declared at [0] "
        "(give every process its own name)"
    ]
    assert problems({"process_name": "echo"}) == [
        "pkg/manifest.json: the manifest must be a JSON array of process entries (wrap it in [...])"
    ]
    with pytest.raises(ManifestError, match="not valid JSON"):
        parse_manifest("[{", "pkg/manifest.json")


def test_models_are_constructible_from_python() -> None:
    made = ManifestEntry(
        process_name="a",
        process_wasm_path="/a.wasm",
        on_exit="None",
        request_networking=False,
        request_capabilities=[CapabilityGrant(process="vfs:distro:sys", params={"kind": "read"})],
        grant_capabilities=[],
        public=True,
    )
    assert json.loads(manifest_json([made]))[0]["request_capabilities"] == [
        {"process": "vfs:distro:sys", "params": {"kind": "read"}}
    ]
