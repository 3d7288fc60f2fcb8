"""How `hyperpy run` shows the node's terminal: only shown printouts, crashes in red, `v` cycles verbosity."""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.console import Console

from hyperpy.node.control.console import ConsoleStream, VerbosityKeys


@dataclass
class Line:
    node: str
    verbosity: int
    text: str
    shown: bool


def stream() -> tuple[ConsoleStream, io.StringIO]:
    out = io.StringIO()
    return ConsoleStream(Console(file=out, force_terminal=True, color_system="standard", width=200)), out


def test_only_printouts_the_node_shows_are_printed() -> None:
    console, out = stream()

    console(Line("fake.dev", 0, "echo:template.os: shown", True))
    console(Line("fake.dev", 2, "kernel: hidden", False))

    assert "shown" in out.getvalue()
    assert "hidden" not in out.getvalue()


def test_crashes_are_red_and_verbose_lines_dim() -> None:
    console, _ = stream()

    assert console.style_for(Line("fake.dev", 0, "process x ended with error: boom", True)) == "bold red"
    assert console.style_for(Line("fake.dev", 2, "kernel: routing", True)) == "dim"
    assert console.style_for(Line("fake.dev", 0, "app: hello", True)) == ""


def test_v_cycles_the_verbosity_through_0_to_3() -> None:
    console, out = stream()
    levels: list[int] = []
    keys = VerbosityKeys(levels.append, 2, console)

    assert [keys.handle("v"), keys.handle("\x16"), keys.handle("x"), keys.handle("v")] == [3, 0, None, 1]
    assert levels == [3, 0, 1]
    assert "terminal verbosity 1" in out.getvalue()
