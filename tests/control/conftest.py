"""Fixtures for the control-surface tests.

`recording_node` is a tiny stand-in for a node's rpc endpoint, used to test the *client* side in
isolation: it records every JSON body posted to `/rpc:distro:sys/message` (and its key order) and
answers from a script, so tests can assert the exact JSON kit would send and the client's handling of
each kind of answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

Answer = Callable[[dict[str, Any]], web.Response]


class RecordingNode:
    """An aiohttp app on its own thread and loop; queued answers are consumed one per request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.received: list[dict[str, Any]] = []
        self.key_orders: list[list[str]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reply(self, body: bytes, blob: bytes | None = None, mime: str | None = None) -> None:
        """Queue a Hyperdrive-style 200: body as a byte array, blob bytes as the ASCII of their base64."""
        lazy = None if blob is None else {"mime": mime, "bytes": list(base64.b64encode(blob))}
        self.answers.append(lambda _: web.json_response({"body": list(body), "lazy_load_blob": lazy}))

    def reply_json(self, value: object) -> None:
        self.reply(json.dumps(value).encode())

    def status(self, code: int) -> None:
        self.answers.append(lambda _: web.Response(status=code))

    async def _handle(self, request: web.Request) -> web.Response:
        parsed = json.loads(await request.read())
        self.key_orders.append(list(parsed))
        self.received.append(parsed)
        return self.answers.pop(0)(parsed)

    def start(self) -> None:
        ready = threading.Event()

        async def boot() -> None:
            app = web.Application()
            app.router.add_post("/rpc:distro:sys/message", self._handle)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]
            ready.set()

        def run() -> None:
            self._loop.run_until_complete(boot())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="recording-node", daemon=True)
        self._thread.start()
        assert ready.wait(10), "the recording node did not start"

    def stop(self) -> None:
        assert self._runner is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def recording_node() -> Iterator[RecordingNode]:
    node = RecordingNode()
    node.start()
    yield node
    node.stop()
