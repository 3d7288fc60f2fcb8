"""Capability checks (runtime-contract.md §1.5) and the capability host functions, in both modes."""

from __future__ import annotations

import json

from hyperpy.node import Node

from .helpers import Packages, Proc, addr, op, pid, send, started

MESSAGING = '"messaging"'


def test_message_to_a_non_public_process_without_capability_is_refused_with_an_immediate_timeout(
    node: Node, packages: Packages
) -> None:
    packages.install(node, [Proc("a"), Proc("c", public=False)])
    started(node, "a")
    mark = node.terminal.mark()
    send(node, "a", {"op": "send", "target": addr("c"), "expects": 600, "context": "refused", "body": "hi"})
    node.terminal.wait_for("doesn't have capability to message process c:probes:test.os", since=mark)
    error = node.terminal.wait_for("probe a: got error", since=mark)
    assert f"got error timeout context=refused target={addr('c')} body=hi" in error.text
    assert "probe c: got request" not in node.terminal.text(all=True)


def test_messaging_capability_lets_a_process_reach_a_non_public_one(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a", caps=[pid("c")]), Proc("c", public=False)])
    started(node, "c")
    reply = op(node, "a", {"op": "await", "target": addr("c"), "body": {"op": "reply", "body": "from c"}})
    assert reply == {"response": "from c", "source": addr("c")}


def test_responses_are_capability_checked_too(node: Node, packages: Packages) -> None:
    """x (not public) asks c; c may not message x, so c's Response is dropped with a printout."""
    packages.install(
        node,
        [Proc("a", caps=[pid("x")]), Proc("x", public=False, caps=[pid("c")]), Proc("c", public=False)],
    )
    started(node, "x")
    mark = node.terminal.mark()
    ask = {"op": "send", "target": addr("c"), "expects": 600, "body": {"op": "reply", "body": "answer"}}
    send(node, "a", {"op": "send", "target": addr("x"), "body": ask})
    node.terminal.wait_for(
        "process c:probes:test.os doesn't have capability to message process x", since=mark
    )
    assert "probe x: got response" not in "\n".join(p.text for p in node.terminal.since(mark))


def test_a_nonexistent_target_gets_an_immediate_timeout(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    started(node, "a")
    mark = node.terminal.mark()
    send(node, "a", {"op": "send", "target": addr("nobody"), "expects": 600, "context": "gone", "body": "x"})
    error = node.terminal.wait_for("probe a: got error", since=mark)
    assert "got error timeout context=gone" in error.text
    node.terminal.wait_for("sent message to non-existing nobody:probes:test.os", since=mark)


def test_installed_process_holds_requested_network_drive_and_own_capabilities(
    node: Node, packages: Packages
) -> None:
    grant = {"process": "vfs:distro:sys", "params": {"root": True}}
    packages.install(node, [Proc("a", caps=[pid("c"), grant], networking=True), Proc("c", public=False)])
    caps = {tuple(pair) for pair in op(node, "a", {"op": "caps"})}
    drive = "/probes:test.os/pkg"
    assert (addr("c"), MESSAGING) in caps
    assert (addr("a"), MESSAGING) in caps  # messaging to itself, from InitializeProcess
    assert ("fake.dev@kernel:distro:sys", '"network"') in caps
    assert ("fake.dev@vfs:distro:sys", '{"root":true}') in caps
    for kind in ("read", "write"):
        assert (
            "fake.dev@vfs:distro:sys",
            json.dumps({"drive": drive, "kind": kind}, separators=(",", ":")),
        ) in caps


def test_save_capabilities_is_unchecked_and_drop_capabilities_removes(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a"), Proc("c", public=False)])
    started(node, "c")
    assert op(node, "a", {"op": "save_caps", "caps": [[addr("c"), MESSAGING]]}) == "ok"
    assert op(node, "a", {"op": "await", "target": addr("c"), "body": {"op": "reply", "body": 1}}) == {
        "response": 1,
        "source": addr("c"),
    }
    # Parsed-JSON comparison: the same params written differently name the same capability.
    assert op(node, "a", {"op": "drop_caps", "caps": [[addr("c"), ' "messaging" ']]}) == "ok"
    assert op(node, "a", {"op": "await", "target": addr("c"), "expects": 600, "body": "x"}) == {
        "error": "timeout"
    }


def test_attached_capabilities_are_filtered_to_held_or_self_issued(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a", caps=[pid("c")]), Proc("b"), Proc("c", public=False)])
    started(node, "b")
    mark = node.terminal.mark()
    attached = [
        [addr("c"), MESSAGING],  # held
        [addr("d"), MESSAGING],  # not held: dropped
        [addr("a"), '"custom"'],  # issued by a itself
        [
            "fake.dev@vfs:distro:sys",
            '{"kind": "read", "drive": "/probes:test.os/pkg"}',
        ],  # held, other spelling
    ]
    send(node, "a", {"op": "send", "target": addr("b"), "body": "with caps", "caps": attached})
    received = node.terminal.wait_for(
        "probe b: got request from fake.dev@a:probes:test.os body=with caps", since=mark
    )
    caps_text = received.text.split("caps=[", 1)[1]
    assert f"{addr('c')} {MESSAGING}" in caps_text
    assert f'{addr("a")} "custom"' in caps_text
    assert "fake.dev@vfs:distro:sys" in caps_text
    assert addr("d") not in caps_text


def test_manifest_grants_give_capabilities_issued_by_the_granting_process(
    node: Node, packages: Packages
) -> None:
    packages.install(
        node,
        [
            Proc("a"),
            Proc("c", public=False, grants=[pid("a"), {"process": pid("a"), "params": "RemoveOther"}]),
        ],
    )
    caps = {tuple(pair) for pair in op(node, "a", {"op": "caps"})}
    assert (addr("c"), MESSAGING) in caps
    assert (addr("c"), '"RemoveOther"') in caps
    started(node, "c")
    assert op(node, "a", {"op": "await", "target": addr("c"), "body": {"op": "reply", "body": "ok"}}) == {
        "response": "ok",
        "source": addr("c"),
    }


def test_killing_a_process_revokes_the_capabilities_it_issued(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a"), Proc("c", public=False, grants=[pid("a")])])
    assert (addr("c"), MESSAGING) in {tuple(p) for p in op(node, "a", {"op": "caps"})}
    assert node.kill(pid("c"))
    assert (addr("c"), MESSAGING) not in {tuple(p) for p in op(node, "a", {"op": "caps"})}
    assert node.process(pid("c")) is None


def test_messages_to_the_kernel_need_the_kernel_capability(node: Node, packages: Packages) -> None:
    """A process holding kernel messaging may send KernelCommands; one without it is refused."""
    packages.install(node, [Proc("a", caps=["kernel:distro:sys"]), Proc("b"), Proc("victim")])
    started(node, "victim")
    kill = {"KillProcess": pid("victim")}
    mark = node.terminal.mark()
    send(node, "b", {"op": "send", "target": "fake.dev@kernel:distro:sys", "body": kill})
    node.terminal.wait_for(
        "process b:probes:test.os doesn't have capability to message process kernel", since=mark
    )
    assert node.process(pid("victim")) is not None
    reply = op(node, "a", {"op": "await", "target": "fake.dev@kernel:distro:sys", "body": kill})
    assert reply == {"response": {"KilledProcess": pid("victim")}, "source": "fake.dev@kernel:distro:sys"}
    assert node.process(pid("victim")) is None
