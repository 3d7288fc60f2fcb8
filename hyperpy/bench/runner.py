"""Run benchmarks and summarise their samples: min and median of subject and baseline, and the ratio.

Why medians for the verdict and minimums beside them: on a shared 2-core machine a single repetition
can be slowed by anything; the median is robust to one outlier, the minimum shows the best case the
code can reach. The ratio is median(subject) / median(baseline), both measured in the same run.

A benchmark that raises does not stop the run: its figures are reported with the error, so one
broken figure never hides the others (and the JSON says which one broke).
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperpy.bench.environment import Environment, describe_environment
from hyperpy.bench.registry import Benchmark, Figure

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class FigureResult:
    """All samples of one figure and the statistics reported for it."""

    figure: Figure
    subject: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None and bool(self.subject) and bool(self.baseline)

    @property
    def subject_min(self) -> float:
        return min(self.subject) if self.subject else math.nan

    @property
    def subject_median(self) -> float:
        return statistics.median(self.subject) if self.subject else math.nan

    @property
    def baseline_min(self) -> float:
        return min(self.baseline) if self.baseline else math.nan

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline) if self.baseline else math.nan

    @property
    def ratio(self) -> float:
        """median(subject) / median(baseline); NaN when a side is missing or the baseline is 0."""
        baseline = self.baseline_median
        if not self.complete or baseline == 0:
            return math.nan
        return self.subject_median / baseline

    @property
    def met(self) -> bool | None:
        """Whether the target is met; None when the figure could not be measured."""
        if not self.complete or math.isnan(self.ratio):
            return None
        return self.figure.target.met(self.subject_median, self.ratio)

    def to_json(self) -> dict[str, Any]:
        figure = self.figure
        return {
            "name": figure.name,
            "title": figure.title,
            "unit": figure.unit,
            "target": figure.target.to_json(),
            "repetitions": len(self.subject),
            "subject": _side_json(figure.subject_label, self.subject),
            "baseline": _side_json(figure.baseline_label, self.baseline),
            "ratio": _finite_or_none(self.ratio),
            "met": self.met,
            "error": self.error,
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _side_json(label: str, samples: list[float]) -> dict[str, Any]:
    return {
        "label": label,
        "samples": samples,
        "min": min(samples) if samples else None,
        "median": statistics.median(samples) if samples else None,
    }


@dataclass
class BenchRun:
    """One invocation of `hyperpy bench`: where, how, and every figure's result."""

    environment: Environment
    quick: bool
    results: list[FigureResult]
    started: float
    duration_s: float
    # 1-minute load averages at start and end: other work on the machine skews timings, so say so.
    load: tuple[float, float] | None = None

    @property
    def all_met(self) -> bool:
        return all(result.met for result in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "hyperpy-bench/1",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_s": self.duration_s,
            "quick": self.quick,
            "load_average": list(self.load) if self.load else None,
            "environment": self.environment.to_json(),
            "figures": [result.to_json() for result in self.results],
        }


def run_benchmark(benchmark: Benchmark, *, quick: bool, progress: Progress = _quiet) -> list[FigureResult]:
    """Set `benchmark` up in a private scratch directory and measure it the configured number of times."""
    results = {figure.name: FigureResult(figure) for figure in benchmark.figures}
    repetitions = benchmark.quick_repetitions if quick else benchmark.repetitions
    with tempfile.TemporaryDirectory(prefix=f"hyperpy-bench-{benchmark.name}-") as scratch:
        try:
            progress(f"{benchmark.name}: setting up")
            state = benchmark.setup(Path(scratch))
            for repetition in range(1, repetitions + 1):
                progress(f"{benchmark.name}: repetition {repetition}/{repetitions}")
                samples = benchmark.measure(state)
                missing = sorted(set(results) - set(samples))
                if missing:
                    raise ValueError(f"measure() returned no sample for figure(s) {missing}")
                for name, sample in samples.items():
                    if name not in results:
                        raise ValueError(f"measure() returned a sample for undeclared figure {name!r}")
                    results[name].subject.append(float(sample.subject))
                    results[name].baseline.append(float(sample.baseline))
        except Exception as exc:  # a broken figure is reported, never fatal to the whole run
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            for result in results.values():
                result.error = detail
    return list(results.values())


def run_benchmarks(
    benchmarks: Sequence[Benchmark], *, quick: bool = False, progress: Progress = _quiet
) -> BenchRun:
    """Run every benchmark in order; figures keep the order in which they were declared."""
    started = time.time()
    clock = time.perf_counter()
    load_start = _load_average()
    results: list[FigureResult] = []
    for benchmark in benchmarks:
        results.extend(run_benchmark(benchmark, quick=quick, progress=progress))
    load_end = _load_average()
    return BenchRun(
        environment=describe_environment(),
        quick=quick,
        results=results,
        started=started,
        duration_s=time.perf_counter() - clock,
        load=(load_start, load_end) if load_start is not None and load_end is not None else None,
    )


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return None
