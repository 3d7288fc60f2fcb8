"""A node with its control surface: the runtime modules plus `main:app-store:sys`, on a chosen port.

Why a factory here rather than in the kernel: the control surface is what makes the emulator look
like a node to kit (rpc endpoint, app store), and both `hyperpy run` and the pytest fixtures want
exactly the same node; the kernel stays unaware of kit.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hyperpy.node import Node
from hyperpy.node.contracts import RuntimeModule
from hyperpy.node.control.app_store import AppStore
from hyperpy.node.control.rest import RestApi
from hyperpy.node.control.rpc import RpcEndpoint
from hyperpy.node.modules import ModulesConfig, default_modules
from hyperpy.node.modules.http_server import HttpServerModule
from hyperpy.node.wit_types import PackageId, ProcessId
from hyperpy.package.control_wire import RPC_PATH


class ControlSurface:
    """Makes a node's runtime modules plus its app store, at every boot of that node.

    `modules` is passed to `Node(modules=...)` as a factory, so each boot (and `restart()`) gets fresh
    module instances. The app store installs through `Node.install`, which blocks until the kernel has
    applied the install, so it runs in a worker thread, never on the kernel's loop where the app store
    lives.
    """

    def __init__(self, port: int = 8080) -> None:
        self.port = port
        self.node: Node | None = None
        self.http_server: HttpServerModule | None = None
        """The http-server of the node's current boot (its `port` is the real one after start)."""

    def modules(self) -> list[RuntimeModule]:
        modules = default_modules(ModulesConfig(http_port=self.port))
        http = next((m for m in modules if isinstance(m, HttpServerModule)), None)
        if http is None:
            raise RuntimeError(
                "default_modules() returned no http-server:distro:sys; the control surface (kit's rpc "
                "endpoint, the REST API) is served by it"
            )
        self.http_server = http
        rpc = RpcEndpoint(lambda: http.node, http, default_timeout=http.timeout)
        http.add_system_route("POST", RPC_PATH, rpc.handle)
        for method, path, handler in RestApi(self._node).routes():
            http.add_system_route(method, path, handler)
        return [*modules, AppStore(self)]

    def _node(self) -> Node:
        if self.node is None:
            raise RuntimeError("the control surface was used before its node was attached")
        return self.node

    def attach(self, node: Node) -> Node:
        self.node = node
        return node

    async def install(self, package_id: PackageId, zip_bytes: bytes) -> None:
        """The app store's install: `Node.install` in a worker thread (it waits for the kernel, and
        until the processes answer). A process that crashes while starting does not fail the install,
        as on Hyperdrive, whose app store reports success once RunProcess is sent; the terminal
        shows the crash."""
        from hyperpy.node.readiness import ProcessStartError

        try:
            await asyncio.to_thread(self._node().install, zip_bytes, package_id=str(package_id))
        except ProcessStartError:
            return

    async def kill(self, process_id: ProcessId) -> bool:
        return await asyncio.to_thread(self._node().kill, process_id)

    @property
    def url(self) -> str:
        """The node's HTTP base URL (rpc endpoint, REST API, process bindings), once started."""
        if self.http_server is None:
            raise RuntimeError("the node has not booted yet, so it has no HTTP server")
        return f"http://localhost:{self.http_server.port}"


def node_with_control_surface(
    name: str = "fake.dev",
    *,
    home: Path | str | None = None,
    port: int = 8080,
    verbosity: int = 0,
    **node_options: Any,
) -> tuple[Node, ControlSurface]:
    """A (not yet started) Node serving HTTP on `port` (0: any free port) with the emulated app store."""
    surface = ControlSurface(port)
    node = Node(name, home=home, verbosity=verbosity, modules=surface.modules, **node_options)
    return surface.attach(node), surface
