"""When an installed or booted process *answers*: what `Node.install`, `Node.start`/`restart`, the
pytest fixtures and `hyperpy run`'s "ready" wait for.

Hyperdrive has no readiness notion: `RunProcess` starts `init` and the kernel routes messages at
once; an HTTP request that arrives before the process has bound its path gets http-server's 404.
On a developer's node that race is the first thing a new user hits (`hyperpy run` then `curl`), so
the local node waits, per instance, until one of these (`ProcessControl.settled`):

* the process printed its framework ready line (`hyperpy.runtime.readiness`): HTTP paths bound and
  `@init` finished; requests that came earlier are held by the runtime and served after;
* the process blocked in `receive()` with none of its own requests open: a raw process's main loop,
  after its setup (kit's templates bind with send-and-await before it);
* its run ended (crashed, returned, failed to load): reported as a `ProcessStartError`.
"""

from __future__ import annotations

import time

from hyperpy.node.install import InstallError
from hyperpy.node.process_thread import ProcessControl
from hyperpy.node.wit_types import ProcessId

DEFAULT_READY_TIMEOUT = 120.0
"""Seconds to wait per call; a first compile of a component on a loaded machine takes tens of them."""


class ProcessStartError(InstallError):
    """A process ended (or never answered) while starting; the message names it and why."""


def start_problems(controls: list[tuple[ProcessId, ProcessControl]], timeout: float) -> list[str]:
    """Wait until every instance is ready or ended; one line per instance that did not get ready."""
    deadline = time.monotonic() + timeout
    problems = []
    for process_id, control in controls:
        control.settled.wait(max(0.0, deadline - time.monotonic()))
        if control.ready:
            continue
        outcome = control.outcome
        if outcome is None:
            problems.append(
                f"{process_id} is not ready after {timeout:g} s: it is still starting (a slow or stuck "
                "@init, or a first compile); its terminal output says more"
            )
        elif outcome.kind == "load_failed":
            problems.append(f"{process_id} failed to load: {outcome.detail}")
        elif outcome.kind == "crashed":
            detail = (outcome.stderr or outcome.detail).strip()
            problems.append(f"{process_id} crashed while starting:\n{detail}")
        elif outcome.kind == "returned":
            problems.append(f"{process_id} returned from init while starting (it never waited for messages)")
    return problems
