"""Cast sessions for tools: run a script, or call a framework handler, and follow it by session id.

Why: Hayride's server morph lets a CLI `cast` a function with string arguments, then ask whether the
session is still active and kill it (`/v1/cast`, `/v1/sessions/status`, `/v1/sessions/kill`). On a
Hyperware node the natural thing to cast is a terminal script; a framework handler is the other.

* `function` empty: `name` is a script (alias or `script:package:publisher`) and the arguments,
  joined by spaces, are its argument string. The terminal runs it exactly as for a typed line,
  except that the arguments arrive in a Request that expects a response, so the script answers
  instead of printing (process_lib `script!`). The session is active until its process has ended;
  kill is KillProcess.
* `function` given: `name` is a process id and `function` one of its handlers. The request goes the
  way `hyperpy inject` sends (from http-server, so the same capability rules apply), with the
  arguments as strings for the handler's type hints to convert (`STRING_ARGS_METADATA`). The session
  is active until the answer arrives; kill stops waiting (a running handler cannot be interrupted).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hyperpy.node.wit_types import ProcessId
from hyperpy.runtime.naming import variant_name
from hyperpy.runtime.wire import STRING_ARGS_METADATA

if TYPE_CHECKING:
    from hyperpy.node import Node

HANDLER_CALL_TIMEOUT = 600


class SessionError(Exception):
    """A cast that cannot start; the message names the problem."""


@dataclass
class SessionView:
    """What a tool may read about a session."""

    id: str
    active: bool
    output: list[str] = field(default_factory=list)
    answer: str | None = None
    error: str | None = None


@dataclass
class _HandlerCall:
    id: str
    target: ProcessId
    function: str
    done: threading.Event = field(default_factory=threading.Event)
    answer: str | None = None
    error: str | None = None
    killed: bool = False


class CastSessions:
    """The sessions of one node (script runs are kept by its terminal, handler calls here)."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._calls: dict[str, _HandlerCall] = {}
        self._lock = threading.Lock()

    def cast(self, name: str, function: str, args: list[str]) -> str:
        """Start a session; raise SessionError when `name` or `function` cannot be used."""
        from hyperpy.node.node import ScriptRunError

        if not function:
            try:
                return self._node.cast(name, " ".join(args))
            except ScriptRunError as error:
                raise SessionError(str(error)) from None
        try:
            target = ProcessId.parse(name)
        except ValueError as error:
            raise SessionError(f"{error}; to call a handler, name its process") from None
        if self._node.process(target) is None:
            raise SessionError(f"no process {target} on {self._node.name}")
        call = _HandlerCall(str(uuid.uuid4()), target, function)
        with self._lock:
            self._calls[call.id] = call
        threading.Thread(target=self._call, args=(call, args), name=f"cast {call.id}", daemon=True).start()
        return call.id

    def _call(self, call: _HandlerCall, args: list[str]) -> None:
        from hyperpy.node.node import InjectError

        variant = call.function if call.function[:1].isupper() else variant_name(call.function)
        try:
            response = self._node.inject(
                call.target,
                {variant: args},
                metadata=STRING_ARGS_METADATA,
                expects_response=HANDLER_CALL_TIMEOUT,
            )
        except (InjectError, OSError, RuntimeError) as error:
            call.error = str(error)
        else:
            assert response is not None
            call.answer = response.body.decode("utf-8", errors="replace")
        finally:
            call.done.set()

    def view(self, session_id: str) -> SessionView:
        """The session's state; KeyError when there is no such session."""
        with self._lock:
            call = self._calls.get(session_id)
        if call is not None:
            active = not call.done.is_set() and not call.killed
            answer = None if call.killed else call.answer
            return SessionView(call.id, active, [], answer, call.error)
        run = self._node.script_session(session_id)
        return SessionView(run.id, run.active, run.output, run.answer, run.error)

    def kill(self, session_id: str) -> SessionView:
        """Stop the session (KeyError when unknown) and return its state afterwards."""
        with self._lock:
            call = self._calls.get(session_id)
        if call is not None:
            if not call.done.is_set():
                call.killed = True
                call.error = "killed"
            return self.view(session_id)
        self._node.kill_script_session(session_id)
        return self.view(session_id)
