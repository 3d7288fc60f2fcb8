"""Runs `async def` tests of this directory on a fresh asyncio loop (no extra plugin needed)."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
from module_doubles import FakeNode


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
