"""Render a bench run: a rich table for the terminal, JSON for machines, Markdown for BENCHMARKS.md.

All three show the same columns: subject min/median, baseline min/median (same run), the ratio of
the medians, the target and whether it is met.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hyperpy.bench.runner import BenchRun, FigureResult


def format_value(value: float) -> str:
    """Three significant digits or so, without scientific notation for everyday magnitudes."""
    if not math.isfinite(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude >= 0.001 or magnitude == 0:
        return f"{value:.3f}"
    return f"{value:.2e}"


def _pair(minimum: float, median: float, unit: str) -> str:
    return f"{format_value(minimum)} / {format_value(median)} {unit}"


def _verdict(result: FigureResult) -> str:
    if result.error:
        return "error"
    return {True: "met", False: "MISSED", None: "-"}[result.met]


def _run_line(run: BenchRun) -> str:
    when = time.strftime("%Y-%m-%d", time.gmtime(run.started))
    mode = "quick run" if run.quick else "full run"
    load = f", load average {run.load[0]:.1f} -> {run.load[1]:.1f}" if run.load else ""
    return f"{when}, {mode} ({run.duration_s:.0f} s{load}): {run.environment.one_line()}"


def print_table(run: BenchRun, console: Console | None = None) -> None:
    """The terminal table; errors are printed under it in full."""
    console = console or Console()
    table = Table(title="hyperpy bench", caption=_run_line(run), caption_justify="left")
    table.add_column("figure")
    table.add_column("hyperpy min / median", justify="right")
    table.add_column("baseline min / median", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target")
    table.add_column("", justify="center")
    for result in run.results:
        figure = result.figure
        verdict = _verdict(result)
        style = {"met": "green", "MISSED": "red", "error": "red"}.get(verdict, "")
        table.add_row(
            f"{figure.title}\n[dim]{figure.name}, n={len(result.subject)}[/dim]",
            _pair(result.subject_min, result.subject_median, figure.unit),
            _pair(result.baseline_min, result.baseline_median, figure.unit)
            + f"\n[dim]{figure.baseline_label}[/dim]",
            format_value(result.ratio),
            figure.target.text,
            f"[{style}]{verdict}[/{style}]" if style else verdict,
        )
    console.print(table)
    for result in run.results:
        if result.error:
            console.print(f"[red]{result.figure.name}: {result.error}[/red]")


def write_json(run: BenchRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run.to_json(), indent=2) + "\n", encoding="utf-8")


def markdown(run: BenchRun) -> str:
    """A self-describing Markdown section: environment line, then one table row per figure."""
    lines = [
        f"Measured {_run_line(run)}.",
        "",
        "| figure | hyperpy min / median | baseline min / median | ratio | target | met |",
        "|---|---:|---:|---:|---|:---:|",
    ]
    for result in run.results:
        figure = result.figure
        verdict = {"met": "✅", "MISSED": "❌", "error": "error"}.get(_verdict(result), "-")
        lines.append(
            f"| {figure.title} (`{figure.name}`, n={len(result.subject)}) "
            f"| {_pair(result.subject_min, result.subject_median, figure.unit)} "
            f"| {_pair(result.baseline_min, result.baseline_median, figure.unit)} ({figure.baseline_label}) "
            f"| {format_value(result.ratio)} | {figure.target.text} | {verdict} |"
        )
    errors = [result for result in run.results if result.error]
    if errors:
        lines.append("")
        lines.extend(f"- `{result.figure.name}` failed: {result.error}" for result in errors)
    return "\n".join(lines) + "\n"
