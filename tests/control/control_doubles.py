"""Test doubles for the control-surface tests (imported by conftest.py and the tests).

* `AppThread` serves an aiohttp app from its own thread, as the node serves its HTTP port.
* `RecordingNode` stands in for a node's rpc endpoint, to test the *client* side in isolation: it
  records every body posted to `/rpc:distro:sys/message` (raw bytes and parsed) and answers from a
  script, so tests can assert the exact JSON kit would send.
* `RecordingServices` is a `NodeServices` for host-side processes tested without a kernel.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.wit_types import Capability, ProcessId

Answer = Callable[[dict[str, Any]], web.Response]


class AppThread:
    """Serves an aiohttp app on 127.0.0.1 (free port) from its own thread and event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app)
        self._thread = threading.Thread(target=self._run, name="test-http", daemon=True)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _boot(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._ready.set()

    def _run(self) -> None:
        self.loop.run_until_complete(self._boot())
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "the test HTTP server did not start"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class RecordingNode:
    """Queued answers are consumed one per request; every posted body is kept, raw and parsed."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        app = web.Application()
        app.router.add_post("/rpc:distro:sys/message", self._handle)
        self.server = AppThread(app)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def reply(self, body: bytes, blob: bytes | None = None, mime: str | None = None) -> None:
        """Queue a Hyperdrive-style 200: body as a byte array, blob bytes as the ASCII of their base64."""
        lazy = None if blob is None else {"mime": mime, "bytes": list(base64.b64encode(blob))}
        self.answers.append(lambda _: web.json_response({"body": list(body), "lazy_load_blob": lazy}))

    def reply_json(self, value: object) -> None:
        self.reply(json.dumps(value).encode())

    def status(self, code: int) -> None:
        self.answers.append(lambda _: web.Response(status=code))

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.raw.append(raw)
        parsed = json.loads(raw)
        self.received.append(parsed)
        return self.answers.pop(0)(parsed)


class RecordingServices:
    """A `NodeServices` double for host-side processes tested without a kernel: records what they send
    and print. Only for unit tests of one module; integration tests use the real node."""

    def __init__(self, home: Path, our_node: str = "fake.dev") -> None:
        self._home = home
        self._our = our_node
        self.sent: list[KernelMessage] = []
        self.printed: list[tuple[int, str]] = []
        self._next_id = 1000
        self.on_send: Callable[[KernelMessage], None] | None = None

    @property
    def our_node(self) -> str:
        return self._our

    @property
    def home(self) -> Path:
        return self._home

    def send(self, message: KernelMessage) -> None:
        self.sent.append(message)
        if self.on_send is not None:
            self.on_send(message)

    def new_request_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def has_capability(self, holder: ProcessId, cap: Capability) -> bool:
        return False

    def grant_capabilities(self, holder: ProcessId, caps: list[Capability]) -> None:
        raise AssertionError("host-side control processes never grant capabilities")

    def printout(self, source: ProcessId, verbosity: int, text: str) -> None:
        self.printed.append((verbosity, text))
