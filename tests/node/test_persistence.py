"""What survives a node restart: the process table (not on_exit None), caps, state; boot-time Requests."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

from hyperpy.node import Node
from hyperpy.node.modules.http_server import HttpServerModule
from hyperpy.node.modules.timer import TimerModule
from hyperpy.node.modules.vfs import VfsModule

from .helpers import Packages, Proc, addr, op, pid, started

MESSAGING = '"messaging"'


def test_persisted_processes_and_their_capabilities_come_back(
    make_node: Callable[..., Node], packages: Packages
) -> None:
    node = make_node()
    packages.install(node, [Proc("a", caps=["vfs:distro:sys"])])
    assert op(node, "a", {"op": "save_caps", "caps": [[addr("a"), '"saved"']]}) == "ok"
    spawned = op(
        node, "a", {"op": "spawn", "name": "temp", "wasm_path": "/probes:test.os/pkg/probe.wasm"}, timeout=120
    )
    assert spawned == {"spawned": pid("temp")}  # on_exit None: never persisted
    table = json.loads((node.home / "kernel" / "processes.json").read_text())
    assert pid("a") in table["processes"] and pid("temp") not in table["processes"]
    mark = node.terminal.mark()
    node.restart()
    started(node, "a", since=mark)
    assert [str(p.id) for p in node.processes()] == [pid("a")]
    assert [addr("a"), '"saved"'] in op(node, "a", {"op": "caps"})
    assert op(node, "a", {"op": "count"}) == 1


def test_on_exit_requests_fire_at_boot_to_targets_the_process_may_message(
    make_node: Callable[..., Node], packages: Packages
) -> None:
    node = make_node()
    packages.install(node, [Proc("a", caps=[pid("b")]), Proc("b"), Proc("c")])
    value = {"Requests": [[addr("b"), "boot hello"], [addr("c"), "no cap for c"]]}
    assert op(node, "a", {"op": "set_on_exit", "value": value}) == "ok"
    mark = node.terminal.mark()
    node.restart()
    node.terminal.wait_for(
        "probe b: got request from fake.dev@a:probes:test.os body=boot hello", since=mark, timeout=120
    )
    started(node, "c", since=mark)
    started(node, "a", since=mark)
    assert "no cap for c" not in "\n".join(p.text for p in node.terminal.since(mark) if "probe c:" in p.text)


def test_set_on_exit_is_persisted(make_node: Callable[..., Node], packages: Packages) -> None:
    node = make_node()
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "set_on_exit", "value": {"Requests": []}}) == "ok"
    node.restart()
    info = node.process(pid("a"))
    assert info is not None and info.on_exit == {"Requests": []}


def _serves_http_and_gets_timer_responses(node: Node, http: HttpServerModule) -> None:
    """Process c binds a path, answers a real HTTP request to it, and gets a timer's Response."""
    http_answer = {"status": 200, "headers": {"Content-Type": "text/plain"}}
    serve = {"op": "serve", "op_for_others": {"op": "reply", "body": http_answer, "blob": "hello from c"}}
    assert op(node, "c", serve) == "ok"  # injected from http-server: needs c's grant
    bind = {"Bind": {"path": "/hello", "authenticated": False, "local_only": False, "cache": False}}
    bound = op(node, "c", {"op": "await", "target": "our@http-server:distro:sys", "body": bind})
    assert bound == {"response": {"Ok": None}, "source": "fake.dev@http-server:distro:sys"}
    with urllib.request.urlopen(f"{http.url}/{pid('c')}/hello", timeout=20) as answer:
        assert (answer.status, answer.read()) == (200, b"hello from c")
    timer = op(node, "c", {"op": "await", "target": "our@timer:distro:sys", "body": {"SetTimer": 0}})
    assert timer == {"response": "", "source": "fake.dev@timer:distro:sys"}


def test_capabilities_granted_to_runtime_modules_survive_a_restart_and_are_revoked_by_a_kill(
    make_node: Callable[..., Node], packages: Packages
) -> None:
    """On Hyperdrive the runtime modules are rows of the persisted process map like any process, so
    the messaging caps a non-public process granted http-server and timer come back after a reboot."""
    http = HttpServerModule(port=0)
    node = make_node(modules=[http, VfsModule(), TimerModule()])
    grants = ["http-server:distro:sys", "timer:distro:sys"]
    packages.install(node, [Proc("c", public=False, grants=grants)])
    started(node, "c")
    _serves_http_and_gets_timer_responses(node, http)

    mark = node.terminal.mark()
    node.restart()
    started(node, "c", since=mark)
    for module in ("http-server:distro:sys", "timer:distro:sys"):
        assert [addr("c"), MESSAGING] in [[str(c.issuer), c.params] for c in node.capabilities(module)]
    _serves_http_and_gets_timer_responses(node, http)

    assert node.kill(pid("c"))  # KillProcess revokes what c issued, including grants made before the reboot
    for module in ("http-server:distro:sys", "timer:distro:sys"):
        assert all(str(cap.issuer.process) != pid("c") for cap in node.capabilities(module))
    node.restart()
    assert all(str(cap.issuer.process) != pid("c") for cap in node.capabilities("http-server:distro:sys"))
