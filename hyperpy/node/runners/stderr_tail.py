"""The last few kilobytes a process wrote to stderr, kept for its crash printout (both runners).

Why bounded: Hyperdrive keeps a process's stderr in a rotating pipe of `STACK_TRACE_SIZE` (5000)
bytes and shows it only when the process traps, so a chatty process costs no memory and a crash
shows the traceback that ended it. Components write bytes (wasmtime's stderr callback) and native
processes write text (`sys.stderr`); both land here, counted in bytes as Hyperdrive counts them.
"""

from __future__ import annotations

STDERR_TAIL_BYTES = 5000  # Hyperdrive's STACK_TRACE_SIZE


class StderrTail:
    """The last `limit` bytes written to a process's stderr (Hyperdrive's RotatingOutputPipe)."""

    def __init__(self, limit: int = STDERR_TAIL_BYTES) -> None:
        self.limit = limit
        self._data = bytearray()

    def write(self, chunk: bytes | str) -> int:
        """Keep `chunk` (text is stored as UTF-8); return its length, as a stream's write does."""
        self._data += chunk.encode("utf-8", errors="replace") if isinstance(chunk, str) else chunk
        if len(self._data) > self.limit:
            del self._data[: len(self._data) - self.limit]
        return len(chunk)

    def text(self) -> str:
        """The tail as text (a character cut in half by the limit shows as U+FFFD)."""
        return self._data.decode("utf-8", errors="replace")
