"""The Hyperware book's Quick Start, with hyperpy in place of kit.

Two `hyperpy run` in separate OS processes (fake.dev and fake2.dev, on their own network), the chat
app built and installed into each with `hyperpy start-package`, messages sent with `hyperpy inject`
(plain, `--node fake2.dev`, and `-p <fake2's port>`, as the book does) and with `m our@...` typed into
each node's stdin; then both histories are read back.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from component_builds import cache_root
from run_nodes import PipedNode, hyperpy

from hyperpy.node.control.compiled import precompile_package

PROJECT = Path(__file__).parent / "projects" / "my_chat_app"
CHAT = "my-chat-app:my-chat-app:template.os"


def send(text: str, target: str) -> str:
    return json.dumps({"Send": {"target": target, "message": text}})


@pytest.fixture
def network_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "HYPERPY_NETWORK": f"quick-start-{uuid.uuid4().hex[:12]}",
        "HYPERPY_PKI_DIR": str(tmp_path / "pki"),
        # the build and the compiled component are cached for every test session on this machine
        "HYPERPY_CACHE_DIR": str(cache_root()),
    }
    yield env


def test_the_quick_start(tmp_path: Path, network_env: dict[str, str]) -> None:
    project = tmp_path / "my-chat-app"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", "pkg", "target"))
    # verbosity 1 shows the app's "ready" (its first start compiles the component: slow, once per machine)
    first = PipedNode("--home", str(tmp_path / "fake"), "-v", "1", env=network_env)
    second = PipedNode(
        "--home", str(tmp_path / "fake2"), "--fake-node-name", "fake2", "-v", "1", env=network_env
    )
    nodes = (first, second)
    try:
        for node in nodes:
            node.wait_for("ready on")
        hyperpy("build", str(project), env=network_env, cwd=tmp_path)
        # Compile the components into the nodes' cache first, as `hyperpy run SOURCES` does, so the
        # install behind start-package never waits for the compiler past kit's rpc timeout.
        zip_path = project / "target" / "my-chat-app:template.os.zip"
        precompile_package(zip_path.read_bytes(), Path(network_env["HYPERPY_CACHE_DIR"]) / "compiled")
        hyperpy("start-package", str(project), "--port", str(first.port), env=network_env, cwd=tmp_path)
        hyperpy("start-package", str(project), "--port", str(second.port), env=network_env, cwd=tmp_path)

        def inject(body: str, *options: str) -> str:
            return hyperpy("inject", CHAT, body, *options, env=network_env, cwd=tmp_path).strip()

        port = ("--port", str(first.port))
        for node in nodes:
            node.wait_for("my-chat-app: ready", timeout=600)
        assert inject(send("hello from the outside world", "fake2.dev"), *port) == "true"
        second.wait_for("fake.dev: hello from the outside world")
        assert (
            inject(
                send("replying from fake2.dev using first method...", "fake.dev"),
                *port,
                "--node",
                "fake2.dev",
            )
            == "true"
        )
        first.wait_for("fake2.dev: replying from fake2.dev using first method...")
        assert inject(send("and second!", "fake.dev"), "-p", str(second.port)) == "true"
        first.wait_for("fake2.dev: and second!")

        first.type(f"m our@{CHAT} '{send('hello world', 'fake2.dev')}'")
        second.wait_for("fake.dev: hello world")
        second.type(f"m our@{CHAT} '{send('wow, it works!', 'fake.dev')}'")
        first.wait_for("fake2.dev: wow, it works!")

        expected = [
            {"author": "fake.dev", "content": "hello from the outside world"},
            {"author": "fake2.dev", "content": "replying from fake2.dev using first method..."},
            {"author": "fake2.dev", "content": "and second!"},
            {"author": "fake.dev", "content": "hello world"},
            {"author": "fake2.dev", "content": "wow, it works!"},
        ]
        history = json.dumps({"History": "fake2.dev"})
        assert json.loads(inject(history, *port)) == expected
        history = json.dumps({"History": "fake.dev"})
        assert json.loads(inject(history, "-p", str(second.port))) == expected
        for node in nodes:
            assert node.stop() == 0
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.process.kill()
                node.process.wait(timeout=30)
