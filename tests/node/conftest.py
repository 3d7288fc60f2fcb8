"""Fixtures for the local node tests: nodes, emulators, probe packages, in both process modes.

Every behavioural test takes the `mode` fixture, so it runs once with the processes imported natively
and once as real components in wasmtime-py (built once per machine, see components.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperpy.node import Emulator, Node

from .components import build_all, cache_root, component_path
from .helpers import Packages, node_modules

COMPONENT_MODULES = ["probe", "echo", "pingpong"]


def component_mode_unavailable() -> str | None:
    try:
        importlib.import_module("hyperpy.node.runners.component")
    except ImportError as exc:
        return f"component runner not available: {exc}"
    return None


@pytest.fixture(scope="session")
def built_components() -> dict[str, Path]:
    build_all(COMPONENT_MODULES)
    return {module: component_path(module) for module in COMPONENT_MODULES}


@pytest.fixture(params=["native", "component"])
def mode(request: pytest.FixtureRequest) -> str:
    if request.param == "component":
        reason = component_mode_unavailable()
        if reason:
            pytest.skip(reason)
        request.getfixturevalue("built_components")
    return str(request.param)


@pytest.fixture
def packages(tmp_path: Path, mode: str) -> Packages:
    return Packages(tmp_path / "packages", mode)


def node_defaults(options: dict[str, Any]) -> dict[str, Any]:
    options.setdefault("modules", node_modules)
    options.setdefault("restart_delay_scale", 0.01)
    options.setdefault("verbosity", 2)
    options.setdefault("cache_dir", cache_root() / "compiled")
    return options


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[Callable[..., Node]]:
    nodes: list[Node] = []

    def factory(name: str = "fake.dev", **options: Any) -> Node:
        options.setdefault("home", tmp_path / "homes" / name)
        node = Node(name, **node_defaults(options)).start()
        nodes.append(node)
        return node

    yield factory
    for node in nodes:
        node.close()


@pytest.fixture
def node(make_node: Callable[..., Node]) -> Node:
    return make_node()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(root=tmp_path / "emulator")
    yield emu
    emu.close()


@pytest.fixture
def add_node(emulator: Emulator) -> Callable[..., Node]:
    """Add a test-configured node to the shared emulator."""

    def add(name: str, **options: Any) -> Node:
        return emulator.add_node(name, **node_defaults(options))

    return add
