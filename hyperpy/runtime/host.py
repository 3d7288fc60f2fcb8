"""The one seam between the guest runtime and the `hyperware:process/standard` interface.

Inside a component, `wit_world.imports.standard` and `componentize_py_types` are componentize-py's
generated bindings; in native mode the local node installs modules with the same names that forward
to the calling thread's kernel host. Either way they are imported here, lazily (when a process
starts, never when an app module is imported: the build imports app modules on the host, where no
bindings exist), and nowhere else in the runtime. Everything else speaks in the small value types of
this module and `types.py`, so WIT type construction lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperpy.runtime.types import Address, Blob, ProcessId


@dataclass(slots=True)
class Incoming:
    """One message from `receive()`, flattened.

    `kind` is "request", "response" or "error" (a send error for one of our requests: `error_kind`
    is "timeout" or "offline", `source` the target we tried, `body` the request we sent). Read the
    blob with `Host.blob_of(message)`: it is fetched on first use (a host call most requests never
    need), which must happen before the next message arrives; the runtime fetches it up front
    whenever a handler might need it later (async handlers, HTTP, WebSocket, call replies).
    """

    kind: str
    source: Any  # the bindings' Address; convert with `Host.address_of` when needed
    source_process: str
    source_node: str
    body: bytes
    metadata: str | None
    expects_response: int | None
    inherit: bool
    context: bytes | None
    blob: Blob | object | None
    error_kind: str | None = None
    capabilities: list[Any] | None = None
    turn: int = 0


UNREAD = object()
"""`Incoming.blob` before `Host.blob_of` fetched it."""


class Host:
    """The standard interface for one running process, with conversions to hyperpy's types."""

    def __init__(self, our: str | None = None) -> None:
        import componentize_py_types
        from wit_world.imports import standard  # lazy: only present inside a process

        self.standard: Any = standard
        self._err_type: type[BaseException] = componentize_py_types.Err
        self._receive = standard.receive
        self._get_blob = standard.get_blob
        self._send_request = standard.send_request
        self._send_response = standard.send_response
        self._request_type = standard.Request
        self._response_type = standard.Response
        self._blob_type = standard.LazyLoadBlob
        self._message_request = standard.Message_Request
        self._timeout_kind = standard.SendErrorKind.TIMEOUT
        self._wit_addresses: dict[Address, Any] = {}
        self._turn = 0
        self.our = Address.parse(our) if our else self.address_of(standard.our())

    # --- identity and conversions -----------------------------------------------------------------

    def address_of(self, wit_address: Any) -> Address:
        process = wit_address.process
        return Address(
            wit_address.node,
            ProcessId(process.process_name, process.package_name, process.publisher_node),
        )

    def may_message(self, address: Address) -> bool:
        """Whether we hold the messaging capability issued by `address` (the kernel's check for a
        non-public target; public targets need none)."""
        try:
            capabilities = self.standard.our_capabilities()
        except Exception:
            return False
        return any(
            cap.params == '"messaging"' and self.address_of(cap.issuer) == address for cap in capabilities
        )

    def wit_address(self, address: Address) -> Any:
        cached = self._wit_addresses.get(address)
        if cached is None:
            process = address.process
            cached = self.standard.Address(
                address.node,
                self.standard.ProcessId(process.process_name, process.package_name, process.publisher_node),
            )
            if len(self._wit_addresses) < 4096:
                self._wit_addresses[address] = cached
        return cached

    # --- messages ---------------------------------------------------------------------------------

    def receive(self) -> Incoming:
        """Block for the next message. Send errors come back as `kind == "error"`, never raised."""
        self._turn += 1
        try:
            source, message = self._receive()
        except self._err_type as failure:
            error, context = failure.value  # type: ignore[attr-defined]  # componentize_py_types.Err
            sent = error.message
            request = sent.value if isinstance(sent, self._message_request) else None
            target = error.target
            return Incoming(
                kind="error",
                source=target,
                source_process=_process_text(target.process),
                source_node=target.node,
                body=bytes(request.body) if request is not None else b"",
                metadata=None,
                expects_response=None,
                inherit=False,
                context=bytes(context) if context is not None else None,
                blob=None,
                error_kind="timeout" if error.kind == self._timeout_kind else "offline",
            )
        process = source.process
        source_process = f"{process.process_name}:{process.package_name}:{process.publisher_node}"
        if isinstance(message, self._message_request):
            request = message.value
            return Incoming(
                "request",
                source,
                source_process,
                source.node,
                request.body,
                request.metadata,
                request.expects_response,
                request.inherit,
                None,
                UNREAD,
                None,
                request.capabilities,
                self._turn,
            )
        response, context = message.value
        return Incoming(
            "response",
            source,
            source_process,
            source.node,
            response.body,
            response.metadata,
            None,
            response.inherit,
            context,
            UNREAD,
            None,
            response.capabilities,
            self._turn,
        )

    def blob_of(self, message: Incoming) -> Blob | None:
        """The message's blob, fetched from the kernel on first use (None once a newer message
        has arrived without the blob having been fetched: the kernel has replaced it)."""
        blob = message.blob
        if blob is UNREAD:
            blob = None
            if message.turn == self._turn:
                raw = self._get_blob()
                if raw is not None:
                    blob = Blob(bytes(raw.bytes), raw.mime)
            message.blob = blob
        return blob  # type: ignore[return-value]

    def send_request(
        self,
        target: Address,
        body: bytes,
        *,
        expects_response: int | None,
        context: bytes | None = None,
        blob: bytes | None = None,
        mime: str | None = None,
        metadata: str | None = None,
        inherit: bool = False,
    ) -> None:
        request = self._request_type(inherit, expects_response, body, metadata, [])
        lazy = self._blob_type(mime, blob) if blob is not None else None
        self._send_request(self.wit_address(target), request, context, lazy)

    def send_response(
        self, body: bytes, *, blob: bytes | None = None, mime: str | None = None, metadata: str | None = None
    ) -> None:
        lazy = self._blob_type(mime, blob) if blob is not None else None
        self._send_response(self._response_type(False, body, metadata, []), lazy)

    # --- everything else --------------------------------------------------------------------------

    def print(self, verbosity: int, text: str) -> None:
        self.standard.print_to_terminal(verbosity, text)

    def get_state(self) -> bytes | None:
        state = self.standard.get_state()
        return bytes(state) if state is not None else None

    def set_state(self, data: bytes) -> None:
        self.standard.set_state(data)

    def clear_state(self) -> None:
        self.standard.clear_state()


def _process_text(process: Any) -> str:
    return f"{process.process_name}:{process.package_name}:{process.publisher_node}"
