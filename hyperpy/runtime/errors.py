"""Exceptions an app author sees, each saying what went wrong and how to fix it.

They live in one module so `except hyperpy.CallTimeout:` and friends are importable from the public
API, and so host tools (build, check) can recognise a `DeclarationError` without importing the rest
of the runtime.
"""

from __future__ import annotations

import json
from typing import Any


class DeclarationError(Exception):
    """An app is declared wrongly (duplicate handler, unsupported type, missing hint, ...).

    Raised while the app module is imported or introspected, so `hyperpy build` reports it before a
    component is compiled. The message names the app, the handler and the fix.
    """


class CodecError(ValueError):
    """A value does not match its declared type. `path` locates the bad part (`args[1].items[3]`)."""

    def __init__(self, path: str, expected: str, got: Any, *, missing: tuple[str, ...] = ()) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        self.missing = missing
        if missing:
            names = ", ".join(missing)
            text = f"{path}: missing field{'s' if len(missing) > 1 else ''} {names} (expected {expected})"
        else:
            text = f"{path}: expected {expected}, got {_preview(got)}"
        super().__init__(text)


def _preview(value: Any) -> str:
    """The offending value as the client wrote it (JSON: `null`, `"x"`, `{"a": 1}`), not Python's
    repr, since the people reading it sent JSON; Python's repr only for non-JSON values."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class HTTPError(Exception):
    """Raise in an HTTP handler to answer with `status` and `detail` (text, or any JSON value).

    Raised from a local/remote handler it becomes an `{"Err": detail}` answer.
    """

    def __init__(self, status: int, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        super().__init__(f"HTTP {status}: {detail}" if detail is not None else f"HTTP {status}")


class CallError(Exception):
    """Base of every failure of `call()`: catch this to handle them all."""

    def __init__(self, message: str, *, target: str = "", handler: str = "") -> None:
        super().__init__(message)
        self.target = target
        self.handler = handler


class CallTimeout(CallError):
    """No response in time: the target is slow, or the kernel refused the call at once because the
    target is not running or we may not message it. `refused` says which (the message says why)."""

    refused: bool = False


class CallOffline(CallError):
    """The target node is unreachable (offline, or not in the PKI)."""


class RemoteError(CallError):
    """The target answered with an error: its handler raised, or it rejected the request.

    `kind` is the callee's classification when it is a hyperpy process (`HandlerError`, `BadRequest`,
    `NotExposed`, `UnknownHandler`), or `Err` for a plain `{"Err": ...}` answer; `detail` the value.
    """

    def __init__(self, message: str, *, kind: str, detail: Any = None, target: str = "", handler: str = ""):
        super().__init__(message, target=target, handler=handler)
        self.kind = kind
        self.detail = detail


class BadResponse(CallError):
    """The target answered with something that does not decode as the expected type."""

    def __init__(self, message: str, *, body: bytes = b"", target: str = "", handler: str = "") -> None:
        super().__init__(message, target=target, handler=handler)
        self.body = body


class StateError(Exception):
    """The app's saved state could not be loaded or saved (the message says which and why)."""


class InitFailed(RuntimeError):
    """An `@init` handler (or the binding of the app's HTTP paths before it) raised.

    The runtime lets it escape the process's `init`, which traps the component: the node prints the
    traceback and applies `on_exit` (Restart with backoff by default), as Hyperdrive does when a
    Rust hyperapp's init panics. An app whose setup failed never serves requests.
    """
