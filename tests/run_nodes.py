"""`hyperpy run` and the other `hyperpy` commands as OS processes, for the tests that drive a node the
way a user does (the control, Quick Start and kit tests).

Why one place: the Quick Start, the terminal tests and the kit tests all start `hyperpy run` in a
subprocess, read its output lines, type commands into its stdin and call `hyperpy build`/
`start-package`/`inject`; they share these helpers rather than each keeping a copy.
"""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
HYPERPY = Path(sys.executable).parent / "hyperpy"
EXITED = "<hyperpy run exited>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hyperpy(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Run `hyperpy ARGS` to completion; its stdout, or an assertion error with both streams."""
    result = subprocess.run(
        [str(HYPERPY), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )
    assert result.returncode == 0, f"hyperpy {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class RunningNode:
    """`hyperpy run` in a subprocess; its output lines are collected by a reader thread."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        command = [str(HYPERPY), "run", *args, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(EXITED)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"`hyperpy run` never printed {text!r}; output: {self.seen}") from None
            if line is EXITED:
                raise AssertionError(f"`hyperpy run` exited before printing {text!r}; output: {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def saw(self, text: str, timeout: float = 60) -> None:
        """`text` in any line printed so far or before `timeout`: for lines whose order against the
        others is not fixed (an app's startup line may come before or after "ready on")."""
        if not any(text in line for line in self.seen):
            self.wait_for(text, timeout)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


class PipedNode(RunningNode):
    """`hyperpy run` with a pipe for stdin, as a script driving the node would have."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(HYPERPY), "run", *args, "--port", str(self.port)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def type(self, line: str) -> None:
        """Send one command line to the node's terminal."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        """End the process if a test left it running (after a failure)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
