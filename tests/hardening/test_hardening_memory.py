"""A framework app that runs out of memory crashes, like a raw process: the runtime does not answer a
handler's MemoryError as an ordinary error (its state may be half-updated) but ends the process, the
node applies on_exit (Restart) and prints why ("out of memory: ..."), and the next request is served
by the fresh process. The request that ran out of memory gets what a caller gets from any process
that dies mid-request: no answer, so the kernel's Timeout.

Component mode runs under a small per-process memory limit (wasmtime store limits) with a handler that
allocates without bound; native mode cannot enforce a limit (docs/node.md), so there the handlers
raise MemoryError themselves, sync and async.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperpy.node.runner_factory import MEMORY_LIMIT_ENV
from hyperpy.testing import NoResponse
from hyperpy.testing.harness import HyperpyNode

HOG_APP = Path(__file__).parent / "apps" / "hog"
HOG = "hog:hog:test.os"
LIMIT_MB = 96

pytestmark = pytest.mark.hyperpy_modes("component", "native")


@pytest.fixture
def memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(LIMIT_MB))  # read when the node is made


@pytest.fixture
def hog(memory_limit: None, hyperpy_node: HyperpyNode) -> HyperpyNode:
    hyperpy_node.install(HOG_APP)
    return hyperpy_node


def ask(node: HyperpyNode, body: str, timeout: int = 20) -> object:
    return json.loads(node.request(HOG, json.dumps(body), timeout=timeout).body)


@pytest.mark.parametrize("handler", ["Hog", "OutOfMemory", "HogLater"])
def test_a_handler_out_of_memory_crashes_the_process_and_on_exit_restarts_it(
    hog: HyperpyNode, handler: str
) -> None:
    if handler == "Hog" and hog.mode == "native":
        pytest.skip("native processes share the node's heap: no limit to reach (docs/node.md)")
    assert ask(hog, "Ping") == 1
    mark = hog.mark()
    with pytest.raises(NoResponse):  # the process died mid-request: the kernel's Timeout
        hog.request(HOG, json.dumps(handler), timeout=3)
    crash = hog.wait_for_output("out of memory", timeout=60, since=mark).text
    assert "ended with error" in crash and "MemoryError" in crash
    if hog.mode == "component":
        assert f"memory limit of {LIMIT_MB} MB" in crash
    else:
        assert "native mode enforces no per-process memory limit" in crash
    assert "hog: handler '" in hog.output(all=True)  # the runtime says which handler it was
    hog.wait_for_output("has OnExit behavior Restart", timeout=10, since=mark)
    hog.wait_for_output("hog: ready", timeout=120, since=mark)
    assert ask(hog, "Ping") == 2  # the fresh process answers (the state saved before the crash)


def test_only_memory_errors_are_fatal_a_recursion_error_is_answered(hog: HyperpyNode) -> None:
    answer = hog.request(HOG, json.dumps({"Recurse": 0}), timeout=20)
    assert "RecursionError" in answer.body.decode()
    assert "ended with error" not in hog.output(all=True)
    assert ask(hog, "Ping") == 1  # same process; the failed handler's changes were rolled back
