"""Native mode refuses what the component cannot do, at the line that does it.

Why: native mode runs the app in host CPython, where sockets, threads, subprocesses, files, SQLite
files and native extension modules (numpy) all work. Inside the component none of them do: WASI
with no preopened directories, no sockets, no threads, and only the modules compiled in. An app
that works natively and fails only after `hyperpy build` (or answers 500 on a real node) teaches the
wrong thing, so while a native process's own code runs, this guard raises `NotInComponent` (an
`OSError`, as the component's failures mostly are, so code that tolerates a missing file still
does) and prints the problem with its fix on the node's terminal, naming the user's file and line.

How: one interpreter-wide audit hook (PEP 578) plus a wrapper of `threading.Thread.start` (threads
have no audit event before Python 3.13). Both act only on a thread marked as running a guest
(`guest_code()`, set by the native runner for the whole run) and only when the app's own code is
doing it (`_user_frame`), so neither the node's host functions nor hyperpy's runtime is refused.
Imports are left alone except native extension modules from outside the standard library; the
interpreter's own reads of code and standard-library data are allowed.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

_state = threading.local()
_install_lock = threading.Lock()
_installed = False
_THIS_FILE = __file__
_PACKAGE_DIR = str(Path(__file__).resolve().parents[2]) + os.sep  # hyperpy/
_STDLIB_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
)
_SITE_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    if not str(Path(p).resolve()).startswith(_PACKAGE_DIR)  # an editable hyperpy lives elsewhere
)
_CODE_SUFFIXES = (".py", ".pyc", ".pth", ".zip", *EXTENSION_SUFFIXES)

Report = Callable[[str], None]


class NotInComponent(OSError):
    """Raised in native mode where the component would fail; the message says why and what to use."""


@contextmanager
def guest_code(report: Report) -> Iterator[None]:
    """Mark the current thread as running a native process; `report` prints a line on the node."""
    install_guard()
    _state.report = report
    try:
        yield
    finally:
        _state.report = None


def install_guard() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        sys.addaudithook(_audit)
        original_start = threading.Thread.start

        def start(self: threading.Thread) -> None:
            _refuse_if_guest(
                "threads do not exist inside a component",
                "use async handlers and asyncio tasks (hyperpy's loop runs them), or spawn() a coroutine",
            )
            original_start(self)

        threading.Thread.start = start  # type: ignore[method-assign]
        _installed = True


def _problem_of(event: str, args: tuple[Any, ...]) -> tuple[str, str] | None:
    """(what fails in the component, the fix) for an audited operation, or None if it is fine."""
    if event == "socket.__new__":
        return (
            "sockets do not exist inside a component",
            "reach the network through the node: hyperpy.http_client for HTTP, call() for processes",
        )
    if event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"):
        return ("a component cannot start processes", "do the work in Python inside the app")
    if event == "sqlite3.connect":
        database = str(args[0]) if args else ""
        if database in (":memory:", "") or database.startswith("file::memory:"):
            return None
        return (
            f"sqlite3.connect({database!r}): a component has no file system",
            "use the node's sqlite module: db = await hyperpy.sqlite.open('name'); await db.write(...)",
        )
    if event == "open":
        path = args[0] if args else None
        if not isinstance(path, str | bytes | os.PathLike):
            return None  # a file descriptor the process already has
        text = os.fsdecode(path)
        if text.endswith(_CODE_SUFFIXES) or _in_stdlib(text):
            return None  # the interpreter loading code or its own data
        return (
            f"open({text!r}): a component has no file system at run time",
            "store files through the node: hyperpy.vfs (or kv/sqlite for data), or read the file at "
            "import time into a module constant",
        )
    if event == "import" and len(args) > 1 and isinstance(args[1], str):
        filename = args[1]
        if filename.endswith(tuple(EXTENSION_SUFFIXES)) and not _in_stdlib(filename):
            return (
                f"module {args[0]!r} is a native extension ({Path(filename).name}): there is no "
                "wasm32-wasi build of it, so `hyperpy build` refuses it",
                "use a pure-Python package instead",
            )
    return None


def _in_stdlib(path: str) -> bool:
    try:
        resolved = str(Path(path).resolve())
    except (OSError, RuntimeError):
        return False
    return resolved.startswith(_STDLIB_DIRS) and not resolved.startswith(_SITE_DIRS)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if getattr(_state, "report", None) is None:
        return
    problem = _problem_of(event, args)
    if problem is not None:
        _refuse_if_guest(*problem)


def _refuse_if_guest(what: str, fix: str) -> None:
    report: Report | None = getattr(_state, "report", None)
    if report is None or getattr(_state, "refusing", False):
        return
    where = _user_frame()
    if where is None:
        return  # a host function the guest called (the node's own code) is doing it
    message = f"{where}: {what}, so native mode refuses it too; {fix}"
    _state.refusing = True  # reporting is a host call; it must not be refused itself
    try:
        report(f"native mode: {message}")
    finally:
        _state.refusing = False
    raise NotInComponent(message)


def _user_frame() -> str | None:
    """`file:line` of the app's frame doing the operation; None when it is not the app's doing.

    Walking outwards from the operation, standard-library and site-packages frames are skipped (a
    library the app called acts for the app); the first other frame decides: the app's own file is
    blamed; `hyperpy/node/` is a host function the guest called (state, messages); the rest of
    `hyperpy/` is the runtime, which runs inside the component too and tolerates what fails there
    (e.g. msgpack's pure-Python fallback, a missing MIME table)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename != _THIS_FILE and not filename.startswith(("<", *_STDLIB_DIRS, *_SITE_DIRS)):
            if filename.startswith(_PACKAGE_DIR):
                return None
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None
