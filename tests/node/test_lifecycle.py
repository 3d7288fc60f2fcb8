"""Process lifecycle (runtime-contract.md §1.2, §1.3): run gate, on_exit, restart, crash output, kill."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hyperpy.node import InjectTimeout, Node, ProcessStartError
from hyperpy.node.kernel_json import on_exit_from_json
from hyperpy.node.well_known import KERNEL_PROCESS_ID
from hyperpy.node.wit_types import ProcessId

from .components import PROCESSES
from .helpers import Packages, Proc, addr, op, pid, send, started


def test_restart_after_a_crash_gives_fresh_globals_and_keeps_capabilities(
    node: Node, packages: Packages
) -> None:
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "count"}) == 1
    assert op(node, "a", {"op": "count"}) == 2
    assert op(node, "a", {"op": "save_caps", "caps": [[addr("a"), '"custom"']]}) == "ok"
    mark = node.terminal.mark()
    send(node, "a", {"op": "crash", "message": "deliberate"})
    node.terminal.wait_for("ended with error", since=mark)
    started(node, "a", since=mark)
    assert op(node, "a", {"op": "count"}) == 1
    assert [addr("a"), '"custom"'] in op(node, "a", {"op": "caps"})


def test_a_crash_shows_the_last_part_of_stderr_and_not_stdout(
    node: Node, packages: Packages, capfd: pytest.CaptureFixture[str]
) -> None:
    packages.install(node, [Proc("a")])
    started(node, "a")
    mark = node.terminal.mark()
    script = [
        {"op": "stdout", "text": "STDOUT-IS-DISCARDED"},
        {"op": "stderr", "text": "early-stderr-" + "x" * 20_000},
        {"op": "stderr", "text": "LATE-STDERR-MARK\n"},
        {"op": "crash", "message": "deliberate crash"},
    ]
    send(node, "a", {"op": "seq", "ops": script})
    crash = node.terminal.wait_for("ended with error", since=mark)
    detail = crash.text.split("ended with error:", 1)[1]
    assert "LATE-STDERR-MARK" in detail
    assert "deliberate crash" in detail  # the traceback is on stderr too
    assert "early-stderr-" not in detail  # only the last ~5 KB is kept
    assert len(detail) <= 5_200
    leaked = [
        p for p in node.terminal.lines(all=True) if "STDOUT-IS" in p.text and "got request" not in p.text
    ]
    assert leaked == []
    assert "STDOUT-IS-DISCARDED" not in capfd.readouterr().out


def test_on_exit_none_removes_the_process(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a", on_exit="None")])
    started(node, "a")
    mark = node.terminal.mark()
    send(node, "a", {"op": "exit"})
    node.terminal.wait_for("process fake.dev@a:probes:test.os returned without error", since=mark)
    node.terminal.wait_for("has OnExit behavior None", since=mark)
    node.terminal.wait_for("kernel: killing process a:probes:test.os", since=mark)
    assert node.process(pid("a")) is None
    with pytest.raises(InjectTimeout, match=r"no process a:probes:test\.os"):
        node.inject(pid("a"), "hello?", expects_response=600)


def test_on_exit_requests_are_sent_then_the_process_is_gone(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a"), Proc("b")])
    started(node, "b")
    value = {"Requests": [[addr("b"), "last words"]]}
    assert op(node, "a", {"op": "set_on_exit", "value": value}) == "ok"
    assert op(node, "a", {"op": "get_on_exit"}) == "Requests"
    info = node.process(pid("a"))
    assert info is not None and isinstance(info.on_exit, dict) and "Requests" in info.on_exit
    mark = node.terminal.mark()
    send(node, "a", {"op": "exit"})
    node.terminal.wait_for("probe b: got request from fake.dev@a:probes:test.os body=last words", since=mark)
    node.terminal.wait_for("kernel: killing process a:probes:test.os", since=mark)
    assert node.process(pid("a")) is None


def test_set_on_exit_changes_what_happens_at_a_crash(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a", on_exit="Restart")])
    assert op(node, "a", {"op": "set_on_exit", "value": "None"}) == "ok"
    mark = node.terminal.mark()
    send(node, "a", {"op": "crash"})
    node.terminal.wait_for("has OnExit behavior None", since=mark)
    node.terminal.wait_for("kernel: killing process a:probes:test.os", since=mark)
    assert node.process(pid("a")) is None


def test_a_restarting_process_waits_out_its_backoff_and_refuses_messages_meanwhile(
    make_node: Callable[..., Node], packages: Packages
) -> None:
    slow = make_node("slow.dev", restart_delay_scale=1000.0)
    packages.install(slow, [Proc("a")])
    started(slow, "a")
    mark = slow.terminal.mark()
    send(slow, "a", {"op": "crash"})  # a quick crash: Hyperdrive waits 2 s (here scaled up) to restart
    slow.terminal.wait_for("has OnExit behavior Restart", since=mark)
    info = slow.process(pid("a"))
    assert info is not None and info.status == "restarting"
    with pytest.raises(InjectTimeout, match=r"no process a:probes:test\.os"):
        slow.inject(pid("a"), "anyone?", expects_response=600)
    assert slow.kill(pid("a"))
    assert slow.process(pid("a")) is None


def test_messages_sent_before_run_are_buffered_until_run(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a", caps=[pid("late")])])
    started(node, "a")
    kernel = node.kernel
    code = (node.home / "vfs" / "probes:test.os" / "pkg" / "probe.wasm").read_bytes()
    late = on_exit_from_json("None")
    late_id = ProcessId.parse(pid("late"))
    assert kernel.call(
        lambda: kernel.initialize_process(
            late_id, "/probes:test.os/pkg/probe.wasm", 1, late, [], False, code, initializer=KERNEL_PROCESS_ID
        )
    )
    info = node.process(late_id)
    assert info is not None and info.status == "initialized"
    mark = node.terminal.mark()
    assert (
        op(
            node,
            "a",
            {
                "op": "seq",
                "ops": [
                    {"op": "send", "target": addr("late"), "body": "sent before run"},
                    {"op": "reply", "body": "sent"},
                ],
            },
        )
        == "sent"
    )
    assert kernel.call(lambda: kernel.run_process(late_id))
    received = node.terminal.wait_for(
        "probe late: got request from fake.dev@a:probes:test.os body=sent before run", since=mark, timeout=120
    )
    started_line = node.terminal.wait_for("probe late: started", since=mark)
    assert started_line.seq < received.seq


def test_a_process_whose_code_cannot_load_is_left_a_zombie(node: Node, packages: Packages, mode: str) -> None:
    options = packages.write([], manifest=[Proc("broken", module="broken").manifest_entry()])
    pkg = options.pop("source")
    if mode == "component":
        (pkg / "broken.wasm").write_bytes(b"\0asm definitely not a component")
    else:
        options["native_modules"] = {"broken.wasm": str(PROCESSES / "broken_import.py")}
    mark = node.terminal.mark()
    with pytest.raises(ProcessStartError, match=r"broken:probes:test\.os failed to load"):
        node.install(pkg, **options)  # install says so instead of returning as if it had started
    node.terminal.wait_for(
        "kernel: process broken:probes:test.os failed to instantiate", since=mark, timeout=60
    )
    info = node.process(pid("broken"))
    assert info is not None and info.status == "zombie"
    send(node, "broken", {"op": "count"})  # silently dropped: no crash, no restart
    assert node.process(pid("broken")).status == "zombie"  # type: ignore[union-attr]


def test_kill_stops_the_process_and_later_messages_time_out_at_once(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    started(node, "a")
    assert node.kill(pid("a"))
    assert node.process(pid("a")) is None
    assert not node.kill(pid("a"))
    with pytest.raises(InjectTimeout):
        node.inject(pid("a"), "x", expects_response=600)


def test_echo_stdout_lets_process_output_through_for_debugging(
    make_node: Callable[..., Node], packages: Packages, capfd: pytest.CaptureFixture[str]
) -> None:
    node = make_node("loud.dev", echo_stdout=True)
    packages.install(node, [Proc("a")])
    assert (
        op(node, "a", {"op": "seq", "ops": [{"op": "stdout", "text": "VISIBLE-STDOUT"}, {"op": "reply"}]})
        == "ok"
    )
    assert "VISIBLE-STDOUT" in capfd.readouterr().out


def test_killing_and_reinstalling_a_process_while_another_floods_it_keeps_the_node_working(
    node: Node, packages: Packages
) -> None:
    """A's messages to B are routed on A's thread; B is killed and reinstalled meanwhile. Nothing
    may deadlock, crash A, or reach the dead instance's successor out of the kernel's rules."""
    packages.install(node, [Proc("a"), Proc("b")])
    started(node, "a")
    started(node, "b")
    mark = node.terminal.mark()
    flood = [{"op": "send", "target": addr("b"), "body": f"flood-{i}"} for i in range(1000)]
    send(node, "a", {"op": "seq", "ops": flood})
    for _ in range(3):
        node.kill(pid("b"))
        packages.install(node, [Proc("b")])
    started(node, "b", since=mark)
    assert op(node, "a", {"op": "reply", "body": "a alive"}) == "a alive"
    assert op(node, "b", {"op": "reply", "body": "b alive"}) == "b alive"
    text = "\n".join(p.text for p in node.terminal.since(mark))
    assert "ended with error" not in text and "Traceback" not in text
