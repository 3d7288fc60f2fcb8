"""A Python script in a package: built into pkg/send.wasm and pkg/scripts.json, installed, run from
the terminal with arguments, in component and native mode (the chat template's `send` script)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from component_builds import cache_root

from hyperpy.testing.harness import HyperpyNode

PROJECT = Path(__file__).parent / "projects" / "my_chat_app"
CHAT = "my-chat-app:my-chat-app:template.os"
PREFIX = "my-chat-app:template.os: "

pytestmark = pytest.mark.hyperpy_modes("component", "native")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a copy of the project, its built zip): the copy keeps the build out of the repository, and
    the build is cached for the whole machine (`$HYPERPY_CACHE_DIR` only while it builds)."""
    from hyperpy.build import build_project

    copy = tmp_path_factory.mktemp("chat") / "my-chat-app"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", "pkg", "target"))
    saved = os.environ.get("HYPERPY_CACHE_DIR")
    os.environ["HYPERPY_CACHE_DIR"] = str(cache_root())
    try:
        zip_path = build_project(copy, progress=False).zip_path
    finally:
        if saved is None:
            del os.environ["HYPERPY_CACHE_DIR"]
        else:
            os.environ["HYPERPY_CACHE_DIR"] = saved
    return copy, zip_path


def install(node: HyperpyNode, built: tuple[Path, Path]) -> None:
    project, zip_path = built
    if node.mode == "component":
        node.install(zip_path.read_bytes(), package_id="my-chat-app:template.os")
    else:
        node.install(project)
    node.wait_for_output("my-chat-app: ready", timeout=120)


def test_the_send_script_runs_with_its_arguments(hyperpy_nodes, built: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    first, second = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (first, second):
        install(node, built)
    mark = second.mark()
    first.terminal_command("send:my-chat-app:template.os fake2.dev hello from a script")
    first.wait_for_output(f"{PREFIX}sent to fake2.dev: hello from a script", timeout=60)
    second.wait_for_output("fake.dev: hello from a script", since=mark)
    history = [{"author": "fake.dev", "content": "hello from a script"}]
    assert first.request_json(CHAT, {"History": "fake2.dev"}) == history
    assert second.request_json(CHAT, {"History": "fake.dev"}) == history


def test_the_send_script_explains_bad_arguments(hyperpy_nodes, built: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    (node,) = hyperpy_nodes("fake.dev")
    install(node, built)
    node.terminal_command("send:my-chat-app:template.os nobody")
    node.wait_for_output(f"{PREFIX}usage:\nsend:my-chat-app:template.os target message", timeout=60)
    node.terminal_command("send:my-chat-app:template.os nobody.dev hi")
    failed = node.wait_for_output("did not receive expected Response", timeout=60)
    assert "nobody.dev" in failed.text
