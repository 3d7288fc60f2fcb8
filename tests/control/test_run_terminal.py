"""`hyperpy run` is the node's terminal: piped lines and a real TTY (prompt, Ctrl-D) both reach it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time

from run_nodes import HYPERPY, NO_PROXY, PipedNode, free_port
from test_run_command import ECHO, ECHO_PROJECT


def test_piped_lines_run_and_the_end_of_stdin_keeps_the_node_up() -> None:
    node = PipedNode(str(ECHO_PROJECT), "--native")
    process = node.process
    try:
        node.wait_for("ready on")
        assert process.stdin is not None
        process.stdin.write("echo typed into the node\n")
        process.stdin.write("no-such-script now\n")
        process.stdin.write(f"m our@{ECHO} '\"ping\"' -a 5\n")
        process.stdin.close()
        # scripts run side by side, so their lines may come in any order
        for text in (
            "terminal:sys: typed into the node",
            "error calling script: 'no-such-script' not found, either as an alias or process ID",
            'terminal:sys: "ping"',
        ):
            node.saw(text)
        with NO_PROXY.open(node.url("/hyperpy/api/processes"), timeout=10) as response:
            assert ECHO in response.read().decode()
        assert node.stop() == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _read_until(fd: int, text: str, seen: bytearray, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {text!r} on the terminal; got: {seen.decode(errors='replace')[-2000:]}"
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"the terminal closed before {text!r}: {seen.decode(errors='replace')}")
            seen.extend(chunk)


def test_a_tty_gets_a_prompt_that_runs_commands_and_ctrl_d_stops_the_node() -> None:
    primary, secondary = pty.openpty()
    port = free_port()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "200", "LINES": "50", "PROMPT_TOOLKIT_NO_CPR": "1"}
    process = subprocess.Popen(
        [str(HYPERPY), "run", "--port", str(port), "--fake-node-name", "tty.dev"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    seen = bytearray()
    try:
        _read_until(primary, "tty.dev >", seen)
        os.write(primary, b"echo from a tty\r")
        _read_until(primary, "terminal:sys: from a tty", seen)
        os.write(primary, b"\x04")  # Ctrl-D at an empty prompt: shut down, as Hyperdrive does
        _read_until(primary, "stopping the node", seen)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        os.close(primary)
