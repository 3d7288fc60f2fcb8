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
from hyperpy.node.process_code import ProcessCode
from hyperpy.node.runners.native import NativeRunner


@dataclass(frozen=True)
class RunnerContext:
    """Node-wide settings the runners need."""

    cache_dir: Path
    echo_stdout: bool = False


class ComponentRunnerUnavailable(RuntimeError):
    """Component mode was requested but `hyperpy.node.runners.component` is not importable."""


def make_runner(code: ProcessCode, context: RunnerContext, label: str = "component") -> ProcessRunner:
    """Build the runner for `code` (called on the process thread: compiling may take seconds).

    `label` names the process in load errors (its id and wasm path). A component runner keeps only
    the compiled component (shared by every process running the same bytes), never the bytes.
    """
    if code.native is not None:
        return NativeRunner(code.native, echo_stdout=context.echo_stdout)
    try:
        component = importlib.import_module("hyperpy.node.runners.component")
    except ImportError as exc:
        raise ComponentRunnerUnavailable(
            f"component mode needs hyperpy.node.runners.component, which failed to import ({exc}); "
            "install the package in native mode instead"
        ) from exc
    runner: ProcessRunner = component.ComponentRunner(
        code.data, cache_dir=context.cache_dir, label=label, echo_stdout=context.echo_stdout
    )
    return runner
