"""The node's terminal on a developer's console: colour by verbosity, crashes in red.

Why its own module: `hyperpy run` streams printouts from the node's threads while the main thread waits
for Ctrl-C, so rendering must be thread-safe and must never raise into the node (a broken pipe
or a closed console is ignored). Hyperdrive shows level-0 printouts plainly, marks process crashes in
red and lets the user raise the verbosity to see more; we keep that look.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
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


VERBOSITY_KEYS = ("v", "\x16")  # 'v', or Ctrl-V as in Hyperdrive's terminal
MAX_VERBOSITY = 3


class VerbosityKeys:
    """Lets the developer change the node's terminal verbosity while `hyperpy run` streams it.

    Pressing `v` (or Ctrl-V, Hyperdrive's key) cycles 0 → 1 → 2 → 3 → 0. Only active when stdin is a
    terminal; the terminal is put in cbreak mode (Ctrl-C still interrupts) and restored on `stop`.
    """

    def __init__(self, set_verbosity: Callable[[int], None], level: int, stream: ConsoleStream) -> None:
        self._set_verbosity = set_verbosity
        self.level = level
        self._stream = stream
        self._restore: Callable[[], None] | None = None

    def handle(self, key: str) -> int | None:
        """React to one key; returns the new level when the key changed it."""
        if key not in VERBOSITY_KEYS:
            return None
        self.level = (self.level + 1) % (MAX_VERBOSITY + 1)
        self._set_verbosity(self.level)
        self._stream.info(f"terminal verbosity {self.level} (press v to change)", style="yellow")
        return self.level

    def start(self) -> bool:
        """Listen on stdin in a daemon thread if it is a terminal; returns whether it listens."""
        if not sys.stdin.isatty():
            return False
        import termios
        import tty

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        attributes = termios.tcgetattr(fd)
        attributes[3] &= ~termios.IEXTEN  # so Ctrl-V arrives as a key instead of "literal next"
        termios.tcsetattr(fd, termios.TCSADRAIN, attributes)
        self._restore = lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        threading.Thread(target=self._listen, name="hyperpy-keys", daemon=True).start()
        return True

    def _listen(self) -> None:
        while True:
            key = sys.stdin.read(1)
            if not key:
                return
            self.handle(key)

    def stop(self) -> None:
        if self._restore is not None:
            self._restore()
            self._restore = None
