"""`hyperpy bench --quick` end to end: the real figures run and every output has its structure.

Timings and whether targets are met are never asserted (they belong to BENCHMARKS.md); only that
each figure was measured and reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hyperpy.bench.registry import load_figures

BUILD_FIGURES = {"build.cold", "build.noop", "build.noop_api", "build.component_size", "build.zip_size"}


def hyperpy_command() -> list[str]:
    script = Path(sys.executable).with_name("hyperpy")
    return (
        [str(script)] if script.is_file() else [sys.executable, "-c", "from hyperpy.cli import main; main()"]
    )


def test_issue_2_figures_are_registered() -> None:
    names = {figure.name for benchmark in load_figures().select() for figure in benchmark.figures}
    assert names >= BUILD_FIGURES


def test_list_names_every_figure() -> None:
    result = subprocess.run(
        [*hyperpy_command(), "bench", "--list"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    listed = {line.split("\t")[0] for line in result.stdout.splitlines()}
    assert listed >= BUILD_FIGURES


def test_unknown_figure_is_a_usage_error() -> None:
    result = subprocess.run(
        [*hyperpy_command(), "bench", "--only", "no-such-figure"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "no figure matches no-such-figure" in result.stderr


@pytest.mark.timeout(600)
def test_quick_bench_writes_json_markdown_and_png(tmp_path: Path) -> None:
    json_file = tmp_path / "bench.json"
    markdown_file = tmp_path / "bench.md"
    plot_file = tmp_path / "bench.png"
    outputs = ["--json", str(json_file), "--markdown", str(markdown_file), "--plot", str(plot_file)]
    result = subprocess.run(
        [*hyperpy_command(), "bench", "--quick", *outputs],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    data = json.loads(json_file.read_text())
    assert data["quick"] is True
    figures = {entry["name"]: entry for entry in data["figures"]}
    assert set(figures) >= BUILD_FIGURES
    for name in BUILD_FIGURES:
        entry = figures[name]
        assert entry["error"] is None, (name, entry["error"])
        assert entry["repetitions"] >= 1
        assert entry["subject"]["median"] > 0
        assert entry["baseline"]["median"] > 0
        assert entry["ratio"] > 0
        assert isinstance(entry["met"], bool)
        assert entry["target"]["text"]
    assert figures["build.component_size"]["unit"] == "MB"
    assert figures["build.cold"]["baseline"]["label"] == "bare componentize-py componentize"

    markdown = markdown_file.read_text()
    assert "componentize-py" in markdown.splitlines()[0]
    for name in BUILD_FIGURES:
        assert f"`{name}`" in markdown

    assert plot_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cold build of the raw echo" in result.stdout
