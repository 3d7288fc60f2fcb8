"""hyperpy's on-disk caches: where they live, how they are kept from growing, and the deflate cache.

Why one module: the build (components, staged inputs, deflated zip entries), the node (compiled
components), `hyperpy check` (component facts) and `hyperpy bench` each keep a cache, and before this
module each decided on its own what `$HYPERPY_CACHE_DIR` means, how "least recently used" is
measured and how a deflated component is remembered. They now share one rule for each:

* **Where**: `$HYPERPY_CACHE_DIR` is the root every cache lives under, one sub-directory per kind
  (`compiled/`, `check/`, `bench/`, `deflate/`, and the build's `components/`, `site/`, ...). Unset,
  machine-wide caches use the user cache directory (`$XDG_CACHE_HOME/hyperpy` or
  `~/.cache/hyperpy`), while the build keeps its per-project default `<project>/target/hyperpy` (a
  build's inputs belong with its project; `hyperpy.build.pipeline.cache_root`).
* **How big**: `prune` deletes least recently used entries ("used" = the file's mtime, written on
  store and touched with `mark_used` on every hit) past a size and/or a count, never the entry just
  written, and clears day-old lock/temporary leftovers of vanished entries.
* **Deflate**: `DeflateCache` remembers the deflated form of large files by content hash (in memory,
  and on disk when given a directory), so re-zipping a package whose 18 MB component did not change
  costs a hash instead of a second of compression. The build and the node's installer both zip pkg/
  through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

from hyperpy.package.archive import deflate

CACHE_ENV = "HYPERPY_CACHE_DIR"
LOCK_SUFFIX = ".lock"
# Lock and temporary files whose entry is gone are removed once they are this old (a compile in
# progress holds its lock for seconds, not a day).
ORPHAN_AGE_S = 24 * 3600


def cache_override() -> Path | None:
    """`$HYPERPY_CACHE_DIR` (user-expanded, absolute) when set, else None."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser().resolve() if root else None


def machine_cache_dir(kind: str) -> Path:
    """`$HYPERPY_CACHE_DIR/<kind>`, else `<$XDG_CACHE_HOME or ~/.cache>/hyperpy/<kind>`."""
    override = cache_override()
    if override is not None:
        return override / kind
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "hyperpy" / kind


def entry_key(path: Path) -> str:
    """The cache key of an entry, lock or temporary file: its name up to the first dot after the start."""
    return path.name.lstrip(".").split(".", 1)[0]


def mark_used(entry: Path) -> None:
    """Record that `entry` was just used (its mtime orders the pruning); best effort."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def prune(
    directory: Path,
    suffix: str,
    *,
    max_bytes: int | None = None,
    keep_count: int | None = None,
    keep: Path | None = None,
) -> list[Path]:
    """Delete least recently used `*<suffix>` entries until at most `max_bytes` and `keep_count` remain.

    Never deletes `keep` (the entry just written). Also removes the lock files of deleted entries,
    and lock or temporary files older than a day whose entry does not exist. Returns the entries
    deleted, oldest first. Files that vanish meanwhile (another process pruning) are skipped.
    """
    entries: list[tuple[float, int, Path]] = []
    leftovers: list[tuple[float, Path]] = []
    try:
        listing = list(directory.iterdir())
    except OSError:
        return []
    for path in listing:
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.name.endswith(suffix) and not path.name.startswith("."):
            entries.append((stat.st_mtime, stat.st_size, path))
        elif path.name.startswith(".") and path.name.endswith((LOCK_SUFFIX, ".tmp")):
            leftovers.append((stat.st_mtime, path))
    total = sum(size for _, size, _ in entries)
    count = len(entries)
    deleted: list[Path] = []
    for _, size, path in sorted(entries, key=lambda row: (row[0], row[2].name)):
        over_size = max_bytes is not None and total > max_bytes
        over_count = keep_count is not None and count > keep_count
        if not (over_size or over_count):
            break
        if path == keep:
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            deleted.append(path)
        total -= size
        count -= 1
    live_keys = {entry_key(path) for _, _, path in entries if path not in deleted}
    deleted_keys = {entry_key(path) for path in deleted}
    old = time.time() - ORPHAN_AGE_S
    for mtime, path in leftovers:
        key = entry_key(path)
        lock_of_deleted = key in deleted_keys and path.name.endswith(LOCK_SUFFIX)
        if lock_of_deleted or (key not in live_keys and mtime < old):
            with contextlib.suppress(OSError):
                path.unlink()
    return deleted


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


DEFLATE_SUFFIX = ".deflate"


class DeflateCache:
    """Remembers the deflated form of files zipped before (keyed by content hash).

    Why: the zip's sha256 is a package's version hash, so the build zips pkg/ after every change and
    the node zips a package directory on every install; deflating an 18 MB component takes over a
    second, while a dev loop or a test suite zips the same component again and again with only the
    manifest changed. Files under `min_size` are deflated directly (hashing them costs about as much).
    Entries live in memory (up to `memory_limit` bytes, least recently used dropped first) and, when
    `directory` is given, on disk too (pruned by `prune_disk`), so other processes benefit. Thread-safe.
    """

    def __init__(
        self, directory: Path | None = None, *, min_size: int = 64 << 10, memory_limit: int = 512 << 20
    ) -> None:
        self.directory = directory
        self._min_size = min_size
        self._limit = memory_limit
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __call__(self, data: bytes) -> bytes:
        if len(data) < self._min_size:
            return deflate(data)
        key = hashlib.sha256(data).digest()
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                return cached
        path = None if self.directory is None else self.directory / f"{key.hex()[:40]}{DEFLATE_SUFFIX}"
        packed = None
        if path is not None and path.is_file():
            with contextlib.suppress(OSError):
                packed = path.read_bytes()
                mark_used(path)
        if packed is None:
            packed = deflate(data)
            if path is not None:
                with contextlib.suppress(OSError):
                    write_atomically(path, packed)
        self._remember(key, packed)
        return packed

    def _remember(self, key: bytes, packed: bytes) -> None:
        with self._lock:
            if key in self._entries or len(packed) > self._limit:
                return
            while self._entries and self._size + len(packed) > self._limit:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)
            self._entries[key] = packed
            self._size += len(packed)

    def prune_disk(self, keep_count: int) -> None:
        """Keep at most `keep_count` deflated files on disk (least recently used go first)."""
        if self.directory is not None:
            prune(self.directory, DEFLATE_SUFFIX, keep_count=keep_count)
