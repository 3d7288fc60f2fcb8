"""A package's own scripts (pkg/scripts.json), written with `@script`, run from the terminal.

The package in `script_package/` has a public echo process and four scripts: `shout` (async, asks
echo), `sleepy` (async, sleeps through timer:distro:sys, granted by its entry), `boom` (raises) and
`roots` (root: starts with the terminal's capabilities). Installed natively here; the component
build of scripts comes from `hyperpy build` (tests/build).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperpy.node import Node

from .test_terminal import run_line

PACKAGE = Path(__file__).resolve().parent / "script_package"
PROCESSES = Path(__file__).resolve().parent / "processes"
PREFIX = "scripts-test:test.os: "


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with Node("fake.dev", home=tmp_path_factory.mktemp("scripts"), http_port=0) as booted:
        booted.install(
            PACKAGE / "pkg",
            mode="native",
            package_id="scripts-test:test.os",
            native_modules={
                "echo.wasm": PROCESSES / "echo.py",
                **{f"{name}.wasm": PACKAGE / f"{name}.py" for name in ("shout", "sleepy", "boom", "roots")},
            },
        )
        yield booted


def script_output(node: Node, line: str, count: int = 1) -> list[str]:
    """The level-0 printouts of the scripts (and the terminal) that `line` caused."""
    mark = node.terminal.mark()
    node.terminal_command(line)
    texts = []
    for _ in range(count):
        printout = node.terminal.wait_for(
            lambda p: (
                p.verbosity == 0 and (p.source.process_name.isdigit() or p.source.process_name == "terminal")
            ),
            timeout=20,
            since=mark,
        )
        mark = printout.seq
        texts.append(printout.text)
    return texts


def test_a_package_script_runs_with_its_argument_string(node: Node) -> None:
    assert script_output(node, "shout:scripts-test:test.os hello  world") == [f"{PREFIX}HELLO  WORLD"]


def test_an_alias_names_a_package_script(node: Node) -> None:
    run_line(node, "alias shout shout:scripts-test:test.os", count=2)
    assert script_output(node, "shout again") == [f"{PREFIX}AGAIN"]


def test_an_async_script_sleeps_through_the_timer_it_was_granted(node: Node) -> None:
    texts = script_output(node, "sleepy:scripts-test:test.os 0.2", count=2)
    assert texts == [f"{PREFIX}sleeping 0.2s", f"{PREFIX}slept 0.2s"]


def test_a_failing_script_ends_with_an_error_and_the_node_keeps_running(node: Node) -> None:
    mark = node.terminal.mark()
    node.terminal_command("boom:scripts-test:test.os now")
    crash = node.terminal.wait_for("ended with error", since=mark, timeout=20)
    assert "RuntimeError: boom: now" in crash.text
    assert script_output(node, "shout alive") == [f"{PREFIX}ALIVE"]
    deadline = time.monotonic() + 15
    while any(p.id.process_name.isdigit() for p in node.processes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p.id for p in node.processes() if p.id.process_name.isdigit()]


def test_a_root_script_gets_the_terminals_capabilities(node: Node) -> None:
    (text,) = script_output(node, "roots:scripts-test:test.os")
    caps = text.removeprefix(PREFIX).splitlines()
    assert 'vfs:{"root":true}' in caps  # held by the terminal, passed on because root
    assert 'kernel:"network"' in caps  # request_networking
    assert 'terminal:"messaging"' in caps  # every script may message the terminal back


def test_scripts_json_problems_get_the_terminals_answers(node: Node, tmp_path: Path) -> None:
    assert run_line(node, "missing:scripts-test:test.os x") == [
        "error calling script: script not in scripts.json file"
    ]
    broken = node.home / "vfs" / "scripts-test:test.os" / "pkg" / "scripts.json"
    saved = broken.read_bytes()
    broken.write_text('{"shout.wasm": {"root": "yes"}}')
    try:
        assert run_line(node, "shout:scripts-test:test.os x") == [
            "error calling script: could not parse scripts.json file"
        ]
    finally:
        broken.write_bytes(saved)
    assert script_output(node, "shout:scripts-test:test.os back") == [f"{PREFIX}BACK"]
