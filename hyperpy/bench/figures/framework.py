"""Issue 5's figures: what the framework costs against raw receive/respond processes, same node,
same run.

The package is `framework_processes/` (built once per machine into the bench cache): a raw
`driver` makes N sequential round trips to a target; the target is either the raw `echo` (issue
3's `pong`; the baseline: a receive/respond loop, the floor DESIGN.md measures) or a framework app answering
`{"Ping": null}` (the subject: dispatch, codec, executor, answer). The same app runs under three
save policies, as `app-never`, `app-every` and `app-ondiff`.

* `framework.round_trips.<mode>`: round trips per second, framework app vs raw echo. Target
  (issue 5): at least 70% of the raw loop in component mode.
* `framework.concurrent_calls.<mode>`: seconds for the app to make 1,000 calls at once
  (`asyncio.gather`) to the raw echo, every answer checked, against the driver's 1,000 sequential
  raw round trips to the same echo.
* `framework.state_save.every_message` / `.on_diff` (component): throughput of a handler that
  changes the state under `EveryMessage` (a `set_state` per message) / of one that does not under
  `OnDiff` (one serialisation per message, no write), each against the same handler under `Never`.
* `framework.component_size`: the framework app's component against the raw echo's.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperpy.bench.figures.node import bench_cache_root
from hyperpy.bench.registry import Benchmark, Figure, Sample, Target, register

PACKAGE = "bench-framework:bench.os"
FIGURES = Path(__file__).resolve().parent
# (source, name in the built project): the raw echo is issue 3's `pong`, the same receive/respond loop.
SOURCE_FILES = (
    (FIGURES / "framework_processes" / "pyproject.toml", "pyproject.toml"),
    (FIGURES / "framework_processes" / "driver.py", "driver.py"),
    (FIGURES / "node_processes" / "pong.py", "echo.py"),
    (FIGURES / "framework_processes" / "app_never.py", "app_never.py"),
    (FIGURES / "framework_processes" / "app_every.py", "app_every.py"),
    (FIGURES / "framework_processes" / "app_ondiff.py", "app_ondiff.py"),
)
ROUND_TRIPS = {"component": 400, "native": 2000}
STATE_ROUND_TRIPS = 100  # EveryMessage writes state each time: keep the quick run short
WARM_UP = 20
FAN_OUT = 1000
CLIENT = "timer:distro:sys"  # a module every node has; the bench processes are public
TIMEOUT_S = 300
MB = 1_000_000

ROUND_TRIP_FIGURES = {
    mode: Figure(
        name=f"framework.round_trips.{mode}",
        title=f"framework request/response round trips per second ({mode})",
        unit="round trips/s",
        target=Target.ratio_at_least(0.7, "≥ 70% of the raw loop"),
        subject_label="framework app (@local ping)",
        baseline_label="raw receive/respond loop",
    )
    for mode in ("component", "native")
}
CONCURRENT_FIGURES = {
    mode: Figure(
        name=f"framework.concurrent_calls.{mode}",
        title=f"1,000 calls in flight at once, all answered ({mode})",
        unit="s",
        target=Target.ratio_at_most(2.0, "at most 2x 1,000 sequential raw round trips"),
        subject_label="framework: asyncio.gather of 1,000 calls",
        baseline_label="raw: 1,000 sequential round trips",
    )
    for mode in ("component", "native")
}
SAVE_EVERY = Figure(
    name="framework.state_save.every_message",
    title="state-changing handler under EveryMessage (component)",
    unit="round trips/s",
    # Reported rather than judged: each message costs one durable write by the node's state
    # module (an fsync on the local node), which dwarfs the framework's own work.
    target=Target.ratio_at_least(0.05, "report (a durable node write per message)"),
    subject_label="save=EveryMessage()",
    baseline_label="save=Never()",
)
SAVE_ON_DIFF = Figure(
    name="framework.state_save.on_diff",
    title="unchanged state under OnDiff: serialisation cost only (component)",
    unit="round trips/s",
    target=Target.ratio_at_least(0.85, "keeps ≥ 85%"),
    subject_label="save=OnDiff()",
    baseline_label="save=Never()",
)
COMPONENT_SIZE = Figure(
    name="framework.component_size",
    title="component size: framework app vs raw process",
    unit="MB",
    target=Target.ratio_at_most(1.3, "≤ 30% larger (asyncio + runtime)"),
    subject_label="framework app",
    baseline_label="raw echo process",
)


@dataclass
class FrameworkBench:
    project: Path
    zip_path: Path
    pkg_dir: Path
    compiled: Path
    scratch: Path
    nodes: dict[str, Any] = field(default_factory=dict)
    repetition: int = 0

    def node(self, mode: str) -> Any:
        """One node per mode for the whole benchmark, with the package installed and warmed up."""
        if mode not in self.nodes:
            from hyperpy.node import Node

            home = Path(tempfile.mkdtemp(prefix=f"node-{mode}-", dir=self.scratch))
            node = Node("fake.dev", home=home, cache_dir=self.compiled).start()
            if mode == "component":
                node.install(self.zip_path)
            else:
                node.install(self.project, mode="native")
            for target in ("echo", "app-never", "app-every", "app-ondiff"):
                _drive(node, target, '{"Ping":null}', WARM_UP)
            self.nodes[mode] = node
        return self.nodes[mode]

    def close(self) -> None:
        for node in self.nodes.values():
            node.close()
        self.nodes.clear()


def _built(scratch: Path) -> FrameworkBench:
    """Copy the sources to the bench cache when they changed and `hyperpy build` them there."""
    from hyperpy.build import build_project

    root = bench_cache_root()
    project = root / "framework"
    project.mkdir(parents=True, exist_ok=True)
    for source, name in SOURCE_FILES:
        target = project / name
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            shutil.copyfile(source, target)
    result = build_project(project, progress=False)
    return FrameworkBench(project, Path(result.zip_path), Path(result.pkg_dir), root / "compiled", scratch)


def _inject(node: Any, process: str, body: str) -> bytes:
    reply = node.inject(f"{process}:{PACKAGE}", body, expects_response=TIMEOUT_S, source=CLIENT)
    if reply is None:
        raise RuntimeError(f"{process} did not answer {body[:60]!r}")
    return bytes(reply.body)


def _drive(node: Any, target: str, body: str, count: int) -> float:
    """Seconds for the driver's `count` sequential round trips to `target` (all must be answered)."""
    command = json.dumps({"target": target, "body": body, "count": count})
    started = time.perf_counter()
    answered = _inject(node, "driver", command)
    elapsed = time.perf_counter() - started
    if answered != str(count).encode():
        raise RuntimeError(f"{target}: only {answered!r} of {count} round trips were answered")
    return elapsed


def _rate(node: Any, target: str, body: str, count: int) -> float:
    return count / _drive(node, target, body, count)


def _fan_out(node: Any) -> float:
    target = f"echo:{PACKAGE}"
    started = time.perf_counter()
    answer = _inject(node, "app-never", json.dumps({"FanOut": [target, FAN_OUT]}))
    elapsed = time.perf_counter() - started
    if json.loads(answer) != FAN_OUT:
        raise RuntimeError(f"only {answer!r} of {FAN_OUT} concurrent calls came back right")
    return elapsed


def _pair(first: Any, second: Any, swap: bool) -> tuple[float, float]:
    """Run two measurements, alternating which goes first between repetitions."""
    if swap:
        b = second()
        a = first()
    else:
        a = first()
        b = second()
    return a, b


def measure(state: FrameworkBench) -> dict[str, Sample]:
    state.repetition += 1
    swap = state.repetition % 2 == 0
    samples: dict[str, Sample] = {}
    ping = '{"Ping":null}'
    for mode in ("component", "native"):
        node = state.node(mode)
        count = ROUND_TRIPS[mode]
        subject, baseline = _pair(
            lambda node=node, count=count: _rate(node, "app-never", ping, count),
            lambda node=node, count=count: _rate(node, "echo", ping, count),
            swap,
        )
        samples[ROUND_TRIP_FIGURES[mode].name] = Sample(subject, baseline)
        subject, baseline = _pair(
            lambda node=node: _fan_out(node),
            lambda node=node: _drive(node, "echo", '{"Echo":0}', FAN_OUT),
            swap,
        )
        samples[CONCURRENT_FIGURES[mode].name] = Sample(subject, baseline)
    node = state.node("component")
    count = STATE_ROUND_TRIPS
    bump = '{"Bump":null}'
    every, never = _pair(
        lambda: _rate(node, "app-every", bump, count), lambda: _rate(node, "app-never", bump, count), swap
    )
    samples[SAVE_EVERY.name] = Sample(every, never)
    on_diff, never = _pair(
        lambda: _rate(node, "app-ondiff", ping, ROUND_TRIPS["component"]),
        lambda: _rate(node, "app-never", ping, ROUND_TRIPS["component"]),
        swap,
    )
    samples[SAVE_ON_DIFF.name] = Sample(on_diff, never)
    samples[COMPONENT_SIZE.name] = Sample(
        (state.pkg_dir / "app-never.wasm").stat().st_size / MB,
        (state.pkg_dir / "echo.wasm").stat().st_size / MB,
    )
    return samples


def setup(scratch: Path) -> FrameworkBench:
    state = _built(scratch)
    import atexit

    atexit.register(state.close)
    return state


register(
    Benchmark(
        name="framework",
        figures=(
            *ROUND_TRIP_FIGURES.values(),
            *CONCURRENT_FIGURES.values(),
            SAVE_EVERY,
            SAVE_ON_DIFF,
            COMPONENT_SIZE,
        ),
        setup=setup,
        measure=measure,
        repetitions=5,
        quick_repetitions=1,
        description="the framework app against raw receive/respond processes on the local node",
    )
)
