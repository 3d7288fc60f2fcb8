"""One shared, immutable copy of each distinct process code (wasm bytes or native marker).

Why: the kernel must keep a process's code after `InitializeProcess`: the runner is built from it when
"run" arrives, and a Restart runs the same code again (Hyperdrive's process loop keeps its wasm bytes
too, so a Restart does not pick up a changed file). A componentize-py component is ~18 MB, and the
installer, `spawn` and a reboot each read the file anew for every process, so keeping what they pass
would cost 18 MB per process even when a dozen processes run the same wasm. Instead the kernel interns
the bytes by content hash: every process with the same code shares one `ProcessCode`, which lives as
long as some process or pending Restart refers to it (the table holds it weakly). The bytes a caller
passed are dropped as soon as they are interned.

Interning is shared by every node of the Python process (an `Emulator` running the same package on
several nodes keeps one copy) and is thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from typing import Literal

from hyperpy.node.runners.native import NativeModuleRef

ProcessMode = Literal["component", "native"]


class ProcessCode:
    """A process's code, shared by every process that runs it. Never mutated after creation."""

    __slots__ = ("__weakref__", "data", "mode", "native", "sha256")

    def __init__(self, data: bytes, sha256: str) -> None:
        self.data = data
        self.sha256 = sha256
        # A native marker names the module to import; anything else is run as a component.
        self.native: NativeModuleRef | None = NativeModuleRef.from_marker(data)
        self.mode: ProcessMode = "native" if self.native is not None else "component"


_lock = threading.Lock()
_codes: weakref.WeakValueDictionary[str, ProcessCode] = weakref.WeakValueDictionary()


def intern_code(data: bytes | bytearray | memoryview | ProcessCode) -> ProcessCode:
    """The shared `ProcessCode` with exactly these bytes (created on first use)."""
    if isinstance(data, ProcessCode):
        return data
    raw = bytes(data)
    digest = hashlib.sha256(raw).hexdigest()
    with _lock:
        code = _codes.get(digest)
        if code is None:
            code = ProcessCode(raw, digest)
            _codes[digest] = code
        return code


def interned_count() -> int:
    """How many distinct codes are alive in this Python process (for tests and diagnostics)."""
    with _lock:
        return len(_codes)
