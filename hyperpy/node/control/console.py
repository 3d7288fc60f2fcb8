"""The node's terminal on a developer's console: colour by verbosity, crashes in red.

Why its own module: `hyperpy run` streams printouts from the node's threads while the main thread waits
for Ctrl-C, so rendering must be thread-safe and must never raise into the node (a broken pipe
or a closed console is ignored). Hyperdrive shows level-0 printouts plainly, marks process crashes in
red and lets the user raise the verbosity to see more; we keep that look.
"""

from __future__ import annotations

import threading
from typing import Protocol

from rich.console import Console
from rich.text import Text

CRASH_MARKERS = ("ended with error", "panicked", "Traceback", "trap")
STYLES = {0: "", 1: "cyan", 2: "dim", 3: "dim italic"}


class PrintoutLike(Protocol):
    """What the node's `Terminal` hands to subscribers (see docs/node.md, `Printout`)."""

    @property
    def node(self) -> str: ...

    @property
    def verbosity(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def shown(self) -> bool: ...


class ConsoleStream:
    """Renders shown printouts to a rich Console; callable from any thread."""

    def __init__(self, console: Console, *, show_node: bool = False) -> None:
        self._console = console
        self._show_node = show_node
        self._lock = threading.Lock()

    def style_for(self, printout: PrintoutLike) -> str:
        if printout.verbosity == 0 and any(marker in printout.text for marker in CRASH_MARKERS):
            return "bold red"
        return STYLES.get(printout.verbosity, "dim")

    def render(self, printout: PrintoutLike) -> Text:
        line = Text()
        if self._show_node:
            line.append(f"{printout.node} ", style="magenta")
        line.append(printout.text, style=self.style_for(printout))
        return line

    def __call__(self, printout: PrintoutLike) -> None:
        if not printout.shown:
            return
        with self._lock:
            try:
                self._console.print(self.render(printout), soft_wrap=True, highlight=False)
            except (OSError, ValueError):
                return

    def info(self, message: str, style: str = "green") -> None:
        """A line from hyperpy itself (not from the node), e.g. the ready banner."""
        with self._lock:
            self._console.print(Text(message, style=style), soft_wrap=True, highlight=False)
