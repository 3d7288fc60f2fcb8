"""The machine-wide compiled-component cache: where it is, and that it stays within its bound."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from hyperpy.node import Node
from hyperpy.node.runners.compile_cache import CompileCache
from hyperpy.node.runners.compile_cache_dir import default_cache_dir, max_cache_bytes
from hyperpy.package.cache import prune

from .components import cache_root

MB = 1_000_000


def test_the_default_cache_is_machine_wide(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HYPERPY_CACHE_DIR", str(tmp_path / "root"))
    assert default_cache_dir() == tmp_path / "root" / "compiled"
    monkeypatch.delenv("HYPERPY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "hyperpy" / "compiled"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "hyperpy" / "compiled"


def test_a_node_with_a_temporary_home_uses_the_machine_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HYPERPY_CACHE_DIR", str(tmp_path / "root"))
    temporary = Node()
    try:
        assert temporary.cache_dir == tmp_path / "root" / "compiled"
    finally:
        temporary.close()  # removes the home it made
    assert Node(home=tmp_path / "a").cache_dir == Node(home=tmp_path / "b").cache_dir
    assert Node(cache_dir=tmp_path / "own").cache_dir == tmp_path / "own"


def test_the_bound_comes_from_the_environment_and_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HYPERPY_COMPILED_CACHE_MB", raising=False)
    assert max_cache_bytes() == 2048 * MB
    monkeypatch.setenv("HYPERPY_COMPILED_CACHE_MB", "300")
    assert max_cache_bytes() == 300 * MB
    monkeypatch.setenv("HYPERPY_COMPILED_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="HYPERPY_COMPILED_CACHE_MB"):
        max_cache_bytes()


def _entry(directory: Path, key: str, size_mb: int, age_s: float) -> Path:
    path = directory / f"{key}-fingerprint.0123456789abcdef.cwasm"
    path.write_bytes(b"\0" * (size_mb * MB))
    (directory / f".{key}-fingerprint.lock").touch()
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def test_pruning_deletes_least_recently_used_entries_and_their_locks(tmp_path: Path) -> None:
    oldest = _entry(tmp_path, "aaa", 2, 300)
    older = _entry(tmp_path, "bbb", 2, 200)
    recent = _entry(tmp_path, "ccc", 2, 100)
    newest = _entry(tmp_path, "ddd", 2, 0)
    deleted = prune(tmp_path, ".cwasm", max_bytes=5 * MB, keep=newest)
    assert deleted == [oldest, older]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [recent.name, newest.name, ".ccc-fingerprint.lock", ".ddd-fingerprint.lock"]
    )


def test_pruning_never_deletes_the_entry_just_written(tmp_path: Path) -> None:
    old_but_new = _entry(tmp_path, "aaa", 3, 500)
    other = _entry(tmp_path, "bbb", 3, 10)
    assert prune(tmp_path, ".cwasm", max_bytes=1 * MB, keep=old_but_new) == [other]
    assert old_but_new.exists()


def test_pruning_removes_day_old_leftovers_of_vanished_entries(tmp_path: Path) -> None:
    kept = _entry(tmp_path, "aaa", 1, 0)
    stale_lock = tmp_path / ".zzz-fingerprint.lock"
    stale_tmp = tmp_path / ".yyy-fingerprint.123.456.tmp"
    fresh_lock = tmp_path / ".xxx-fingerprint.lock"  # a compile in progress
    for path in (stale_lock, stale_tmp, fresh_lock):
        path.touch()
    day_ago = time.time() - 2 * 24 * 3600
    for path in (stale_lock, stale_tmp):
        os.utime(path, (day_ago, day_ago))
    assert prune(tmp_path, ".cwasm", max_bytes=100 * MB) == []
    assert kept.exists() and fresh_lock.exists()
    assert not stale_lock.exists() and not stale_tmp.exists()


def test_loading_an_entry_from_disk_marks_it_recently_used(
    tmp_path: Path, built_components: dict[str, Path]
) -> None:
    wasm = built_components["echo"].read_bytes()
    shared = CompileCache(cache_root() / "compiled")
    shared.load(wasm)  # compiled (or loaded) into the shared test cache
    (source,) = shared.entries(shared.key(wasm))
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(copy, (week_ago, week_ago))
    cache = CompileCache(tmp_path, isolated=True)
    cache.load(wasm)
    assert cache.compiles == 0
    assert copy.stat().st_mtime > week_ago + 3600
