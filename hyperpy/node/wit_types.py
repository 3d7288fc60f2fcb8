"""Python mirror of the `hyperware:process/standard@1.0.0` types, shaped like componentize-py's bindings.

Why a mirror: the kernel, both process runners and the native-mode shim need one vocabulary for
addresses, requests, blobs and errors. componentize-py 0.25 generates plain dataclasses with these
exact class and field names (`Message_Request`, `OnExit_None_`, `SendErrorKind.TIMEOUT`, ...).
Using the same names means a process written against the generated bindings (kit's raw style)
runs unchanged in native mode, where these classes are installed as `wit_world.imports.standard`.
`tests/node/test_wit_types.py` compares this module with freshly generated bindings, so drift fails
a test instead of a user's process.

Differences from the generated module, all additive: `ProcessId`, `PackageId` and `Address` are
frozen (hashable: the kernel keys its tables by them) and can be parsed from and printed to the
`node@process:package:publisher` string form used everywhere on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, Optional, TypeVar, Union

from hyperpy.runtime import jsonwire
from hyperpy.runtime.types import split_address, split_process_id

S = TypeVar("S")
T = TypeVar("T")
E = TypeVar("E")


@dataclass
class Some(Generic[S]):
    """The present case of a nested `option` (mirror of `componentize_py_types.Some`)."""

    value: S


@dataclass
class Ok(Generic[T]):
    """The success case of a `result` (mirror of `componentize_py_types.Ok`)."""

    value: T


@dataclass(frozen=True)
class Err(Generic[E], Exception):
    """The failure case of a `result`; raised by imports such as `receive()`, as in a component."""

    value: E


Result = Union[Ok[T], Err[E]]  # noqa: UP007 - kept identical to the generated alias


@dataclass(frozen=True)
class ProcessId:
    process_name: str
    package_name: str
    publisher_node: str

    @classmethod
    def parse(cls, text: str) -> ProcessId:
        """Parse `process:package:publisher`; raise ValueError naming the expected form."""
        return cls(*split_process_id(text))

    def package_id(self) -> PackageId:
        return PackageId(self.package_name, self.publisher_node)

    def __str__(self) -> str:
        return f"{self.process_name}:{self.package_name}:{self.publisher_node}"


@dataclass(frozen=True)
class PackageId:
    package_name: str
    publisher_node: str

    @classmethod
    def parse(cls, text: str) -> PackageId:
        parts = text.split(":")
        if len(parts) != 2 or not all(parts) or "@" in text:
            raise ValueError(f"invalid package id {text!r}: expected 'package:publisher'")
        return cls(parts[0], parts[1])

    def __str__(self) -> str:
        return f"{self.package_name}:{self.publisher_node}"


@dataclass(frozen=True)
class Address:
    node: str
    process: ProcessId

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse `node@process:package:publisher`; raise ValueError naming the expected form."""
        node, process = split_address(text)
        return cls(node, ProcessId(*process))

    def __str__(self) -> str:
        return f"{self.node}@{self.process}"


@dataclass
class LazyLoadBlob:
    mime: Optional[str]  # noqa: UP045 - mirrors the generated annotation
    bytes: bytes


@dataclass
class Capability:
    issuer: Address
    params: str

    def key(self) -> tuple[Address, object]:
        """Identity as Hyperdrive compares caps: issuer plus *parsed* JSON params."""

        try:
            parsed: object = _freeze(jsonwire.loads(self.params))
        except ValueError:
            parsed = self.params
        return (self.issuer, parsed)


def _freeze(value: object) -> object:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass
class Request:
    inherit: bool
    expects_response: Optional[int]  # noqa: UP045
    body: bytes
    metadata: Optional[str]  # noqa: UP045
    capabilities: list[Capability]


@dataclass
class Response:
    inherit: bool
    body: bytes
    metadata: Optional[str]  # noqa: UP045
    capabilities: list[Capability]


@dataclass
class Message_Request:
    value: Request


@dataclass
class Message_Response:
    value: tuple[Response, Optional[bytes]]  # noqa: UP045


Message = Union[Message_Request, Message_Response]  # noqa: UP007


@dataclass
class OnExit_None_:
    pass


@dataclass
class OnExit_Restart:
    pass


@dataclass
class OnExit_Requests:
    value: list[tuple[Address, Request, Optional[LazyLoadBlob]]]  # noqa: UP045


OnExit = Union[OnExit_None_, OnExit_Restart, OnExit_Requests]  # noqa: UP007


class SendErrorKind(Enum):
    OFFLINE = 0
    TIMEOUT = 1


@dataclass
class SendError:
    kind: SendErrorKind
    target: Address
    message: Message
    lazy_load_blob: Optional[LazyLoadBlob]  # noqa: UP045


class SpawnError(Enum):
    NAME_TAKEN = 0
    NO_FILE_AT_PATH = 1
