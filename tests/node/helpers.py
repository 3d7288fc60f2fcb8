"""Helpers for the node tests: test packages of probe processes, and short ways to drive them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperpy.node import InstalledPackage, Node
from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, module_id
from hyperpy.node.modules.timer import TimerModule
from hyperpy.node.modules.vfs import VfsModule

from .components import PROCESSES, component_path

PACKAGE = "probes"
PUBLISHER = "test.os"


class InjectSourceStub(ModuleBase):
    """Test double for http-server:distro:sys: the default source of `Node.inject` (as kit's rpc).

    It exists only so injected requests have their usual source; the kernel hands their Responses
    back to the injector before they would reach this module.
    """

    process_id = module_id("http-server")
    public = False

    async def handle(self, message: KernelMessage) -> None:
        self.log(2, f"http-server stub ignored a message from {message.source}")


def node_modules() -> list[ModuleBase]:
    """The runtime modules of test nodes: real vfs (spawn reads through it) and timer, stub http-server."""
    return [InjectSourceStub(), VfsModule(), TimerModule()]


@dataclass
class Proc:
    """One manifest entry of a test package."""

    name: str
    module: str = "probe"
    public: bool = True  # injected requests come from http-server, which may message only public processes
    caps: Sequence[Any] = ()
    grants: Sequence[Any] = ()
    networking: bool = False
    on_exit: Any = "Restart"
    inject_cap: bool = True  # request messaging to http-server, so it can answer injected requests

    def manifest_entry(self) -> dict[str, Any]:
        caps = list(self.caps) + (["http-server:distro:sys"] if self.inject_cap else [])
        return {
            "process_name": self.name,
            "process_wasm_path": f"/{self.module}.wasm",
            "on_exit": self.on_exit,
            "request_networking": self.networking,
            "request_capabilities": caps,
            "grant_capabilities": list(self.grants),
            "public": self.public,
        }


@dataclass
class Packages:
    """Writes test packages (pkg/ directories) for one mode and installs them."""

    root: Path
    mode: str
    counter: list[int] = field(default_factory=lambda: [0])

    def write(
        self,
        processes: Sequence[Proc],
        *,
        package: str = PACKAGE,
        extra_modules: Sequence[str] = (),
        manifest: Any = None,
    ) -> dict[str, Any]:
        """A pkg/ directory for `processes`; returns `source` plus the keyword arguments for install."""
        self.counter[0] += 1
        pkg = self.root / f"package-{self.counter[0]}" / "pkg"
        pkg.mkdir(parents=True)
        entries = manifest if manifest is not None else [p.manifest_entry() for p in processes]
        (pkg / "manifest.json").write_text(json.dumps(entries, indent=1))
        modules = sorted({p.module for p in processes} | set(extra_modules))
        options: dict[str, Any] = {"mode": self.mode, "package_id": f"{package}:{PUBLISHER}"}
        if self.mode == "component":
            for module in modules:
                shutil.copyfile(component_path(module), pkg / f"{module}.wasm")
        else:
            options["native_modules"] = {f"{m}.wasm": str(PROCESSES / f"{m}.py") for m in modules}
        return {"source": pkg, **options}

    def install(self, node: Node, processes: Sequence[Proc], **kwargs: Any) -> InstalledPackage:
        options = self.write(processes, **kwargs)
        return node.install(options.pop("source"), **options)


def pid(name: str, package: str = PACKAGE) -> str:
    return f"{name}:{package}:{PUBLISHER}"


def addr(name: str, node: str = "fake.dev", package: str = PACKAGE) -> str:
    return f"{node}@{pid(name, package)}"


def op(
    node: Node, process: str, body: dict[str, Any], *, blob: bytes | None = None, timeout: int = 10
) -> Any:
    """Inject an op into a probe and return its JSON reply."""
    target = process if ":" in process else pid(process)
    response = node.inject(target, body, blob=blob, expects_response=timeout)
    assert response is not None
    return response.json()


def send(node: Node, process: str, body: dict[str, Any], *, blob: bytes | None = None) -> None:
    """Inject an op fire-and-forget (no reply expected)."""
    target = process if ":" in process else pid(process)
    node.inject(target, body, blob=blob, expects_response=None)


def started(node: Node, name: str, since: int = 0, timeout: float = 120) -> None:
    """Wait until probe `name` printed that it started (a cold compile of a component takes seconds)."""
    node.terminal.wait_for(f"probe {name}: started", timeout=timeout, since=since)


def count_lines(node: Node, text: str, since: int = 0) -> int:
    return sum(1 for p in node.terminal.since(since) if text in p.text)
