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
(POSIX keeps unlinked files alive while mapped). The pruning itself is `hyperpy.package.cache.prune`,
shared with the build's caches.
"""

from __future__ import annotations

import os
from pathlib import Path

from hyperpy.package.cache import machine_cache_dir

MAX_MB_ENV = "HYPERPY_COMPILED_CACHE_MB"
DEFAULT_MAX_MB = 2048
CACHE_SUFFIX = ".cwasm"


def default_cache_dir() -> Path:
    """`$HYPERPY_CACHE_DIR/compiled`, else `<$XDG_CACHE_HOME or ~/.cache>/hyperpy/compiled`
    (`hyperpy.package.cache.machine_cache_dir`, the one rule for where hyperpy's caches live)."""
    return machine_cache_dir("compiled")


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
