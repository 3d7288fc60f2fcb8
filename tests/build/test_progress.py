"""The build's progress lines: a process that failed is marked as failed, not with a check mark."""

from __future__ import annotations

import io

from rich.console import Console

from hyperpy.build.progress import RichReporter


def _render(ok: bool) -> str:
    out = io.StringIO()
    with RichReporter(["todo"], Console(file=out, force_terminal=False, width=80)) as report:
        report.step("todo", "compiling")
        report.done("todo", "failed" if not ok else "built", ok=ok)
    return out.getvalue()


def test_a_failed_build_is_marked_failed() -> None:
    text = _render(ok=False)
    assert "✗ todo failed" in text and "✓" not in text


def test_a_successful_build_keeps_its_check_mark() -> None:
    assert "✓ todo built" in _render(ok=True)
