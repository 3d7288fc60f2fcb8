"""Turning `hyperpy run`'s networking flags into a `NetConfig` (kit boot-fake-node's defaults).

Why here and not in the CLI: `hyperpy run --nodes a,b` and the pytest fixtures boot several nodes
with the same rules (first free port at or above Hyperdrive's defaults, the PKI of one network).
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from hyperpy.node.net.pki import DirectoryPki, JoinedPki, Pki, default_pki_dir
from hyperpy.node.net.transport import NetConfig

WS_PORT_START = 9000  # Hyperdrive: "first unbound at or above 9000"
TCP_PORT_START = 10000  # Hyperdrive: "first unbound at or above 10000"


def first_free_port(start: int, host: str = "127.0.0.1", taken: set[int] | None = None) -> int:
    """The first TCP port at or above `start` that `host` can bind (and not in `taken`)."""
    for port in range(start, 65536):
        if taken is not None and port in taken:
            continue
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            return port
    raise OSError(f"no free port at or above {start} on {host}")


def node_net_config(
    *,
    pki: Pki | None = None,
    network: str | None = None,
    ip: str = "127.0.0.1",
    ws_port: int | None = None,
    tcp_port: int | None = None,
    routers: tuple[str, ...] = (),
    max_passthroughs: int = 0,
    taken: set[int] | None = None,
) -> NetConfig:
    """A node's networking as `hyperpy run` boots it: a direct node listening on TCP and WebSocket
    (the given ports, else the first free at or above 10000 / 9000), or, with `routers`, an indirect
    node; its PKI is the directory of `network` unless `pki` is given (see `machine_pki`)."""
    if pki is None:
        pki = DirectoryPki(default_pki_dir(network))
    if routers:
        ws, tcp = None, None
    else:
        ws = ws_port if ws_port is not None else first_free_port(WS_PORT_START, ip, taken)
        tcp = tcp_port if tcp_port is not None else first_free_port(TCP_PORT_START, ip, taken)
        if taken is not None:
            taken.update({ws, tcp})
    return NetConfig(
        pki=pki,
        ip=ip,
        tcp_port=tcp,
        ws_port=ws,
        routers=routers,
        max_passthroughs=max_passthroughs,
        search_ports=ws_port is None and tcp_port is None,
    )


def machine_pki(network: str | None, join: str | None) -> DirectoryPki | JoinedPki:
    """The PKI of this machine's `network`, synced with the node at `join` (HOST:PORT of its
    WebSocket networking port) when given: `hyperpy run --join`'s one flag."""
    local = DirectoryPki(default_pki_dir(network))
    return local if join is None else JoinedPki(local, join)


def pki_location(config: NetConfig) -> Path | None:
    """Where the node's PKI lives, for the startup message (None when it is not a directory)."""
    return config.pki.root if isinstance(config.pki, DirectoryPki | JoinedPki) else None


def address_towards(host_port: str) -> str:
    """The local address this machine uses to reach `host_port` (what to publish as our ip when
    joining a node on another machine). A UDP 'connection' sends no packet; it only picks a route."""
    host = host_port.rsplit(":", 1)[0].strip("[]")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host, 9))
        return str(probe.getsockname()[0])
