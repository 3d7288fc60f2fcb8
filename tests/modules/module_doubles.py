"""A NodeServices test double for driving runtime modules without the kernel.

It records what a module sends (instead of routing it), keeps a capability table, and collects
printouts, so tests can assert the exact body, blob, target and granted caps of every answer.
Integration tests on the real node live beside it and use the kernel instead.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from hyperpy.node.contracts import KernelMessage, RuntimeModule
from hyperpy.node.wit_types import (
    Address,
    Capability,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    ProcessId,
    Request,
    Response,
)

NODE = "fake.dev"


@dataclass
class FakeNode:
    """Records messages a module sends; grants and checks caps like the kernel's table would."""

    home: Path
    our_node: str = NODE
    sent: asyncio.Queue[KernelMessage] = field(default_factory=asyncio.Queue)
    caps: dict[ProcessId, list[Capability]] = field(default_factory=dict)
    printouts: list[tuple[ProcessId, int, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))

    def send(self, message: KernelMessage) -> None:
        self.sent.put_nowait(message)

    def new_request_id(self) -> int:
        return next(self._ids)

    def has_capability(self, holder: ProcessId, cap: Capability) -> bool:
        return any(held.key() == cap.key() for held in self.caps.get(holder, []))

    def grant_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None:
        held = self.caps.setdefault(holder, [])
        for cap in caps:
            if not any(existing.key() == cap.key() for existing in held):
                held.append(cap)

    def printout(self, source: ProcessId, verbosity: int, text: str) -> None:
        self.printouts.append((source, verbosity, text))

    def printed(self) -> str:
        return "\n".join(text for _, _, text in self.printouts)

    async def next_sent(self, timeout: float = 5.0) -> KernelMessage:
        return await asyncio.wait_for(self.sent.get(), timeout)

    async def nothing_sent(self, wait: float = 0.2) -> bool:
        """True if the module sends nothing within `wait` seconds (for 'no reply' rules)."""
        try:
            await asyncio.wait_for(self.sent.get(), wait)
        except TimeoutError:
            return True
        return False


def address(text: str) -> Address:
    return Address.parse(text)


_ids = itertools.count(1)


def request(
    source: str,
    target: str,
    body: bytes | dict | str | list,
    *,
    blob: bytes | None = None,
    mime: str | None = None,
    expects_response: int | None = 5,
    rsvp: str | None = None,
    metadata: str | None = None,
    message_id: int | None = None,
    capabilities: list[Capability] | None = None,
) -> KernelMessage:
    """Build an incoming Request the way the kernel would hand it to a module."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return KernelMessage(
        id=next(_ids) if message_id is None else message_id,
        source=address(source),
        target=address(target),
        rsvp=address(rsvp) if rsvp else None,
        message=Message_Request(Request(False, expects_response, raw, metadata, capabilities or [])),
        lazy_load_blob=None if blob is None else LazyLoadBlob(mime, blob),
    )


def response_json(message: KernelMessage) -> object:
    assert isinstance(message.message, Message_Response), f"expected a Response, got {message.message}"
    return json.loads(message.message.value[0].body)


async def started(module: RuntimeModule, node: FakeNode) -> RuntimeModule:
    await module.start(node)
    return module


Handler = Callable[[KernelMessage], Awaitable[None]]


@dataclass
class RoutingNode(FakeNode):
    """A FakeNode that delivers what modules send to registered handlers (modules or fake processes).

    Messages to targets without a handler are queued in `sent` as usual. No capability checks: those
    are the kernel's and are covered by the tests on the real node.
    """

    handlers: dict[ProcessId, Handler] = field(default_factory=dict)

    def send(self, message: KernelMessage) -> None:
        handler = self.handlers.get(message.target.process)
        if handler is None:
            self.sent.put_nowait(message)
        else:
            asyncio.get_running_loop().create_task(handler(message))

    def route_to(self, process: str, handler: Handler) -> None:
        self.handlers[ProcessId.parse(process)] = handler


def reply(
    to: KernelMessage, source: Address, body: bytes | dict, blob: LazyLoadBlob | None = None
) -> KernelMessage:
    """The Response a process would send to `to` (its prompting request)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return KernelMessage(
        id=to.id,
        source=source,
        target=to.rsvp or to.source,
        rsvp=None,
        message=Message_Response((Response(False, raw, None, []), None)),
        lazy_load_blob=blob,
    )


def request_json(message: KernelMessage) -> object:
    assert isinstance(message.message, Message_Request), f"expected a Request, got {message.message}"
    return json.loads(message.message.value.body)
