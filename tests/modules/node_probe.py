"""The modprobe process on a real node: its project, fixtures' helpers and short ways to drive it.

`projects/modprobe` is a raw kit-style process that relays requests to any runtime module and records
HTTP and WebSocket traffic, so tests see exactly what a process sees. The fixtures `modprobe_project`
and `probe` (conftest.py) build on these helpers.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp

from hyperpy.package.manifest import manifest_json
from hyperpy.package.project import load_project, manifest_entries

PROJECT = Path(__file__).parent / "projects" / "modprobe"
PROBE = "modprobe:modprobe:test.os"
PACKAGE = {"package_name": "modprobe", "publisher_node": "test.os"}


def prepare_modprobe_project() -> Path:
    """A working copy of the project, outside the source tree (builds write pkg/ and target/).

    It lives in the repository's build cache so the component built there (under its target/) is
    reused by later sessions; the sources are refreshed every session. The manifest is written for
    native installs, which zip pkg/ (with the UI) as it is.
    """
    root = Path(os.environ.get("HYPERPY_CACHE_DIR") or Path(__file__).parents[2] / ".hyperpy-cache")
    copy = root / "test-projects" / "modprobe"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    (copy / "pkg" / "manifest.json").write_text(manifest_json(manifest_entries(load_project(copy))))
    return copy


class Probe:
    """Short ways to make the modprobe process talk to a module."""

    def __init__(self, harness: Any) -> None:
        self.harness = harness

    def op(self, **op: Any) -> Any:
        return self.harness.request_json(PROBE, op, timeout=30)

    def call(
        self,
        target: str,
        body: Any = None,
        *,
        blob: bytes | None = None,
        mime: str | None = None,
        expects: int | None = 5,
        metadata: str | None = None,
        raw: bytes | None = None,
        caps: list[list[str]] | None = None,
    ) -> Any:
        op: dict[str, Any] = {"op": "call", "target": target, "expects": expects, "metadata": metadata}
        if raw is not None:
            op["body_b64"] = base64.b64encode(raw).decode()
        else:
            op["body"] = body
        if blob is not None:
            op["blob_b64"] = base64.b64encode(blob).decode()
            op["mime"] = mime
        if caps:
            op["caps"] = caps
        return self.op(**op)

    def blob(self, result: dict[str, Any]) -> bytes | None:
        return None if result["blob_b64"] is None else base64.b64decode(result["blob_b64"])

    def events(self) -> list[dict[str, Any]]:
        return self.op(op="events")

    def wait_for_event(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first recorded event matching `predicate`, polling the process until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [event for event in self.events() if predicate(event)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching event in {self.events()}")
            time.sleep(0.05)


def body_key(event: dict[str, Any], key: str) -> Any:
    body = event.get("body")
    return body.get(key) if isinstance(body, dict) else None


def installed_probe(harness: Any, project: Path) -> Probe:
    """Install modprobe on `harness` (a HyperpyNode) and wait until it runs."""
    mark = harness.mark()
    harness.install(project)
    harness.wait_for_output("modprobe: ready", timeout=120, since=mark)
    return Probe(harness)


def vfs(probe: Probe, path: str, action: Any, **kw: Any) -> Any:
    return probe.call("our@vfs:distro:sys", {"path": path, "action": action}, **kw)


def kv(probe: Probe, action: Any, **kw: Any) -> Any:
    return probe.call("our@kv:distro:sys", {"package_id": PACKAGE, "db": "store", "action": action}, **kw)


def sqlite(probe: Probe, action: Any, **kw: Any) -> Any:
    return probe.call("our@sqlite:distro:sys", {"package_id": PACKAGE, "db": "app", "action": action}, **kw)


def restart(harness: Any) -> None:
    mark = harness.mark()
    harness.restart()
    harness.wait_for_output("modprobe: ready", timeout=120, since=mark)


def bind(probe: Probe, path: str, **config: Any) -> Any:
    settings = {"authenticated": False, "local_only": False, "cache": False, **config}
    return probe.call("our@http-server:distro:sys", {"Bind": {"path": path, **settings}})


async def fetch(url: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(kw.pop("method", "GET"), url, **kw) as response,
    ):
        return response.status, dict(response.headers), await response.read()


def get(url: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    """A blocking HTTP request with a real aiohttp client: (status, headers, body)."""
    return asyncio.run(fetch(url, **kw))


def login(base: str) -> str:
    """Log in like the login page does (any password on a local node); return the Cookie header."""
    status, headers, _ = get(
        f"{base}/login", method="POST", json={"password_hash": "0x00", "subdomain": None}
    )
    assert status == 200
    return headers["Set-Cookie"].split(";")[0]
