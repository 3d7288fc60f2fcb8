"""The pieces `hyperpy bench`'s node figures are built from, checked for correctness (not speed).

A figure is only meaningful if its baseline does the same work as its subject: the raw loop must
really make N round trips between ping and pong, and the memory package must be a valid package.
"""

from __future__ import annotations

from pathlib import Path

from hyperpy.bench.figures import node as figures
from hyperpy.package.manifest import parse_manifest


def sources_as_package(tmp_path: Path) -> figures.BuiltPackage:
    """The ping/pong sources as a package for native mode (nothing built: modules are imported)."""
    return figures.BuiltPackage(
        figures.SOURCES, tmp_path / "none.zip", tmp_path / "pkg", tmp_path / "compiled"
    )


def test_the_raw_native_loop_makes_the_requested_round_trips(tmp_path: Path) -> None:
    processes = figures.RawProcesses(
        sources_as_package(tmp_path), "native", [("ping", "ping"), ("pong", "pong")]
    )
    try:
        assert processes.request("ping", b"25") == b"25"
        assert processes.request("pong", b"echo me") == b"echo me"
    finally:
        processes.stop()
    assert not any(thread.is_alive() for thread in processes.threads)


def test_the_memory_package_has_one_valid_entry_per_process(tmp_path: Path) -> None:
    package = figures.BuiltPackage(tmp_path, tmp_path / "x.zip", tmp_path / "built", tmp_path / "compiled")
    package.pkg_dir.mkdir()
    (package.pkg_dir / "pong.wasm").write_bytes(b"\x00asm")
    pkg = figures._memory_package(package, tmp_path / "memory", ["pong-0", "pong-1", "pong-2"])
    entries = parse_manifest((pkg / "manifest.json").read_text(encoding="utf-8"))
    assert [entry.process_name for entry in entries] == ["pong-0", "pong-1", "pong-2"]
    assert {entry.process_wasm_path for entry in entries} == {"/pong.wasm"}
    assert (pkg / "pong.wasm").read_bytes() == b"\x00asm"
