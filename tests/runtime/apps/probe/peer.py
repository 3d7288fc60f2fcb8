"""The second process of the probe package: the same handlers under another app name."""

from __future__ import annotations

from probe import Probe

from hyperpy import app
from hyperpy.state import OnDiff


@app(name="peer", save=OnDiff())
class Peer(Probe):
    """Runs every Probe handler; a separate class so the package has two API interfaces."""
