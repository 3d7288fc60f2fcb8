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

Names are loaded on first use (PEP 562), so host tools that only need `hyperpy.cli` or
`hyperpy.build` do not pay for importing the runtime (and asyncio).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module defining it; a name mapped to itself is a submodule (e.g. `hyperpy.kv`).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Proxy", "call", "call_raw", "request", "send"), "hyperpy.runtime.calls"),
    **dict.fromkeys(
        (
            "add_response_header",
            "http_request",
            "incoming_blob",
            "set_response_headers",
            "set_response_status",
            "source",
        ),
        "hyperpy.runtime.context",
    ),
    **dict.fromkeys(
        ("discard_kept_aside_state", "kept_aside_state", "log", "our", "save_state", "spawn"),
        "hyperpy.runtime.current",
    ),
    **dict.fromkeys(
        (
            "HttpEndpoint",
            "WsEndpoint",
            "app",
            "every",
            "http",
            "init",
            "local",
            "migrate",
            "remote",
            "timer",
            "ws",
            "ws_close",
            "ws_open",
        ),
        "hyperpy.runtime.decorators",
    ),
    **dict.fromkeys(
        (
            "BadResponse",
            "CallError",
            "CallOffline",
            "CallTimeout",
            "CodecError",
            "DeclarationError",
            "HTTPError",
            "RemoteError",
            "StateError",
        ),
        "hyperpy.runtime.errors",
    ),
    "HttpRequest": "hyperpy.runtime.routing",
    "script": "hyperpy.runtime.scripting",
    **dict.fromkeys(
        (
            "EveryMessage",
            "EveryNMessage",
            "EveryNSeconds",
            "KeptAside",
            "Never",
            "OnDiff",
            "SavePolicy",
            "transient",
        ),
        "hyperpy.runtime.state",
    ),
    "ModuleError": "hyperpy.runtime.system",
    **{
        name: f"hyperpy.runtime.system.{name}"
        for name in ("homepage", "http_client", "http_server", "kv", "net", "sqlite", "vfs")
    },
    **dict.fromkeys(
        ("close_ws", "ws_broadcast", "ws_channels", "ws_push"), "hyperpy.runtime.system.http_server"
    ),
    **dict.fromkeys(
        (
            "Address",
            "Blob",
            "Err",
            "Header",
            "Ok",
            "ProcessId",
            "Query",
            "Reply",
            "Response",
            "Result",
            "WithBlob",
            "WsMessageType",
        ),
        "hyperpy.runtime.types",
    ),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hyperpy' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith(f".{name}") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from hyperpy.runtime.calls import (
        Proxy as Proxy,
    )
    from hyperpy.runtime.calls import (
        call as call,
    )
    from hyperpy.runtime.calls import (
        call_raw as call_raw,
    )
    from hyperpy.runtime.calls import (
        request as request,
    )
    from hyperpy.runtime.calls import (
        send as send,
    )
    from hyperpy.runtime.context import (
        add_response_header as add_response_header,
    )
    from hyperpy.runtime.context import (
        http_request as http_request,
    )
    from hyperpy.runtime.context import (
        incoming_blob as incoming_blob,
    )
    from hyperpy.runtime.context import (
        set_response_headers as set_response_headers,
    )
    from hyperpy.runtime.context import (
        set_response_status as set_response_status,
    )
    from hyperpy.runtime.context import (
        source as source,
    )
    from hyperpy.runtime.current import (
        discard_kept_aside_state as discard_kept_aside_state,
    )
    from hyperpy.runtime.current import (
        kept_aside_state as kept_aside_state,
    )
    from hyperpy.runtime.current import (
        log as log,
    )
    from hyperpy.runtime.current import (
        our as our,
    )
    from hyperpy.runtime.current import (
        save_state as save_state,
    )
    from hyperpy.runtime.current import (
        spawn as spawn,
    )
    from hyperpy.runtime.decorators import (
        HttpEndpoint as HttpEndpoint,
    )
    from hyperpy.runtime.decorators import (
        WsEndpoint as WsEndpoint,
    )
    from hyperpy.runtime.decorators import (
        app as app,
    )
    from hyperpy.runtime.decorators import (
        every as every,
    )
    from hyperpy.runtime.decorators import (
        http as http,
    )
    from hyperpy.runtime.decorators import (
        init as init,
    )
    from hyperpy.runtime.decorators import (
        local as local,
    )
    from hyperpy.runtime.decorators import (
        migrate as migrate,
    )
    from hyperpy.runtime.decorators import (
        remote as remote,
    )
    from hyperpy.runtime.decorators import (
        timer as timer,
    )
    from hyperpy.runtime.decorators import (
        ws as ws,
    )
    from hyperpy.runtime.decorators import (
        ws_close as ws_close,
    )
    from hyperpy.runtime.decorators import (
        ws_open as ws_open,
    )
    from hyperpy.runtime.errors import (
        BadResponse as BadResponse,
    )
    from hyperpy.runtime.errors import (
        CallError as CallError,
    )
    from hyperpy.runtime.errors import (
        CallOffline as CallOffline,
    )
    from hyperpy.runtime.errors import (
        CallTimeout as CallTimeout,
    )
    from hyperpy.runtime.errors import (
        CodecError as CodecError,
    )
    from hyperpy.runtime.errors import (
        DeclarationError as DeclarationError,
    )
    from hyperpy.runtime.errors import (
        HTTPError as HTTPError,
    )
    from hyperpy.runtime.errors import (
        RemoteError as RemoteError,
    )
    from hyperpy.runtime.errors import (
        StateError as StateError,
    )
    from hyperpy.runtime.routing import (
        HttpRequest as HttpRequest,
    )
    from hyperpy.runtime.scripting import (
        script as script,
    )
    from hyperpy.runtime.state import (
        EveryMessage as EveryMessage,
    )
    from hyperpy.runtime.state import (
        EveryNMessage as EveryNMessage,
    )
    from hyperpy.runtime.state import (
        EveryNSeconds as EveryNSeconds,
    )
    from hyperpy.runtime.state import (
        KeptAside as KeptAside,
    )
    from hyperpy.runtime.state import (
        Never as Never,
    )
    from hyperpy.runtime.state import (
        OnDiff as OnDiff,
    )
    from hyperpy.runtime.state import (
        SavePolicy as SavePolicy,
    )
    from hyperpy.runtime.state import (
        transient as transient,
    )
    from hyperpy.runtime.system import (
        ModuleError as ModuleError,
    )
    from hyperpy.runtime.system import (
        homepage as homepage,
    )
    from hyperpy.runtime.system import (
        http_client as http_client,
    )
    from hyperpy.runtime.system import (
        http_server as http_server,
    )
    from hyperpy.runtime.system import (
        kv as kv,
    )
    from hyperpy.runtime.system import (
        net as net,
    )
    from hyperpy.runtime.system import (
        sqlite as sqlite,
    )
    from hyperpy.runtime.system import (
        vfs as vfs,
    )
    from hyperpy.runtime.system.http_server import (
        close_ws as close_ws,
    )
    from hyperpy.runtime.system.http_server import (
        ws_broadcast as ws_broadcast,
    )
    from hyperpy.runtime.system.http_server import (
        ws_channels as ws_channels,
    )
    from hyperpy.runtime.system.http_server import (
        ws_push as ws_push,
    )
    from hyperpy.runtime.types import (
        Address as Address,
    )
    from hyperpy.runtime.types import (
        Blob as Blob,
    )
    from hyperpy.runtime.types import (
        Err as Err,
    )
    from hyperpy.runtime.types import (
        Header as Header,
    )
    from hyperpy.runtime.types import (
        Ok as Ok,
    )
    from hyperpy.runtime.types import (
        ProcessId as ProcessId,
    )
    from hyperpy.runtime.types import (
        Query as Query,
    )
    from hyperpy.runtime.types import (
        Reply as Reply,
    )
    from hyperpy.runtime.types import (
        Response as Response,
    )
    from hyperpy.runtime.types import (
        Result as Result,
    )
    from hyperpy.runtime.types import (
        WithBlob as WithBlob,
    )
    from hyperpy.runtime.types import (
        WsMessageType as WsMessageType,
    )
