"""Runs `async def` tests of this directory on a fresh asyncio loop (no extra plugin needed)."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest
from module_doubles import FakeNode
from node_probe import Probe, installed_probe, prepare_modprobe_project


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


@pytest.fixture
def node(tmp_path: Path) -> FakeNode:
    return FakeNode(home=tmp_path)


@pytest.fixture(scope="session")
def modprobe_project() -> Path:
    return prepare_modprobe_project()


@pytest.fixture
def probe(hyperpy_node: Any, modprobe_project: Path) -> Probe:
    """The modprobe process installed and running on this test's node (in the test's mode)."""
    return installed_probe(hyperpy_node, modprobe_project)
