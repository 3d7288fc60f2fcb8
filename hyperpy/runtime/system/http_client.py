"""http-client:distro:sys: outgoing HTTP requests from a process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hyperpy.runtime import jsonwire, well_known
from hyperpy.runtime.system import ModuleError, module_request

__hyperpy_process__ = well_known.HTTP_CLIENT
PROCESS = __hyperpy_process__


@dataclass
class HttpClientResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonwire.loads(self.body)


async def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | str = b"",
    timeout: float = 30,
) -> HttpClientResponse:
    """Perform an HTTP request through the node. Errors (bad URL, connection refused) raise
    ModuleError with http-client's error value."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    value = {"Http": {"method": method.upper(), "version": None, "url": url, "headers": dict(headers or {})}}
    answer, reply = await module_request(PROCESS, value, blob=data, timeout=timeout, action=f"{method} {url}")
    try:
        head = answer["Ok"]["Http"]
    except (KeyError, TypeError):
        raise ModuleError(PROCESS, answer, f"{method} {url}") from None
    return HttpClientResponse(
        int(head["status"]),
        {str(k): str(v) for k, v in (head.get("headers") or {}).items()},
        reply.blob.bytes if reply.blob is not None else b"",
    )


async def get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 30) -> HttpClientResponse:
    """GET `url` through http-client:distro:sys (the node makes the request)."""
    return await request("GET", url, headers=headers, timeout=timeout)


async def post(
    url: str, body: bytes | str = b"", *, headers: dict[str, str] | None = None, timeout: float = 30
) -> HttpClientResponse:
    """POST `body` to `url` through http-client:distro:sys."""
    return await request("POST", url, headers=headers, body=body, timeout=timeout)
