"""hyperpy: write Hyperware processes in Python.

The public API for app authors; everything here comes from the guest runtime (`hyperpy.runtime`),
which is pure Python and runs both inside a component and natively on the local node.

    from hyperpy import app, http, local

    @app(name="counter")
    class Counter:
        count: int = 0

        @http
        @local
        def increment(self, by: int) -> int:
            self.count += by
            return self.count
"""

from hyperpy.runtime.calls import Proxy, call, call_raw, send
from hyperpy.runtime.context import (
    add_response_header,
    http_request,
    incoming_blob,
    set_response_headers,
    set_response_status,
    source,
)
from hyperpy.runtime.current import (
    discard_kept_aside_state,
    kept_aside_state,
    log,
    our,
    save_state,
    spawn,
)
from hyperpy.runtime.decorators import (
    HttpEndpoint,
    WsEndpoint,
    app,
    every,
    http,
    init,
    local,
    migrate,
    remote,
    timer,
    ws,
    ws_close,
    ws_open,
)
from hyperpy.runtime.errors import (
    BadResponse,
    CallError,
    CallOffline,
    CallTimeout,
    CodecError,
    DeclarationError,
    HTTPError,
    RemoteError,
    StateError,
)
from hyperpy.runtime.routing import HttpRequest
from hyperpy.runtime.state import (
    EveryMessage,
    EveryNMessage,
    EveryNSeconds,
    KeptAside,
    Never,
    OnDiff,
    SavePolicy,
    transient,
)
from hyperpy.runtime.system import ModuleError, homepage, http_client, http_server, kv, net, sqlite, vfs
from hyperpy.runtime.system.http_server import close_ws, ws_broadcast, ws_channels, ws_push
from hyperpy.runtime.types import (
    Address,
    Blob,
    Err,
    Header,
    Ok,
    ProcessId,
    Query,
    Reply,
    Response,
    Result,
    WithBlob,
    WsMessageType,
)

__all__ = [
    "Address",
    "BadResponse",
    "Blob",
    "CallError",
    "CallOffline",
    "CallTimeout",
    "CodecError",
    "DeclarationError",
    "Err",
    "EveryMessage",
    "EveryNMessage",
    "EveryNSeconds",
    "HTTPError",
    "Header",
    "HttpEndpoint",
    "HttpRequest",
    "KeptAside",
    "ModuleError",
    "Never",
    "Ok",
    "OnDiff",
    "ProcessId",
    "Proxy",
    "Query",
    "RemoteError",
    "Reply",
    "Response",
    "Result",
    "SavePolicy",
    "StateError",
    "WithBlob",
    "WsEndpoint",
    "WsMessageType",
    "add_response_header",
    "app",
    "call",
    "call_raw",
    "close_ws",
    "discard_kept_aside_state",
    "every",
    "homepage",
    "http",
    "http_client",
    "http_request",
    "http_server",
    "incoming_blob",
    "init",
    "kept_aside_state",
    "kv",
    "local",
    "log",
    "migrate",
    "net",
    "our",
    "remote",
    "save_state",
    "send",
    "set_response_headers",
    "set_response_status",
    "source",
    "spawn",
    "sqlite",
    "timer",
    "transient",
    "vfs",
    "ws",
    "ws_broadcast",
    "ws_channels",
    "ws_close",
    "ws_open",
    "ws_push",
]
