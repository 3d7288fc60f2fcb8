"""Facts about an incoming aiohttp request, spelled the way Hyperdrive's http-server reports them.

Shared by the HTTP and WebSocket halves of http-server (and usable by other node parts' routes):
peer address as Rust prints a SocketAddr, the Host without port, lower-cased header map, and the
"local" test behind `local_only` bindings and extension WebSockets.
"""

from __future__ import annotations

import ipaddress
import re

from aiohttp import web

# Any of these means a reverse proxy relayed the request, so the loopback peer says nothing about the
# real client (Hyperdrive's checks and kit's rpc endpoint look for the same kind of headers).
PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "cf-connecting-ip")
TIMEOUT_HEADER = "X-Hyperware-Http-Server-Timeout"
LONGEST_TIMEOUT_SECONDS = 365 * 24 * 3600.0
"""A longer header value waits this long: asyncio cannot schedule a u64 of seconds (OverflowError)."""
_U64_TEXT = re.compile(r"\+?[0-9]{1,20}")  # what Rust's `u64::from_str` accepts (ASCII digits only)


_VISIBLE_ASCII = re.compile(rb"[\t\x20-\x7e]*")  # what http's HeaderValue::to_str accepts


def header_map(request: web.Request) -> dict[str, str]:
    """Request headers as Hyperdrive serializes them: lower-case names, last value wins,
    values that are not visible ASCII become "". (Runs for every request: one regex per value.)"""
    visible = _VISIBLE_ASCII.fullmatch
    return {
        raw_name.decode("latin-1").lower(): raw_value.decode("ascii") if visible(raw_value) else ""
        for raw_name, raw_value in request.raw_headers
    }


def peer_address(request: web.Request) -> str | None:
    """`ip:port` of the client (`[ip]:port` for IPv6), as Rust's SocketAddr prints it."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer:
        return None
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback_peer(request: web.Request) -> bool:
    """Hyperdrive's local check: a loopback peer and no reverse-proxy headers."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer:
        return False
    try:
        return ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:
        return False


def request_timeout(request: web.Request, default: float) -> float:
    """Seconds to wait for the answer: the `X-Hyperware-Http-Server-Timeout` header parsed as
    Hyperdrive does (`t.parse::<u64>().ok()`, anything else -> the default: garbage, a negative or
    fractional value, unicode digits, more than u64::MAX), capped at `LONGEST_TIMEOUT_SECONDS`."""
    value = request.headers.get(TIMEOUT_HEADER)
    if value is None or _U64_TEXT.fullmatch(value) is None:
        return default
    seconds = int(value)
    if seconds >= 2**64:
        return default
    return float(min(seconds, LONGEST_TIMEOUT_SECONDS))


def request_host(request: web.Request) -> str:
    """The Host header without port ("localhost" when absent), as warp's `host.host()`."""
    host = request.headers.get("Host", "").strip()
    if not host:
        return "localhost"
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def forwarded_for(request: web.Request) -> str | None:
    """First client IP from X-Forwarded-For, X-Real-IP or Cf-Connecting-Ip."""
    first = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    if first:
        return first
    for name in ("X-Real-IP", "Cf-Connecting-Ip"):
        value = request.headers.get(name, "").strip()
        if value:
            return value
    return None
