"""http-server:distro:sys: bind HTTP and WebSocket paths, push WebSocket frames, serve UI files.

Paths are relative to the process (http-server prefixes them with `/<process:package:publisher>`).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from hyperpy.runtime import well_known
from hyperpy.runtime.decorators import HttpEndpoint, WsEndpoint
from hyperpy.runtime.process import current_runtime
from hyperpy.runtime.system import ModuleError, module_request, module_send
from hyperpy.runtime.types import WsMessageType

__hyperpy_process__ = well_known.HTTP_SERVER
PROCESS = __hyperpy_process__

# Load the built-in MIME table now (the build's pre-initialisation keeps it); a component has no
# /etc/mime.types to read later anyway.
mimetypes.init(files=[])


async def _action(value: Mapping[str, Any], *, blob: bytes | None = None, mime: str | None = None) -> None:
    action = next(iter(value))
    answer, _ = await module_request(PROCESS, value, blob=blob, mime=mime, action=action)
    if answer not in ({"Ok": None}, None, "Ok"):
        raise ModuleError(PROCESS, answer, action)


async def bind_http(
    path: str,
    *,
    authenticated: bool = True,
    local_only: bool = False,
    cache: bool = False,
    content: bytes | None = None,
    mime: str | None = None,
) -> None:
    """Route HTTP requests for `path` (route syntax `:param`, `*rest`) to this process. With
    `cache=True`, http-server itself serves `content` for GET."""
    if cache and content is None:
        raise ValueError("bind_http(cache=True) needs content= (the bytes to serve)")
    body = {"Bind": {"path": path, "authenticated": authenticated, "local_only": local_only, "cache": cache}}
    await _action(body, blob=content, mime=mime)


async def bind_secure(
    path: str, *, cache: bool = False, content: bytes | None = None, mime: str | None = None
) -> None:
    """Bind `path` on the app's secure subdomain (always authenticated)."""
    await _action({"SecureBind": {"path": path, "cache": cache}}, blob=content, mime=mime)


async def bind_ws(path: str, *, authenticated: bool = True, extension: bool = False) -> None:
    """Bind a WebSocket path of this app (`extension=True` for a native extension)."""
    await _action({"WebSocketBind": {"path": path, "authenticated": authenticated, "extension": extension}})


async def bind_ws_secure(path: str, *, extension: bool = False) -> None:
    """Bind a WebSocket path on the app's secure subdomain."""
    await _action({"WebSocketSecureBind": {"path": path, "extension": extension}})


async def unbind(path: str) -> None:
    """Remove the app's HTTP binding of `path`."""
    await _action({"Unbind": {"path": path}})


async def unbind_ws(path: str) -> None:
    """Remove the app's WebSocket binding of `path`."""
    await _action({"WebSocketUnbind": {"path": path}})


async def bind_endpoint(endpoint: HttpEndpoint | WsEndpoint) -> None:
    """Bind one declared endpoint, reporting (not raising) a failure: the app keeps running."""
    runtime = current_runtime("bind_endpoint()")
    try:
        if isinstance(endpoint, WsEndpoint):
            if endpoint.secure_subdomain:
                await bind_ws_secure(endpoint.path, extension=endpoint.extension)
            else:
                await bind_ws(
                    endpoint.path, authenticated=endpoint.authenticated, extension=endpoint.extension
                )
        elif endpoint.secure_subdomain:
            await bind_secure(endpoint.path)
        else:
            await bind_http(
                endpoint.path, authenticated=endpoint.authenticated, local_only=endpoint.local_only
            )
    except Exception as error:
        runtime.log(
            0,
            f"could not bind {endpoint.path} with http-server ({error}); if the process is not public, "
            "its package must grant http-server:distro:sys messaging",
        )


def ws_push(channel_id: int, data: bytes | str, message_type: WsMessageType | None = None) -> None:
    """Send one WebSocket frame to a connected client (text for str, binary for bytes)."""
    if message_type is None:
        message_type = WsMessageType.TEXT if isinstance(data, str) else WsMessageType.BINARY
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    module_send(
        PROCESS,
        {"WebSocketPush": {"channel_id": channel_id, "message_type": message_type.value}},
        blob=payload,
    )


def ws_channels(path: str | None = None) -> list[int]:
    """Open WebSocket channels of this process, optionally only those on `path`."""
    channels = current_runtime("ws_channels()").ws_channels
    return sorted(c for c, p in channels.items() if path is None or p == path)


def ws_broadcast(
    data: bytes | str, *, path: str | None = None, message_type: WsMessageType | None = None
) -> int:
    """Push a frame to every open channel (on `path`); returns how many were sent."""
    channels = ws_channels(path)
    for channel in channels:
        ws_push(channel, data, message_type)
    return len(channels)


def close_ws(channel_id: int) -> None:
    """Close a client's WebSocket."""
    module_send(PROCESS, {"WebSocketClose": channel_id})
    current_runtime("close_ws()").ws_channels.pop(channel_id, None)


async def serve_ui(folder: str = "ui", *, authenticated: bool = True) -> int:
    """Serve every file of the package's `pkg/<folder>` at the app's root (`index.html` also at `/`),
    as hyperapp's `serve_ui` does. Returns the number of files bound; errors are reported."""
    from hyperpy.runtime.system import vfs

    runtime = current_runtime("serve_ui()")
    root = f"/{runtime.our.process.package}/pkg/{folder.strip('/')}"
    try:
        files = await vfs.walk_files(root)
    except Exception as error:
        runtime.log(0, f"cannot serve the UI: reading {root} failed ({error}); is '{folder}' in the package?")
        return 0
    bound = 0
    for file_path in files:
        relative = file_path[len(root) :].lstrip("/")
        mime = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        try:
            content = await vfs.read(file_path)
            paths = [f"/{relative}"] + (["/"] if relative == "index.html" else [])
            for path in paths:
                await bind_http(path, authenticated=authenticated, cache=True, content=content, mime=mime)
            bound += 1
        except Exception as error:
            runtime.log(0, f"cannot serve UI file {relative}: {error}")
    return bound
