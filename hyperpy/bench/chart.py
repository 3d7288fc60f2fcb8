"""`--plot FILE`: a PNG bar chart of every figure's ratio (subject / baseline) with its target marked.

Why ratios: figures have different units (seconds, megabytes, requests per second), but each ratio
says "how hyperpy compares with its baseline", so they fit on one axis. A target on the subject
alone (e.g. "≤ 0.5 s") is drawn at the ratio it corresponds to in this run. Bars are green when the
target is met and red when it is missed; the acceptable range is shaded.

matplotlib is optional (`pip install 'hyperpy[bench]'`) and always used with the Agg backend, so
plotting works on headless CI machines.
"""

from __future__ import annotations

import math
from pathlib import Path

from hyperpy.bench.report import format_value
from hyperpy.bench.runner import BenchRun

MET_COLOUR = "#2e7d32"
MISSED_COLOUR = "#c62828"
UNKNOWN_COLOUR = "#9e9e9e"
TARGET_COLOUR = "#1a1a1a"


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


def write_chart(run: BenchRun, path: Path) -> None:
    """Write the PNG; figures that could not be measured are listed with an empty bar."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailableError(
            "--plot needs matplotlib: pip install 'hyperpy[bench]' (or pip install matplotlib)"
        ) from None

    results = run.results
    labels = [f"{r.figure.title}\n({r.figure.target.text})" for r in results]
    ratios = [r.ratio if math.isfinite(r.ratio) else 0.0 for r in results]
    colours = [{True: MET_COLOUR, False: MISSED_COLOUR, None: UNKNOWN_COLOUR}[r.met] for r in results]

    bounds = [r.figure.target.ratio_bounds(r.baseline_median) for r in results]
    finite = [v for v in ratios if v > 0] + [b for pair in bounds for b in pair if b is not None and b > 0]
    smallest, largest = min([1.0, *finite]), max([1.0, *finite])
    # Ratios from 0.01 (a no-op rebuild against a cold build) to 2 do not share a linear axis well.
    logarithmic = largest / smallest > 10
    if logarithmic:
        left, right = smallest / 2, largest * 1.8
    else:
        left, right = 0.0, largest * 1.25

    def beside(value: float) -> float:
        return value * 1.06 if logarithmic else value + right * 0.012

    height = 1.2 + 0.9 * len(results)
    figure, axes = plt.subplots(figsize=(10, height), dpi=120)
    if logarithmic:
        axes.set_xscale("log")
    positions = list(range(len(results)))[::-1]  # first figure on top
    widths = [max(ratio - left, 0.0) for ratio in ratios]
    axes.barh(positions, widths, left=left, color=colours, height=0.55, zorder=2)
    axes.axvline(1.0, color="#616161", linewidth=1, linestyle=":", zorder=1)

    for y, (low, high), ratio, result in zip(positions, bounds, ratios, results, strict=True):
        span_low = low if low is not None else left
        span_high = high if high is not None else right
        axes.fill_betweenx([y - 0.38, y + 0.38], span_low, span_high, color=MET_COLOUR, alpha=0.10, zorder=0)
        for bound in (low, high):
            if bound is not None:
                axes.plot([bound, bound], [y - 0.38, y + 0.38], color=TARGET_COLOUR, linewidth=2.2, zorder=3)
        text = "not measured" if result.met is None else f"{format_value(ratio)}x"
        # Right of both the bar and the upper target tick, so neither hides the number.
        anchor = max(ratio, left, high if high is not None and high < right else left)
        axes.text(beside(anchor), y, text, va="center", fontsize=9, fontweight="bold", zorder=4)

    axes.set_yticks(positions)
    axes.set_yticklabels(labels, fontsize=9)
    axes.set_xlim(left, right)
    scale = ", log scale" if logarithmic else ""
    axes.set_xlabel(f"ratio hyperpy / baseline (medians, same run{scale}); black ticks = target limits")
    mode = "quick" if run.quick else "full"
    env = run.environment
    axes.set_title(
        f"hyperpy bench ({mode} run), {env.cores} cores ({env.cpu}), {env.platform}\n"
        f"Python {env.python}, wasmtime {env.wasmtime}, componentize-py {env.componentize_py}, "
        f"hyperpy {env.hyperpy}" + (f" @ {env.commit}" if env.commit else ""),
        fontsize=9,
    )
    axes.grid(axis="x", linestyle="-", alpha=0.2, zorder=0)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
