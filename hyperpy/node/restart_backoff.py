"""Hyperdrive's Restart backoff (`RestartBackoff` in `kernel/process.rs`), with a time scale for tests.

The rule, per process, kept across its restarts:
* the first run starts the record: attempts 1, backoff 1 s;
* on exit, `healthy = min(current_backoff * 5, 50 min)`; if the run lasted at least that long the
  process restarts at once and the record resets (attempts 1, backoff 1 s);
* otherwise attempts += 1, backoff = 2^(attempts-1) s capped at 600 s, and the restart waits that long
  (so the first quick crash already waits 2 s, then 4 s, 8 s …).

`scale` multiplies every duration (1.0 = Hyperdrive); tests use a small scale so a crash loop is
observable without sleeping for seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BASE_BACKOFF_SECS = 1.0
MAX_BACKOFF_SECS = 600.0
MAX_HEALTHY_DURATION_SECS = 50 * 60.0
HEALTHY_RUN_MULTIPLIER = 5


@dataclass
class RestartBackoff:
    scale: float = 1.0
    consecutive_attempts: int = 1
    current_backoff: float = BASE_BACKOFF_SECS
    last_start_time: float | None = field(default=None)

    def started(self, now: float) -> None:
        """A run of the process began (Hyperdrive records this when the "run" message arrives)."""
        self.last_start_time = now

    def next_delay(self, now: float) -> float:
        """The process exited at `now`: update the record, return how long to wait before restarting."""
        started = self.last_start_time if self.last_start_time is not None else now
        uptime = (now - started) / self.scale
        healthy = min(self.current_backoff * HEALTHY_RUN_MULTIPLIER, MAX_HEALTHY_DURATION_SECS)
        if uptime >= healthy:
            self.consecutive_attempts = 1
            self.current_backoff = BASE_BACKOFF_SECS
        else:
            self.consecutive_attempts += 1
            exponent = min(self.consecutive_attempts - 1, 63)
            self.current_backoff = min(max(float(2**exponent), BASE_BACKOFF_SECS), MAX_BACKOFF_SECS)
        if self.consecutive_attempts == 1:
            return 0.0
        return self.current_backoff * self.scale
