"""Choose how a process's code runs: a native marker runs natively, anything else is a component.

Why by content: the kernel only ever has the bytes that `InitializeProcess` carried (read from the
package drive by the installer, by `spawn` through vfs, or by the kernel at reboot). Installing a
package in native mode writes a small marker in place of each `.wasm`, so every one of those paths
picks the native runner without a side table; reinstalling in component mode puts real wasm back.
"""

from __future__ import annotations

import importlib
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from hyperpy.node.contracts import ProcessRunner
from hyperpy.node.process_code import ProcessCode
from hyperpy.node.runners.native import NativeRunner

DEFAULT_MEMORY_LIMIT_MB = 1024
MEMORY_LIMIT_ENV = "HYPERPY_PROCESS_MEMORY_MB"


def memory_limit_mb(setting: int | None = None) -> int:
    """The per-process memory limit of components, in MB: the node's setting
    (`Node(process_memory_mb=...)`), else `$HYPERPY_PROCESS_MEMORY_MB`, else 1024. Hyperdrive sets no
    limit; see hyperpy.node.runners.run_limits."""
    if setting is not None:
        value: int | str = setting
        origin = "process_memory_mb"
    else:
        value = os.environ.get(MEMORY_LIMIT_ENV, str(DEFAULT_MEMORY_LIMIT_MB))
        origin = f"${MEMORY_LIMIT_ENV}"
    try:
        megabytes = int(value)
    except ValueError:
        raise ValueError(f"{origin} must be a whole number of megabytes, not {value!r}") from None
    if megabytes < 16:
        raise ValueError(f"{origin} must be at least 16 (MB), not {megabytes}: a process needs more to start")
    return megabytes


@dataclass(frozen=True)
class RunnerContext:
    """Node-wide settings the runners need."""

    cache_dir: Path
    echo_stdout: bool = False
    memory_mb: int = DEFAULT_MEMORY_LIMIT_MB
    """Each component instance's linear-memory limit (hyperpy.node.runners.run_limits)."""


class ComponentRunnerUnavailable(RuntimeError):
    """Component mode was requested but `hyperpy.node.runners.component` is not importable."""


_component_runners: weakref.WeakValueDictionary[tuple[str, RunnerContext], ProcessRunner] = (
    weakref.WeakValueDictionary()
)
_component_runners_lock = threading.Lock()


def make_runner(code: ProcessCode, context: RunnerContext, label: str = "component") -> ProcessRunner:
    """The runner for `code` (called on the process thread: compiling may take seconds).

    `label` names the code in load errors (its wasm path; the kernel's printout adds the process).
    A component runner holds the compiled component and the type plans of its imports, never the
    bytes, and only reads them while running (each run has its own Store and instance), so every
    process running the same code under the same settings shares one: a process costs its instance,
    not another hash of 18 MB and another set of plans. It lives while some process runs it.
    """
    if code.native is not None:
        return NativeRunner(code.native, echo_stdout=context.echo_stdout)
    key = (code.sha256, context)
    with _component_runners_lock:
        shared = _component_runners.get(key)
    if shared is not None:
        return shared
    try:
        component = importlib.import_module("hyperpy.node.runners.component")
    except ImportError as exc:
        raise ComponentRunnerUnavailable(
            f"component mode needs hyperpy.node.runners.component, which failed to import ({exc}); "
            "install the package in native mode instead"
        ) from exc
    runner: ProcessRunner = component.ComponentRunner(
        code.data,
        cache_dir=context.cache_dir,
        label=label,
        echo_stdout=context.echo_stdout,
        memory_mb=context.memory_mb,
    )
    with _component_runners_lock:
        return _component_runners.setdefault(key, runner)
