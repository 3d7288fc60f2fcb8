"""The node's terminal: every printout of the kernel, runtime modules and processes, with verbosity.

Why a stream object instead of printing: `hyperpy run` colours and streams it, tests wait for a line,
and the control API serves it. Hyperdrive shows a printout when its verbosity is ≤ the terminal's
level (global, or a per-process override); we *record* every printout with that decision so a test
can look at verbose output without re-running, and `shown` tells what a developer would have seen.

Thread-safe: processes print from their own threads, the kernel from its loop thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hyperpy.node.wit_types import ProcessId

HISTORY_LIMIT = 20_000


@dataclass(frozen=True)
class Printout:
    """One line (or block) of terminal output."""

    seq: int
    node: str
    source: ProcessId
    verbosity: int
    text: str
    shown: bool
    time: float

    def __str__(self) -> str:
        return self.text


class Terminal:
    """Recorded, filterable, waitable terminal output of one node."""

    def __init__(self, node: str, verbosity: int = 0) -> None:
        self.node = node
        self._verbosity = verbosity
        self._process_verbosity: dict[ProcessId, int] = {}
        self._history: deque[Printout] = deque(maxlen=HISTORY_LIMIT)
        self._seq = 0
        self._subscribers: list[Callable[[Printout], None]] = []
        self._changed = threading.Condition()

    @property
    def verbosity(self) -> int:
        return self._verbosity

    def set_verbosity(self, level: int) -> None:
        """Set the global level (0 quiet … 3 every kernel event)."""
        with self._changed:
            self._verbosity = level

    def set_process_verbosity(self, process: ProcessId, level: int | None) -> None:
        """Override the level for printouts of one process (None removes the override)."""
        with self._changed:
            if level is None:
                self._process_verbosity.pop(process, None)
            else:
                self._process_verbosity[process] = level

    def print(self, verbosity: int, source: ProcessId, text: str) -> Printout:
        """Record a printout and hand it to every subscriber."""
        with self._changed:
            level = self._process_verbosity.get(source, self._verbosity)
            self._seq += 1
            printout = Printout(
                self._seq, self.node, source, verbosity, text, verbosity <= level, time.time()
            )
            self._history.append(printout)
            subscribers = list(self._subscribers)
            self._changed.notify_all()
        for subscriber in subscribers:
            try:
                subscriber(printout)
            except Exception:  # a broken viewer must never take the node down
                self.unsubscribe(subscriber)
        return printout

    def subscribe(self, callback: Callable[[Printout], None]) -> Callable[[], None]:
        """Call `callback` with every future printout (from any thread); returns an unsubscribe function."""
        with self._changed:
            self._subscribers.append(callback)
        return lambda: self.unsubscribe(callback)

    def unsubscribe(self, callback: Callable[[Printout], None]) -> None:
        with self._changed:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def mark(self) -> int:
        """A position in the stream; pass it to `since` or `wait_for(since=...)`."""
        with self._changed:
            return self._seq

    def since(self, mark: int, all: bool = True) -> list[Printout]:
        with self._changed:
            return [p for p in self._history if p.seq > mark and (all or p.shown)]

    def lines(self, all: bool = False) -> list[Printout]:
        """Shown printouts (what a developer sees), or every recorded one with `all=True`."""
        with self._changed:
            return [p for p in self._history if all or p.shown]

    def text(self, all: bool = False) -> str:
        return "\n".join(p.text for p in self.lines(all))

    def wait_for(
        self,
        match: str | Callable[[Printout], bool],
        timeout: float = 5.0,
        since: int | None = None,
    ) -> Printout:
        """Block until a printout (shown or not) contains `match` / satisfies it; return that printout.

        Raises TimeoutError quoting the most recent output, so a failing test shows what happened.
        """
        predicate = (lambda p: match in p.text) if isinstance(match, str) else match
        start = 0 if since is None else since
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for printout in self._history:
                    if printout.seq > start and predicate(printout):
                        return printout
                if self._history:
                    start = max(start, self._history[-1].seq)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = "\n".join(f"  {p.text}" for p in list(self._history)[-25:])
                    raise TimeoutError(
                        f"node {self.node}: no printout matching {match!r} within {timeout} s; "
                        f"recent output:\n"
                        f"{recent or '  (nothing)'}"
                    )
                self._changed.wait(remaining)
