"""What `hyperpy bench` measures: figures, their targets, and the benchmarks that produce them.

Every number hyperpy promises is a *figure*: one quantity (a build time, a size, a round-trip
rate) measured for hyperpy (the *subject*) and for a *baseline* in the same run, on the same
machine, so the ratio means something even on a slow or noisy CI box. A *benchmark* produces one or
more figures: it is set up once, then measured several times (repetitions); each repetition yields
one `Sample(subject, baseline)` per figure. Figures that share expensive work (the build figures all
come from the same builds) belong to one benchmark; most benchmarks have a single figure.

How to add a figure (later issues do exactly this):

1. Write a module under `hyperpy/bench/figures/` and add its dotted name to `FIGURE_MODULES` below.
2. In it, describe the figure and register a benchmark at import time. For two callables timed
   against each other, `paired` does the bookkeeping (it alternates their order each repetition)::

       from hyperpy.bench.registry import Figure, Target, paired, register

       register(
           paired(
               Figure(
                   name="calls.native",                # stable id: JSON key, --only filter
                   title="1k native-mode calls",       # what the table says
                   unit="s",
                   target=Target.ratio_at_most(2.0, "at most 2x a plain function call"),
                   baseline_label="plain Python call",
               ),
               subject=lambda scratch: run_hyperpy_calls(),      # timed
               baseline=lambda scratch: run_plain_calls(),       # timed
           )
       )

   With `timed=False` the callables *return* the measurement instead (a size, a rate).
3. For figures that share work, build a `Benchmark` directly: `setup(scratch_dir)` runs once and
   returns a state object; `measure(state)` runs once per repetition and returns
   `{figure_name: Sample(subject, baseline)}` for every figure it declares.
4. Choose `repetitions` (full run) and `quick_repetitions` (`--quick`, which must stay under two
   minutes on 2 cores for *all* figures together: keep quick runs to one or two repetitions of
   anything slower than a second).

Targets compare the medians: `ratio_*` targets the ratio subject/baseline (overheads, speedups,
sizes "within 5%"), `subject_*` targets the subject's median in its own unit (e.g. "≤ 0.5 s").
Tests never assert timings; the bench command is where they live.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

TargetKind = Literal["ratio_at_most", "ratio_at_least", "ratio_within", "subject_at_most", "subject_at_least"]

# Modules whose import registers figures into the default registry (see the module docstring).
FIGURE_MODULES: tuple[str, ...] = (
    "hyperpy.bench.figures.build",
    "hyperpy.bench.figures.framework",
    "hyperpy.bench.figures.modules",
    "hyperpy.bench.figures.node",
    "hyperpy.bench.figures.net",
)


class Sample(NamedTuple):
    """One repetition of one figure: the subject's and the baseline's value, in the figure's unit."""

    subject: float
    baseline: float


@dataclass(frozen=True)
class Target:
    """What "good" means for a figure, judged on medians."""

    kind: TargetKind
    value: float
    text: str

    @classmethod
    def ratio_at_most(cls, value: float, text: str = "") -> Target:
        return cls("ratio_at_most", value, text or f"ratio ≤ {value:g}")

    @classmethod
    def ratio_at_least(cls, value: float, text: str = "") -> Target:
        return cls("ratio_at_least", value, text or f"ratio ≥ {value:g}")

    @classmethod
    def ratio_within(cls, fraction: float, text: str = "") -> Target:
        """|ratio - 1| ≤ fraction: the subject is the baseline's size give or take `fraction`."""
        return cls("ratio_within", fraction, text or f"within {fraction:.0%} of baseline")

    @classmethod
    def subject_at_most(cls, value: float, unit: str, text: str = "") -> Target:
        return cls("subject_at_most", value, text or f"≤ {value:g} {unit}")

    @classmethod
    def subject_at_least(cls, value: float, unit: str, text: str = "") -> Target:
        return cls("subject_at_least", value, text or f"≥ {value:g} {unit}")

    def met(self, subject_median: float, ratio: float) -> bool:
        if self.kind == "ratio_at_most":
            return ratio <= self.value
        if self.kind == "ratio_at_least":
            return ratio >= self.value
        if self.kind == "ratio_within":
            return abs(ratio - 1.0) <= self.value + 1e-12
        if self.kind == "subject_at_most":
            return subject_median <= self.value
        return subject_median >= self.value

    def ratio_bounds(self, baseline_median: float) -> tuple[float | None, float | None]:
        """The target expressed as (lowest, highest) acceptable ratio, for charts; None = unbounded."""
        if self.kind == "ratio_at_most":
            return None, self.value
        if self.kind == "ratio_at_least":
            return self.value, None
        if self.kind == "ratio_within":
            return 1.0 - self.value, 1.0 + self.value
        if baseline_median <= 0 or not math.isfinite(baseline_median):
            return None, None
        if self.kind == "subject_at_most":
            return None, self.value / baseline_median
        return self.value / baseline_median, None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "text": self.text}


@dataclass(frozen=True)
class Figure:
    """One reported number: `subject` measured against `baseline`, in `unit`, judged by `target`."""

    name: str
    title: str
    unit: str
    target: Target
    subject_label: str = "hyperpy"
    baseline_label: str = "baseline"


def _scratch_is_state(scratch: Path) -> Path:
    return scratch


@dataclass(frozen=True)
class Benchmark:
    """Produces `figures`: `setup(scratch)` once, then `measure(state)` once per repetition."""

    name: str
    figures: tuple[Figure, ...]
    measure: Callable[[Any], Mapping[str, Sample]]
    setup: Callable[[Path], Any] = _scratch_is_state
    repetitions: int = 5
    quick_repetitions: int = 2
    description: str = ""

    def __post_init__(self) -> None:
        if not self.figures:
            raise ValueError(f"benchmark {self.name!r} declares no figures")
        if self.repetitions < 1 or self.quick_repetitions < 1:
            raise ValueError(f"benchmark {self.name!r}: repetitions must be at least 1")
        names = [f.name for f in self.figures]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmark {self.name!r} declares a figure name twice: {names}")

    def matches(self, patterns: Iterable[str]) -> bool:
        """True if any pattern is a substring of the benchmark name or one of its figure names."""
        wanted = list(patterns)
        if not wanted:
            return True
        names = [self.name, *(f.name for f in self.figures)]
        return any(pattern in name for pattern in wanted for name in names)


def paired(
    figure: Figure,
    *,
    subject: Callable[[Any], object],
    baseline: Callable[[Any], object],
    setup: Callable[[Path], Any] = _scratch_is_state,
    timed: bool = True,
    repetitions: int = 5,
    quick_repetitions: int = 2,
) -> Benchmark:
    """A one-figure benchmark from two callables, each given the setup state (default: scratch dir).

    timed=True: each call is timed (wall clock, seconds); the order alternates every repetition so
    warm-up or cache effects do not always favour the same side. timed=False: each callable returns
    the measurement (a number in the figure's unit).
    """
    repetition = [0]

    def run(side: Callable[[Any], object], state: Any) -> float:
        if timed:
            started = time.perf_counter()
            side(state)
            return time.perf_counter() - started
        value = side(state)
        if not isinstance(value, int | float):
            raise TypeError(
                f"figure {figure.name!r}: an untimed callable must return a number, got {value!r}"
            )
        return float(value)

    def measure(state: Any) -> dict[str, Sample]:
        repetition[0] += 1
        if repetition[0] % 2:
            baseline_value = run(baseline, state)
            subject_value = run(subject, state)
        else:
            subject_value = run(subject, state)
            baseline_value = run(baseline, state)
        return {figure.name: Sample(subject_value, baseline_value)}

    return Benchmark(
        name=figure.name,
        figures=(figure,),
        measure=measure,
        setup=setup,
        repetitions=repetitions,
        quick_repetitions=quick_repetitions,
        description=figure.title,
    )


@dataclass
class Registry:
    """An ordered set of benchmarks with unique benchmark and figure names."""

    benchmarks: dict[str, Benchmark] = field(default_factory=dict)

    def register(self, benchmark: Benchmark) -> Benchmark:
        if benchmark.name in self.benchmarks:
            raise ValueError(f"benchmark {benchmark.name!r} is registered twice")
        taken = {f.name for b in self.benchmarks.values() for f in b.figures}
        clash = sorted(taken & {f.name for f in benchmark.figures})
        if clash:
            raise ValueError(f"benchmark {benchmark.name!r}: figure name(s) already registered: {clash}")
        self.benchmarks[benchmark.name] = benchmark
        return benchmark

    def select(self, patterns: Iterable[str] = ()) -> list[Benchmark]:
        wanted = list(patterns)
        return [b for b in self.benchmarks.values() if b.matches(wanted)]


DEFAULT_REGISTRY = Registry()


def register(benchmark: Benchmark) -> Benchmark:
    """Add `benchmark` to the registry `hyperpy bench` runs (call this at import of a figure module)."""
    return DEFAULT_REGISTRY.register(benchmark)


def load_figures() -> Registry:
    """Import every figure module (each registers itself once) and return the default registry."""
    for module in FIGURE_MODULES:
        importlib.import_module(module)
    return DEFAULT_REGISTRY
