"""Fixtures for the control-surface tests; the doubles themselves are in control_doubles.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from control_doubles import RecordingNode, RecordingServices


@pytest.fixture
def recording_node() -> Iterator[RecordingNode]:
    node = RecordingNode()
    node.server.start()
    yield node
    node.server.stop()


@pytest.fixture
def services(tmp_path: Path) -> RecordingServices:
    return RecordingServices(tmp_path / "home")
