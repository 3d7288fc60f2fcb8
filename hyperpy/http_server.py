"""hyperpy.http_server: HTTP and WebSocket details, and http-server:distro:sys itself.

    from typing import Annotated

    from hyperpy import app, http
    from hyperpy.http_server import Header, Query, Response

    @app(name="files")
    class Files:
        @http(method="GET", path="/files/{name}")
        def get(
            self,
            name: str,
            page: Annotated[int, Query()] = 1,
            agent: Annotated[str, Header("user-agent")] = "",
        ) -> Response:
            return Response.text(f"{name} page {page} for {agent}")

Request details come as handler parameters (`Query`, `Header` markers) or from
`http_request()` / `incoming_blob()`; the answer's status and headers from a returned `Response` or
`set_response_status` / `add_response_header` / `set_response_headers`. WebSockets: `ws_push`,
`ws_broadcast`, `ws_channels`, `close_ws`. Serving a UI folder: `serve_ui`. Binding by hand:
`bind_http`, `bind_ws`, ... (the framework binds declared endpoints itself). `WithBlob` attaches a
blob to a local/remote answer. Part of the guest runtime: it runs inside components.
"""

from __future__ import annotations

from hyperpy.runtime import well_known
from hyperpy.runtime.context import (
    add_response_header,
    http_request,
    incoming_blob,
    set_response_headers,
    set_response_status,
)
from hyperpy.runtime.decorators import HttpEndpoint, WsEndpoint
from hyperpy.runtime.routing import HttpRequest
from hyperpy.runtime.system.http_server import (
    bind_http,
    bind_secure,
    bind_ws,
    bind_ws_secure,
    close_ws,
    serve_ui,
    unbind,
    unbind_ws,
    ws_broadcast,
    ws_channels,
    ws_push,
)
from hyperpy.runtime.types import Header, Query, Response, WithBlob, WsMessageType

# Capability inference reads this (as on every hyperpy.runtime.system module): an app that imports
# this namespace uses http-server.
__hyperpy_process__ = well_known.HTTP_SERVER

__all__ = [
    "Header",
    "HttpEndpoint",
    "HttpRequest",
    "Query",
    "Response",
    "WithBlob",
    "WsEndpoint",
    "WsMessageType",
    "add_response_header",
    "bind_http",
    "bind_secure",
    "bind_ws",
    "bind_ws_secure",
    "close_ws",
    "http_request",
    "incoming_blob",
    "serve_ui",
    "set_response_headers",
    "set_response_status",
    "unbind",
    "unbind_ws",
    "ws_broadcast",
    "ws_channels",
    "ws_push",
]
