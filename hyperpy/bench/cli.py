"""`hyperpy bench`: run the registered figures and report them (table, JSON, Markdown, PNG).

Exit status: 1 if a figure could not be measured (the machinery or what it measures is broken),
else 0 even when a target is missed: CI runs `hyperpy bench --quick` to keep the figures working,
never to gate on timings. `--strict` also makes a missed target exit 1, for local use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from hyperpy.bench.chart import PlotUnavailableError, write_chart
from hyperpy.bench.registry import load_figures
from hyperpy.bench.report import markdown, print_table, write_json
from hyperpy.bench.runner import run_benchmarks


@click.command("bench")
@click.option(
    "--quick", is_flag=True, help="Fewer repetitions (all figures in under two minutes on 2 cores)."
)
@click.option(
    "--json", "json_file", type=click.Path(path_type=Path), help="Write machine-readable results here."
)
@click.option(
    "--markdown",
    "markdown_file",
    type=click.Path(path_type=Path, allow_dash=True),
    help="Write the Markdown table (for BENCHMARKS.md) here; '-' prints it.",
)
@click.option(
    "--plot", "plot_file", type=click.Path(path_type=Path), help="Write a PNG chart of the ratios here."
)
@click.option(
    "--only", "patterns", multiple=True, help="Run only figures whose name contains this (repeatable)."
)
@click.option("--list", "list_only", is_flag=True, help="List the registered figures and exit.")
@click.option("--strict", is_flag=True, help="Also exit 1 when a target is missed.")
def bench_command(
    quick: bool,
    json_file: Path | None,
    markdown_file: Path | None,
    plot_file: Path | None,
    patterns: tuple[str, ...],
    list_only: bool,
    strict: bool,
) -> None:
    """Measure hyperpy against its baselines, in the same run, and report min/median and ratios."""
    console = Console(stderr=True)
    benchmarks = load_figures().select(patterns)
    if not benchmarks:
        raise click.UsageError(f"no figure matches {', '.join(patterns)}; see `hyperpy bench --list`")
    if list_only:
        for benchmark in benchmarks:
            for figure in benchmark.figures:
                click.echo(f"{figure.name}\t{figure.title} [{figure.unit}] target {figure.target.text}")
        return

    with console.status("hyperpy bench") as status:
        run = run_benchmarks(
            benchmarks, quick=quick, progress=lambda text: status.update(f"hyperpy bench: {text}")
        )

    # Piped output (CI logs, `| tee`) gets a readable width instead of rich's 80-column default.
    print_table(run, Console() if sys.stdout.isatty() else Console(width=150))
    if json_file:
        write_json(run, json_file)
        console.print(f"wrote {json_file}")
    if markdown_file:
        text = markdown(run)
        if str(markdown_file) == "-":
            click.echo(text, nl=False)
        else:
            markdown_file.parent.mkdir(parents=True, exist_ok=True)
            markdown_file.write_text(text, encoding="utf-8")
            console.print(f"wrote {markdown_file}")
    if plot_file:
        try:
            write_chart(run, plot_file)
        except PlotUnavailableError as exc:
            raise click.ClickException(str(exc)) from None
        console.print(f"wrote {plot_file}")
    failed = [r.figure.name for r in run.results if r.error]
    if failed:
        console.print(f"[red]{len(failed)} figure(s) could not be measured: {', '.join(failed)}[/red]")
    if failed or (strict and not run.all_met):
        sys.exit(1)
