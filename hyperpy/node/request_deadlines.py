"""The timeouts of one process's outstanding requests, kept by the process itself.

Why here and not on the kernel loop: in Hyperdrive the timer of a request is a task of the *sending
process* that, when it fires, puts a Timeout send-error into that process's own queue; nobody else
looks at it. Handing every request's timer to the kernel's event loop cost a thread switch per
request (the loop had to wake up just to arm it). Instead the process thread keeps its deadlines in
a heap and waits on its inbox at most until the earliest one: a request that is answered in time
costs no timer work beyond a heap push and a flag.

Cancelled deadlines stay in the heap until they reach its top or until they outnumber the live ones,
when the heap is rebuilt (amortised O(1) per request, memory bounded by twice the live requests).

Used only on the process's own thread: no locking.
"""

from __future__ import annotations

import heapq
import itertools

from hyperpy.node.wit_types import Address, LazyLoadBlob, Request

_COMPACT_MIN = 64  # below this many entries a rebuild is not worth it


class Deadline:
    """One request's timeout: when it fires, and what the Timeout send-error carries."""

    __slots__ = ("at", "blob", "cancelled", "request", "request_id", "target")

    def __init__(
        self, at: float, request_id: int, target: Address, request: Request, blob: LazyLoadBlob | None
    ) -> None:
        self.at = at
        self.request_id = request_id
        self.target = target
        self.request = request
        self.blob = blob
        self.cancelled = False


class RequestDeadlines:
    """A heap of `Deadline`s with lazy cancellation."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._live = 0

    def add(
        self, at: float, request_id: int, target: Address, request: Request, blob: LazyLoadBlob | None
    ) -> Deadline:
        deadline = Deadline(at, request_id, target, request, blob)
        heap = self._heap
        if len(heap) >= _COMPACT_MIN and len(heap) >= 2 * self._live:
            heap[:] = [entry for entry in heap if not entry[2].cancelled]
            heapq.heapify(heap)
        heapq.heappush(heap, (at, next(self._order), deadline))
        self._live += 1
        return deadline

    def cancel(self, deadline: Deadline) -> None:
        """The request was answered (or failed otherwise): its timeout must not fire."""
        if not deadline.cancelled:
            deadline.cancelled = True
            self._live -= 1

    def earliest(self) -> float | None:
        """When the next live deadline falls due (time.monotonic()), or None."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_earliest(self) -> Deadline:
        """Remove and return the earliest live deadline (call after `earliest()` returned a time)."""
        heap = self._heap
        while heap:
            deadline = heapq.heappop(heap)[2]
            if not deadline.cancelled:
                deadline.cancelled = True
                self._live -= 1
                return deadline
        raise LookupError("no live request deadline")

    def __len__(self) -> int:
        """Live (not yet fired or cancelled) deadlines."""
        return self._live
