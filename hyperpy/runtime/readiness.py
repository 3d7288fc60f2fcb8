"""The line a framework app prints when it answers: the one signal a node can see in both modes.

A Hyperware process has no "ready" export: Hyperdrive starts `init` and routes messages at once.
A hyperpy app binds its HTTP paths and runs `@init` first and holds incoming requests meanwhile, so
"installed" is not yet "answers". The runtime prints `ready_line(...)` (verbosity 1) once bindings
and `@init` are done; the local node watches printouts for `is_ready_line` to know when `install`,
`restart` and `hyperpy run` may say the app is ready (hyperpy/node/process_host.py). A real node
ignores it: it is an ordinary printout.
"""

from __future__ import annotations

import re

_READY = re.compile(r"\S+: ready \((bound: .*|no HTTP bindings)\)")


def ready_line(app: str, paths: list[str]) -> str:
    """`<app>: ready (bound: /a, /b)`, or `<app>: ready (no HTTP bindings)`."""
    return f"{app}: ready (bound: {', '.join(paths)})" if paths else f"{app}: ready (no HTTP bindings)"


def is_ready_line(text: str) -> bool:
    return _READY.fullmatch(text) is not None
