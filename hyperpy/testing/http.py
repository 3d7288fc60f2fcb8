"""An HTTP client for tests, bound to a local node: base URL, the node's login cookie, JSON helpers.

Why not only `hyperpy_node.url` + urllib: a test of an app's HTTP API repeats the same chores (join
the base URL, log in for `authenticated` paths, encode and decode JSON, read error statuses without
an exception), as a FastAPI user does with `TestClient`. Requests are real HTTP on loopback to the
node's http-server; nothing is mocked. Every status is returned (no exception for 4xx/5xx), so a
test asserts on `answer.status` as it would on a response.
"""

from __future__ import annotations

import json as jsonlib
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_HTTP_TIMEOUT = 10.0
# Loopback only: a proxy configured in the environment must not see test traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP response: `status`, `headers` (case-insensitive lookups via `header()`), `body`."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON (AssertionError quoting the body when it is not JSON)."""
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            raise AssertionError(f"HTTP {self.status} body is not JSON: {self.body[:300]!r}") from None


class NodeHttp:
    """HTTP requests to one node: paths are joined to its current base URL (it changes on restart),
    and the node's login cookie is sent, so `authenticated` bindings answer as for a logged-in
    browser. `logged_in=False` sends none (to test that a path needs the login)."""

    def __init__(
        self,
        base_url: Callable[[], str],
        cookie: Callable[[], tuple[str, str] | None],
        *,
        logged_in: bool = True,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
    ) -> None:
        self._base_url = base_url
        self._cookie = cookie
        self.logged_in = logged_in
        self.timeout = timeout

    def without_login(self) -> NodeHttp:
        return NodeHttp(self._base_url, self._cookie, logged_in=False, timeout=self.timeout)

    def url(self, path: str) -> str:
        """`path` on the node: "/<process>/api/items" (a leading '/' is added when missing)."""
        return self._base_url() + (path if path.startswith("/") else "/" + path)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> HttpAnswer:
        """Send one request; `json=` encodes the body as JSON (and sets Content-Type), `data=` sends
        raw bytes. Returns the answer whatever its status."""
        sent_headers = dict(headers or {})
        body: bytes | None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        else:
            body = data.encode() if isinstance(data, str) else data
        cookie = self._cookie() if self.logged_in else None
        if cookie is not None:
            sent_headers.setdefault("Cookie", f"{cookie[0]}={cookie[1]}")
        request = urllib.request.Request(
            self.url(path), data=body, method=method.upper(), headers=sent_headers
        )
        try:
            with _OPENER.open(request, timeout=timeout or self.timeout) as response:
                return HttpAnswer(response.status, list(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return HttpAnswer(error.code, list(error.headers.items()), error.read())

    def get(self, path: str, **options: Any) -> HttpAnswer:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> HttpAnswer:
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> HttpAnswer:
        return self.request("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> HttpAnswer:
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> HttpAnswer:
        return self.request("DELETE", path, **options)
