"""Value types of the public API: addresses, results, HTTP responses, parameter markers, blobs.

They are plain dataclasses so the codec can encode them and so they work the same natively and in a
component. `Address`/`ProcessId` mirror Hyperware's string forms (`node@process:package:publisher`)
because that is how Rust's process_lib serialises them on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar, Union

T = TypeVar("T")
E = TypeVar("E")


def split_process_id(text: str) -> tuple[str, str, str]:
    """Split `process:package:publisher`; raise ValueError naming the expected form.

    The one parsing rule for process ids: the node's ABI mirror types (hyperpy.node.wit_types) use it
    too, so the kernel and the framework accept and refuse exactly the same strings.
    """
    parts = text.split(":")
    if len(parts) != 3 or not all(parts) or "@" in text:
        raise ValueError(f"invalid process id {text!r}: expected 'process:package:publisher'")
    return parts[0], parts[1], parts[2]


def split_address(text: str) -> tuple[str, tuple[str, str, str]]:
    """Split `node@process:package:publisher` into the node name and the process id's parts."""
    node, sep, rest = text.partition("@")
    if not sep or not node or "@" in rest or ":" in node:
        raise ValueError(f"invalid address {text!r}: expected 'node@process:package:publisher'")
    return node, split_process_id(rest)


@dataclass(frozen=True, slots=True)
class ProcessId:
    """`process:package:publisher`; on the wire it is that string."""

    process_name: str
    package_name: str
    publisher_node: str

    @classmethod
    def parse(cls, text: str) -> ProcessId:
        return cls(*split_process_id(text))

    @property
    def package(self) -> str:
        """`package:publisher`, the package id string used by vfs paths and kv/sqlite."""
        return f"{self.package_name}:{self.publisher_node}"

    def __str__(self) -> str:
        return f"{self.process_name}:{self.package_name}:{self.publisher_node}"


@dataclass(frozen=True, slots=True)
class Address:
    """`node@process:package:publisher`; on the wire it is that string."""

    node: str
    process: ProcessId

    @classmethod
    def parse(cls, text: str) -> Address:
        node, process = split_address(text)
        return cls(node, ProcessId(*process))

    def __str__(self) -> str:
        return f"{self.node}@{self.process}"


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """Success case of a `Result`; on the wire `{"Ok": value}` like Rust's `Result`."""

    value: T
    __newtype__: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """Failure case of a `Result`; on the wire `{"Err": error}` like Rust's `Result`."""

    error: E
    __newtype__: ClassVar[bool] = True


Result = Union[Ok[T], Err[E]]  # noqa: UP007 - a generic alias: Result[int, str]


class WsMessageType(Enum):
    """WebSocket frame kinds as http-server names them on the wire."""

    TEXT = "Text"
    BINARY = "Binary"
    PING = "Ping"
    PONG = "Pong"
    CLOSE = "Close"


@dataclass(slots=True)
class Response:
    """A raw HTTP answer: bytes or text with status, headers and content type.

    Return it from an `@http` handler when the answer is not JSON (HTML pages, files, images); any
    other return value is sent as JSON. `str` bodies are UTF-8 encoded.
    """

    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    @classmethod
    def html(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(text, status, dict(headers or {}), "text/html; charset=utf-8")

    @classmethod
    def text(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(text, status, dict(headers or {}), "text/plain; charset=utf-8")

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """`value` must already be JSON-able (dict/list/str/int/float/bool/None)."""
        from hyperpy.runtime.jsonwire import dumps

        return cls(dumps(value), status, dict(headers or {}), "application/json")

    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else bytes(self.body)

    def header_map(self) -> dict[str, str]:
        """Headers to send, with the content type filled in unless one was set explicitly."""
        headers = dict(self.headers)
        if not any(name.lower() == "content-type" for name in headers):
            if self.content_type is not None:
                headers["Content-Type"] = self.content_type
            elif isinstance(self.body, str):
                headers["Content-Type"] = "text/plain; charset=utf-8"
            else:
                headers["Content-Type"] = "application/octet-stream"
        return headers


@dataclass(frozen=True, slots=True)
class Query:
    """Marker: `Annotated[int, Query()]` binds a parameter to the URL query (`?name=`)."""

    name: str | None = None


@dataclass(frozen=True, slots=True)
class Header:
    """Marker: `Annotated[str, Header("x-token")]` binds a parameter to a request header."""

    name: str | None = None


@dataclass(slots=True)
class WithBlob(Generic[T]):
    """Return from a local/remote handler to attach a blob (bytes beside the JSON body)."""

    value: T
    blob: bytes
    mime: str | None = None


@dataclass(slots=True)
class Blob:
    """A lazy-load blob as received: bytes and an optional MIME type."""

    bytes: bytes
    mime: str | None = None


@dataclass(slots=True)
class Reply:
    """A raw answer from `call_raw`: the body bytes, its blob and metadata, and who answered."""

    body: bytes
    blob: Blob | None
    metadata: str | None
    source: Address | None
