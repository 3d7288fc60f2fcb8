"""`@script`: a terminal script written in Python, the framework's counterpart of process_lib's `script!`.

A script is a process that the terminal spawns for one command line (Hyperware book, "Writing and
Running Scripts"). process_lib's `script!` macro makes `init` wait for the first Request, decode its
body as the argument string (lossy UTF-8), call the user's function and then either answer the
request with the returned string (when the request expects a response) or print it to the terminal
(when it does not); `init` then returns and the kernel removes the process (on_exit None).

`@script` does the same for a module-level Python function taking the argument string:

    from hyperpy import request, script

    @script
    async def main(args: str) -> str:
        reply = await request("our@net:distro:sys", args, timeout=10)
        return reply.body.decode()

The function may be sync or `async def`; an async script can use everything a handler can
(`call`, `request`, `hyperpy.vfs`, `asyncio.sleep`, ...), because it runs on the process runtime's
cooperative loop. It returns a string (None prints nothing). An exception ends the process with an
error, as a panic ends a Rust script: the node prints it, and a caller awaiting the answer times out.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hyperpy.runtime.errors import DeclarationError

SCRIPT_ATTR = "__hyperpy_script__"


def script(function: Callable[[str], Any]) -> Callable[[str], Any]:
    """Mark a module-level function as the module's terminal script entry point.

    The function receives the argument string (everything after the script name on the command
    line) and returns the text to print or answer.
    """
    if not callable(function) or not inspect.isfunction(function):
        raise DeclarationError(
            f"@script decorates a module-level function taking the argument string, got {function!r}"
        )
    if "." in function.__qualname__:
        raise DeclarationError(
            f"@script {function.__qualname__}: a script is a module-level function, not a method or a "
            "nested function; define `def main(args: str) -> str` at the top of the module"
        )
    _check_signature(function)
    setattr(function, SCRIPT_ATTR, True)
    return function


def _check_signature(function: Callable[..., Any]) -> None:
    params = list(inspect.signature(function).parameters.values())
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required_other = [
        p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    ]
    if len(positional) != 1 or required_other:
        raise DeclarationError(
            f"@script {function.__qualname__}: takes exactly one parameter, the argument string "
            f"(e.g. `def {function.__name__}(args: str) -> str`); it has "
            f"({', '.join(p.name for p in params) or 'none'})"
        )


@dataclass(frozen=True)
class ScriptSpec:
    """The script found in a module: its function and the name it prints under."""

    module: str
    function: Callable[[str], Any]

    @property
    def name(self) -> str:
        return self.module.rpartition(".")[2]

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)


def find_script(module: types.ModuleType) -> ScriptSpec | None:
    """The module's `@script` function (None when it has none); several are a declaration error."""
    found = [
        value
        for value in vars(module).values()
        if inspect.isfunction(value) and getattr(value, SCRIPT_ATTR, False)
    ]
    own = [f for f in found if f.__module__ == module.__name__]
    found = own or found
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(f.__name__ for f in found)
        raise DeclarationError(
            f"module {module.__name__}: several @script functions ({names}); a script module has "
            "exactly one entry point"
        )
    return ScriptSpec(module.__name__, found[0])


def result_text(value: Any) -> str:
    """What the terminal prints for a script's return value (None prints nothing)."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return value if isinstance(value, str) else str(value)
