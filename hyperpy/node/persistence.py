"""What the kernel keeps on disk under the node home: the process table, written atomically.

Why atomic: a node killed mid-write (Ctrl-C, a crashed test run) must boot again with either the old
or the new table, never a truncated one. Every file is written to a temporary name in the same
directory, fsynced, renamed over the old one, and the directory is fsynced so the rename survives a
power cut. `state:distro:sys` uses the same writer for process state.

The table holds what Hyperdrive's `PersistedProcess` holds — wasm handle, wit version, on_exit,
capabilities and the public flag — for every process whose on_exit is not None (Hyperdrive never
persists those). Like Hyperdrive's process map it also holds the kernel and the runtime modules, with
an empty wasm handle: their capabilities (e.g. the messaging cap a non-public process granted
http-server) must survive a reboot too. At boot the kernel adds its runtime caps to those rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperpy.node.kernel_json import (
    KernelJsonError,
    capabilities_from_json,
    capability_to_json,
    on_exit_from_json,
    on_exit_to_json,
    process_id_from_json,
)
from hyperpy.node.wit_types import Capability, OnExit, ProcessId
from hyperpy.runtime import jsonwire

TABLE_FORMAT_VERSION = 1


def atomic_write(path: Path, data: bytes, *, make_parents: bool = True, mode: int | None = None) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, never a mix, and a
    crash (kill -9, power loss after the fsyncs) leaves one of the two: temporary file in the same
    directory, fsync, rename over `path`, fsync the directory. `make_parents=False` fails with
    FileNotFoundError when the directory is missing (as a plain write would); `mode` sets the file's
    permissions (the temporary file starts private, 0600)."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@dataclass
class PersistedProcess:
    """One row of the process table (Hyperdrive's `PersistedProcess`)."""

    wasm_bytes_handle: str
    wit_version: int | None
    on_exit: OnExit
    capabilities: list[Capability]
    public: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "wasm_bytes_handle": self.wasm_bytes_handle,
            "wit_version": self.wit_version,
            "on_exit": on_exit_to_json(self.on_exit),
            "capabilities": [capability_to_json(c) for c in self.capabilities],
            "public": self.public,
        }

    @classmethod
    def from_json(cls, value: Any, field: str) -> PersistedProcess:
        if not isinstance(value, dict):
            raise KernelJsonError(f"{field}: expected an object")
        handle = value.get("wasm_bytes_handle")
        public = value.get("public")
        wit_version = value.get("wit_version")
        if not isinstance(handle, str) or not isinstance(public, bool):
            raise KernelJsonError(f"{field}: wasm_bytes_handle (string) and public (bool) are required")
        if wit_version is not None and not isinstance(wit_version, int):
            raise KernelJsonError(f"{field}.wit_version: expected a number or null")
        return cls(
            handle,
            wit_version,
            on_exit_from_json(value.get("on_exit"), f"{field}.on_exit"),
            capabilities_from_json(value.get("capabilities", []), f"{field}.capabilities"),
            public,
        )


class ProcessTableFile:
    """`<home>/kernel/processes.json`: load at boot, save after every change."""

    def __init__(self, home: Path) -> None:
        self.path = home / "kernel" / "processes.json"

    def load(self) -> tuple[dict[ProcessId, PersistedProcess], list[str]]:
        """Return the table and a list of problems (rows that could not be read are skipped)."""
        if not self.path.exists():
            return {}, []
        try:
            document = jsonwire.loads(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            return {}, [f"kernel: couldn't read process table {self.path}: {exc}; starting with none"]
        rows = document.get("processes") if isinstance(document, dict) else None
        if not isinstance(rows, dict):
            return {}, [f"kernel: process table {self.path} has no 'processes' object; starting with none"]
        table: dict[ProcessId, PersistedProcess] = {}
        problems: list[str] = []
        for key, row in rows.items():
            try:
                table[process_id_from_json(key, "process id")] = PersistedProcess.from_json(row, key)
            except KernelJsonError as exc:
                problems.append(f"kernel: skipping persisted process {key}: {exc}")
        return table, problems

    def save(self, table: dict[ProcessId, PersistedProcess]) -> None:
        document = {
            "version": TABLE_FORMAT_VERSION,
            "processes": {
                str(pid): row.to_json() for pid, row in sorted(table.items(), key=lambda kv: str(kv[0]))
            },
        }
        atomic_write(self.path, json.dumps(document, indent=1).encode())
