"""The compile cache: one compile per component, safe under concurrency, self-healing on disk.

Tiny hand-written components (WAT) keep these tests at milliseconds; the runner tests exercise the
same cache with real 18 MB componentize-py components.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import wasmtime

from hyperpy.node.runners import compile_cache
from hyperpy.node.runners.compile_cache import CACHE_SUFFIX, CompileCache, ComponentLoadError
from hyperpy.package import hyperdrive_features


def tiny_component(marker: int = 0) -> bytes:
    """A valid component exporting `init`; `marker` makes distinct contents and compiled code."""
    return wasmtime.wat2wasm(
        f"""(component
              (core module $m (func (export "f") (result i32) i32.const {marker}))
              (core instance $i (instantiate $m))
              (func $init (result u32) (canon lift (core func $i "f")))
              (export "init" (func $init)))"""
    )


class Announcements(list[str]):
    def __call__(self, text: str) -> None:
        self.append(text)


def fresh_cache(directory: Path | None) -> tuple[CompileCache, Announcements]:
    announcements = Announcements()
    return CompileCache(directory, announce=announcements, isolated=True), announcements


def test_first_compile_is_announced_and_stored(tmp_path: Path) -> None:
    cache, announcements = fresh_cache(tmp_path)
    wasm = tiny_component()
    cache.load(wasm, label="tiny.wasm")
    assert cache.compiles == 1
    assert len(announcements) == 1
    assert "compiling tiny.wasm" in announcements[0] and "for the first time" in announcements[0]
    (entry,) = cache.entries(cache.key(wasm))
    assert entry.parent == tmp_path and entry.name.endswith(CACHE_SUFFIX)


def test_a_second_cache_on_the_same_directory_loads_without_compiling(tmp_path: Path) -> None:
    wasm = tiny_component()
    first, _ = fresh_cache(tmp_path)
    first.load(wasm)
    second, announcements = fresh_cache(tmp_path)
    component = second.load(wasm)
    assert second.compiles == 0 and announcements == []
    assert "init" in component.type.exports(second.engine)


def test_the_same_bytes_give_the_same_component_in_memory(tmp_path: Path) -> None:
    cache, _ = fresh_cache(tmp_path)
    wasm = tiny_component()
    assert cache.load(wasm) is cache.load(wasm)
    assert cache.compiles == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        lambda data: b"not an elf file at all",
    ],
    ids=["truncated", "bit-flip", "garbage"],
)
def test_a_damaged_entry_is_discarded_and_rebuilt(tmp_path: Path, damage) -> None:
    wasm = tiny_component()
    writer, _ = fresh_cache(tmp_path)
    writer.load(wasm)
    (entry,) = writer.entries(writer.key(wasm))
    entry.write_bytes(damage(entry.read_bytes()))

    reader, announcements = fresh_cache(tmp_path)
    reader.load(wasm)
    assert reader.compiles == 1 and len(announcements) == 1
    (rebuilt,) = reader.entries(reader.key(wasm))
    fresh, _ = fresh_cache(tmp_path)
    fresh.load(wasm)
    assert fresh.compiles == 0, f"the rebuilt entry {rebuilt.name} must be valid"


def test_a_valid_artifact_under_a_wrong_digest_is_not_trusted(tmp_path: Path) -> None:
    """Names carry the file's own digest: a file renamed or overwritten in place is rebuilt."""
    wasm, other = tiny_component(1), tiny_component(2)
    cache, _ = fresh_cache(tmp_path)
    cache.load(wasm)
    cache.load(other)
    (entry,) = cache.entries(cache.key(wasm))
    (other_entry,) = cache.entries(cache.key(other))
    entry.write_bytes(other_entry.read_bytes())
    reader, _ = fresh_cache(tmp_path)
    reader.load(wasm)
    assert reader.compiles == 1


def test_concurrent_loads_of_one_component_compile_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, announcements = fresh_cache(tmp_path)
    wasm = tiny_component()
    started = threading.Barrier(6)
    real_component = compile_cache.Component

    def slow_compile(engine: wasmtime.Engine, data: bytes) -> object:
        threading.Event().wait(0.2)  # widen the window in which the other threads ask too
        return real_component(engine, data)

    monkeypatch.setattr(compile_cache, "Component", slow_compile)
    monkeypatch.setattr(slow_compile, "deserialize_file", real_component.deserialize_file, raising=False)
    results: list[object] = []

    def load() -> None:
        started.wait()
        results.append(cache.load(wasm))

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.compiles == 1 and len(announcements) == 1
    assert len({id(component) for component in results}) == 1


def test_without_a_directory_nothing_is_written(tmp_path: Path) -> None:
    cache, announcements = fresh_cache(None)
    cache.load(tiny_component())
    assert cache.compiles == 1
    assert "cached in" not in announcements[0]


def test_an_unwritable_directory_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cache, announcements = fresh_cache(blocker / "cache")
    component = cache.load(tiny_component())
    assert "init" in component.type.exports(cache.engine)
    assert any("could not write the compiled-component cache" in text for text in announcements)


def test_the_key_covers_content_wasmtime_version_and_engine_features(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, _ = fresh_cache(tmp_path)
    assert cache.key(tiny_component(1)) != cache.key(tiny_component(2))
    before = compile_cache.engine_fingerprint()
    monkeypatch.setattr(compile_cache, "wasmtime_version", lambda: "49.0.0")
    assert compile_cache.engine_fingerprint() != before
    monkeypatch.undo()
    monkeypatch.setitem(hyperdrive_features.HYPERDRIVE_CONFIG_FEATURES, "wasm_gc", True)
    assert compile_cache.engine_fingerprint() != before


def test_the_engine_refuses_what_hyperdrive_does_not_enable(tmp_path: Path) -> None:
    """Exceptions are on by default in wasmtime-py 50 but off in Hyperdrive's engine."""
    uses_exceptions = wasmtime.wat2wasm(
        '(component (core module $m (tag $t) (func (export "f") (try_table (throw $t)))))'
    )
    cache, _ = fresh_cache(tmp_path)
    with pytest.raises(ComponentLoadError, match="exceptions proposal not enabled"):
        cache.load(uses_exceptions, label="modern.wasm")


@pytest.mark.parametrize(
    ("core", "hyperdrive_accepts"),
    [
        pytest.param("(core module (func (result v128) v128.const i64x2 0 0))", True, id="simd"),
        pytest.param("(core module (func $f return_call $f))", True, id="tail-call"),
        pytest.param("(core module (memory 1) (memory 1))", True, id="multi-memory"),
        pytest.param(
            "(core module (global i32 (i32.add (i32.const 1) (i32.const 2))))", True, id="extended-const"
        ),
        pytest.param("(core module (tag) (func try_table (catch_all 0) end))", False, id="exceptions"),
        pytest.param("(core module (type (struct (field i32))))", False, id="gc"),
        pytest.param("(core module (memory i64 1))", False, id="memory64"),
        pytest.param("(core module (memory 1 1 shared))", False, id="threads"),
        pytest.param(
            "(core module (func (param v128 v128 v128) (result v128)"
            " local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))",
            False,
            id="relaxed-simd",
        ),
        pytest.param(
            "(type (stream u8)) (core func (canon stream.new 0))", False, id="component-model-async"
        ),
    ],
)
def test_the_hyperdrive_feature_table_accepts_what_wasmtime_33_does(
    core: str, hyperdrive_accepts: bool
) -> None:
    """The one table `hyperpy check` and the node's engine share; wasmtime-py's defaults accept all."""
    data = wasmtime.wat2wasm(f"(component {core})")
    wasmtime.component.Component(wasmtime.Engine(), data)  # the premise: only the table refuses
    config = wasmtime.Config()
    hyperdrive_features.apply_hyperdrive_features(config)
    engine = wasmtime.Engine(config)
    if hyperdrive_accepts:
        wasmtime.component.Component(engine, data)
    else:
        with pytest.raises(wasmtime.WasmtimeError):
            wasmtime.component.Component(engine, data)


CHILD_LOAD = """
import sys, threading, wasmtime
from hyperpy.node.runners import compile_cache

real = compile_cache.Component

def slow_compile(engine, data):
    threading.Event().wait(1.0)  # long enough for the other process to ask meanwhile
    return real(engine, data)

slow_compile.deserialize_file = real.deserialize_file
compile_cache.Component = slow_compile
cache = compile_cache.CompileCache(sys.argv[1], announce=lambda text: None, isolated=True)
component = cache.load(bytes.fromhex(sys.argv[2]))
assert "init" in component.type.exports(cache.engine)
print(cache.compiles)
"""


def test_two_os_processes_asking_at_once_compile_once(tmp_path: Path) -> None:
    wasm = tiny_component(7).hex()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD_LOAD, str(tmp_path), wasm], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120)[0].strip() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert sorted(outputs) == ["0", "1"]  # one compiled, the other waited and loaded its result
