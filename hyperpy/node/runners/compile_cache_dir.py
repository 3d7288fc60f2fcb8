"""Where compiled components are cached on this machine, and how the cache is kept from growing forever.

Why one machine-wide directory: a cache entry is keyed by the component's sha256 plus a fingerprint
of wasmtime's version, the platform and the engine features (`compile_cache.CompileCache.key`), so an
entry is valid for any node, project or test session that meets the same bytes. A cache inside each
node's home made every node with a temporary home (tests, `hyperpy run` without `--home`) compile
every component again: ~3.5 s each on an idle machine, tens of seconds on a busy one.

Location: `$HYPERPY_CACHE_DIR/compiled` when that variable is set, else the user cache directory,
`$XDG_CACHE_HOME/hyperpy/compiled` or `~/.cache/hyperpy/compiled` (the same place `hyperpy run`
precompiles into). A `Node(cache_dir=...)` overrides it per node.

Bound: an entry is ~2x its component (~36 MB for a componentize-py process), and every rebuild of a
process adds one, so the directory is pruned least-recently-used first whenever an entry is added
and the total passes `$HYPERPY_COMPILED_CACHE_MB` (default 2048 MB). "Used" is the file's mtime:
written on store and touched on every load from disk. A pruned entry costs one compile the next time
it is needed; a file that is pruned while a process has it mapped stays valid for that process
(POSIX keeps unlinked files alive while mapped).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

CACHE_ENV = "HYPERPY_CACHE_DIR"
MAX_MB_ENV = "HYPERPY_COMPILED_CACHE_MB"
DEFAULT_MAX_MB = 2048
CACHE_SUFFIX = ".cwasm"
LOCK_SUFFIX = ".lock"
# Lock and temporary files whose entry is gone are removed once they are this old (a compile in
# progress holds its lock for seconds, not a day).
ORPHAN_AGE_S = 24 * 3600


def default_cache_dir() -> Path:
    """`$HYPERPY_CACHE_DIR/compiled`, else `<$XDG_CACHE_HOME or ~/.cache>/hyperpy/compiled`."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "compiled"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "hyperpy" / "compiled"


def max_cache_bytes() -> int:
    """The size the cache is pruned down to: `$HYPERPY_COMPILED_CACHE_MB` MB, else 2048 MB.

    Raises ValueError naming the variable when it is not a positive whole number of megabytes.
    """
    text = os.environ.get(MAX_MB_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_MB * 1_000_000
    try:
        megabytes = int(text)
    except ValueError:
        megabytes = 0
    if megabytes <= 0:
        raise ValueError(
            f"{MAX_MB_ENV}={text!r}: expected a positive whole number of megabytes (e.g. 2048), "
            "the size the compiled-component cache is pruned down to"
        )
    return megabytes * 1_000_000


def entry_key(path: Path) -> str:
    """The cache key of an entry, lock or temporary file: its name up to the first dot after the start."""
    return path.name.lstrip(".").split(".", 1)[0]


def mark_used(entry: Path) -> None:
    """Record that `entry` was just loaded (its mtime orders the pruning); best effort."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def prune(directory: Path, max_bytes: int, keep: Path | None = None) -> list[Path]:
    """Delete least-recently-used entries until the cache holds at most `max_bytes`; never `keep`.

    Also removes the lock files of deleted entries, and lock or temporary files older than a day
    whose entry does not exist. Returns the entries deleted. Files that vanish meanwhile (another
    process pruning) are skipped.
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
        if path.name.endswith(CACHE_SUFFIX):
            entries.append((stat.st_mtime, stat.st_size, path))
        elif path.name.startswith(".") and path.name.endswith((LOCK_SUFFIX, ".tmp")):
            leftovers.append((stat.st_mtime, path))
    total = sum(size for _, size, _ in entries)
    deleted: list[Path] = []
    for _, size, path in sorted(entries, key=lambda row: (row[0], row[2].name)):
        if total <= max_bytes:
            break
        if path == keep:
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            deleted.append(path)
        total -= size
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
