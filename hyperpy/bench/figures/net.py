"""Issue 10's figures: the real network between nodes in separate processes, against the in-memory
network between the same nodes in one process.

Each repetition boots node `b.dev` as a separate `hyperpy run` OS process (its own network name, so
nothing else on the machine interferes) and node `a.dev` in this process on real sockets (TCP, Noise,
Hyperdrive's wire); the baseline is the same two nodes in one `Emulator` on the in-memory `Network`.
What travels is what the `hi` script sends: a Request to `b.dev@net:distro:sys`, answered `ack`
(the payload rides as the request's blob, so the terminal line stays short), one at a time.

* `net.round_trips` - sequential round trips per second (tiny body). Informative target: the real
  transport (encryption, serialization, two processes) keeps at least 10% of the in-memory rate.
* `net.throughput.1kb` / `net.throughput.1mb` - MB/s of 1 KB and 1 MB blobs sent one after another,
  each acknowledged before the next: the real transport against the in-memory network (which passes
  a 1 MB blob by reference, so that figure's target is an absolute rate instead of a ratio).

Timings are wall clock on whatever else the machine is doing; the ratios are what to read.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperpy.bench.registry import Benchmark, Figure, Sample, Target, register

ROUND_TRIPS = 400
ONE_KB_MESSAGES = 400
ONE_MB_MESSAGES = 12
WARM_UP = 10
READY_TIMEOUT_S = 120

ROUND_TRIP_FIGURE = Figure(
    name="net.round_trips",
    title="node-to-node round trips: separate processes over TCP vs one process in memory",
    unit="round trips/s",
    target=Target.ratio_at_least(0.1, "real network keeps ≥ 10% of the in-memory rate"),
    subject_label="2 processes, real transport",
    baseline_label="1 process, in-memory network",
)
THROUGHPUT_TARGETS = {
    1024: Target.ratio_at_least(0.1, "real network keeps ≥ 10% of the in-memory throughput"),
    # In memory a blob is passed by reference, so no ratio means much; the wire writes bytes as
    # MessagePack arrays of numbers (as rmp-serde does), about 1.5 bytes each, encrypted in 64 KB chunks.
    1024 * 1024: Target.subject_at_least(5.0, "MB/s", "≥ 5 MB/s over the real transport"),
}
THROUGHPUT_FIGURES = {
    size: Figure(
        name=f"net.throughput.{label}",
        title=f"node-to-node throughput, {label.upper()} blobs (acknowledged one by one)",
        unit="MB/s",
        target=THROUGHPUT_TARGETS[size],
        subject_label="2 processes, real transport",
        baseline_label="1 process, in-memory network",
    )
    for size, label in ((1024, "1kb"), (1024 * 1024, "1mb"))
}
COUNTS = {1024: ONE_KB_MESSAGES, 1024 * 1024: ONE_MB_MESSAGES}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RemoteNode:
    """`hyperpy run -f b` in its own OS process, on the bench's private network."""

    def __init__(self, home: Path, network: str) -> None:
        hyperpy = Path(sys.executable).parent / "hyperpy"
        command = [str(hyperpy), "run", "--home", str(home), "-p", str(_free_port()), "-f", "b"]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "HYPERPY_NETWORK": network},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"`hyperpy run -f b` did not get ready: {seen}") from None
            seen.append(line)
            if "ready on" in line:
                return

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _modules() -> list[Any]:
    from hyperpy.node.modules import ModulesConfig, default_modules

    return default_modules(ModulesConfig(http_port=0))


def _hello(node: Any, blob: bytes | None) -> None:
    response = node.inject("b.dev@net:distro:sys", "x", blob=blob, expects_response=60)
    if response is None or response.body != b"ack":
        raise RuntimeError(f"b.dev answered {response!r} instead of ack")


def _measure_pair(sender: Any) -> dict[str, float]:
    """Rates of one sender: round trips/s and MB/s per blob size."""
    for _ in range(WARM_UP):
        _hello(sender, None)
    rates: dict[str, float] = {}
    started = time.perf_counter()
    for _ in range(ROUND_TRIPS):
        _hello(sender, None)
    rates[ROUND_TRIP_FIGURE.name] = ROUND_TRIPS / (time.perf_counter() - started)
    for size, figure in THROUGHPUT_FIGURES.items():
        blob = os.urandom(size)
        started = time.perf_counter()
        for _ in range(COUNTS[size]):
            _hello(sender, blob)
        rates[figure.name] = COUNTS[size] * size / (time.perf_counter() - started) / 1e6
    return rates


def _real(scratch: Path, repetition: int) -> dict[str, float]:
    from hyperpy.node import Node
    from hyperpy.node.net.pki import DirectoryPki, default_pki_dir
    from hyperpy.node.net.transport import NetConfig

    network = f"bench-{os.getpid()}-{repetition}"
    remote = RemoteNode(scratch / f"b-{repetition}", network)
    try:
        pki = DirectoryPki(default_pki_dir(network))
        node = Node("a.dev", scratch / f"a-{repetition}", net=NetConfig(pki), modules=_modules)
        node.start()
        try:
            return _measure_pair(node)
        finally:
            node.close()
    finally:
        remote.stop()


def _in_memory(scratch: Path, repetition: int) -> dict[str, float]:
    from hyperpy.node import Emulator

    with Emulator(scratch / f"memory-{repetition}") as emulator:
        sender = emulator.add_node("a.dev", modules=_modules)
        emulator.add_node("b.dev", modules=_modules)
        return _measure_pair(sender)


class _State:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.repetition = 0


def _measure(state: _State) -> dict[str, Sample]:
    state.repetition += 1
    sides: list[Callable[[Path, int], dict[str, float]]] = [_in_memory, _real]
    if state.repetition % 2 == 0:
        sides.reverse()
    results = {side: side(state.scratch, state.repetition) for side in sides}
    real, memory = results[_real], results[_in_memory]
    return {name: Sample(real[name], memory[name]) for name in real}


register(
    Benchmark(
        name="net",
        figures=(ROUND_TRIP_FIGURE, *THROUGHPUT_FIGURES.values()),
        setup=_State,
        measure=_measure,
        repetitions=3,
        quick_repetitions=1,
        description="nodes in separate processes over the real network vs one process in memory",
    )
)
