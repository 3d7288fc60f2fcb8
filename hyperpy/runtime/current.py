"""Functions about the process the caller runs in: its address, background tasks, state, logging.

They find the process through the running event loop, so they work in handlers and in any task,
and two processes running natively in one interpreter never see each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from hyperpy.runtime.process import current_runtime
from hyperpy.runtime.state import KeptAside
from hyperpy.runtime.types import Address


def our() -> Address:
    """This process's address."""
    return current_runtime("our()").our


def background(coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task[Any]:
    """Run `coro` in the background, detached from the current request (its failures are logged).

    Unlike `asyncio.create_task`, the task does not inherit the handler's request context, so it
    never delays that request's answer, and the runtime keeps a reference so it is not collected.
    (Formerly `spawn`, a word Hyperware uses for starting a process.)
    """
    return current_runtime("background()").spawn(coro, name=name)


def save_state() -> bool:
    """Save the app state now (whatever the policy); returns False when nothing changed."""
    return current_runtime("save_state()").save_state()


def kept_aside_state() -> list[KeptAside]:
    """Stored state that could not be loaded (newest last), kept so it can be recovered by hand."""
    return current_runtime("kept_aside_state()").kept_aside()


def discard_kept_aside_state() -> None:
    """Forget state kept aside by a failed load (after recovering what you need from it)."""
    current_runtime("discard_kept_aside_state()").keeper.discard_kept_aside()


def log(text: str, *, verbosity: int = 1) -> None:
    """Print `<app>: text` to the node terminal (shown when the node's verbosity is >= `verbosity`;
    0 is always). The app's name is added here: do not put it in `text` too."""
    current_runtime("log()").log(verbosity, text)
