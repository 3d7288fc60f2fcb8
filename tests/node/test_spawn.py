"""spawn (runtime-contract.md §1.4): code read through vfs, kernel commands, caps, and its quirks."""

from __future__ import annotations

from hyperpy.node import Node

from .helpers import Packages, Proc, addr, op, pid, send, started

WASM = "/probes:test.os/pkg/probe.wasm"
# spawn reads the code with a vfs Read, so the spawner needs to message vfs (it is not public).
SPAWNER = Proc("a", caps=["vfs:distro:sys"])


def test_spawn_starts_a_child_that_parent_and_child_may_message(node: Node, packages: Packages) -> None:
    packages.install(node, [SPAWNER])
    started(node, "a")
    reply = op(node, "a", {"op": "spawn", "name": "child", "wasm_path": WASM, "public": False}, timeout=120)
    assert reply == {"spawned": pid("child")}
    started(node, "child")
    info = node.process(pid("child"))
    assert info is not None and info.status == "running" and info.on_exit == "None"
    answer = op(
        node, "a", {"op": "await", "target": addr("child"), "body": {"op": "reply", "body": "hi parent"}}
    )
    assert answer == {"response": "hi parent", "source": addr("child")}
    assert [addr("a"), '"messaging"'] in op(node, "a", {"op": "caps"})
    child_caps = node.capabilities(pid("child"))
    assert any(str(c.issuer) == addr("a") and c.params == '"messaging"' for c in child_caps)


def test_spawn_grants_caps_issued_by_the_child_and_filters_requested_ones(
    node: Node, packages: Packages
) -> None:
    packages.install(node, [SPAWNER])
    spawn = {
        "op": "spawn",
        "name": "kid",
        "wasm_path": WASM,
        "request_caps": [
            ["fake.dev@vfs:distro:sys", '{"kind":"read","drive":"/probes:test.os/pkg"}'],
            [addr("unheld"), '"messaging"'],
        ],
        "grant_caps": [[pid("a"), '"from-kid"']],
    }
    assert op(node, "a", spawn, timeout=120) == {"spawned": pid("kid")}
    assert [addr("kid"), '"from-kid"'] in op(node, "a", {"op": "caps"})
    kid = {(str(c.issuer), c.params) for c in node.capabilities(pid("kid"))}
    assert ("fake.dev@vfs:distro:sys", '{"kind":"read","drive":"/probes:test.os/pkg"}') in kid
    assert (addr("unheld"), '"messaging"') not in kid


def test_spawn_of_a_missing_file_is_no_file_at_path(node: Node, packages: Packages) -> None:
    packages.install(node, [SPAWNER])
    reply = op(node, "a", {"op": "spawn", "name": "x", "wasm_path": "/probes:test.os/pkg/missing.wasm"})
    assert reply == {"error": "NO_FILE_AT_PATH"}


def test_spawning_an_existing_name_returns_it_and_sends_it_a_stray_run(
    node: Node, packages: Packages
) -> None:
    packages.install(node, [SPAWNER])
    assert op(node, "a", {"op": "spawn", "name": "twin", "wasm_path": WASM}, timeout=120) == {
        "spawned": pid("twin")
    }
    started(node, "twin")
    mark = node.terminal.mark()
    assert op(node, "a", {"op": "spawn", "name": "twin", "wasm_path": WASM}) == {"spawned": pid("twin")}
    node.terminal.wait_for("probe twin: got request from fake.dev@kernel:distro:sys body=run", since=mark)
    node.terminal.wait_for("process with ID twin:probes:test.os already exists", since=mark)


def test_spawn_with_an_unsafe_name_traps(node: Node, packages: Packages) -> None:
    packages.install(node, [SPAWNER])
    started(node, "a")
    mark = node.terminal.mark()
    send(node, "a", {"op": "spawn", "name": "Not_Safe", "wasm_path": WASM})
    crash = node.terminal.wait_for("ended with error", since=mark)
    assert "hypermap" in crash.text.lower()


def test_spawn_restores_last_blob_but_not_has_blob(node: Node, packages: Packages) -> None:
    packages.install(node, [SPAWNER])
    script = {
        "op": "seq",
        "ops": [
            {"op": "spawn", "name": "blobby", "wasm_path": WASM, "reply": False},
            {"op": "blobs"},
        ],
    }
    assert op(node, "a", script, blob=b"mine", timeout=120) == {"has": False, "get": None, "last": "mine"}
