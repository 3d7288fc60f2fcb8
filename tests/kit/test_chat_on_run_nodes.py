"""The kit-layout chat (kit's legacy bindings style) in the book's Quick Start, as a user runs it:
`hyperpy build` with no edits (its manifest byte for byte unchanged), two `hyperpy run` OS processes
on their own network, the package installed into each with `hyperpy start-package`, the Quick Start's
`{"Send": ...}`/`{"History": ...}` injected both ways (`--node`, `-p`), and the project's `send`
script typed into one node's terminal."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from component_builds import cache_root
from kit_fixtures import PROJECTS, copy_project
from run_nodes import PipedNode, hyperpy

CHAT = "chat:chat:template.os"
PACKAGE = "chat:template.os"


def send(message: str, target: str) -> str:
    return json.dumps({"Send": {"target": target, "message": message}})


@pytest.mark.parametrize("mode", ["component", "native"])
def test_quick_start_on_two_run_processes(tmp_path: Path, mode: str) -> None:
    project = copy_project("chat", tmp_path)
    env = {
        **os.environ,
        "HYPERPY_NETWORK": f"kit-chat-{uuid.uuid4().hex[:12]}",
        "HYPERPY_PKI_DIR": str(tmp_path / "pki"),
        "HYPERPY_CACHE_DIR": str(cache_root()),  # the component the other kit tests built
    }
    if mode == "component":
        hyperpy("build", str(project), env=env, cwd=tmp_path)
        for name in ("manifest.json", "scripts.json"):
            assert (project / "pkg" / name).read_bytes() == (PROJECTS / "chat" / "pkg" / name).read_bytes()
        assert (project / "pkg" / "send.wasm").is_file()
        run_args: tuple[str, ...] = ()
    else:
        run_args = (str(project), "--native")
    first = PipedNode(*run_args, "--home", str(tmp_path / "fake"), env=env)
    second = PipedNode(*run_args, "--home", str(tmp_path / "fake2"), "--fake-node-name", "fake2", env=env)
    nodes = (first, second)
    try:
        for node in nodes:
            node.wait_for("ready on", timeout=120)
        if mode == "component":
            from hyperpy.node.control.compiled import precompile_package

            # As `hyperpy run SOURCES` does: compile first, so the install behind start-package never
            # waits for the compiler past kit's rpc timeout.
            zip_path = project / "target" / f"{PACKAGE}.zip"
            precompile_package(zip_path.read_bytes(), cache_root() / "compiled")
            for node in nodes:
                hyperpy("start-package", str(project), "--port", str(node.port), env=env, cwd=tmp_path)
        for node in nodes:
            node.saw("chat: begin (python, kit bindings)", timeout=300)

        def inject(body: str, *options: str) -> object:
            return json.loads(hyperpy("inject", CHAT, body, *options, env=env, cwd=tmp_path))

        port = ("--port", str(first.port))
        assert inject(send("hello world", "fake2.dev"), *port) == {"Send": None}
        second.wait_for("fake.dev: hello world")
        assert inject(send("wow, it works!", "fake.dev"), *port, "--node", "fake2.dev") == {"Send": None}
        first.wait_for("fake2.dev: wow, it works!")
        assert inject(send("and from -p", "fake.dev"), "-p", str(second.port)) == {"Send": None}
        first.wait_for("fake2.dev: and from -p")

        # The project's `send` script (built into pkg/, listed only in scripts.json), from the terminal.
        first.type(f"send:{PACKAGE} fake2.dev hi from the script")
        first.wait_for('send: {"Send": null}')
        second.wait_for("fake.dev: hi from the script")

        expected = [
            {"author": "fake.dev", "content": "hello world"},
            {"author": "fake2.dev", "content": "wow, it works!"},
            {"author": "fake2.dev", "content": "and from -p"},
            {"author": "fake.dev", "content": "hi from the script"},
        ]
        assert inject(json.dumps({"History": "fake2.dev"}), *port) == {"History": expected}
        assert inject(json.dumps({"History": "fake.dev"}), "-p", str(second.port)) == {"History": expected}
        for node in nodes:
            assert node.stop() == 0
    finally:
        for node in nodes:
            node.kill()
