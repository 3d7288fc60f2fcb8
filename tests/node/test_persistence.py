"""What survives a node restart: the process table (not on_exit None), caps, state; boot-time Requests."""

from __future__ import annotations

import json
from collections.abc import Callable

from hyperpy.node import Node

from .helpers import Packages, Proc, addr, op, pid, started


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
