"""The component ABI half of `hyperpy check`: what Hyperdrive links, calls and validates.

Hand-written WAT components cover each rule in milliseconds; real componentize-py components (see
conftest) prove the rules hold for what users actually build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wasmtime

from hyperpy.build import hyperdrive_engine
from hyperpy.build.check import (
    STANDARD_INTERFACE,
    check_path,
    component_problems,
    standard_signatures,
    strip_parameter_names,
)
from hyperpy.build.component_abi import (
    KIND_COMPONENT,
    KIND_CORE_MODULE,
    KIND_NOT_WASM,
    inspect_component,
    wasm_kind,
)

# A core module that lifts `init: func(our: string)` the way the canonical ABI needs it.
_INIT_CORE = """
  (core module $m
    (memory (export "memory") 1)
    (func (export "init") (param i32 i32))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8))
  (core instance $i (instantiate $m))
"""
_INIT_EXPORT = """
  (func (export "init") (param "our" string)
    (canon lift (core func $i "init") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
"""


def component(body: str, *, with_init: bool = True) -> bytes:
    """A component from WAT: `body` plus (by default) a correct `init` export."""
    text = "(component\n" + _INIT_CORE + body + (_INIT_EXPORT if with_init else "") + ")"
    return wasmtime.wat2wasm(text)


def problems_of(data: bytes, file: str = "pkg/x.wasm") -> list[str]:
    return [str(p) for p in component_problems(inspect_component(data, use_cache=False), file)]


def test_minimal_component_with_standard_and_wasi_imports_passes() -> None:
    data = component(
        f"""
        (import "{STANDARD_INTERFACE}" (instance
            (export "print-to-terminal" (func (param "verbosity" u8) (param "message" string)))))
        (import "wasi:cli/environment@0.2.9" (instance))
        (import "wasi:io/streams@0.2.3" (instance))
        """
    )
    assert problems_of(data) == []


def test_header_decides_the_kind() -> None:
    assert wasm_kind(component("")) == KIND_COMPONENT
    assert wasm_kind(wasmtime.wat2wasm("(module)")) == KIND_CORE_MODULE
    assert wasm_kind(b"PK\x03\x04 not wasm") == KIND_NOT_WASM
    assert wasm_kind(b"") == KIND_NOT_WASM


def test_core_module_is_its_own_clear_error() -> None:
    [problem] = problems_of(wasmtime.wat2wasm('(module (func (export "init")))'))
    assert problem.startswith("pkg/x.wasm: ")
    assert "core WebAssembly module, not a component" in problem
    assert "hyperpy build" in problem


def test_non_wasm_file_is_reported() -> None:
    [problem] = problems_of(b"#!/bin/sh\necho hi\n")
    assert "not a WebAssembly binary" in problem


def test_foreign_import_names_the_import_and_the_fix() -> None:
    data = component('(import "acme:db/query@1.0.0" (instance (export "run" (func))))')
    [problem] = problems_of(data)
    assert "pkg/x.wasm: import acme:db/query@1.0.0: foreign import" in problem
    assert "remove the import from your WIT world" in problem


def test_wasi_outside_the_command_world_is_refused() -> None:
    data = component('(import "wasi:http/outgoing-handler@0.2.0" (instance))')
    [problem] = problems_of(data)
    assert "import wasi:http/outgoing-handler@0.2.0" in problem
    assert "not part of the WASI 0.2 command world" in problem


def test_wasi_0_3_is_refused_even_for_a_command_world_interface() -> None:
    [problem] = problems_of(component('(import "wasi:clocks/monotonic-clock@0.3.0" (instance))'))
    assert "WASI 0.3" in problem
    assert "0.2 (p2) only" in problem


def test_other_version_of_the_standard_interface_is_refused() -> None:
    [problem] = problems_of(component('(import "hyperware:process/standard@0.8.0" (instance))'))
    assert "import hyperware:process/standard@0.8.0" in problem
    assert f"only {STANDARD_INTERFACE}" in problem


def test_unknown_standard_function_is_refused() -> None:
    data = component(f'(import "{STANDARD_INTERFACE}" (instance (export "launch-rockets" (func))))')
    [problem] = problems_of(data)
    assert f"import {STANDARD_INTERFACE} function launch-rockets" in problem
    assert "no such function" in problem


def test_standard_function_with_another_signature_is_refused() -> None:
    data = component(
        f"""(import "{STANDARD_INTERFACE}" (instance
              (export "print-to-terminal" (func (param "verbosity" u32) (param "message" string)))))"""
    )
    [problem] = problems_of(data)
    assert "function print-to-terminal: signature differs" in problem
    assert "found func(verbosity: u32, message: string)" in problem
    assert "expected func(verbosity: u8, message: string)" in problem


def test_parameter_names_do_not_matter_for_linking() -> None:
    data = component(
        f"""(import "{STANDARD_INTERFACE}" (instance
              (export "print-to-terminal" (func (param "level" u8) (param "text" string)))))"""
    )
    assert problems_of(data) == []


def test_missing_init_export() -> None:
    [problem] = problems_of(component("", with_init=False))
    assert "export init" in problem
    assert "does not export `init: func(our: string)`" in problem


@pytest.mark.parametrize(
    ("export", "found"),
    [
        ('(func (export "init") (canon lift (core func $i "noargs")))', "func()"),
        ('(func (export "init") (param "our" u32) (canon lift (core func $i "u32")))', "func(our: u32)"),
    ],
)
def test_init_with_the_wrong_signature(export: str, found: str) -> None:
    body = """
      (core module $n (func (export "noargs")) (func (export "u32") (param i32)))
      (core instance $j (instantiate $n))
    """
    data = component(body + export.replace("$i", "$j"), with_init=False)
    [problem] = problems_of(data)
    assert f"exported as `init: {found}`" in problem
    assert "init: func(our: string)" in problem


@pytest.mark.parametrize(
    ("core", "feature"),
    [
        ("(core module (tag) (func try_table (catch_all 0) end))", "exception-handling"),
        ("(core module (type (struct (field i32))))", "gc"),
        ("(core module (memory i64 1))", "memory64"),
        ("(core module (memory 1 1 shared))", "threads"),
        ("(type (stream u8)) (core func (canon stream.new 0))", "component-model-async"),
        (
            """(core module $a (func (export "f") (result i32) i32.const 0)
                 (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0))
               (core instance $ai (instantiate $a))
               (func (export "f") async
                 (canon lift (core func $ai "f") async (callback (core func $ai "cb"))))""",
            "component-model-async",
        ),
    ],
)
def test_features_hyperdrive_does_not_enable_are_named(core: str, feature: str) -> None:
    facts = inspect_component(component(core), use_cache=False)
    assert facts.validation_error is not None
    [problem] = [str(p) for p in component_problems(facts, "pkg/x.wasm")]
    assert "pkg/x.wasm: wasm features: uses the WebAssembly feature " + feature in problem
    assert "wasmtime 33 does not enable" in problem


@pytest.mark.parametrize(
    "core",
    [
        "(core module (func $f return_call $f))",  # tail-call
        "(core module (memory 1) (memory 1))",  # multi-memory
        "(core module (global i32 (i32.add (i32.const 1) (i32.const 2))))",  # extended-const
        "(core module (func (result v128) v128.const i64x2 0 0))",  # simd (wasm 2.0)
    ],
)
def test_features_hyperdrive_enables_pass(core: str) -> None:
    assert problems_of(component(core)) == []


def test_facts_are_cached_by_content_and_damaged_entries_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYPERPY_CACHE_DIR", str(tmp_path))
    data = component('(import "acme:db/query@1.0.0" (instance))')
    first = inspect_component(data)
    [entry] = list((tmp_path / "check").iterdir())
    assert json.loads(entry.read_text())["imports"] == {"acme:db/query@1.0.0": {}}
    assert inspect_component(data) == first
    entry.write_text("{ damaged")
    assert inspect_component(data) == first
    assert json.loads(entry.read_text())["sha256"] == first.sha256


def test_strip_parameter_names_keeps_nested_record_fields() -> None:
    signature = "func(caps: list<record { issuer: string, params: string }>, n: u8) -> option<u8>"
    assert (
        strip_parameter_names(signature)
        == "func(list<record { issuer: string, params: string }>, u8) -> option<u8>"
    )


# --- real componentize-py components -----------------------------------------------------------


def test_raw_echo_built_with_componentize_py_passes(good_wasm: Path) -> None:
    facts = inspect_component(good_wasm.read_bytes())
    assert facts.validates, facts.validation_error
    assert component_problems(facts, "echo.wasm") == []
    assert STANDARD_INTERFACE in facts.imports
    assert all(name == STANDARD_INTERFACE or name.startswith("wasi:") for name in facts.imports)
    report = check_path(good_wasm)
    assert report.ok
    assert "init: func(our: string)" in report.summary[0]


def test_shipped_standard_signatures_match_hyperware_wit(good_wasm: Path) -> None:
    """standard_abi.json must be what a component built from wit/hyperware.wit imports."""
    built = inspect_component(good_wasm.read_bytes()).imports[STANDARD_INTERFACE]
    assert built == standard_signatures(), (
        "hyperpy/build/standard_abi.json is stale; regenerate its 'functions' from:\n"
        + json.dumps(built, indent=2, sort_keys=True)
    )


def test_componentize_py_foreign_import_is_refused(foreign_import_wasm: Path) -> None:
    report = check_path(foreign_import_wasm)
    assert not report.ok
    [problem] = report.problems
    assert problem.field == "import test:foreign/lookup@0.1.0"
    assert "foreign import" in problem.message


def test_componentize_py_wrong_export_is_refused(wrong_export_wasm: Path) -> None:
    [problem] = check_path(wrong_export_wasm).problems
    assert problem.field == "export init"
    assert "init: func(our: string) -> string" in problem.message


def test_hyperdrive_engine_refuses_what_wasmtime_py_accepts_by_default() -> None:
    """Guards the premise: a default wasmtime-py 50 engine would let these through."""
    data = component("(core module (tag) (func try_table (catch_all 0) end))")
    wasmtime.component.Component(wasmtime.Engine(), data)
    with pytest.raises(wasmtime.WasmtimeError):
        wasmtime.component.Component(hyperdrive_engine.hyperdrive_engine(), data)
