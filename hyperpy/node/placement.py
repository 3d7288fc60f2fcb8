"""Thread placement: which CPU cores a node's threads (kernel loop, processes, modules' workers) run on.

Why: a message between two processes is a hand-off between two threads. When the scheduler puts
them on different cores, every hand-off is a cross-core wake-up; measured on a 2-core host (issue
18), a pure-Python two-queue ping-pong costs 51-59 µs per round across the two cores and 4.4 µs on
one, and keeping a node's threads on one core raised component round trips by ~59%. The cost of
pinning: the node's processes no longer run guest code in parallel (a component's guest runs with
the GIL released, so on several cores two busy components can compute at once), and a pinned node
cannot move to an idle core when other programs load its own.

The setting (`Node(cpus=...)`, else the `HYPERPY_NODE_CPUS` environment variable, else "auto"):

* ``"auto"`` (default): on a host (or cgroup/affinity mask) with at most `AUTO_PIN_MAX_CPUS` usable
  cores that is not already busy when the node is created (1-minute load average below the number of
  usable cores), keep the node on one core — the one the thread creating the node runs on (the
  scheduler's own choice, so several nodes on one machine spread out); otherwise leave placement to
  the scheduler: with more cores parallel guest code is worth more than cheaper hand-offs, and on a
  loaded host the scheduler's freedom to use whichever core is free is worth more (measured under
  load 11-18 on 2 cores: a placed node did ~0.7x the round trips of an unplaced one; quiet, issue
  18's measurement: 1.59x);
* ``"off"`` (or ``"none"``, ``""``): the scheduler decides (no affinity is set);
* a CPU list as Linux writes it: ``"0"``, ``"2-3"``, ``"0,2,4-5"`` (or a sequence of ints):
  exactly those cores; cores not usable by this process are refused with an error naming them.

Linux only (`os.sched_setaffinity`, which on Linux applies to the calling thread; threads it starts
inherit the mask). Elsewhere "auto" and "off" leave placement alone and an explicit list is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

ENVIRONMENT_VARIABLE = "HYPERPY_NODE_CPUS"
AUTO_PIN_MAX_CPUS = 2  # measured: 2 cores gain ~1.6x round trips when pinned; nothing larger measured
CpuSetting = str | Iterable[int] | None


class PlacementError(ValueError):
    """A thread-placement setting that cannot be applied on this host (the message says why)."""


def supported() -> bool:
    """Whether this platform can keep threads on chosen cores (Linux's sched_setaffinity)."""
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def usable_cpus() -> frozenset[int]:
    """The cores this process may run on (its affinity mask), or all cores where that is unknown."""
    if supported():
        return frozenset(os.sched_getaffinity(0))
    return frozenset(range(os.cpu_count() or 1))


def resolve(
    setting: CpuSetting = None,
    environ: dict[str, str] | None = None,
    *,
    load_average: float | None = None,
) -> frozenset[int] | None:
    """The cores a node's threads should run on, or None to leave placement to the scheduler.

    `setting` is `Node(cpus=...)`; None falls back to `$HYPERPY_NODE_CPUS`, then to "auto".
    `load_average` (default: the 1-minute load average now) is what "auto" reads.
    """
    source = "cpus"
    if setting is None:
        value = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE)
        setting, source = ("auto", "default") if value is None else (value, ENVIRONMENT_VARIABLE)
    if isinstance(setting, str):
        text = setting.strip().lower()
        if text in ("off", "none", ""):
            return None
        if text == "auto":
            return _auto(load_average)
        cpus = _parse_list(text, source)
    else:
        cpus = frozenset(int(cpu) for cpu in setting)
        if not cpus:
            return None
    if not supported():
        raise PlacementError(
            f"{source}={setting!r}: keeping threads on chosen cores needs Linux (os.sched_setaffinity); "
            f"use 'auto' or 'off' here"
        )
    missing = cpus - usable_cpus()
    if missing:
        raise PlacementError(
            f"{source}={setting!r}: core(s) {_format(missing)} are not usable by this process "
            f"(usable: {_format(usable_cpus())}); pick cores from that list, or 'auto'/'off'"
        )
    return cpus


def _auto(load_average: float | None) -> frozenset[int] | None:
    if not supported():
        return None
    usable = usable_cpus()
    if len(usable) > AUTO_PIN_MAX_CPUS:
        return None
    if load_average is None:
        load_average = os.getloadavg()[0]
    if load_average >= len(usable):  # busy host: a placed node could not move to a free core
        return None
    current = _current_cpu()
    return frozenset({current if current in usable else min(usable)})


def _current_cpu() -> int | None:
    """The core the calling thread last ran on (field 39 of /proc/thread-self/stat), if known."""
    try:
        stat = Path("/proc/thread-self/stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[36])
    except (OSError, ValueError, IndexError):
        return None


def _parse_list(text: str, source: str) -> frozenset[int]:
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            first, last = int(low), int(high if dash else low)
            if first < 0 or last < first:
                raise ValueError(part)
            cpus.update(range(first, last + 1))
    except ValueError:
        raise PlacementError(
            f"{source}={text!r} is not a CPU list: use 'auto', 'off', or cores like '0', '2-3', '0,2,4-5'"
        ) from None
    return frozenset(cpus)


def _format(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def pin_current_thread(cpus: frozenset[int] | None) -> None:
    """Keep the calling thread (and the threads it starts later) on `cpus`; None does nothing."""
    if cpus is not None:
        os.sched_setaffinity(0, cpus)


def release_current_thread(cpus: frozenset[int] | None) -> None:
    """Undo `pin_current_thread(cpus)` for the calling thread: back to the main thread's cores."""
    if cpus is not None:
        os.sched_setaffinity(0, os.sched_getaffinity(os.getpid()))
