"""Issue 4's figures: what the runtime modules cost, each against a baseline measured in the same run.

The package is `module_processes/` (one raw process, `modbench`), built once per machine with
`hyperpy build` in `<bench cache>/node-modules`. Every repetition boots a fresh node with the real
runtime modules (component mode, warm compile cache), and measures:

* `modules.http` - HTTP requests per second (8 concurrent aiohttp clients) through the node's
  http-server to the process and back, against a plain aiohttp server of the same library answering
  the same request directly, in the same run. The ratio is the figure. The clients run in a Python
  process of their own (`client_rate`), so they do not compete with the node for its GIL.
* `modules.websocket` - WebSocket echo round trips per second through http-server and the process,
  against a plain aiohttp WebSocket echo (its client out of process too).
* `modules.vfs` / `modules.kv` / `modules.sqlite` - operations per second a process gets from a module
  (sequential request/response: a 64-byte vfs `Write`, a kv `Set`, a sqlite `INSERT` with parameters),
  against the same storage work done directly in Python (file write; SQLite in WAL mode, which is
  what kv and sqlite use underneath). The ratio is the price of going through messages. Node homes
  and the direct files live on a RAM file system (`/dev/shm`) when there is one, so the figure shows
  the emulator's overhead rather than the disk's sync latency (which dominates both sides otherwise).

Timings are wall clock on whatever else the machine is doing; the ratios are what to read.
"""

from __future__ import annotations

import asyncio
import filecmp
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from hyperpy.bench.figures.node import bench_cache_root
from hyperpy.bench.registry import Benchmark, Figure, Sample, Target, register

PACKAGE = "bench-modules:bench.os"
PROCESS = f"modbench:{PACKAGE}"
SOURCES = Path(__file__).resolve().parent / "module_processes"
SOURCE_FILES = ("pyproject.toml", "modbench.py")
HTTP_CONCURRENCY = 8
COUNTS = {"http": 600, "websocket": 400, "ops": 600}
PAYLOAD = "x" * 64

HTTP = Figure(
    name="modules.http",
    title="HTTP requests/s through http-server to a raw process (component)",
    unit="requests/s",
    target=Target.ratio_at_least(0.1, "≥ 10% of a bare aiohttp handler"),
    subject_label="node: http-server → process",
    baseline_label="plain aiohttp server",
)
WEBSOCKET = Figure(
    name="modules.websocket",
    title="WebSocket echo round trips/s through http-server (component)",
    unit="messages/s",
    target=Target.ratio_at_least(0.03, "≥ 3% of a bare aiohttp echo (2 kernel hops per echo)"),
    subject_label="node: http-server → process",
    baseline_label="plain aiohttp echo",
)
STORAGE = {
    kind: Figure(
        name=f"modules.{kind}",
        title=f"{title} operations/s from a process (component)",
        unit="ops/s",
        target=Target.subject_at_least(300, "ops/s", "≥ 300 ops/s from one process"),
        subject_label=f"process → {kind}:distro:sys",
        baseline_label=baseline,
    )
    for kind, title, baseline in (
        ("vfs", "vfs Write (64 B)", "Path.write_bytes"),
        ("kv", "kv Set (64 B)", "sqlite3 upsert (WAL)"),
        ("sqlite", "sqlite INSERT", "sqlite3 INSERT (WAL)"),
    )
}


def built_zip() -> tuple[Path, Path]:
    """(package zip, shared compiled-component cache): sources copied when changed, then built."""
    from hyperpy.build import build_project

    root = bench_cache_root()
    project = root / "node-modules"
    project.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_FILES:
        source, target = SOURCES / name, project / name
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            shutil.copyfile(source, target)
    return Path(build_project(project, progress=False).zip_path), root / "compiled"


class PlainServer:
    """The baseline: an aiohttp server on its own thread and loop, like the node's http-server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._runner: web.AppRunner | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(30)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        async def answer(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(body=b'{"ok":true}', content_type="application/json")

        async def echo(request: web.Request) -> web.WebSocketResponse:
            socket = web.WebSocketResponse()
            await socket.prepare(request)
            async for frame in socket:
                await socket.send_str(frame.data)
            return socket

        app = web.Application()
        app.router.add_route("*", "/api", answer)
        app.router.add_get("/ws", echo)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def close(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


async def http_rate(url: str, total: int) -> float:
    """Requests per second for `total` POSTs from HTTP_CONCURRENCY concurrent clients (after each
    client's connection is made and used once)."""
    remaining = [total]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=HTTP_CONCURRENCY)) as session:

        async def post() -> None:
            async with session.post(url, data=b'{"hello":1}') as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")

        async def client() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await post()

        await asyncio.gather(*(post() for _ in range(HTTP_CONCURRENCY)))  # warm: connections open
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(HTTP_CONCURRENCY)))
        return total / (time.perf_counter() - started)


def client_rate(kind: str, url: str, total: int) -> float:
    """`http_rate` or `websocket_rate` run by a client in its own Python process.

    The client must not share the server's interpreter: in one process its event loop competes for
    the GIL with the node's loop and process threads (issue 18), so the figure would measure the
    client as much as the node. The child's start-up is outside the timed part.
    """
    command = [
        sys.executable,
        "-c",
        "from hyperpy.bench.figures.modules import client_main; client_main()",
        kind,
        url,
        str(total),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"bench {kind} client failed (exit {completed.returncode}):\n{tail}")
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["rate"])


def client_main() -> None:
    """Entry point of the out-of-process client: `kind url total` in sys.argv; JSON on stdout."""
    kind, url, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    measure = http_rate if kind == "http" else websocket_rate
    print(json.dumps({"rate": asyncio.run(measure(url, total))}))


async def websocket_rate(url: str, total: int) -> float:
    """Sequential echo round trips per second over one connection."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.send_str("warm-up")
        await socket.receive()
        started = time.perf_counter()
        for number in range(total):
            await socket.send_str(f"m{number}")
            frame = await socket.receive()
            if frame.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"{url}: expected an echo, got {frame.type}")
        return total / (time.perf_counter() - started)


def direct_rate(kind: str, scratch: Path, total: int) -> float:
    """The baseline storage work in this process: what the module does underneath, minus messaging."""
    data = PAYLOAD.encode()
    if kind == "vfs":
        target = scratch / "direct.bin"
        started = time.perf_counter()
        for _ in range(total):
            target.write_bytes(data)
        return total / (time.perf_counter() - started)
    connection = sqlite3.connect(scratch / f"direct-{kind}.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS t (k BLOB PRIMARY KEY, v BLOB)")
    statement = "INSERT OR REPLACE INTO t VALUES (?, ?)" if kind == "kv" else "INSERT INTO t (v) VALUES (?)"
    started = time.perf_counter()
    for number in range(total):
        connection.execute(statement, (b"\x01", data) if kind == "kv" else (f"row {number}",))
    elapsed = time.perf_counter() - started
    connection.close()
    return total / elapsed


STORAGE_OPS: dict[str, tuple[str, list[dict[str, Any]], dict[str, Any], str]] = {
    "vfs": (
        "vfs:distro:sys",
        [{"path": f"/{PACKAGE}/data", "action": "CreateDrive"}],
        {"path": f"/{PACKAGE}/data/f.bin", "action": "Write"},
        PAYLOAD,
    ),
    "kv": (
        "kv:distro:sys",
        [
            {
                "package_id": {"package_name": "bench-modules", "publisher_node": "bench.os"},
                "db": "b",
                "action": "Open",
            }
        ],
        {
            "package_id": {"package_name": "bench-modules", "publisher_node": "bench.os"},
            "db": "b",
            "action": {"Set": {"key": [1], "tx_id": None}},
        },
        PAYLOAD,
    ),
    "sqlite": (
        "sqlite:distro:sys",
        [
            {
                "package_id": {"package_name": "bench-modules", "publisher_node": "bench.os"},
                "db": "b",
                "action": "Open",
            },
            {
                "package_id": {"package_name": "bench-modules", "publisher_node": "bench.os"},
                "db": "b",
                "action": {"Write": {"statement": "CREATE TABLE IF NOT EXISTS t (v TEXT)", "tx_id": None}},
            },
        ],
        {
            "package_id": {"package_name": "bench-modules", "publisher_node": "bench.os"},
            "db": "b",
            "action": {"Write": {"statement": "INSERT INTO t (v) VALUES (?)", "tx_id": None}},
        },
        '["row"]',
    ),
}


@dataclass
class ModulesState:
    scratch: Path
    zip_path: Path
    compiled: Path
    repetition: int = 0


def _setup(scratch: Path) -> ModulesState:
    zip_path, compiled = built_zip()
    ram = Path("/dev/shm")
    on_ram = ram.is_dir() and os.access(ram, os.W_OK)
    if on_ram:
        scratch = Path(tempfile.mkdtemp(prefix="hyperpy-bench-modules-", dir=ram))
    state = ModulesState(scratch, zip_path, compiled)
    if on_ram:  # the runner removes its own scratch directory, not this one
        weakref.finalize(state, shutil.rmtree, scratch, ignore_errors=True)
    with _node(state, "warm-up") as (node, _port):
        del node
    return state


class _node:
    """A node with the real runtime modules, the package installed and the process ready."""

    def __init__(self, state: ModulesState, label: str) -> None:
        self.state = state
        self.home = state.scratch / f"home-{label}"

    def __enter__(self) -> tuple[Any, int]:
        from hyperpy.node import Node
        from hyperpy.node.modules import ModulesConfig, default_modules
        from hyperpy.node.modules.http_server import HttpServerModule

        servers: list[HttpServerModule] = []

        def modules() -> list[Any]:
            made = default_modules(ModulesConfig(http_port=0))
            servers.extend(m for m in made if isinstance(m, HttpServerModule))
            return made

        self.node = Node("fake.dev", home=self.home, cache_dir=self.state.compiled, modules=modules).start()
        mark = self.node.terminal.mark()
        self.node.install(self.state.zip_path)
        self.node.terminal.wait_for("modbench: ready", timeout=120, since=mark)
        return self.node, servers[-1].port

    def __exit__(self, *exc_info: object) -> None:
        self.node.close()


def _repeat(node: Any, target: str, body: object, blob: str | None, count: int) -> float:
    """Ops per second of `count` sequential requests the process makes to `target`."""
    command = {"op": "repeat", "count": count, "target": target, "body": json.dumps(body), "blob": blob}
    started = time.perf_counter()
    reply = node.inject(PROCESS, command, expects_response=300)
    elapsed = time.perf_counter() - started
    ok = json.loads(reply.body)["ok"] if reply is not None else 0
    if ok != count:
        raise RuntimeError(f"{target}: {count - ok} of {count} requests failed")
    return count / elapsed


def _measure(state: ModulesState, counts: dict[str, int]) -> dict[str, Sample]:
    state.repetition += 1
    plain = PlainServer()
    samples: dict[str, Sample] = {}
    try:
        with _node(state, str(state.repetition)) as (node, port):
            node_base = f"http://127.0.0.1:{port}/{PROCESS}"
            plain_base = f"http://127.0.0.1:{plain.port}"
            pairs = [
                (HTTP, lambda base: client_rate("http", f"{base}/api", counts["http"])),
                (
                    WEBSOCKET,
                    lambda base: client_rate(
                        "websocket", base.replace("http://", "ws://") + "/ws", counts["websocket"]
                    ),
                ),
            ]
            for figure, rate in pairs:
                first, second = (node_base, plain_base) if state.repetition % 2 else (plain_base, node_base)
                measured = {first: rate(first), second: rate(second)}
                samples[figure.name] = Sample(measured[node_base], measured[plain_base])
            for kind, figure in STORAGE.items():
                target, preparation, body, blob = STORAGE_OPS[kind]
                for step in preparation:
                    _repeat(node, target, step, None, 1)
                _repeat(node, target, body, blob, 20)
                subject = _repeat(node, target, body, blob, counts["ops"])
                baseline = direct_rate(kind, state.scratch, counts["ops"])
                samples[figure.name] = Sample(subject, baseline)
    finally:
        plain.close()
    return samples


def _measure_full(state: ModulesState) -> dict[str, Sample]:
    return _measure(state, COUNTS)


register(
    Benchmark(
        name="modules",
        figures=(HTTP, WEBSOCKET, *STORAGE.values()),
        setup=_setup,
        measure=_measure_full,
        repetitions=3,
        quick_repetitions=1,
        description="runtime modules: HTTP, WebSocket, vfs/kv/sqlite from a process",
    )
)
