"""Thread placement (node/placement.py): the setting's forms, its errors, and a node that keeps its
threads (kernel loop and processes, both modes) on the chosen core while the caller's thread stays put."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from hyperpy.node import Node, placement

from .helpers import Packages, Proc

linux_only = pytest.mark.skipif(not placement.supported(), reason="thread placement needs sched_setaffinity")


def test_off_and_empty_leave_placement_to_the_scheduler() -> None:
    for setting in ("off", "none", "", " OFF ", []):
        assert placement.resolve(setting) is None


@linux_only
def test_cpu_lists_are_parsed_like_linux_writes_them() -> None:
    usable = sorted(placement.usable_cpus())
    first, last = usable[0], usable[-1]
    assert placement.resolve(str(first)) == {first}
    if set(range(first, last + 1)) <= set(usable):
        assert placement.resolve(f"{first}-{last}") == frozenset(range(first, last + 1))
    assert placement.resolve([last]) == {last}
    assert placement.resolve(None, environ={placement.ENVIRONMENT_VARIABLE: str(last)}) == {last}
    assert placement.resolve(None, environ={placement.ENVIRONMENT_VARIABLE: "off"}) is None


@linux_only
def test_auto_pins_quiet_small_hosts_to_one_usable_core_and_leaves_others() -> None:
    usable = placement.usable_cpus()
    quiet = placement.resolve("auto", load_average=0.0)
    if len(usable) <= placement.AUTO_PIN_MAX_CPUS:
        assert quiet is not None and len(quiet) == 1 and quiet <= usable
    else:
        assert quiet is None
    assert placement.resolve("auto", load_average=float(len(usable))) is None  # busy: scheduler decides


@pytest.mark.parametrize("text", ["zero", "1-", "3-1", "-2", "0,,1", "1.5"])
def test_malformed_lists_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(placement.PlacementError, match="is not a CPU list: use 'auto', 'off'"):
        placement.resolve(text)


@linux_only
def test_cores_this_process_may_not_use_are_refused_naming_them() -> None:
    missing = max(placement.usable_cpus()) + 1000
    with pytest.raises(placement.PlacementError, match=f"core\\(s\\) {missing} are not usable"):
        placement.resolve(str(missing))
    with pytest.raises(placement.PlacementError, match=placement.ENVIRONMENT_VARIABLE):
        placement.resolve(None, environ={placement.ENVIRONMENT_VARIABLE: str(missing)})


def test_a_bad_setting_fails_the_node_at_construction(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(placement.PlacementError, match="not a CPU list"):
        Node("fake.dev", home=tmp_path, cpus="everything")


def _affinity(thread: threading.Thread) -> set[int]:
    assert thread.native_id is not None
    return set(os.sched_getaffinity(thread.native_id))


@linux_only
def test_a_node_keeps_its_threads_on_the_chosen_core(
    make_node: Callable[..., Node], packages: Packages, mode: str
) -> None:
    core = max(placement.usable_cpus())
    before = set(os.sched_getaffinity(0))
    node = make_node(cpus=str(core))
    assert node.cpus == {core}
    packages.install(node, [Proc("echo", module="echo")])
    node.terminal.wait_for("echo: started", timeout=120)
    reply = node.inject("echo:probes:test.os", b"pinned", expects_response=30)
    assert reply is not None and reply.body == b"pinned"
    threads = {t.name: t for t in threading.enumerate()}
    kernel = threads["kernel fake.dev"]
    process = next(t for name, t in threads.items() if name.startswith("process echo:probes:test.os"))
    assert _affinity(kernel) == {core}
    assert _affinity(process) == {core}
    assert set(os.sched_getaffinity(0)) == before  # the caller's own thread is left alone


@linux_only
def test_off_leaves_the_node_threads_where_the_caller_may_run(
    make_node: Callable[..., Node], packages: Packages, mode: str
) -> None:
    node = make_node(cpus="off")
    assert node.cpus is None
    packages.install(node, [Proc("echo", module="echo")])
    node.terminal.wait_for("echo: started", timeout=120)
    threads = {t.name: t for t in threading.enumerate()}
    assert _affinity(threads["kernel fake.dev"]) == set(os.sched_getaffinity(0))
