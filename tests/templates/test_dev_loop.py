"""`hyperpy dev`: edits are picked up and reinstalled; a broken edit is reported and the old version
keeps running; generated files and tests never trigger a rebuild."""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

import pytest

from hyperpy.commands.dev import is_relevant_change, run_dev
from hyperpy.node.control.surface import node_with_control_surface
from hyperpy.templates.scaffold import create_project

PROCESS = "devdemo:devdemo:template.os"


@pytest.mark.parametrize(
    ("relative", "relevant"),
    [
        ("devdemo.py", True),
        ("pyproject.toml", True),
        ("ui/index.html", True),
        ("pkg/devdemo.wasm", False),
        ("api/devdemo.wit", False),
        ("apis/devdemo.py", False),
        ("ui/caller-utils.js", False),
        ("tests/test_devdemo.py", False),
        ("__pycache__/devdemo.cpython-311.pyc", False),
        ("devdemo.py.tmp", False),
        ("target/hyperpy/x", False),
    ],
)
def test_which_edits_trigger_a_rebuild(tmp_path: Path, relative: str, relevant: bool) -> None:
    assert is_relevant_change(tmp_path / relative, tmp_path) is relevant


def test_edits_are_reinstalled_and_broken_edits_keep_the_old_version(tmp_path: Path) -> None:
    project = create_project("devdemo", "http", parent=tmp_path)
    module = project / "devdemo.py"
    reports: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    def report(message: str, style: str = "") -> None:
        reports.put(message)

    def expect(prefix: str) -> str:
        while True:
            message = reports.get(timeout=30)
            if message.startswith(prefix):
                return message

    read_end, write_end = os.pipe()  # keys through a pipe: no terminal needed
    commands = os.fdopen(read_end, "r")
    keys = os.fdopen(write_end, "w", buffering=1)
    node, _surface = node_with_control_surface("fake.dev", home=tmp_path / "home", port=0)
    with node:
        loop = threading.Thread(
            target=run_dev,
            args=(project, node, report),
            kwargs={"mode": "native", "stop": stop, "commands": commands},
        )
        loop.start()
        try:
            assert "(native)" in expect("installed devdemo:template.os")
            expect("watching for changes")

            def increment(by: int) -> object:
                reply = node.inject(PROCESS, {"Increment": by}, expects_response=5)
                assert reply is not None
                return reply.json()

            assert increment(1) == 1
            module.write_text(module.read_text().replace("self.count += by", "self.count += by * 10"))
            expect("reloaded devdemo:template.os")
            assert increment(1) == 11  # state kept, new code running

            working = module.read_text()
            module.write_text(working.replace("def increment(", "def increment(:"))
            assert "devdemo.py" in expect("not reloaded")
            assert increment(1) == 21  # the previous version still answers

            # a declaration error raised while the module is imported (after get_count was declared)
            module.write_text(working.replace("    @http\n    @local", '    @http(path="api/x")\n    @local'))
            assert "must be a string starting with '/'" in expect("not reloaded")
            module.write_text(working)  # fixed: reloads (no stale "defined more than once")
            assert "(native)" in expect("reloaded devdemo:template.os")
            assert increment(1) == 31

            keys.write("r\n")
            assert "(native)" in expect("reloaded devdemo:template.os")
        finally:
            stop.set()
            keys.close()
            loop.join(timeout=30)
    assert not loop.is_alive()
