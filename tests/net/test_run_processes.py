"""The book's Quick Start with hyperpy: two `hyperpy run` in separate OS processes (own homes and
ports) on one machine, the chat example on both, messages both ways; killing one makes the other
report Offline at once; restarting it restores the conversation. Component mode installs with
`hyperpy start-package` (as kit would); native mode runs the project with `hyperpy run --native`."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_nodes import HYPERPY, free_port

from hyperpy.package.control_client import ControlError, inject

CHAT_PROJECT = Path(__file__).resolve().parents[2] / "examples" / "chat"
CHAT = "chat:chat:template.os"
EXITED = "<exited>"


class RunNode:
    """One `hyperpy run` OS process; its output is collected by a reader thread."""

    def __init__(self, name: str, home: Path, port: int, network: str, *extra: str) -> None:
        self.name, self.home, self.port, self.network, self.extra = name, home, port, network, extra
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RunNode:
        command = [str(HYPERPY), "run", *self.extra, "--home", str(self.home), "-p", str(self.port)]
        command += ["-f", self.name.removesuffix(".dev")]  # kit's short form: fake2 = fake2.dev
        self.lines = queue.Queue()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "HYPERPY_NETWORK": self.network},
        )
        threading.Thread(target=self._read, args=(self.process, self.lines), daemon=True).start()
        self.wait_for(f"node {self.name} ready")
        return self

    @staticmethod
    def _read(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(EXITED)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"{self.name} never printed {text!r}; output: {self.seen}") from None
            if line == EXITED:
                raise AssertionError(f"{self.name} exited before printing {text!r}; output: {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def wait_ready(self, timeout: float = 180) -> None:
        """Until chat answers (the first start of a component compiles it, which takes a while)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.chat({"Partners": None}, expects_response=5)
                return
            except ControlError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"chat on {self.name} never answered; output: {self.seen}") from None
                time.sleep(0.5)

    def chat(self, body: object, expects_response: int = 15) -> object:
        result = inject(self.url, CHAT, json.dumps(body), expects_response=expects_response)
        return json.loads(result.body_text())

    def kill(self) -> None:
        """SIGKILL: the node gets no chance to say goodbye."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_package(node: RunNode) -> None:
    done = subprocess.run(
        [str(HYPERPY), "start-package", str(CHAT_PROJECT), "--port", str(node.port)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    node.wait_ready()


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[RunNode]]:
    network = f"test-{os.getpid()}-{tmp_path.name}"[:64]
    made = [
        RunNode("fake.dev", tmp_path / "fake", free_port(), network),
        RunNode("fake2.dev", tmp_path / "fake2", free_port(), network),
    ]
    try:
        yield made
    finally:
        for node in made:
            node.stop()


@pytest.mark.parametrize("mode", ["component", "native"])
def test_two_run_processes_chat_and_survive_a_kill(nodes: list[RunNode], mode: str) -> None:
    if mode == "component":
        from hyperpy.build import build_project
        from hyperpy.node.control.compiled import precompile_package

        # Compile the component into the machine-wide cache first, as `hyperpy run SOURCES` does, so
        # the install behind start-package never waits for the compiler past kit's rpc timeout.
        precompile_package(build_project(CHAT_PROJECT).zip_path.read_bytes())
        first, second = (node.start() for node in nodes)
        start_package(first)
        start_package(second)
    else:
        for node in nodes:
            node.extra = (str(CHAT_PROJECT), "--native")
        first, second = (node.start() for node in nodes)
        first.wait_ready()
        second.wait_ready()

    assert first.chat({"Send": ["fake2.dev", "hello from fake"]}) == {"Ok": 1}
    assert second.chat({"Send": ["fake.dev", "hello from fake2"]}) == {"Ok": 2}

    second.kill()
    assert first.chat({"Send": ["fake2.dev", "still there?"]}) == {"Err": "fake2.dev is offline"}

    second.start().wait_ready()
    assert first.chat({"Send": ["fake2.dev", "welcome back"]}) == {"Ok": 3}
    assert second.chat({"Send": ["fake.dev", "glad to be back"]}) == {"Ok": 4}
    history = second.chat({"History": "fake.dev"})
    assert isinstance(history, list)
    assert [(m["author"], m["text"]) for m in history] == [
        ("fake.dev", "hello from fake"),
        ("fake2.dev", "hello from fake2"),
        ("fake.dev", "welcome back"),
        ("fake2.dev", "glad to be back"),
    ]


def test_nodes_on_two_machines_meet_through_one_flag(tmp_path: Path) -> None:
    """Two "machines": separate PKI directories (networks), separate loopback addresses (127.0.0.1
    and 127.0.0.2). The second node names the first node's WebSocket port with `--join`; then both
    reach each other (the `--ip` is needed only because both machines are this host's loopback)."""
    one = RunNode("one.dev", tmp_path / "one", free_port(), f"m1-{os.getpid()}")
    one.start()
    try:
        networking = next(line for line in one.seen if "node one.dev: networking" in line)
        ws = networking.split("ws ")[1].split(";")[0]
        two = RunNode(
            "two.dev", tmp_path / "two", free_port(), f"m2-{os.getpid()}", "--ip", "127.0.0.2", "--join", ws
        )
        two.start()
        try:
            assert any("joined http://127.0.0.1:" in line for line in two.seen), two.seen
            assert inject(one.url, "net:distro:sys", "hello two", node="two.dev").body_text() == "ack"
            assert inject(two.url, "net:distro:sys", "hello one", node="one.dev").body_text() == "ack"
            two.wait_for("one.dev: hello two", timeout=30)
        finally:
            two.stop()
    finally:
        one.stop()


def test_run_nodes_boots_several_nodes_that_talk(tmp_path: Path) -> None:
    """`hyperpy run --nodes a,b2.dev`: both boot in one process (HTTP on --port and --port+1; `a`
    means `a.dev`) and reach each other over the real network."""
    node = RunNode("a.dev", tmp_path / "homes", free_port(), f"nodes-{os.getpid()}", "--nodes", "a,b2.dev")
    node.start()
    try:
        assert any("node b2.dev ready on" in line for line in node.seen), node.seen
        assert inject(node.url, "net:distro:sys", "hi b2", node="b2.dev").body_text() == "ack"
        second = f"http://127.0.0.1:{node.port + 1}"
        assert inject(second, "net:distro:sys", "hi a", node="a.dev").body_text() == "ack"
        node.wait_for("a.dev: hi b2", timeout=30)
        assert (tmp_path / "homes" / "b2.dev").is_dir()
    finally:
        node.stop()
