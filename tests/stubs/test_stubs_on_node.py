"""A Python process calls another package's handlers through stubs generated from that package's WIT,
on the local node: `hyperpy wit` on the callee, `hyperpy stubs --local <callee>` on the caller."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hyperpy.cli import main
from hyperpy.node import Node

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
CALLER = "caller:caller:template.os"


def _prepare(tmp_path: Path) -> tuple[Path, Path]:
    counter = tmp_path / "counter"
    caller = tmp_path / "caller"
    shutil.copytree(FIXTURES / "counter_pkg", counter)
    shutil.copytree(FIXTURES / "caller_pkg", caller)
    runner = CliRunner()
    generated = runner.invoke(main, ["wit", str(counter)])
    assert generated.exit_code == 0, generated.output
    stubs = runner.invoke(main, ["stubs", str(caller), "--local", str(counter)])
    assert stubs.exit_code == 0, stubs.output
    assert "API of counter:template.os" in stubs.output
    return counter, caller


def test_a_process_calls_another_package_through_generated_stubs_natively(tmp_path: Path) -> None:
    counter, caller = _prepare(tmp_path)
    with Node("fake.dev", home=tmp_path / "home", restart_delay_scale=0.01) as node:
        node.install(counter, mode="native")
        node.install(caller, mode="native")

        def ask(body: object) -> object:
            # any existing process may inject; timer is always there (http-server only with the modules)
            reply = node.inject(CALLER, body, expects_response=5, source="timer:distro:sys")
            assert reply is not None
            return reply.json()

        assert ask({"Bump": 5}) == 5
        assert ask({"Bump": 2}) == 7
        # enum argument, result<record, string> answer decoded into the stub's dataclasses
        assert ask({"Steps": 2}) == "total=27 added=[20]"
        assert ask({"Steps": -1}) == "refused: times must be >= 0"


def test_the_same_calls_work_between_built_components(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperpy.build import build_project

    monkeypatch.setenv("HYPERPY_CACHE_DIR", os.environ.get("HYPERPY_CACHE_DIR", str(REPO / ".hyperpy-cache")))
    counter, caller = _prepare(tmp_path)
    zips = [build_project(project, progress=False).zip_path for project in (counter, caller)]
    with Node("fake.dev", home=tmp_path / "home", restart_delay_scale=0.01) as node:
        for package in zips:
            node.install(package)
        for body, expected in (
            ({"Bump": 5}, 5),
            ({"Steps": 2}, "total=25 added=[20]"),
            ({"Steps": -1}, "refused: times must be >= 0"),
        ):
            # generous: the first message waits for both components to compile
            reply = node.inject(CALLER, body, expects_response=120, source="timer:distro:sys")
            assert reply is not None and reply.json() == expected
