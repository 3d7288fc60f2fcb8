"""Processes running the same code share it: one copy of the bytes, one component runner."""

from __future__ import annotations

import threading
from pathlib import Path

from hyperpy.node.process_code import intern_code
from hyperpy.node.runner_factory import RunnerContext, make_runner
from hyperpy.node.runners.native import NativeModuleRef

from .components import cache_root


def test_processes_with_the_same_component_share_one_runner(built_components: dict[str, Path]) -> None:
    context = RunnerContext(cache_root() / "compiled")
    code = intern_code(built_components["echo"].read_bytes())
    runners = []

    def build() -> None:
        runners.append(make_runner(intern_code(built_components["echo"].read_bytes()), context))

    thread = threading.Thread(target=build)
    thread.start()
    thread.join()
    assert make_runner(code, context) is runners[0]
    assert make_runner(code, RunnerContext(cache_root() / "compiled", echo_stdout=True)) is not runners[0]
    assert make_runner(intern_code(built_components["probe"].read_bytes()), context) is not runners[0]


def test_native_code_gets_a_native_runner_of_its_module() -> None:
    ref = NativeModuleRef("echo", "/src")
    runner = make_runner(intern_code(ref.to_marker()), RunnerContext(Path("/nonexistent")))
    assert getattr(runner, "ref", None) == ref
