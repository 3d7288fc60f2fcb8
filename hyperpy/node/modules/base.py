"""What every runtime module shares: its address, replying to a message, and printing to the node.

Why: Hyperdrive's runtime modules all answer the same way (a Response with the request's id, sent to
the request's `rsvp` or else its source, `inherit: false`, no capabilities) and differ only in *when*
they answer. Keeping that rule in one class means each module states only its own policy
(e.g. vfs answers errors only when a response is expected, kv always).
"""

from __future__ import annotations

from hyperpy.node.contracts import KernelMessage, NodeServices
from hyperpy.node.wit_types import (
    Address,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    ProcessId,
    Request,
    Response,
)

MODULE_PACKAGE = ("distro", "sys")


def module_id(name: str) -> ProcessId:
    """The process id of a `distro:sys` runtime module."""
    return ProcessId(name, *MODULE_PACKAGE)


class ModuleBase:
    """Common plumbing for a runtime module living on the kernel's event loop."""

    process_id: ProcessId
    public: bool = False

    def __init__(self) -> None:
        self._node: NodeServices | None = None

    @property
    def node(self) -> NodeServices:
        if self._node is None:
            raise RuntimeError(f"{self.process_id} used before the node started it")
        return self._node

    @property
    def address(self) -> Address:
        return Address(self.node.our_node, self.process_id)

    async def start(self, node: NodeServices) -> None:
        self._node = node
        await self.on_start()

    async def on_start(self) -> None:
        """Hook for subclasses: open files, bind sockets. The node is available here."""

    async def stop(self) -> None:
        await self.on_stop()

    async def on_stop(self) -> None:
        """Hook for subclasses: close sockets, cancel timers, close databases."""

    def is_local(self, message: KernelMessage) -> bool:
        """vfs, kv, sqlite and timer only serve our own node (remote sources are ignored)."""
        return message.source.node == self.node.our_node

    def local_request(self, message: KernelMessage, *, announce_remote: bool = True) -> Request | None:
        """The Request to handle, or None: Responses are ignored, and so are requests from other
        nodes (printed at verbosity 1, as vfs/kv/sqlite do; the timer drops them silently)."""
        request = request_of(message)
        if request is None:
            return None
        if not self.is_local(message):
            if announce_remote:
                self.log(
                    1,
                    f"{self.process_id.process_name}: got request from {message.source.node}, but requests "
                    f"must come from our node {self.node.our_node}",
                )
            return None
        return request

    def log(self, verbosity: int, text: str) -> None:
        self.node.printout(self.process_id, verbosity, text)

    def respond(
        self,
        to: KernelMessage,
        body: bytes,
        blob: LazyLoadBlob | None = None,
        metadata: str | None = None,
        target: Address | None = None,
    ) -> None:
        """Send a Response with `to`'s id to `target`, else `to.rsvp`, else `to.source`."""
        self.node.send(
            KernelMessage(
                id=to.id,
                source=self.address,
                target=target or to.rsvp or to.source,
                rsvp=None,
                message=Message_Response((Response(False, body, metadata, []), None)),
                lazy_load_blob=blob,
            )
        )

    def request(
        self,
        target: Address,
        body: bytes,
        *,
        blob: LazyLoadBlob | None = None,
        expects_response: int | None = None,
        request_id: int | None = None,
        rsvp: Address | None = None,
        metadata: str | None = None,
    ) -> int:
        """Send a Request from this module; returns the id used."""
        message_id = self.node.new_request_id() if request_id is None else request_id
        self.node.send(
            KernelMessage(
                id=message_id,
                source=self.address,
                target=target,
                rsvp=rsvp,
                message=Message_Request(Request(False, expects_response, body, metadata, [])),
                lazy_load_blob=blob,
            )
        )
        return message_id


def expects_response(message: KernelMessage) -> bool:
    """True when the incoming message is a Request with `expects_response` set."""
    return isinstance(message.message, Message_Request) and message.message.value.expects_response is not None


def wants_reply(message: KernelMessage) -> bool:
    """Hyperdrive's success rule for vfs/kv/sqlite/http-server acks: rsvp set or a response expected."""
    return message.rsvp is not None or expects_response(message)


def request_of(message: KernelMessage) -> Request | None:
    """The Request inside `message`, or None when it is a Response (modules ignore those)."""
    return message.message.value if isinstance(message.message, Message_Request) else None
