"""Choose how a process's code runs: a native marker runs natively, anything else is a component.

Why by content: the kernel only ever has the bytes that `InitializeProcess` carried (read from the
package drive by the installer, by `spawn` through vfs, or by the kernel at reboot). Installing a
package in native mode writes a small marker in place of each `.wasm`, so every one of those paths
picks the native runner without a side table; reinstalling in component mode puts real wasm back.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from hyperpy.node.contracts import ProcessRunner
from hyperpy.node.runners.native import NativeModuleRef, NativeRunner


@dataclass(frozen=True)
class RunnerContext:
    """Node-wide settings the runners need."""

    cache_dir: Path
    echo_stdout: bool = False


class ComponentRunnerUnavailable(RuntimeError):
    """Component mode was requested but `hyperpy.node.runners.component` is not importable."""


def code_mode(code: bytes) -> str:
    """ "native" for a native marker, else "component"."""
    return "native" if NativeModuleRef.from_marker(code) is not None else "component"


def make_runner(code: bytes, context: RunnerContext, label: str = "component") -> ProcessRunner:
    """Build the runner for `code` (called on the process thread: compiling may take seconds).

    `label` names the process in load errors (its id and wasm path)."""
    ref = NativeModuleRef.from_marker(code)
    if ref is not None:
        return NativeRunner(ref, echo_stdout=context.echo_stdout)
    try:
        component = importlib.import_module("hyperpy.node.runners.component")
    except ImportError as exc:
        raise ComponentRunnerUnavailable(
            f"component mode needs hyperpy.node.runners.component, which failed to import ({exc}); "
            "install the package in native mode instead"
        ) from exc
    runner: ProcessRunner = component.ComponentRunner(
        code, cache_dir=context.cache_dir, label=label, echo_stdout=context.echo_stdout
    )
    return runner
