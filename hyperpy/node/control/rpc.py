"""`POST /rpc:distro:sys/message`: kit's way into a node, served on the node's own HTTP port.

Behaviour follows Hyperdrive's http-server (`handle_rpc_message` and the rpc branch of
`handle_app_message`), because `kit inject-message` and `kit start-package` rely on it:

* local only (loopback peer, no reverse-proxy headers) and unauthenticated; otherwise 403;
* stricter than Hyperdrive (docs/node.md): also 403 for a `Host` that is not localhost or a loopback
  address, a foreign `Origin`, or a body that is not `Content-Type: application/json`, so a web page
  in the developer's browser cannot inject messages (`hyperpy.node.control.guard`);
* a body that is not an `RpcMessage`, or a `process` that is not a process id, gives 400;
* the message becomes a Request from `<our>@http-server:distro:sys`, with `rsvp` = http-server when
  a response is expected, `body` = the UTF-8 of the `body` string, the blob = base64-decoded `data`
  with `mime` (undecodable data silently means no blob), and `node` defaulting to ours;
* without `expects_response` the reply is an empty 200 as soon as the message is sent;
* otherwise the reply waits for the Response with the same id: 200 with
  `{"body":[..],"lazy_load_blob":{"mime":..,"bytes":[ascii of base64]}|null}`, or 408 after the
  http-server timeout (15 s, or the `X-Hyperware-Http-Server-Timeout` header in seconds).

The message is routed by the kernel like any other, so capability checks apply exactly as on a node:
the target must be public or have granted http-server messaging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from pydantic import ValidationError

from hyperpy.node.contracts import KernelMessage, NodeServices, RequestRefused
from hyperpy.node.control.guard import control_request_problem
from hyperpy.node.modules.http_request_info import request_timeout
from hyperpy.node.well_known import HTTP_SERVER_PROCESS_ID
from hyperpy.node.wit_types import (
    Address,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    ProcessId,
    Request,
)
from hyperpy.package.control_wire import RpcMessage, RpcReply

HTTP_SERVER = HTTP_SERVER_PROCESS_ID
DEFAULT_TIMEOUT_SECONDS = 15.0


class RpcRefused(Exception):
    """The HTTP request is refused with `status` before anything is sent into the node."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PendingResponses(Protocol):
    """Where Responses addressed to http-server are matched to the HTTP request waiting for them.

    http-server owns this table (it receives the Responses); the rpc endpoint registers an id before
    sending and forgets it when the HTTP request ends, whatever happened.
    """

    def expect(self, request_id: int) -> asyncio.Future[KernelMessage]: ...

    def forget(self, request_id: int) -> None: ...


def rpc_kernel_message(body: bytes, our_node: str, request_id: int) -> KernelMessage:
    """Turn a posted body into the Request Hyperdrive's http-server sends; raise RpcRefused(400)."""
    try:
        rpc = RpcMessage.model_validate_json(body)
    except ValidationError as error:
        raise RpcRefused(400, f"body is not an rpc message: {error.errors()[0]['msg']}") from None
    try:
        target_process = ProcessId.parse(rpc.process)
    except ValueError as error:
        raise RpcRefused(400, str(error)) from None
    http_server = Address(our_node, HTTP_SERVER)
    return KernelMessage(
        id=request_id,
        source=http_server,
        target=Address(rpc.node or our_node, target_process),
        rsvp=http_server if rpc.expects_response is not None else None,
        message=Message_Request(
            Request(
                inherit=False,
                expects_response=rpc.expects_response,
                body=(rpc.body or "").encode(),
                metadata=rpc.metadata,
                capabilities=[],
            )
        ),
        lazy_load_blob=_blob(rpc),
    )


def _blob(rpc: RpcMessage) -> LazyLoadBlob | None:
    parts = rpc.blob_parts()
    return None if parts is None else LazyLoadBlob(*parts)


def rpc_reply_body(response: KernelMessage) -> bytes:
    """The 200 body for a Response that reached http-server: its body and base64-ASCII blob."""
    message = response.message
    body = message.value[0].body if isinstance(message, Message_Response) else b""
    return RpcReply.from_response(body, response.lazy_load_blob).to_json_bytes()


class RpcEndpoint:
    """The aiohttp handler for `POST /rpc:distro:sys/message`, living on the kernel's event loop.

    `services` returns the node's services when a request arrives (http-server has them once started).
    """

    def __init__(
        self,
        services: Callable[[], NodeServices],
        pending: PendingResponses,
        *,
        default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._services = services
        self._pending = pending
        self._default_timeout = default_timeout

    async def handle(self, request: web.Request) -> web.Response:
        node = self._services()
        problem = control_request_problem(request, json_body=True)
        if problem is not None:
            node.printout(HTTP_SERVER, 1, f"http-server: refused rpc message: {problem}")
            return web.Response(status=403, text=problem)
        timeout = request_timeout(request, self._default_timeout)
        body = await request.read()
        try:
            message = rpc_kernel_message(body, node.our_node, node.new_request_id())
        except RpcRefused as refused:
            node.printout(HTTP_SERVER, 2, f"http-server: refused rpc message: {refused.reason}")
            return web.Response(status=refused.status)
        node.printout(HTTP_SERVER, 2, f"http-server: passing on RPC message to {message.target.process}")
        if message.rsvp is None:
            node.send(message)
            return web.Response(status=200)
        waiting = self._pending.expect(message.id)
        try:
            node.send(message)
            response = await asyncio.wait_for(waiting, timeout)
        except TimeoutError:
            return web.Response(status=408)
        except RequestRefused as refused:
            # Same status as Hyperdrive (408, after its timeout); at once, with the kernel's reason
            # as the body, which kit ignores and `hyperpy inject` prints.
            return web.Response(status=408, text=f"{refused.reason}\n")
        finally:
            self._pending.forget(message.id)
        return web.Response(status=200, body=rpc_reply_body(response), headers={"Content-Type": "text/html"})
