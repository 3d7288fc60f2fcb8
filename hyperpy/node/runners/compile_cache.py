"""Compiled components, shared in memory and cached on disk: one compile per component per machine.

Why: Cranelift needs ~3.5 s (more on a busy 2-core machine) to compile an 18 MB componentize-py
component, while loading the serialized result takes ~2 ms (`Component.deserialize_file`, an mmap).
Every node boot, every Restart, every test would otherwise pay the compile. So:

* **one Engine** per Python process, configured with the WebAssembly features Hyperdrive's wasmtime 33
  accepts (below), shared by every Store (wasmtime engines are thread-safe);
* **in memory**, a component compiled or loaded once is shared by every process and every node of the
  Python process (weakly held: it lives as long as a runner uses it);
* **on disk**, `<key>.<digest>.cwasm` where `key` = sha256 of the wasm + a fingerprint of the
  wasmtime version, platform and engine features, and `digest` = the start of the sha256 of the file
  itself. Files are written to a temporary name, fsynced and renamed into place, so a reader never
  sees half a file; a file whose content does not match its digest, or that wasmtime refuses, is
  deleted and rebuilt — a corrupt cache costs one compile, never a crash;
* **compile once**: a per-key lock inside the Python process and an advisory file lock across
  processes (POSIX `flock`; elsewhere two processes may both compile, which is still correct);
* the first compile of a component is **announced** (it takes seconds) through `announce`;
* **where and how big**: the default directory is machine-wide, and the directory is pruned least
  recently used first when a new entry takes it over its limit (`compile_cache_dir`).

The engine's feature set is `hyperpy.package.hyperdrive_features`, the table `hyperpy check` validates
against too: the WebAssembly 2.0 set plus extended-const, multi-memory and tail-call, with everything
newer that wasmtime-py 50 enables by default (component-model async, exceptions, GC, ...) switched
off, so a component that would not load on Hyperdrive does not load here either.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from importlib import metadata as importlib_metadata
from pathlib import Path

import wasmtime
from wasmtime.component import Component

from hyperpy.node.runners.compile_cache_dir import CACHE_SUFFIX, DEFAULT_MAX_MB, max_cache_bytes
from hyperpy.package.cache import mark_used, prune
from hyperpy.package.hyperdrive_features import (
    HYPERDRIVE_CAPI_FEATURES_OFF,
    HYPERDRIVE_CONFIG_FEATURES,
    apply_hyperdrive_features,
)

try:  # advisory cross-process lock; POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_DIGEST_CHARS = 16  # of the file's sha256, in its name: enough to detect damage, short enough to read

Announce = Callable[[str], None]


def announce_on_stderr(text: str) -> None:
    """Default announcer: one line on the host's stderr (the node's terminal when run from the CLI)."""
    sys.stderr.write(f"hyperpy: {text}\n")
    sys.stderr.flush()


def wasmtime_version() -> str:
    return importlib_metadata.version("wasmtime")


def engine_config() -> wasmtime.Config:
    """A fresh Config with Hyperdrive's feature set (a Config is consumed by the Engine it builds)."""
    config = wasmtime.Config()
    apply_hyperdrive_features(config)
    # Lets `kill` stop a component that loops without host calls (hyperpy.node.runners.run_limits).
    # It changes the compiled code, so it is part of the fingerprint below.
    config.epoch_interruption = True
    return config


def engine_fingerprint() -> str:
    """Everything besides the wasm that decides whether a serialized component can be loaded."""
    description = {
        "wasmtime": wasmtime_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "features": HYPERDRIVE_CONFIG_FEATURES,
        "off": HYPERDRIVE_CAPI_FEATURES_OFF,
        "epoch_interruption": True,
    }
    text = json.dumps(description, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_engine: wasmtime.Engine | None = None
_engine_lock = threading.Lock()


def shared_engine() -> wasmtime.Engine:
    """The Python process's one Engine (thread-safe in wasmtime; Stores are per process thread)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = wasmtime.Engine(engine_config())
        return _engine


class ComponentLoadError(Exception):
    """The bytes are not a component this node can compile. The message names the problem and fix."""


def describe_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _not_a_component(data: bytes, label: str) -> str | None:
    """A precise message when the bytes are plainly not a component (Component() would be vaguer)."""
    if len(data) < 8 or data[:4] != b"\x00asm":
        return (
            f"{label} is not WebAssembly (no \\0asm header); the process's wasm file must be a component "
            "built by `hyperpy build` or kit"
        )
    if data[4:8] == b"\x01\x00\x00\x00":
        return (
            f"{label} is a core WebAssembly module, not a component; Hyperware nodes run components only "
            "(kit wraps core modules with `wasm-tools component new`; `hyperpy build` emits components)"
        )
    return None


class _InProcessComponents:
    """Components already compiled or loaded in this Python process, and the per-key compile locks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.components: weakref.WeakValueDictionary[str, Component] = weakref.WeakValueDictionary()
        self.key_locks: dict[str, threading.Lock] = {}

    def key_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self.key_locks.setdefault(key, threading.Lock())


_SHARED_IN_PROCESS = _InProcessComponents()


class CompileCache:
    """Turns wasm bytes into a compiled `Component` of `shared_engine()`, as cheaply as possible.

    `directory` None keeps nothing on disk (`compile_cache_dir.default_cache_dir()` is the usual
    one). `isolated=True` gives the instance its own in-memory table, so a cold start can be measured
    (or tested) inside a process that already loaded the component; normally all instances share one
    table, whatever their directory. `max_bytes` bounds the directory (default:
    `compile_cache_dir.max_cache_bytes()`); it is pruned whenever this instance adds an entry.
    """

    def __init__(
        self,
        directory: Path | str | None,
        *,
        announce: Announce = announce_on_stderr,
        isolated: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        self.directory = None if directory is None else Path(directory)
        self.max_bytes = max_bytes
        self.announce = announce
        self.engine = shared_engine()
        self._fingerprint = engine_fingerprint()
        self._in_process = _InProcessComponents() if isolated else _SHARED_IN_PROCESS
        self.compiles = 0  # how many times this instance ran the compiler (observable by tests, bench)

    def key(self, wasm: bytes) -> str:
        return f"{hashlib.sha256(wasm).hexdigest()}-{self._fingerprint}"

    def load(self, wasm: bytes, *, label: str = "component") -> Component:
        """The compiled component for `wasm`: from memory, else from disk, else compiled (announced).

        Raises `ComponentLoadError` when wasmtime cannot compile the bytes (not a component, invalid,
        or needing a WebAssembly feature Hyperdrive does not enable).
        """
        key = self.key(wasm)
        component = self._in_process.components.get(key)
        if component is not None:
            return component
        with self._in_process.key_lock(key):
            component = self._in_process.components.get(key)
            if component is None:
                component = self._load_from_disk(key)
            if component is None:
                component = self._compile_and_store(key, wasm, label)
            self._in_process.components[key] = component
            return component

    # --- disk ----------------------------------------------------------------------------------

    def entries(self, key: str) -> list[Path]:
        """Cache files for `key` (normally zero or one)."""
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"{key}.*{CACHE_SUFFIX}"))

    def _load_from_disk(self, key: str) -> Component | None:
        for path in self.entries(key):
            expected = path.name[len(key) + 1 : -len(CACHE_SUFFIX)]
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS] != expected:
                self._discard(path)
                continue
            try:
                # mmap of the verified file: 2 ms, and its pages are shared with other processes.
                component = Component.deserialize_file(self.engine, str(path))
            except wasmtime.WasmtimeError:
                self._discard(path)
                continue
            mark_used(path)
            return component
        return None

    def _compile_and_store(self, key: str, wasm: bytes, label: str) -> Component:
        problem = _not_a_component(wasm, label)
        if problem is not None:
            raise ComponentLoadError(problem)
        with self._cross_process_lock(key):
            component = self._load_from_disk(key)  # another process may have compiled it meanwhile
            if component is not None:
                return component
            where = f"; cached in {self.directory}" if self.directory is not None else ""
            self.announce(
                f"compiling {label} ({describe_size(len(wasm))}) for the first time: this takes a few "
                f"seconds{where}"
            )
            self.compiles += 1
            try:
                component = Component(self.engine, wasm)
            except wasmtime.WasmtimeError as exc:
                raise ComponentLoadError(
                    f"{label} could not be compiled: {headline_and_cause(str(exc))}. A Hyperware node "
                    "loads only valid components that use WebAssembly 2.0 features (plus extended-const, "
                    "multi-memory and tail-call); rebuild it with `hyperpy build`, or run `hyperpy check` "
                    "on the package"
                ) from exc
            self._store(key, component)
            return component

    def _store(self, key: str, component: Component) -> None:
        """Write the serialized component atomically; a cache that cannot be written is only slower."""
        if self.directory is None:
            return
        temporary: Path | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            data = component.serialize()
            digest = hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]
            final = self.directory / f"{key}.{digest}{CACHE_SUFFIX}"
            temporary = self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            temporary = None
            for stale in self.entries(key):
                if stale != final:
                    self._discard(stale)
            self._prune(final)
        except OSError as exc:
            self.announce(f"could not write the compiled-component cache in {self.directory}: {exc}")
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()

    def _prune(self, keep: Path) -> None:
        """Keep the directory within its bound (least recently used entries go first)."""
        assert self.directory is not None
        max_bytes = self.max_bytes
        if max_bytes is None:
            try:
                max_bytes = max_cache_bytes()
            except ValueError as exc:
                self.announce(f"{exc}; using {DEFAULT_MAX_MB} MB")
                max_bytes = DEFAULT_MAX_MB * 1_000_000
        prune(self.directory, CACHE_SUFFIX, max_bytes=max_bytes, keep=keep)

    @staticmethod
    def _discard(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()

    @contextlib.contextmanager
    def _cross_process_lock(self, key: str) -> Iterator[None]:
        if self.directory is None or fcntl is None:
            yield
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(self.directory / f".{key}.lock", "a+b")  # noqa: SIM115 - held across the yield
        except OSError:
            yield  # an unwritable directory: compile without the lock (and without storing)
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def headline_and_cause(message: str) -> str:
    """wasmtime's first line, plus its root cause when that says something else."""
    lines = message.strip().splitlines()
    headline = lines[0].strip() if lines else message
    cause = root_cause(message)
    return headline if cause == headline else f"{headline} ({cause})"


def root_cause(message: str) -> str:
    """The last `Caused by:` entry of a wasmtime error (its backtrace is noise for a developer)."""
    lines = [line.strip() for line in message.strip().splitlines()]
    if "Caused by:" in lines:
        causes = [line for line in lines[lines.index("Caused by:") + 1 :] if line]
        if causes:
            last = causes[-1]
            return last.split(": ", 1)[1] if last[:1].isdigit() and ": " in last else last
    return lines[0] if lines else message
