"""The command line of `hyperpy run`: lines typed (or piped) into the node's terminal.

Hyperdrive's runtime terminal (`terminal:distro:sys`) reads the console and hands each line to the
terminal app, with line editing, history (kept in the node home) and printouts scrolling above the
prompt; Ctrl-C or Ctrl-D shuts the node down and Ctrl-V cycles the verbosity. Here a TTY gets the
same through prompt_toolkit; piped stdin is read line by line (so tests and scripts can drive a
node), and its end leaves the node running until Ctrl-C or SIGTERM. No line, however bad, stops the
node: the terminal app answers it with Hyperdrive's error text.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from hyperpy.node.control.console import ConsoleStream

HISTORY_FILE = ".terminal_history"


def _submit(send: Callable[[str], None], line: str, stream: ConsoleStream) -> None:
    line = line.rstrip("\r\n")
    if not line.strip():
        return
    try:
        send(line)
    except Exception as error:  # the node stopped under us: say so, never a traceback
        stream.info(f"could not send the command to the node: {error}", style="red")


def read_piped_lines(send: Callable[[str], None], stream: ConsoleStream) -> threading.Thread:
    """Feed stdin's lines to the terminal from a daemon thread (returns the started thread)."""

    def pump() -> None:
        for line in sys.stdin:
            _submit(send, line, stream)

    thread = threading.Thread(target=pump, name="hyperpy-stdin", daemon=True)
    thread.start()
    return thread


def run_prompt(
    node_name: str,
    home: Path,
    send: Callable[[str], None],
    cycle_verbosity: Callable[[], object],
    stream: ConsoleStream,
) -> None:
    """Read lines at a `<node> > ` prompt until Ctrl-C, Ctrl-D or SIGTERM (blocks the main thread)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.key_binding.key_processor import KeyPressEvent
    from prompt_toolkit.patch_stdout import patch_stdout

    bindings = KeyBindings()

    @bindings.add("c-v")
    def _verbosity(event: KeyPressEvent) -> None:
        cycle_verbosity()

    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(home / HISTORY_FILE)), key_bindings=bindings
    )

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        with patch_stdout(raw=True):
            while True:
                try:
                    line = session.prompt(f"{node_name} > ")
                except (KeyboardInterrupt, EOFError):
                    return
                _submit(send, line, stream)
    finally:
        signal.signal(signal.SIGTERM, previous)
