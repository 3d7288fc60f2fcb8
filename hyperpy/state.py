"""hyperpy.state: how and when an app's state is saved (`@app(save=...)`), and saving by hand.

    from hyperpy import app
    from hyperpy.state import OnDiff, transient

    @app(name="counter", save=OnDiff())
    class Counter:
        count: int = 0
        cache: dict[str, int] = transient(default_factory=dict)

Policies: `Never`, `EveryMessage`, `EveryNMessage(n)`, `EveryNSeconds(s)`, `OnDiff` (the default).
`save_state()` saves now; `kept_aside_state()` / `discard_kept_aside_state()` reach state that did not
load (docs/framework.md, "State"). Part of the guest runtime: it runs inside components.
"""

from __future__ import annotations

from hyperpy.runtime.current import discard_kept_aside_state, kept_aside_state, save_state
from hyperpy.runtime.state import (
    EveryMessage,
    EveryNMessage,
    EveryNSeconds,
    KeptAside,
    Never,
    OnDiff,
    SavePolicy,
    transient,
)

__all__ = [
    "EveryMessage",
    "EveryNMessage",
    "EveryNSeconds",
    "KeptAside",
    "Never",
    "OnDiff",
    "SavePolicy",
    "discard_kept_aside_state",
    "kept_aside_state",
    "save_state",
    "transient",
]
