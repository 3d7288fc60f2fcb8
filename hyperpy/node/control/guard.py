"""Who may use the node's control routes: local tools, never a web page the developer happens to visit.

Why more than `is_local_request`: a page on any site can make the developer's browser POST to
`http://localhost:8080/...` (a "simple" cross-site request needs no CORS preflight when its body is
`text/plain` or a form), and DNS rebinding can give such a page a hostname that resolves to
127.0.0.1. Both arrive from a loopback peer. So a control request must also name a loopback host in
`Host`, carry no `Origin` other than a loopback one (tools send none), and, when it has a body, say
`Content-Type: application/json` — which a cross-site page cannot send without a preflight that the
node never answers. kit sends exactly that: `kit inject-message` and `kit start-package` POST with
reqwest's `.json(..)` (`Content-Type: application/json`, no `Origin`, `Host` = the URL's host). An
empty POST without a `Content-Type` (`/hyperpy/api/kill?id=..`) is accepted: a browser sends
`Origin` with every cross-site POST, so the Origin rule already covers it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from hyperpy.node.modules.http_request_info import is_loopback_peer

LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback_host(host: str) -> bool:
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def control_request_problem(request: web.Request, *, json_body: bool) -> str | None:
    """Why `request` may not use a control route (None when it may)."""
    if not is_loopback_peer(request):
        return "the control API is local-only"
    if not _is_loopback_host(request.headers.get("Host", "")):
        return "the Host header must name this machine (localhost or a loopback address)"
    origin = request.headers.get("Origin")
    if origin is not None and not _is_loopback_host(urlsplit(origin).netloc):
        return f"cross-site requests are refused (Origin {origin})"
    declares_type = request.body_exists or "Content-Type" in request.headers
    if json_body and declares_type and request.content_type != "application/json":
        return "send the request body as JSON with Content-Type: application/json"
    return None
