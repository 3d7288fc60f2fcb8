"""Asking the local `net:distro:sys` (peers, peer, net-diagnostics): rmp-serde MessagePack bodies."""

from typing import Any

import msgpack

from hyperpy import CallError, request

NET = "net:distro:sys"


async def net_request(action: Any, timeout: float) -> Any | None:
    """The decoded NetResponse, or None when net did not answer."""
    try:
        reply = await request(NET, msgpack.packb(action, use_bin_type=True), timeout=timeout)
    except CallError:
        return None
    try:
        return msgpack.unpackb(reply.body, raw=False, strict_map_key=False)
    except Exception:
        return {}


def routing_text(routing: Any) -> str:
    """Rust's `{:?}` of `NodeRouting` (`Direct { ip, ports }` or `Routers([...])`)."""
    if isinstance(routing, dict) and "Direct" in routing:
        direct = routing["Direct"]
        ip, ports = (
            (direct[0], direct[1]) if isinstance(direct, list) else (direct.get("ip"), direct.get("ports"))
        )
        port_text = ", ".join(f'"{k}": {v}' for k, v in (ports or {}).items())
        return f'Direct {{ ip: "{ip}", ports: {{{port_text}}} }}'
    if isinstance(routing, dict) and "Routers" in routing:
        routers = ", ".join(f'"{r}"' for r in routing["Routers"])
        return f"Routers([{routers}])"
    return repr(routing)


def identity_text(identity: Any) -> tuple[str, str]:
    """(name, `networking key: ...\n    routing: ...`) of an Identity in array or map form."""
    if isinstance(identity, dict):
        name, key, routing = identity.get("name"), identity.get("networking_key"), identity.get("routing")
    else:
        name, key, routing = identity[0], identity[1], identity[2]
    return str(name), f"networking key: {key}\n    routing: {routing_text(routing)}"
