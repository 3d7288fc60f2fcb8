"""Runtime modules of the local node: host-side processes with Hyperdrive's wire formats and quirks.

The kernel calls `default_modules(config)` once per node boot, `start`s each module with its
`NodeServices`, routes every message addressed to a module's `process_id` to its `handle`, and `stop`s
them at shutdown. See docs/modules.md for each module's wire format and where the emulator differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperpy.node.contracts import RuntimeModule
from hyperpy.node.modules.homepage import HomepageModule
from hyperpy.node.modules.http_client import HttpClientModule
from hyperpy.node.modules.http_server import HttpServerModule
from hyperpy.node.modules.kv import KvModule
from hyperpy.node.modules.net import NetModule
from hyperpy.node.modules.sqlite import SqliteModule
from hyperpy.node.modules.terminal import TerminalModule
from hyperpy.node.modules.timer import TimerModule
from hyperpy.node.modules.vfs import VfsModule


@dataclass
class ModulesConfig:
    """Per-node settings of the runtime modules (everything else comes from `NodeServices`)."""

    http_port: int = 8080
    """TCP port of the node's HTTP/WebSocket server; 0 picks a free port (read it back from
    `HttpServerModule.port` after start)."""
    http_host: str = "127.0.0.1"
    """Interface the HTTP server listens on. Loopback by default: the emulator is a dev tool."""
    http_timeout: float = 15.0
    """Seconds http-server waits for a process to answer an HTTP request before replying 408
    (Hyperdrive: 15 s; a request header `X-Hyperware-Http-Server-Timeout` overrides it per request)."""


def default_modules(config: ModulesConfig | None = None) -> list[RuntimeModule]:
    """Fresh instances of every runtime module a node boots with."""
    config = config or ModulesConfig()
    http_server = HttpServerModule(port=config.http_port, host=config.http_host, timeout=config.http_timeout)
    return [
        http_server,
        TimerModule(),
        VfsModule(),
        KvModule(),
        SqliteModule(),
        HttpClientModule(),
        NetModule(port=lambda: http_server.port),
        HomepageModule(http_server),
        TerminalModule(),
    ]


__all__ = [
    "HomepageModule",
    "HttpClientModule",
    "HttpServerModule",
    "KvModule",
    "ModulesConfig",
    "NetModule",
    "SqliteModule",
    "TerminalModule",
    "TimerModule",
    "VfsModule",
    "default_modules",
]
