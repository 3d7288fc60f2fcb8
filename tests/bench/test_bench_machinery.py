"""The bench machinery on cheap synthetic figures: registry, statistics, targets and all outputs.

No timing is asserted anywhere: synthetic benchmarks return fixed numbers.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from rich.console import Console

from hyperpy.bench.chart import write_chart
from hyperpy.bench.registry import Benchmark, Figure, Registry, Sample, Target, paired
from hyperpy.bench.report import format_value, markdown, print_table, write_json
from hyperpy.bench.runner import run_benchmark, run_benchmarks


def figure(name: str, target: Target | None = None, unit: str = "s") -> Figure:
    return Figure(
        name=name,
        title=f"synthetic {name}",
        unit=unit,
        target=target or Target.ratio_at_most(1.15, "overhead ≤ 15%"),
        baseline_label="fake baseline",
    )


def fixed(name: str, samples: list[Sample], target: Target | None = None, **kwargs: int) -> Benchmark:
    """A benchmark returning the given samples, one per repetition, in order."""
    queue = list(samples)

    def measure(state: object) -> dict[str, Sample]:
        return {name: queue.pop(0)}

    return Benchmark(name=name, figures=(figure(name, target),), measure=measure, **kwargs)


def test_statistics_use_medians_for_the_ratio_and_report_minimums() -> None:
    benchmark = fixed(
        "stats",
        [Sample(12.0, 10.0), Sample(11.0, 10.0), Sample(30.0, 9.0)],
        repetitions=3,
    )
    [result] = run_benchmark(benchmark, quick=False)
    assert result.subject == [12.0, 11.0, 30.0]
    assert result.subject_min == 11.0
    assert result.subject_median == 12.0
    assert result.baseline_min == 9.0
    assert result.baseline_median == 10.0
    assert result.ratio == pytest.approx(1.2)
    assert result.met is False  # 1.2 > 1.15


def test_quick_runs_use_quick_repetitions() -> None:
    benchmark = fixed("quick", [Sample(1.0, 1.0)] * 5, repetitions=5, quick_repetitions=2)
    [result] = run_benchmark(benchmark, quick=True)
    assert len(result.subject) == 2


@pytest.mark.parametrize(
    ("target", "subject", "baseline", "met"),
    [
        (Target.ratio_at_most(1.15), 1.10, 1.0, True),
        (Target.ratio_at_most(1.15), 1.20, 1.0, False),
        (Target.ratio_at_least(2.0), 5.0, 2.0, True),
        (Target.ratio_at_least(2.0), 3.0, 2.0, False),
        (Target.ratio_within(0.05), 0.96, 1.0, True),
        (Target.ratio_within(0.05), 1.05, 1.0, True),
        (Target.ratio_within(0.05), 1.06, 1.0, False),
        (Target.subject_at_most(0.5, "s"), 0.4, 9.0, True),
        (Target.subject_at_most(0.5, "s"), 0.6, 0.1, False),
        (Target.subject_at_least(1000, "req/s"), 2000, 1.0, True),
    ],
)
def test_targets(target: Target, subject: float, baseline: float, met: bool) -> None:
    [result] = run_benchmark(fixed("t", [Sample(subject, baseline)], target, repetitions=1), quick=False)
    assert result.met is met


def test_subject_target_in_ratio_space_for_the_chart() -> None:
    assert Target.subject_at_most(0.5, "s").ratio_bounds(10.0) == (None, 0.05)
    assert Target.ratio_within(0.05).ratio_bounds(1.0) == (0.95, 1.05)


def test_paired_times_both_sides_and_alternates_their_order(tmp_path: Path) -> None:
    calls: list[str] = []
    benchmark = paired(
        figure("pair"),
        subject=lambda state: calls.append("subject"),
        baseline=lambda state: calls.append("baseline"),
        repetitions=2,
    )
    [result] = run_benchmark(benchmark, quick=False)
    assert calls == ["baseline", "subject", "subject", "baseline"]
    assert len(result.subject) == len(result.baseline) == 2
    assert all(value >= 0 for value in result.subject + result.baseline)


def test_paired_untimed_uses_returned_values() -> None:
    benchmark = paired(
        figure("sizes", Target.ratio_within(0.05), unit="MB"),
        subject=lambda state: 10.2,
        baseline=lambda state: 10,
        timed=False,
        repetitions=1,
    )
    [result] = run_benchmark(benchmark, quick=False)
    assert result.subject == [10.2]
    assert result.ratio == pytest.approx(1.02)
    assert result.met is True


def test_setup_receives_a_scratch_directory_and_its_state_reaches_measure() -> None:
    seen: dict[str, object] = {}

    def setup(scratch: Path) -> dict[str, Path]:
        assert scratch.is_dir()
        (scratch / "marker").write_text("x")
        return {"dir": scratch}

    def measure(state: dict[str, Path]) -> dict[str, Sample]:
        seen["marker"] = (state["dir"] / "marker").read_text()
        return {"setup": Sample(1.0, 1.0)}

    run_benchmark(Benchmark("setup", (figure("setup"),), measure, setup=setup, repetitions=1), quick=False)
    assert seen["marker"] == "x"


def test_a_failing_benchmark_is_reported_not_fatal() -> None:
    def broken(state: object) -> dict[str, Sample]:
        raise RuntimeError("componentize-py exploded")

    run = run_benchmarks(
        [
            Benchmark("broken", (figure("broken"),), broken, repetitions=1),
            fixed("fine", [Sample(1.0, 1.0)], repetitions=1),
        ]
    )
    broken_result, fine_result = run.results
    assert broken_result.error == "RuntimeError: componentize-py exploded"
    assert broken_result.met is None
    assert math.isnan(broken_result.ratio)
    assert fine_result.met is True
    assert not run.all_met


def test_measure_must_return_every_declared_figure() -> None:
    benchmark = Benchmark(
        "two",
        (figure("two.a"), figure("two.b")),
        lambda state: {"two.a": Sample(1.0, 1.0)},
        repetitions=1,
    )
    results = run_benchmark(benchmark, quick=False)
    assert all("no sample for figure(s) ['two.b']" in (r.error or "") for r in results)


def test_registry_refuses_duplicate_names_and_selects_by_substring() -> None:
    registry = Registry()
    registry.register(fixed("build.cold", [Sample(1, 1)]))
    registry.register(fixed("calls.native", [Sample(1, 1)]))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(fixed("build.cold", [Sample(1, 1)]))
    clash = Benchmark("other", (figure("calls.native"),), lambda state: {})
    with pytest.raises(ValueError, match="already registered"):
        registry.register(clash)
    assert [b.name for b in registry.select(["build"])] == ["build.cold"]
    assert len(registry.select()) == 2
    with pytest.raises(ValueError, match="no figures"):
        Benchmark("empty", (), lambda state: {})


def test_json_output_structure(tmp_path: Path) -> None:
    run = run_benchmarks([fixed("cold", [Sample(7.4, 7.0), Sample(7.6, 7.1)], repetitions=2)], quick=True)
    path = tmp_path / "out" / "bench.json"
    write_json(run, path)
    data = json.loads(path.read_text())
    assert data["schema"] == "hyperpy-bench/1"
    assert data["quick"] is True
    assert data["load_average"] is None or len(data["load_average"]) == 2
    assert set(data["environment"]) >= {"cores", "python", "wasmtime", "componentize_py", "cpu"}
    [entry] = data["figures"]
    assert entry["name"] == "cold"
    assert entry["subject"] == {"label": "hyperpy", "samples": [7.4, 7.6], "min": 7.4, "median": 7.5}
    assert entry["baseline"]["label"] == "fake baseline"
    assert entry["ratio"] == pytest.approx(7.5 / 7.05)
    assert entry["target"] == {"kind": "ratio_at_most", "value": 1.15, "text": "overhead ≤ 15%"}
    assert entry["met"] is True
    assert entry["error"] is None


def test_markdown_has_environment_and_one_row_per_figure() -> None:
    run = run_benchmarks(
        [
            fixed("cold", [Sample(7.4, 7.0)], repetitions=1),
            fixed("noop", [Sample(0.9, 7.0)], Target.subject_at_most(0.5, "s"), repetitions=1),
        ]
    )
    text = markdown(run)
    lines = text.splitlines()
    env = run.environment
    assert f"{env.cores} cores" in lines[0]
    assert f"Python {env.python}" in lines[0]
    assert f"wasmtime {env.wasmtime}" in lines[0]
    assert f"componentize-py {env.componentize_py}" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("| figure"))
    rows = [line for line in lines[header + 2 :] if line.startswith("|")]
    assert len(rows) == 2
    assert "synthetic cold (`cold`, n=1)" in rows[0]
    assert "7.40 / 7.40 s" in rows[0]
    assert "(fake baseline)" in rows[0]
    assert rows[0].rstrip().endswith("✅ |")
    assert "≤ 0.5 s" in rows[1]
    assert rows[1].rstrip().endswith("❌ |")


def test_terminal_table_mentions_every_figure_and_errors() -> None:
    def broken(state: object) -> dict[str, Sample]:
        raise OSError("disk full")

    run = run_benchmarks(
        [fixed("cold", [Sample(7.4, 7.0)], repetitions=1), Benchmark("bad", (figure("bad"),), broken)]
    )
    console = Console(record=True, width=160)
    print_table(run, console)
    text = console.export_text()
    assert "synthetic cold" in text
    assert "met" in text
    assert "bad: OSError: disk full" in text


def test_png_chart_is_written(tmp_path: Path) -> None:
    run = run_benchmarks(
        [
            fixed("cold", [Sample(7.4, 7.0)], repetitions=1),
            fixed("noop", [Sample(0.3, 7.0)], Target.subject_at_most(0.5, "s"), repetitions=1),
            fixed("size", [Sample(18.6, 18.4)], Target.ratio_within(0.05), repetitions=1),
            Benchmark("bad", (figure("bad"),), lambda state: {}, repetitions=1),
        ]
    )
    path = tmp_path / "charts" / "bench.png"
    write_chart(run, path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800
    assert height >= 300


def test_value_formatting() -> None:
    assert format_value(7.123) == "7.12"
    assert format_value(0.31234) == "0.312"
    assert format_value(18.37) == "18.4"
    assert format_value(2400.4) == "2,400"
    assert format_value(math.nan) == "-"
