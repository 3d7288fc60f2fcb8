"""The one cache rule set: where caches live, least-recently-used pruning, the deflate cache."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

from hyperpy.package.archive import deflate
from hyperpy.package.cache import DeflateCache, machine_cache_dir, prune


def test_every_machine_cache_lives_under_hyperpy_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HYPERPY_CACHE_DIR", str(tmp_path / "root"))
    assert machine_cache_dir("compiled") == tmp_path / "root" / "compiled"
    monkeypatch.delenv("HYPERPY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert machine_cache_dir("check") == tmp_path / "xdg" / "hyperpy" / "check"


def test_prune_by_count_keeps_the_most_recently_used(tmp_path: Path) -> None:
    for index in range(5):
        entry = tmp_path / f"{index}.wasm"
        entry.write_bytes(b"x")
        os.utime(entry, (1000 + index, 1000 + index))
    os.utime(tmp_path / "0.wasm", (5000, 5000))  # used recently, so kept although created first
    (tmp_path / "other.txt").write_text("not a cache entry")
    deleted = prune(tmp_path, ".wasm", keep_count=2)
    assert [path.name for path in deleted] == ["1.wasm", "2.wasm", "3.wasm"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.wasm", "4.wasm", "other.txt"]


def test_deflate_cache_answers_from_memory_then_disk(tmp_path: Path) -> None:
    data = os.urandom(50_000) * 4  # 200 kB, compressible
    first = DeflateCache(tmp_path)
    packed = first(data)
    assert zlib.decompress(packed, -15) == data
    (stored,) = tmp_path.glob("*.deflate")
    assert stored.read_bytes() == packed
    # Another process (a new cache on the same directory) reads it instead of compressing again:
    # prove it by planting different bytes under the same key.
    stored.write_bytes(b"planted")
    assert DeflateCache(tmp_path)(data) == b"planted"
    assert first(data) == packed  # memory first
    assert first(b"small") == deflate(b"small")  # below min_size: deflated directly, not stored
    assert len(list(tmp_path.glob("*.deflate"))) == 1


def test_deflate_cache_disk_is_pruned_by_count(tmp_path: Path) -> None:
    cache = DeflateCache(tmp_path, min_size=1)
    for index in range(4):
        cache(bytes([index]) * 10)
    cache.prune_disk(keep_count=2)
    assert len(list(tmp_path.glob("*.deflate"))) == 2
