"""Hog app for tests/hardening/test_hardening_memory.py: runs out of memory on request."""

from __future__ import annotations

from hyperpy import app, local


@app(name="hog")
class Hog:
    served: int = 0

    @local
    def ping(self) -> int:
        self.served += 1
        return self.served

    @local
    def hog(self) -> int:
        """Allocate 1 MiB chunks until an allocation fails (only in a component: natively this would
        take the machine's memory)."""
        chunks: list[bytearray] = []
        while True:
            chunks.append(bytearray(1 << 20))

    @local
    async def hog_later(self) -> int:
        """The same failure in an async handler (a task of the runtime's loop)."""
        raise MemoryError("a simulated allocation failure in an async handler")

    @local
    def out_of_memory(self) -> int:
        """A MemoryError without using up memory: what a failed allocation raises natively."""
        raise MemoryError("a simulated allocation failure")

    @local
    def recurse(self, depth: int) -> int:
        """Unbounded recursion: a RecursionError unwinds cleanly, so it is an ordinary answered error."""
        self.served += 1
        return self.recurse(depth + 1)
