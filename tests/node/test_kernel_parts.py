"""The kernel's building blocks on their own: JSON shapes, backoff, atomic persistence, terminal, markers."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from hyperpy.node.kernel_json import (
    GrantCapabilities,
    InitializeProcess,
    KernelJsonError,
    KillProcess,
    RunProcess,
    SetOnExit,
    command_from_json,
    command_to_json,
    on_exit_from_json,
    on_exit_to_json,
)
from hyperpy.node.persistence import PersistedProcess, ProcessTableFile, atomic_write
from hyperpy.node.process_code import intern_code, interned_count
from hyperpy.node.request_deadlines import RequestDeadlines
from hyperpy.node.restart_backoff import RestartBackoff
from hyperpy.node.runners.native import NativeModuleRef
from hyperpy.node.terminal import Terminal
from hyperpy.node.wit_types import (
    Address,
    Capability,
    OnExit_Requests,
    OnExit_Restart,
    ProcessId,
    Request,
)

PID = ProcessId("echo", "echo", "template.os")
CAP = Capability(Address("fake.dev", PID), '"messaging"')


def test_kernel_commands_round_trip_in_process_lib_json() -> None:
    on_exit = on_exit_from_json(
        {
            "Requests": [
                [
                    "fake.dev@b:c:d",
                    {
                        "inherit": False,
                        "expects_response": None,
                        "body": [104, 105],
                        "metadata": None,
                        "capabilities": [],
                    },
                    {"mime": None, "bytes": [1]},
                ]
            ]
        }
    )
    commands = [
        InitializeProcess(PID, "/echo:template.os/pkg/echo.wasm", 1, on_exit, [CAP], True),
        RunProcess(PID),
        KillProcess(PID),
        GrantCapabilities(PID, [CAP]),
        SetOnExit(PID, OnExit_Restart()),
    ]
    for command in commands:
        assert command_from_json(command_to_json(command)) == command
    assert json.loads(command_to_json(RunProcess(PID))) == {"RunProcess": "echo:echo:template.os"}
    assert on_exit_to_json(on_exit)["Requests"][0][1]["body"] == [104, 105]
    assert isinstance(on_exit, OnExit_Requests)


def test_kernel_command_errors_name_the_field() -> None:
    with pytest.raises(KernelJsonError, match=r"InitializeProcess\.public"):
        command_from_json(
            b'{"InitializeProcess": {"id": "a:b:c", "wasm_bytes_handle": "/x", "wit_version": 1, '
            b'"on_exit": "None", "initial_capabilities": [], "public": "yes"}}'
        )
    with pytest.raises(KernelJsonError, match="unknown KernelCommand"):
        command_from_json(b'{"Reboot": null}')
    with pytest.raises(KernelJsonError, match="RunProcess"):
        command_from_json(b'{"RunProcess": "not-a-process-id"}')


def test_capability_identity_is_issuer_plus_parsed_json() -> None:
    a = Capability(Address("n", PID), '{"kind":"read","drive":"/x:y/pkg"}')
    b = Capability(Address("n", PID), '{ "drive": "/x:y/pkg", "kind": "read" }')
    assert a.key() == b.key()
    assert a.key() != Capability(Address("n", PID), '{"kind":"write","drive":"/x:y/pkg"}').key()


def test_restart_backoff_follows_hyperdrive() -> None:
    backoff = RestartBackoff()
    backoff.started(0.0)
    assert backoff.next_delay(1.0) == 2.0  # quick crash: attempts 2 -> 2 s
    backoff.started(3.0)
    assert backoff.next_delay(4.0) == 4.0
    backoff.started(8.0)
    assert backoff.next_delay(9.0) == 8.0
    backoff.started(17.0)
    assert backoff.next_delay(17.0 + 40.0) == 0.0  # ran >= 5 x backoff: healthy, immediate, reset
    backoff.started(60.0)
    assert backoff.next_delay(61.0) == 2.0
    for _ in range(20):
        backoff.started(0.0)
        delay = backoff.next_delay(0.5)
    assert delay == 600.0  # capped


def test_restart_backoff_scale_shrinks_every_duration() -> None:
    backoff = RestartBackoff(scale=0.01)
    backoff.started(0.0)
    assert backoff.next_delay(0.001) == pytest.approx(0.02)
    backoff.started(1.0)
    assert backoff.next_delay(1.0 + 0.1) == 0.0  # 5 x the 2 s backoff, scaled, is a healthy run


def test_atomic_write_never_leaves_a_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state" / "p:k:s"
    atomic_write(target, b"old")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["p:k:s"]


def test_process_table_skips_unreadable_rows_with_a_message(tmp_path: Path) -> None:
    table = ProcessTableFile(tmp_path)
    table.save({PID: PersistedProcess("/echo:template.os/pkg/echo.wasm", 1, OnExit_Restart(), [CAP], True)})
    document = json.loads(table.path.read_text())
    document["processes"]["bad:row:x"] = {"public": "maybe"}
    table.path.write_text(json.dumps(document))
    loaded, problems = table.load()
    assert list(loaded) == [PID]
    assert loaded[PID].capabilities[0].key() == CAP.key()
    assert len(problems) == 1 and "bad:row:x" in problems[0]


def test_terminal_records_everything_shows_by_verbosity_and_waits() -> None:
    terminal = Terminal("fake.dev", verbosity=1)
    terminal.print(0, PID, "shown")
    terminal.print(2, PID, "recorded only")
    assert [p.text for p in terminal.lines()] == ["shown"]
    assert [p.text for p in terminal.lines(all=True)] == ["shown", "recorded only"]
    terminal.set_process_verbosity(PID, 3)
    assert terminal.print(3, PID, "now shown").shown
    mark = terminal.mark()
    threading.Timer(0.01, lambda: terminal.print(0, PID, "later line")).start()
    assert terminal.wait_for("later", since=mark).text == "later line"
    with pytest.raises(TimeoutError, match="later line"):
        terminal.wait_for("never printed", timeout=0.01)


def test_native_marker_round_trip_and_anything_else_is_not_a_marker(tmp_path: Path) -> None:
    module = tmp_path / "app.py"
    module.write_text("x = 1\n")
    ref = NativeModuleRef.parse(str(module))
    assert ref == NativeModuleRef("app", str(tmp_path.resolve()))
    assert NativeModuleRef.from_marker(ref.to_marker()) == ref
    assert NativeModuleRef.from_marker(b"\0asm\x0d\0\x01\0") is None
    assert NativeModuleRef.parse("some.dotted.module") == NativeModuleRef("some.dotted.module")


def test_processes_with_the_same_code_share_one_copy_until_none_uses_it() -> None:
    first = intern_code(b"\0asm" + b"x" * 1000)
    second = intern_code(bytearray(b"\0asm" + b"x" * 1000))
    assert second is first and first.mode == "component"
    other = intern_code(NativeModuleRef("echo", "/src").to_marker())
    assert other is not first and other.mode == "native" and other.native == NativeModuleRef("echo", "/src")
    alive = interned_count()
    del first, second
    assert interned_count() == alive - 1  # nothing keeps code no process refers to


def test_request_deadlines_fire_in_time_order_and_cancelled_ones_never_fire() -> None:
    deadlines = RequestDeadlines()
    target = Address("fake.dev", PID)
    request = Request(False, 5, b"", None, [])
    late = deadlines.add(30.0, 1, target, request, None)
    early = deadlines.add(10.0, 2, target, request, None)
    middle = deadlines.add(20.0, 3, target, request, None)
    deadlines.cancel(early)
    assert deadlines.earliest() == 20.0
    assert deadlines.pop_earliest() is middle
    assert deadlines.pop_earliest() is late
    assert deadlines.earliest() is None and len(deadlines) == 0


def test_request_deadlines_do_not_pile_up_when_every_request_is_answered() -> None:
    """A long-running process answered in time must not keep every deadline until it falls due."""
    deadlines = RequestDeadlines()
    target = Address("fake.dev", PID)
    request = Request(False, 30, b"", None, [])
    for index in range(10_000):
        deadlines.cancel(deadlines.add(30.0 + index, index, target, request, None))
    assert len(deadlines._heap) < 200
    assert deadlines.earliest() is None
