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

The top level holds what most apps use: the decorators, calling other processes (`call`, `send`,
`request`, `Proxy`), who is talking (`source`, `our`, `log`), `background` tasks, the value types
and the errors an app catches. The rest lives in namespaces: `hyperpy.state` (save policies),
`hyperpy.http_server` (HTTP and WebSocket details), `hyperpy.errors` (every exception), and one
module per system process (`hyperpy.kv`, `hyperpy.sqlite`, `hyperpy.vfs`, `hyperpy.net`,
`hyperpy.http_client`, `hyperpy.homepage`). Names that used to be at the top level still import,
with a DeprecationWarning naming their new place, for one release.

Names are loaded on first use (PEP 562), so host tools that only need `hyperpy.cli` or
`hyperpy.build` do not pay for importing the runtime (and asyncio).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

# public name -> module defining it.
_EXPORTS: dict[str, str] = {
    "app": "hyperpy.runtime.decorators",
    "every": "hyperpy.runtime.decorators",
    "http": "hyperpy.runtime.decorators",
    "init": "hyperpy.runtime.decorators",
    "local": "hyperpy.runtime.decorators",
    "migrate": "hyperpy.runtime.decorators",
    "remote": "hyperpy.runtime.decorators",
    "timer": "hyperpy.runtime.decorators",
    "ws": "hyperpy.runtime.decorators",
    "ws_close": "hyperpy.runtime.decorators",
    "ws_open": "hyperpy.runtime.decorators",
    "script": "hyperpy.runtime.scripting",
    "Proxy": "hyperpy.runtime.calls",
    "call": "hyperpy.runtime.calls",
    "call_raw": "hyperpy.runtime.calls",
    "request": "hyperpy.runtime.calls",
    "send": "hyperpy.runtime.calls",
    "source": "hyperpy.runtime.context",
    "background": "hyperpy.runtime.current",
    "log": "hyperpy.runtime.current",
    "our": "hyperpy.runtime.current",
    "Address": "hyperpy.runtime.types",
    "Blob": "hyperpy.runtime.types",
    "Err": "hyperpy.runtime.types",
    "Ok": "hyperpy.runtime.types",
    "ProcessId": "hyperpy.runtime.types",
    "Reply": "hyperpy.runtime.types",
    "Result": "hyperpy.runtime.types",
    "CallError": "hyperpy.runtime.errors",
    "CallOffline": "hyperpy.runtime.errors",
    "CallTimeout": "hyperpy.runtime.errors",
    "HTTPError": "hyperpy.runtime.errors",
    "RemoteError": "hyperpy.runtime.errors",
    "ModuleError": "hyperpy.runtime.system",
}

# Namespaces: the facade modules beside this file (shipped into every component with the runtime,
# see hyperpy.build.guest_path.runtime_tree) and the system-process wrappers.
NAMESPACE_MODULES = ("errors", "http_server", "state")
_SYSTEM_MODULES = ("homepage", "http_client", "kv", "net", "sqlite", "vfs")
_MODULES: dict[str, str] = {
    **{name: f"hyperpy.{name}" for name in NAMESPACE_MODULES},
    **{name: f"hyperpy.runtime.system.{name}" for name in _SYSTEM_MODULES},
}

# Old top-level names, kept importable for one release: name -> (namespace, attribute there).
_MOVED: dict[str, tuple[str, str]] = {
    **{
        name: ("hyperpy.http_server", name)
        for name in (
            "Header",
            "HttpEndpoint",
            "HttpRequest",
            "Query",
            "Response",
            "WithBlob",
            "WsEndpoint",
            "WsMessageType",
            "add_response_header",
            "close_ws",
            "http_request",
            "incoming_blob",
            "set_response_headers",
            "set_response_status",
            "ws_broadcast",
            "ws_channels",
            "ws_push",
        )
    },
    **{
        name: ("hyperpy.state", name)
        for name in (
            "EveryMessage",
            "EveryNMessage",
            "EveryNSeconds",
            "KeptAside",
            "Never",
            "OnDiff",
            "SavePolicy",
            "discard_kept_aside_state",
            "kept_aside_state",
            "save_state",
            "transient",
        )
    },
    **{name: ("hyperpy.errors", name) for name in ("BadResponse", "CodecError", "DeclarationError")},
    # Hyperware's "spawn" starts a process; this one starts a background task.
    "spawn": ("hyperpy", "background"),
    # Never raised by hyperpy (state that fails to load is kept aside: hyperpy.state.kept_aside_state).
    "StateError": ("hyperpy.runtime.errors", "StateError"),
}
_MOVED_HINT = {
    "StateError": "nothing: hyperpy never raises it; state that fails to load is kept aside "
    "(hyperpy.state.kept_aside_state)",
}

__all__ = sorted([*_EXPORTS, *_MODULES])


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _MOVED:
        namespace, attribute = _MOVED[name]
        hint = _MOVED_HINT.get(name, f"{namespace}.{attribute}")
        warnings.warn(
            f"hyperpy.{name} moved; use {hint} (the old name goes away in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(namespace), attribute)
    else:
        raise AttributeError(f"module 'hyperpy' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from hyperpy import errors as errors
    from hyperpy import http_server as http_server
    from hyperpy import state as state
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
        source as source,
    )
    from hyperpy.runtime.current import (
        background as background,
    )
    from hyperpy.runtime.current import (
        log as log,
    )
    from hyperpy.runtime.current import (
        our as our,
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
        CallError as CallError,
    )
    from hyperpy.runtime.errors import (
        CallOffline as CallOffline,
    )
    from hyperpy.runtime.errors import (
        CallTimeout as CallTimeout,
    )
    from hyperpy.runtime.errors import (
        HTTPError as HTTPError,
    )
    from hyperpy.runtime.errors import (
        RemoteError as RemoteError,
    )
    from hyperpy.runtime.scripting import (
        script as script,
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
        Ok as Ok,
    )
    from hyperpy.runtime.types import (
        ProcessId as ProcessId,
    )
    from hyperpy.runtime.types import (
        Reply as Reply,
    )
    from hyperpy.runtime.types import (
        Result as Result,
    )
