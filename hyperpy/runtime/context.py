"""Per-request context, carried by contextvars so it stays right across `await`.

Rust hyperapp keeps "the current message" in one thread-local that every incoming message
overwrites, so `source()` is wrong after an `.await`. Here each handler runs with its own
`RequestContext` in a contextvar; asyncio copies the context into every task, so after any `await`
(and in tasks the handler spawns) `source()` and the HTTP request are still the handler's own.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperpy.runtime.types import Address, Blob

if TYPE_CHECKING:
    from hyperpy.runtime.host import Incoming
    from hyperpy.runtime.process import ProcessRuntime
    from hyperpy.runtime.prompting import Answerable
    from hyperpy.runtime.routing import HttpRequest


@dataclass(slots=True)
class RequestContext:
    """What a running handler can ask about the message it is handling."""

    runtime: ProcessRuntime
    source_wit: Any
    handler: str
    kind: str  # "http", "local", "remote", "ws", "timer", "init"
    answer_to: Answerable | None = None
    http: HttpRequest | None = None
    message: Incoming | None = None
    response_status: int = 200
    response_headers: dict[str, str] = field(default_factory=dict)
    _source: Address | None = None

    @property
    def blob(self) -> Blob | None:
        """The blob of the message being handled (fetched from the kernel on first use)."""
        return self.runtime.host.blob_of(self.message) if self.message is not None else None

    @property
    def source(self) -> Address:
        if self._source is None:
            self._source = self.runtime.host.address_of(self.source_wit)
        return self._source


current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "hyperpy_current_request", default=None
)


def request_context(what: str) -> RequestContext:
    """The running handler's context; a clear error when called outside a handler."""
    context = current_request.get()
    if context is None:
        raise RuntimeError(
            f"{what} is only available while a handler runs (inside @http/@local/@remote/@ws "
            "methods and the tasks they start)"
        )
    return context


def source() -> Address:
    """The address that sent the message being handled (correct after every `await`)."""
    return request_context("source()").source


def http_request() -> HttpRequest | None:
    """The HTTP request being handled, or None when the handler was called by a process."""
    context = current_request.get()
    return context.http if context is not None else None


def incoming_blob() -> Blob | None:
    """The blob that came with the message being handled, if any."""
    context = current_request.get()
    return context.blob if context is not None else None


def set_response_status(status: int) -> None:
    """Set the HTTP status of the current handler's answer (default 200)."""
    request_context("set_response_status()").response_status = int(status)


def add_response_header(name: str, value: str) -> None:
    """Add a header to the current handler's HTTP answer."""
    request_context("add_response_header()").response_headers[name] = value


def set_response_headers(headers: dict[str, str]) -> None:
    """Replace the headers of the current handler's HTTP answer."""
    request_context("set_response_headers()").response_headers = dict(headers)
