"""Helpers for the counter example's tests: an HTTP client logged in to the local node."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any

import pytest

from hyperpy.testing.harness import HyperpyNode


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Browser:
    """A minimal logged-in HTTP client (the node's `authenticated` bindings need its cookie)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        login = {"password_hash": "any password works on a local node", "subdomain": None}
        self.fetch("POST", "/login", json.dumps(login).encode())

    def fetch(self, method: str, path: str, body: bytes | None = None) -> HttpAnswer:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        try:
            with self.opener.open(request, timeout=20) as answer:
                return HttpAnswer(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return HttpAnswer(error.code, dict(error.headers), error.read())


@pytest.fixture
def browser_for():
    return lambda node: Browser(node.url)


__all__ = ["Browser", "HttpAnswer", "HyperpyNode"]
