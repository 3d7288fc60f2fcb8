"""Issue 3's figures: what the local node costs, each against a baseline measured in the same run.

The package under test is `node_processes/` (two raw processes: `ping` answers a request whose body
is N after N sequential request/response round trips to `pong`). It is built once per machine with
`hyperpy build` in `<cache>/bench/node-pingpong` (the build's own cache makes later runs no-ops).

* `node.first_response` - a fresh Python process boots a node, installs the package zip and gets
  the first response from `ping`: *warm* (the compiled-component cache holds both components) against
  *cold* (an empty cache: both are compiled by Cranelift). Target: the cache saves at least 80%.
* `node.round_trips.component` / `.native` - round trips per second between `ping` and `pong` on a
  node, against the raw receive/respond floor: the same two processes in the same runner, each on
  its own thread, wired by a queue hand-off instead of the kernel (DESIGN.md: ~2,400/s for
  components on 2 cores). Target (issue 3): the kernel adds at most 25%, i.e. ratio ≥ 0.8.
* `node.memory.component` / `.native` - resident memory per running process (idle in `receive`), on
  a node against the same runner without a kernel, each measured in a fresh Python process as the
  RSS growth from 2 to 2 + K processes (after a warm-up of the same shape). Target: the kernel's
  bookkeeping adds at most 25%.

Timings are wall clock on whatever else the machine is doing; the ratios are what to read.
"""

from __future__ import annotations

import filecmp
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperpy.bench.registry import Benchmark, Figure, Sample, Target, register
from hyperpy.package.cache import machine_cache_dir

PACKAGE = "bench-pingpong:bench.os"
PING = f"ping:{PACKAGE}"
SOURCES = Path(__file__).resolve().parent / "node_processes"
SOURCE_FILES = ("pyproject.toml", "ping.py", "pong.py")
ROUND_TRIPS = {"component": 600, "native": 3000}
WARM_UP_ROUND_TRIPS = 20
MEMORY_PROCESSES = 12
WARM_PROCESSES = 2  # see _child_memory
INJECT_TIMEOUT_S = 120

FIRST_RESPONSE = Figure(
    name="node.first_response",
    title="node boot + install + first response (component)",
    unit="s",
    target=Target.ratio_at_most(0.2, "compile cache saves ≥ 80%"),
    subject_label="warm compile cache",
    baseline_label="cold (empty compile cache)",
)
TARGET_TEXT = {"component": "kernel adds ≤ 10% (issue 18)", "native": "kernel adds ≤ 25%"}
ROUND_TRIP_FIGURES = {
    mode: Figure(
        name=f"node.round_trips.{mode}",
        title=f"request/response round trips per second, ping ↔ pong ({mode})",
        unit="round trips/s",
        target=Target.ratio_at_least(0.9 if mode == "component" else 0.8, TARGET_TEXT[mode]),
        subject_label="on the node (kernel)",
        baseline_label="raw loop, queue hand-off",
    )
    for mode in ("component", "native")
}
PLACEMENT = Figure(
    name="node.placement.component",
    title="round trips per second, ping ↔ pong (component), node threads on one core vs unplaced",
    unit="round trips/s",
    target=Target.ratio_at_least(1.0, "report (Node(cpus=...); 'auto' places on ≤ 2 cores)"),
    subject_label="threads kept on one core",
    baseline_label="scheduler's placement (cpus='off')",
)
MARSHAL = Figure(
    name="node.marshal.receive",
    title="lower + lift of one receive result (request), hyperpy's marshaller vs wasmtime-py's",
    unit="µs",
    target=Target.ratio_at_most(0.25, "≥ 4x cheaper than the plain path"),
    subject_label="runners/wasm_marshal plans",
    baseline_label="wasmtime-py convert_to_c/convert_from_c",
)
MARSHAL_VALUES = 2000
MEMORY_FIGURES = {
    mode: Figure(
        name=f"node.memory.{mode}",
        title=f"memory per running process ({mode})",
        unit="MB",
        target=Target.ratio_at_most(1.25, "kernel adds ≤ 25%"),
        subject_label="on the node (kernel)",
        baseline_label="same runner, no kernel",
    )
    for mode in ("component", "native")
}


# --- the package, built once per machine ---------------------------------------------------------


def bench_cache_root() -> Path:
    """`$HYPERPY_CACHE_DIR/bench`, else the user cache directory (kept between bench runs)."""
    return machine_cache_dir("bench")


@dataclass(frozen=True)
class BuiltPackage:
    project: Path
    zip_path: Path
    pkg_dir: Path
    compiled: Path  # the warm compiled-component cache shared by the figures

    def module(self, process: str) -> Path:
        return self.project / f"{process}.py"


def build_bench_project(sources: Path, files: Sequence[str], directory: str) -> BuiltPackage:
    """Build the bench project in `sources` once per machine, in `<bench cache>/<directory>`.

    The listed files are copied only when they changed, so `hyperpy build`'s own cache makes every
    later run a no-op. The compiled-component cache beside it is shared by all bench figures.
    """
    from hyperpy.build import build_project

    root = bench_cache_root()
    project = root / directory
    project.mkdir(parents=True, exist_ok=True)
    for name in files:
        source, target = sources / name, project / name
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            shutil.copyfile(source, target)
    result = build_project(project, progress=False)
    return BuiltPackage(project, Path(result.zip_path), Path(result.pkg_dir), root / "compiled")


def built_package() -> BuiltPackage:
    """The ping/pong package of these figures, built (once per machine)."""
    return build_bench_project(SOURCES, SOURCE_FILES, "node-pingpong")


# --- the baseline: the same processes and runner, a queue instead of the kernel ------------------


class QueueHost:
    """The least a raw receive/respond loop needs from `StandardHost`: a blocking inbox and sends.

    `send_request` puts the request into the target's inbox; `send_response` answers the source of
    the last Request received (exactly what the kernel's prompting message gives these processes).
    """

    def __init__(self, address: Any, hosts: dict[Any, QueueHost]) -> None:
        self.address = address
        self.inbox: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        self.hosts = hosts
        self.prompting: Any = None
        hosts[address] = self

    def our(self) -> Any:
        return self.address

    def print_to_terminal(self, verbosity: int, message: str) -> None:
        del verbosity, message

    def receive(self) -> tuple[Any, Any]:
        from hyperpy.node.wit_types import Message_Request

        source, message = self.inbox.get()
        if isinstance(message, Message_Request):
            self.prompting = source
        return source, message

    def send_request(self, target: Any, request: Any, context: Any, lazy_load_blob: Any) -> None:
        from hyperpy.node.wit_types import Message_Request

        del context, lazy_load_blob
        self.hosts[target].inbox.put((self.address, Message_Request(request)))

    def send_response(self, response: Any, lazy_load_blob: Any) -> None:
        from hyperpy.node.wit_types import Message_Response

        del lazy_load_blob
        self.hosts[self.prompting].inbox.put((self.address, Message_Response((response, None))))

    def has_blob(self) -> bool:
        return False

    def get_blob(self) -> None:
        return None


def _address(process: str) -> Any:
    from hyperpy.node.wit_types import Address, ProcessId

    name, package, publisher = f"{process}:{PACKAGE}".split(":")
    return Address("fake.dev", ProcessId(name, package, publisher))


def _runner(package: BuiltPackage, mode: str, process: str) -> Any:
    if mode == "component":
        from hyperpy.node.runners.compile_cache import CompileCache
        from hyperpy.node.runners.component import ComponentRunner

        return ComponentRunner(
            package.pkg_dir / f"{process}.wasm", cache=CompileCache(package.compiled, announce=_quiet)
        )
    from hyperpy.node.runners.native import NativeModuleRef, NativeRunner

    return NativeRunner(NativeModuleRef.for_file(package.module(process)))


def _quiet(_: str) -> None:
    """Compile announcements would break the bench's progress display."""


class RawProcesses:
    """Processes running in their runners on their own threads, wired by `QueueHost`s."""

    def __init__(
        self,
        package: BuiltPackage,
        mode: str,
        processes: list[tuple[str, str]],
        cpus: frozenset[int] | None = None,
    ) -> None:
        """`processes`: (process name, module/wasm name) pairs; `cpus`: where their threads run."""
        self.hosts: dict[Any, QueueHost] = {}
        self.driver = QueueHost(_address("driver"), self.hosts)
        self.threads: list[threading.Thread] = []
        runners: dict[str, Any] = {}
        for name, code in processes:
            runner = runners.get(code) or runners.setdefault(code, _runner(package, mode, code))
            host = QueueHost(_address(name), self.hosts)
            thread = threading.Thread(target=_placed_run, args=(runner, host, cpus), daemon=True)
            thread.start()
            self.threads.append(thread)

    def request(self, process: str, body: bytes) -> bytes:
        from hyperpy.node.wit_types import Message_Request, Request

        self.hosts[_address(process)].inbox.put(
            (self.driver.address, Message_Request(Request(False, 30, body, None, [])))
        )
        _source, message = self.driver.inbox.get(timeout=INJECT_TIMEOUT_S)
        response, _context = message.value
        return bytes(response.body)

    def stop(self) -> None:
        from hyperpy.node.wit_types import Message_Request, Request

        for host in self.hosts.values():
            if host is not self.driver:
                host.inbox.put(
                    (self.driver.address, Message_Request(Request(False, None, b"stop", None, [])))
                )
        for thread in self.threads:
            thread.join(timeout=30)


def _placed_run(runner: Any, host: QueueHost, cpus: frozenset[int] | None) -> None:
    from hyperpy.node import placement

    placement.pin_current_thread(cpus)
    runner.run(host, str(host.address))


# --- the subject: the same processes on a node ---------------------------------------------------


def _start_node(home: Path, compiled: Path, cpus: Any = None) -> Any:
    from hyperpy.node import Node

    return Node("fake.dev", home=home, cache_dir=compiled, cpus=cpus).start()


def _install(node: Any, package: BuiltPackage, mode: str) -> None:
    if mode == "component":
        node.install(package.zip_path)
    else:
        node.install(
            package.pkg_dir,
            mode="native",
            package_id=PACKAGE,
            native_modules={f"{name}.wasm": package.module(name) for name in ("ping", "pong")},
        )


def _inject(node: Any, target: str, body: bytes) -> bytes:
    reply = node.inject(target, body, expects_response=INJECT_TIMEOUT_S)
    assert reply is not None
    return bytes(reply.body)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


@dataclass
class RoundTripState:
    scratch: Path
    package: BuiltPackage
    repetition: int = 0


def _round_trips_setup(scratch: Path) -> RoundTripState:
    package = built_package()
    _first_response_in_child(package.zip_path, package.compiled)  # make sure the cache is warm
    return RoundTripState(scratch, package)


def _node_rate(state: RoundTripState, mode: str, count: int, cpus: Any = None, tag: str = "") -> float:
    """Round trips/s on a node; `cpus` as `Node(cpus=...)` (None: the node's default placement)."""
    home = state.scratch / f"home-{mode}{tag}-{state.repetition}"
    node = _start_node(home, state.package.compiled, cpus)
    try:
        _install(node, state.package, mode)
        _inject(node, PING, str(WARM_UP_ROUND_TRIPS).encode())
        started = time.perf_counter()
        answer = _inject(node, PING, str(count).encode())
        elapsed = time.perf_counter() - started
    finally:
        node.close()
    if answer != str(count).encode():
        raise RuntimeError(f"ping answered {answer!r} after {count} round trips on the node")
    return _rate(count, elapsed)


def _raw_rate(state: RoundTripState, mode: str, count: int) -> float:
    """The raw floor, its threads placed as a node would place them by default (same host, same rule)."""
    from hyperpy.node import placement

    pair = [("ping", "ping"), ("pong", "pong")]
    processes = RawProcesses(state.package, mode, pair, placement.resolve(None))
    try:
        processes.request("ping", str(WARM_UP_ROUND_TRIPS).encode())
        started = time.perf_counter()
        answer = processes.request("ping", str(count).encode())
        elapsed = time.perf_counter() - started
    finally:
        processes.stop()
    if answer != str(count).encode():
        raise RuntimeError(f"ping answered {answer!r} after {count} raw round trips")
    return _rate(count, elapsed)


def _round_trips_measure(state: RoundTripState) -> dict[str, Sample]:
    state.repetition += 1
    samples = {}
    for mode, figure in ROUND_TRIP_FIGURES.items():
        count = ROUND_TRIPS[mode]
        if state.repetition % 2:
            baseline = _raw_rate(state, mode, count)
            subject = _node_rate(state, mode, count)
        else:
            subject = _node_rate(state, mode, count)
            baseline = _raw_rate(state, mode, count)
        samples[figure.name] = Sample(subject, baseline)
    return samples


# --- measurements in a fresh Python process ------------------------------------------------------


def _child(task: str, *args: str) -> dict[str, Any]:
    """Run `task` in a fresh interpreter (clean memory, nothing loaded) and return its JSON report."""
    command = [
        sys.executable,
        "-c",
        "from hyperpy.bench.figures.node import child_main; child_main()",
        task,
        *args,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"bench child {task} failed (exit {completed.returncode}):\n{tail}")
    report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return report


def _first_response_in_child(zip_path: Path, compiled: Path) -> float:
    return float(_child("first-response", str(zip_path), str(compiled))["seconds"])


def child_main() -> None:
    """Entry point of the bench's child processes: `task args...` in sys.argv; JSON on stdout."""
    task, *args = sys.argv[1:]
    if task == "first-response":
        report = _child_first_response(Path(args[0]), Path(args[1]))
    elif task == "memory":
        report = _child_memory(args[0], args[1], Path(args[2]), int(args[3]))
    else:
        raise SystemExit(f"unknown bench child task {task!r}")
    print(json.dumps(report))


def _child_first_response(zip_path: Path, compiled: Path) -> dict[str, Any]:
    started = time.perf_counter()
    from hyperpy.node import Node

    with tempfile.TemporaryDirectory(prefix="hyperpy-bench-first-") as home:
        node = Node("fake.dev", home=home, cache_dir=compiled).start()
        try:
            node.install(zip_path)
            answer = _inject(node, PING, b"1")
            elapsed = time.perf_counter() - started
        finally:
            node.close()
    if answer != b"1":
        raise RuntimeError(f"ping answered {answer!r}")
    return {"seconds": elapsed}


def _resident_mb() -> float:
    """This process's resident set size, from /proc (Linux), else the peak from getrusage."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def _memory_package(
    package: BuiltPackage, directory: Path, names: list[str], mode: str = "component"
) -> Path:
    """A `pkg/` directory whose manifest runs `pong.wasm` under each of `names`.

    In native mode the package carries no wasm (the install maps `pong.wasm` to `pong.py` and writes
    a marker in its place): zipping and reading an 18 MB file the processes never run would leave
    ~20 MB of freed-but-cached allocator memory behind, which is the install's, not the processes'.
    """
    pkg = directory / "pkg"
    pkg.mkdir(parents=True)
    if mode == "component":
        try:
            os.link(package.pkg_dir / "pong.wasm", pkg / "pong.wasm")
        except OSError:
            shutil.copyfile(package.pkg_dir / "pong.wasm", pkg / "pong.wasm")
    manifest = [
        {
            "process_name": name,
            "process_wasm_path": "/pong.wasm",
            "on_exit": "None",
            "request_networking": False,
            "request_capabilities": ["http-server:distro:sys"],  # to answer the injected requests
            "grant_capabilities": [],
            "public": True,
        }
        for name in names
    ]
    (pkg / "manifest.json").write_text(json.dumps(manifest, indent=4), encoding="utf-8")
    return pkg


def _child_memory(where: str, mode: str, package_root: Path, count: int) -> dict[str, Any]:
    """RSS growth per process from `WARM_PROCESSES` to that + `count` idle pong processes, on a node
    or raw.

    The warm-up runs the same steps as the measured part (on the node: an install of a package with
    several processes), so one-time costs are paid before the first reading: imports, the compiled
    component, and the allocator's cache of large freed buffers (glibc keeps a buffer the size of the
    largest transient one, e.g. the 18 MB wasm the installer reads per process, in the arena of the
    thread that freed it; once, not per process).
    """
    package = built_package_at(package_root)
    warm_names = [f"pong-warm-{index}" for index in range(WARM_PROCESSES)]
    with tempfile.TemporaryDirectory(prefix="hyperpy-bench-memory-") as scratch:
        if where == "raw":
            first = RawProcesses(package, mode, [(name, "pong") for name in warm_names])
            for name in warm_names:
                first.request(name, b"hello")
            before = _resident_mb()
            more = RawProcesses(package, mode, [(f"pong-{i}", "pong") for i in range(count)])
            for index in range(count):
                more.request(f"pong-{index}", b"hello")
            after = _resident_mb()
            more.stop()
            first.stop()
        else:
            node = _start_node(Path(scratch) / "home", package.compiled)
            try:
                native = {"pong.wasm": package.module("pong")} if mode == "native" else None
                warm = _memory_package(package, Path(scratch) / "warm", warm_names, mode)
                node.install(warm, mode=mode, package_id="bench-warm:bench.os", native_modules=native)
                for name in warm_names:
                    _inject(node, f"{name}:bench-warm:bench.os", b"hello")
                before = _resident_mb()
                names = [f"pong-{i}" for i in range(count)]
                many = _memory_package(package, Path(scratch) / "many", names, mode)
                node.install(many, mode=mode, package_id="bench-many:bench.os", native_modules=native)
                for name in names:
                    _inject(node, f"{name}:bench-many:bench.os", b"hello")
                after = _resident_mb()
            finally:
                node.close()
    return {"per_process_mb": (after - before) / count}


def built_package_at(root: Path) -> BuiltPackage:
    """The already-built package in `root` (a child process must not rebuild it)."""
    return BuiltPackage(root, root / "target" / f"{PACKAGE}.zip", root / "pkg", root.parent / "compiled")


# --- placement and marshalling ------------------------------------------------------------------


def _placement_measure(state: RoundTripState) -> dict[str, Sample]:
    """The same node and package with the threads kept on one core, and left to the scheduler."""
    from hyperpy.node import placement

    state.repetition += 1
    count = ROUND_TRIPS["component"]
    one_core = placement.resolve("auto") or frozenset({min(placement.usable_cpus())})
    if state.repetition % 2:
        baseline = _node_rate(state, "component", count, "off", "-off")
        subject = _node_rate(state, "component", count, one_core, "-one")
    else:
        subject = _node_rate(state, "component", count, one_core, "-one")
        baseline = _node_rate(state, "component", count, "off", "-off")
    return {PLACEMENT.name: Sample(subject, baseline)}


@dataclass
class MarshalState:
    plan: Any  # our plan of receive's result
    value_type: Any  # wasmtime-py's type of it
    store: Any
    value: Any  # a receive result as the host lowers it (request from pong, 2-byte body)


def _marshal_setup(scratch: Path) -> MarshalState:
    del scratch
    import wasmtime

    from hyperpy.node.runners import wasm_values
    from hyperpy.node.runners.component import STANDARD_INTERFACE
    from hyperpy.node.wit_types import Message_Request, Request

    runner = _runner(built_package(), "component", "ping")
    engine = runner.cache.engine
    receive = runner.component.type.imports(engine)[STANDARD_INTERFACE].ty.exports(engine)["receive"].ty
    request = Message_Request(Request(False, 30, b"12", None, []))
    value = wasm_values.lower_receive_ok((_address("pong"), request))
    return MarshalState(runner.plans["receive"].result, receive.result, wasmtime.Store(engine), value)


def _marshal_measure(state: MarshalState) -> dict[str, Sample]:
    import ctypes

    from wasmtime import _ffi as ffi

    def ours() -> float:
        started = time.perf_counter()
        for _ in range(MARSHAL_VALUES):
            slot = ffi.wasmtime_component_val_t()
            state.plan.lower(state.value, slot)
            state.plan.lift(slot)
            ffi.wasmtime_component_val_delete(ctypes.byref(slot))
        return (time.perf_counter() - started) / MARSHAL_VALUES * 1e6

    def plain() -> float:
        started = time.perf_counter()
        for _ in range(MARSHAL_VALUES):
            slot = ffi.wasmtime_component_val_t()
            state.value_type.convert_to_c(state.store, state.value, ctypes.pointer(slot))
            state.value_type.convert_from_c(slot)
            ffi.wasmtime_component_val_delete(ctypes.byref(slot))
        return (time.perf_counter() - started) / MARSHAL_VALUES * 1e6

    subject, baseline = ours(), plain()
    return {MARSHAL.name: Sample(subject, baseline)}


# --- registration --------------------------------------------------------------------------------


@dataclass
class FirstResponseState:
    scratch: Path
    package: BuiltPackage
    repetition: int = 0


def _first_response_setup(scratch: Path) -> FirstResponseState:
    package = built_package()
    _first_response_in_child(package.zip_path, package.compiled)  # warm the shared cache
    return FirstResponseState(scratch, package)


def _first_response_measure(state: FirstResponseState) -> dict[str, Sample]:
    state.repetition += 1
    cold_cache = state.scratch / f"cold-{state.repetition}"

    def cold() -> float:
        return _first_response_in_child(state.package.zip_path, cold_cache)

    def warm() -> float:
        return _first_response_in_child(state.package.zip_path, state.package.compiled)

    if state.repetition % 2:
        baseline, subject = cold(), warm()
    else:
        subject, baseline = warm(), cold()
    shutil.rmtree(cold_cache, ignore_errors=True)
    return {FIRST_RESPONSE.name: Sample(subject, baseline)}


def _memory_setup(scratch: Path) -> BuiltPackage:
    del scratch
    package = built_package()
    _first_response_in_child(package.zip_path, package.compiled)
    return package


def _memory_measure(package: BuiltPackage) -> dict[str, Sample]:
    samples = {}
    for mode, figure in MEMORY_FIGURES.items():
        args = (mode, str(package.project), str(MEMORY_PROCESSES))
        subject = float(_child("memory", "node", *args)["per_process_mb"])
        baseline = float(_child("memory", "raw", *args)["per_process_mb"])
        samples[figure.name] = Sample(subject, baseline)
    return samples


register(
    Benchmark(
        name="node.first_response",
        figures=(FIRST_RESPONSE,),
        setup=_first_response_setup,
        measure=_first_response_measure,
        repetitions=3,
        quick_repetitions=1,
        description=FIRST_RESPONSE.title,
    )
)
register(
    Benchmark(
        name="node.round_trips",
        figures=tuple(ROUND_TRIP_FIGURES.values()),
        setup=_round_trips_setup,
        measure=_round_trips_measure,
        repetitions=5,
        quick_repetitions=2,
        description="ping ↔ pong round trips on a node against the raw loop",
    )
)
register(
    Benchmark(
        name="node.placement",
        figures=(PLACEMENT,),
        setup=_round_trips_setup,
        measure=_placement_measure,
        repetitions=5,
        quick_repetitions=2,
        description="component round trips with the node's threads on one core vs left to the scheduler",
    )
)
register(
    Benchmark(
        name="node.marshal",
        figures=(MARSHAL,),
        setup=_marshal_setup,
        measure=_marshal_measure,
        repetitions=5,
        quick_repetitions=2,
        description="host-side lowering and lifting of one receive result",
    )
)
register(
    Benchmark(
        name="node.memory",
        figures=tuple(MEMORY_FIGURES.values()),
        setup=_memory_setup,
        measure=_memory_measure,
        repetitions=3,
        quick_repetitions=1,
        description="resident memory per idle process, node against raw runner",
    )
)
