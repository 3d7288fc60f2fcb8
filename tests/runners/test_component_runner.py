"""The component runner's lifecycle and sandbox: what a process sees and how its end is reported.

Hyperdrive's rules (runtime-contract.md §1.1-§1.3): only `standard` and WASI may be imported; WASI
grants nothing (no files, env, args; stdin empty); stdout is discarded; the last ~5 KB of stderr are
shown when the process traps; `wasi:cli/exit` ends it like a trap; each start is a fresh instance.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from scripted_host import OUR, ScriptedHost

from hyperpy.node.contracts import ProcessCrashed, ProcessTrap
from hyperpy.node.runners import wasm_marshal
from hyperpy.node.runners.compile_cache import CompileCache, ComponentLoadError
from hyperpy.node.runners.component import STANDARD_INTERFACE, STDERR_TAIL_BYTES, ComponentRunner
from hyperpy.node.wit_types import Address, Err, OnExit_Restart, ProcessId, SendErrorKind, SpawnError


def run(runner: ComponentRunner, host: ScriptedHost) -> None:
    runner.run(host, str(OUR))


def test_init_returning_ends_the_run_normally(mirror_runner: ComponentRunner, host: ScriptedHost) -> None:
    host.call("our")
    host.end()
    run(mirror_runner, host)  # no exception: the kernel treats this as "returned"
    assert host.call_results() == [{"call": "our", "ok": OUR}]
    assert not host.inbox


def test_a_python_exception_in_the_guest_is_a_crash_with_its_traceback(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    host.command(stderr="about to fail\n")
    host.command(**{"raise": "something broke in the handler"})
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    assert "unreachable" in crash.value.reason  # the wasm trap behind the Python runtime's panic
    tail = crash.value.stderr_tail
    assert tail.startswith("about to fail\n")
    assert "RuntimeError: something broke in the handler" in tail
    assert "Traceback (most recent call last)" in tail


def test_stderr_keeps_only_the_last_5000_bytes(mirror_runner: ComponentRunner, host: ScriptedHost) -> None:
    # Several writes: CPython in wasm drops what a single write of more than 8 KB does not fit.
    host.command(stderr="HEAD" + "x" * 3000)
    host.command(stderr="x" * 3000)
    host.command(stderr="x" * 2000 + "TAIL-MARKER\n")
    host.command(**{"raise": "late failure"})
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    tail = crash.value.stderr_tail
    assert len(tail.encode()) == STDERR_TAIL_BYTES == 5000
    assert "HEAD" not in tail
    assert "TAIL-MARKER" in tail and "RuntimeError: late failure" in tail


def test_stdout_is_discarded(
    mirror_runner: ComponentRunner, host: ScriptedHost, capfd: pytest.CaptureFixture[str]
) -> None:
    host.command(stdout="printed to stdout by the guest\n")
    host.command(stderr="stderr is captured, not shown\n")
    host.end()
    run(mirror_runner, host)
    out, err = capfd.readouterr()
    assert "printed to stdout" not in out + err
    assert "stderr is captured" not in out + err


def test_wasi_exit_is_a_crash(mirror_runner: ComponentRunner, host: ScriptedHost) -> None:
    host.command(exit=3)
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    # WASI 0.2's exit carries only ok/err, so any non-zero status arrives as 1.
    assert crash.value.reason == "process called exit (wasi:cli/exit, status 1)"


def test_wasi_grants_nothing_but_clocks_and_randomness(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    host.command(inspect=True)
    host.end()
    before = time.time()
    run(mirror_runner, host)
    (report,) = [r for r in host.reports() if "stdin" in r]
    assert report["stdin"] == ""
    assert report["argv"] in ([], [""])
    assert report["environ"] == {}
    assert report["listing"] == "FileNotFoundError"  # no preopened directory
    assert abs(report["time"] - before) < 60  # the real wall clock
    assert 0 <= report["random"] < 1


def test_process_trap_from_the_host_traps_the_guest(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    host.will_return("send_and_await_response", ProcessTrap("send-and-await to itself will deadlock"))
    host.call("send_and_await_response", OUR, _request(expects=5), None)
    host.call("our")  # never runs: a trap cannot be caught by the guest
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    assert crash.value.reason == "send-and-await to itself will deadlock"
    assert host.call_results() == []
    assert host.calls_to("our") == []


def test_a_host_failure_crashes_the_process_and_names_the_function(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    host.will_return("get_on_exit", ValueError("kernel table corrupt"))
    host.call("get_on_exit")
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    assert "host function get-on-exit failed: ValueError: kernel table corrupt" in crash.value.reason


def test_err_from_a_function_without_error_case_is_a_crash(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    host.will_return("our_capabilities", Err(SpawnError.NAME_TAKEN))
    host.call("our_capabilities")
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    assert "our-capabilities has no error case" in crash.value.reason


def test_a_wrongly_shaped_host_value_crashes_instead_of_reaching_the_guest(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    host.will_return("spawn", "not a process id")
    host.call("spawn", None, "/x.wasm", OnExit_Restart(), [], [], False)
    with pytest.raises(ProcessCrashed) as crash:
        run(mirror_runner, host)
    assert "host function spawn failed" in crash.value.reason


class KernelSignal(BaseException):
    """Like the kernel's ProcessKilled: not an Exception, so no guest or runner may swallow it."""


def test_a_base_exception_from_the_host_ends_the_run_and_is_reraised(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    signal = KernelSignal("killed")
    host.call("our")
    host.deliver_error(signal)
    with pytest.raises(KernelSignal) as raised:
        run(mirror_runner, host)
    assert raised.value is signal
    assert host.call_results() == [{"call": "our", "ok": OUR}]


def test_every_run_is_a_fresh_instance(mirror_runner: ComponentRunner) -> None:
    counts = []
    for _ in range(2):
        host = ScriptedHost()
        host.command(count=True)
        host.command(count=True)
        host.end()
        run(mirror_runner, host)
        counts.append([r["count"] for r in host.reports() if "count" in r])
    assert counts == [[1, 2], [1, 2]]


def test_a_crashed_run_can_be_followed_by_a_clean_one(mirror_runner: ComponentRunner) -> None:
    crashing = ScriptedHost()
    crashing.command(**{"raise": "first life"})
    with pytest.raises(ProcessCrashed):
        run(mirror_runner, crashing)
    again = ScriptedHost()
    again.command(count=True)
    again.end()
    run(mirror_runner, again)
    assert [r for r in again.reports() if "count" in r] == [{"count": 1}]
    assert "first life" not in "".join(text for _, text in again.printed)


def test_processes_on_parallel_threads_keep_their_values_apart(mirror_runner: ComponentRunner) -> None:
    """Each process thread converts its own values: nothing leaks between concurrent instances."""
    rounds = 60
    hosts = []
    for index in range(4):
        address = Address(f"node-{index}.os", ProcessId(f"p{index}", "pkg", "pub.os"))
        host = ScriptedHost(address)
        for round_ in range(rounds):
            host.will_return("get_state", f"{index}:{round_}".encode() * (index + 1))
            host.call("get_state")
            host.call("our")
            host.call("spawn", f"c{round_}", "/w.wasm", OnExit_Restart(), [], [], False)
            host.will_return(
                "spawn",
                Err(SpawnError.NAME_TAKEN) if round_ % 2 else ProcessId(f"c{round_}", "pkg", "pub.os"),
            )
        host.end()
        hosts.append(host)
    failures: list[BaseException] = []

    def worker(host: ScriptedHost) -> None:
        try:
            mirror_runner.run(host, str(host.address))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    for index, host in enumerate(hosts):
        results = host.call_results()
        assert len(results) == 3 * rounds
        for round_ in range(rounds):
            state, our, spawned = results[3 * round_ : 3 * round_ + 3]
            assert state["ok"] == f"{index}:{round_}".encode() * (index + 1)
            assert our["ok"] == host.address
            if round_ % 2:
                assert spawned["err"] == SpawnError.NAME_TAKEN
            else:
                assert spawned["ok"] == ProcessId(f"c{round_}", "pkg", "pub.os")


def test_a_foreign_import_is_refused_before_instantiation(
    foreign_wasm: Path, compiled_cache_dir: Path
) -> None:
    with pytest.raises(ComponentLoadError) as refused:
        ComponentRunner(foreign_wasm, cache=CompileCache(compiled_cache_dir))
    message = str(refused.value)
    assert "`hyperpy-test:foreign/weather@0.1.0`" in message
    assert "may import only hyperware:process/standard@1.0.0 and WASI 0.2" in message


def test_instantiation_itself_refuses_unknown_imports(foreign_wasm: Path, compiled_cache_dir: Path) -> None:
    """Without the early check, wasmtime's linker still refuses: the check only improves the message."""
    runner = object.__new__(ComponentRunner)
    runner.label = "foreign.wasm"
    runner.cache = CompileCache(compiled_cache_dir)
    runner.echo_stdout = False
    runner.component = runner.cache.load(foreign_wasm.read_bytes())
    runner.plans = wasm_marshal.imported_functions(runner.component, runner.cache.engine, STANDARD_INTERFACE)
    with pytest.raises(ComponentLoadError) as refused:
        runner.run(ScriptedHost(), str(OUR))
    assert "foreign.wasm failed to instantiate" in str(refused.value)
    assert "weather" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00asm\x01\x00\x00\x00", "is a core WebAssembly module, not a component"),
        (b"PK\x03\x04 a zip", "is not WebAssembly"),
        (b"\x00asm\x0d\x00\x01\x00garbage", "could not be compiled"),
    ],
    ids=["core-module", "not-wasm", "broken-component"],
)
def test_bad_bytes_are_refused_with_a_clear_message(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "proc.wasm"
    path.write_bytes(data)
    with pytest.raises(ComponentLoadError) as refused:
        ComponentRunner(path, cache=CompileCache(tmp_path / "cache", announce=lambda _: None))
    assert f"proc.wasm {expected}" in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ComponentLoadError, match=r"cannot read component .*absent\.wasm"):
        ComponentRunner(tmp_path / "absent.wasm", tmp_path / "cache")


def _request(expects: int | None):
    from hyperpy.node.wit_types import Request

    return Request(False, expects, b"", None, [])


def test_send_error_kinds_are_distinct_for_the_guest(
    mirror_runner: ComponentRunner, host: ScriptedHost
) -> None:
    """Sanity check of the enum mapping in the receive error path (offline vs timeout)."""
    from hyperpy.node.wit_types import Message_Request, SendError

    for kind in (SendErrorKind.OFFLINE, SendErrorKind.TIMEOUT):
        host.deliver_error(Err((SendError(kind, OUR, Message_Request(_request(1)), None), None)))
    host.end()
    run(mirror_runner, host)
    kinds = [item.value[0].kind for item in host.received() if isinstance(item, Err)]
    assert kinds == [SendErrorKind.OFFLINE, SendErrorKind.TIMEOUT]
