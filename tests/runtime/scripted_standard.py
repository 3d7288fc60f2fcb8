"""A scripted stand-in for the kernel side of a process, for driving `ProcessRuntime` in unit tests.

It hands the runtime a fixed sequence of messages and records everything the runtime sends:
("request", target process, body, context), ("response", body, metadata), ("print", text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hyperpy.runtime.host import UNREAD, Host, Incoming
from hyperpy.runtime.process import ProcessRuntime
from hyperpy.runtime.spec import app_spec
from hyperpy.runtime.types import Address


class ScriptEnded(BaseException):
    """Raised by the scripted host when it has no more messages: ends the test's run."""


class ScriptedHost(Host):
    """Delivers scripted messages; records sends as ("request", target, body, context) and
    ("response", body). A script step may be a callable that builds the message from what was sent."""

    def __init__(self, script: list[Incoming | Callable[[ScriptedHost], Incoming]]) -> None:
        self.our = Address.parse("fake.dev@waiter:waiter:test.os")
        self._turn = 0
        self.script = list(script)
        self.sent: list[tuple[Any, ...]] = []

    def receive(self) -> Incoming:
        if not self.script:
            raise ScriptEnded
        self._turn += 1
        step = self.script.pop(0)
        message = step(self) if callable(step) else step
        message.turn = self._turn
        return message

    def send_request(
        self,
        target: Address,
        body: bytes,
        *,
        expects_response: int | None,
        context: bytes | None = None,
        **_: Any,
    ) -> None:
        self.sent.append(("request", str(target.process), body, context))

    def send_response(self, body: bytes, *, metadata: str | None = None, **_: Any) -> None:
        self.sent.append(("response", body) if metadata is None else ("response", body, metadata))

    def _get_blob(self) -> None:
        return None

    def print(self, verbosity: int, text: str) -> None:
        self.sent.append(("print", text))

    def get_state(self) -> bytes | None:
        return None

    def set_state(self, data: bytes) -> None:
        return None

    def address_of(self, wit_address: Any) -> Address:
        return wit_address

    def wit_address(self, address: Address) -> Any:
        return address


def request(body: Any, expects_response: int | None = 5) -> Incoming:
    source = Address.parse("fake.dev@client:waiter:test.os")
    return Incoming(
        "request",
        source,
        "client:waiter:test.os",
        "fake.dev",
        json.dumps(body).encode(),
        None,
        expects_response,
        False,
        None,
        UNREAD,
    )


def run_script(
    app_class: type, script: list[Incoming | Callable[[ScriptedHost], Incoming]]
) -> list[tuple[Any, ...]]:
    """Run the app on a scripted host until the script ends; return what it sent."""
    host = ScriptedHost(script)
    runtime = ProcessRuntime(app_spec(app_class), host)
    runtime.instance, _ = runtime.keeper.load(None)
    with pytest.raises(ScriptEnded):
        runtime.loop.run_forever()
    return host.sent
