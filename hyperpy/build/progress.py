"""Progress display for builds: one live line per process while componentize-py runs.

Why: a cold build takes several seconds per process; the user should see which processes are being
compiled, which came from the cache, and that nothing hangs. Output goes to stderr so stdout stays
clean for the zip path and hash. `progress=False` (tests, scripting) uses the silent reporter.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Protocol

from rich.console import Console, RenderableType
from rich.progress import Progress, SpinnerColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text


class BuildReporter(Protocol):
    def __enter__(self) -> BuildReporter: ...
    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def step(self, process: str, text: str) -> None: ...
    def done(self, process: str, text: str, *, ok: bool = True) -> None: ...


class _OutcomeColumn(SpinnerColumn):
    """A spinner while the process builds, then ✓ when it was built or cached, ✗ when it failed."""

    def render(self, task: Task) -> RenderableType:
        if task.finished:
            return Text("✗", style="red") if task.fields.get("failed") else Text("✓", style="green")
        return super().render(task)


class SilentReporter:
    """Reports nothing."""

    def __enter__(self) -> SilentReporter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def step(self, process: str, text: str) -> None:
        del process, text

    def done(self, process: str, text: str, *, ok: bool = True) -> None:
        del process, text, ok


class RichReporter:
    """A rich live display on stderr: spinner, process, current step, elapsed time."""

    def __init__(self, processes: list[str], console: Console | None = None):
        self._console = console or Console(stderr=True)
        self._progress = Progress(
            _OutcomeColumn(),
            TextColumn("[bold]{task.fields[process]}[/bold]"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self._console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._width = max((len(p) for p in processes), default=0)
        self._names = processes

    def __enter__(self) -> RichReporter:
        self._progress.__enter__()
        for name in self._names:
            self._tasks[name] = self._progress.add_task("waiting", total=1, process=name.ljust(self._width))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, value, tb)

    def step(self, process: str, text: str) -> None:
        with self._lock:
            self._progress.update(self._tasks[process], description=text)

    def done(self, process: str, text: str, *, ok: bool = True) -> None:
        with self._lock:
            self._progress.update(self._tasks[process], description=text, completed=1, failed=not ok)


def reporter(processes: list[str], enabled: bool) -> BuildReporter:
    return RichReporter(processes) if enabled else SilentReporter()
