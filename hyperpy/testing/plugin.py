"""The `hyperpy` pytest plugin (entry point `pytest11: hyperpy`): fixtures to test packages on a local node.

pytest loads this module in every session of a project that has hyperpy installed, so it imports
cheaply and never fails: the node and the build are imported only when a fixture is used.

Fixtures (see docs/testing.md):

* `hyperpy_node` — a fresh started node `fake.dev` in a temporary home, as a `HyperpyNode`;
* `hyperpy_nodes` — a factory for several nodes sharing one network (`hyperpy_nodes("a.dev", "b.dev")`),
  with `hyperpy_nodes.set_offline(name)`; in-memory by default, over real TCP/WebSocket connections on
  loopback (Noise handshake, the PKI, Hyperdrive's wire) when the test is marked
  `@pytest.mark.hyperpy_network("real")` or the ini option `hyperpy_network = real`;
* `hyperpy_mode` — `"component"` or `"native"`: the mode installs use. A test runs once per mode when
  it is marked `@pytest.mark.hyperpy_modes("component", "native")`, or for every test when the ini
  option `hyperpy_modes` lists several modes; `--hyperpy-mode native` restricts a run to one mode;
* `hyperpy_builds` — the session's build cache (each project is built once per session).

When a test using a node fails, the report gets a section with each node's recent terminal output.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hyperpy.node import Emulator
    from hyperpy.testing.harness import HyperpyNode, Mode, PackageBuilds

MODE_MARKER = "hyperpy_modes"
NETWORK_MARKER = "hyperpy_network"
NETWORKS = ("memory", "real")
ALL_MODES = ("component", "native")
DEFAULT_NODE = "fake.dev"
NODES_KEY = pytest.StashKey[list["HyperpyNode"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hyperpy", "hyperpy local node")
    group.addoption(
        "--hyperpy-mode",
        choices=ALL_MODES,
        default=None,
        help="run node tests only in this process mode (component: the built .wasm; native: host CPython)",
    )
    parser.addini(
        "hyperpy_modes",
        type="args",
        default=[],
        help="process modes every node test runs in, e.g. 'component native' (default: component only, "
        "unless a test is marked hyperpy_modes)",
    )
    parser.addini(
        "hyperpy_network",
        default="memory",
        help="how hyperpy_nodes joins its nodes: 'memory' (one in-process network) or 'real' (TCP and "
        "WebSocket connections on loopback, as separate `hyperpy run` processes use)",
    )
    parser.addini(
        "hyperpy_restart_delay_scale",
        default="0.01",
        help="multiplier of Hyperdrive's Restart backoff on test nodes (1.0 = real timing)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the plugin's marker so `--strict-markers` projects can use it."""
    config.addinivalue_line(
        "markers",
        f"{MODE_MARKER}(*modes): run a test once per process mode ('component', 'native').",
    )
    config.addinivalue_line(
        "markers",
        f"{NETWORK_MARKER}(kind): 'real' joins hyperpy_nodes over loopback sockets, 'memory' in-process.",
    )


def _chosen_modes(metafunc: pytest.Metafunc) -> list[str] | None:
    marker = metafunc.definition.get_closest_marker(MODE_MARKER)
    configured: list[str] = list(marker.args) if marker else list(metafunc.config.getini("hyperpy_modes"))
    unknown = [m for m in configured if m not in ALL_MODES]
    if unknown:
        raise pytest.UsageError(f"hyperpy_modes: unknown mode(s) {unknown}; use 'component' and/or 'native'")
    only = metafunc.config.getoption("--hyperpy-mode")
    if only is not None:
        return [m for m in configured if m == only] if configured else [only]
    return configured or None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `hyperpy_mode` (and so every node fixture of the test) when modes were chosen."""
    if "hyperpy_mode" not in metafunc.fixturenames:
        return
    modes = _chosen_modes(metafunc)
    if modes is not None:
        metafunc.parametrize("hyperpy_mode", modes, indirect=True, ids=modes)


@pytest.fixture
def hyperpy_mode(request: pytest.FixtureRequest) -> Mode:
    """The mode installs use in this test: the parametrized one, else component."""
    return getattr(request, "param", "component")


@pytest.fixture(scope="session")
def hyperpy_builds() -> PackageBuilds:
    from hyperpy.testing.harness import PackageBuilds

    return PackageBuilds(_compiled_dir())


def _compiled_dir() -> Path:
    from hyperpy.node.control.compiled import compiled_cache_dir

    return compiled_cache_dir()


def _node_options(config: pytest.Config) -> dict[str, Any]:
    return {
        "restart_delay_scale": float(config.getini("hyperpy_restart_delay_scale")),
        "cache_dir": _compiled_dir(),
    }


def _track(request: pytest.FixtureRequest, harness: HyperpyNode) -> HyperpyNode:
    request.node.stash.setdefault(NODES_KEY, []).append(harness)
    return harness


@pytest.fixture
def hyperpy_node(
    request: pytest.FixtureRequest, tmp_path: Path, hyperpy_mode: Mode, hyperpy_builds: PackageBuilds
) -> Iterator[HyperpyNode]:
    """A started node `fake.dev` with its own home, HTTP on a free port; closed after the test."""
    from hyperpy.node.control.surface import node_with_control_surface
    from hyperpy.testing.harness import HyperpyNode

    node, surface = node_with_control_surface(
        DEFAULT_NODE, home=tmp_path / DEFAULT_NODE, port=0, **_node_options(request.config)
    )
    node.start()
    try:
        yield _track(request, HyperpyNode(node, surface, hyperpy_mode, hyperpy_builds))
    finally:
        node.close()


class NodeFactory:
    """`hyperpy_nodes`: call with node names to boot them on one shared network."""

    def __init__(
        self,
        request: pytest.FixtureRequest,
        emulator: Emulator,
        mode: Mode,
        builds: PackageBuilds,
    ) -> None:
        self._request = request
        self._emulator = emulator
        self._mode = mode
        self._builds = builds

    def __call__(self, *names: str) -> list[HyperpyNode]:
        from hyperpy.node.control.surface import ControlSurface
        from hyperpy.testing.harness import HyperpyNode

        started = []
        for name in names:
            surface = ControlSurface(port=0)
            node = self._emulator.add_node(
                name, modules=surface.modules, **_node_options(self._request.config)
            )
            surface.attach(node)
            started.append(_track(self._request, HyperpyNode(node, surface, self._mode, self._builds)))
        return started

    def set_offline(self, name: str, offline: bool = True) -> None:
        """Take a node off the network (messages to and from it fail with Offline), or bring it back."""
        self._emulator.set_offline(name, offline)


@pytest.fixture
def hyperpy_nodes(
    request: pytest.FixtureRequest, tmp_path: Path, hyperpy_mode: Mode, hyperpy_builds: PackageBuilds
) -> Iterator[NodeFactory]:
    """Several nodes on one network: `a, b = hyperpy_nodes("fake.dev", "fake2.dev")` (in-memory, or
    real loopback connections with `@pytest.mark.hyperpy_network("real")`)."""
    from hyperpy.node import Emulator

    marker = request.node.get_closest_marker(NETWORK_MARKER)
    network = marker.args[0] if marker and marker.args else request.config.getini("hyperpy_network")
    if network not in NETWORKS:
        raise pytest.UsageError(f"hyperpy_network: unknown network {network!r}; use 'memory' or 'real'")
    emulator = Emulator(root=tmp_path / "nodes", real_network=network == "real")
    try:
        yield NodeFactory(request, emulator, hyperpy_mode, hyperpy_builds)
    finally:
        emulator.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure, attach each node's recent terminal output to the report."""
    report = yield
    if report.failed and call.when == "call":
        for harness in item.stash.get(NODES_KEY, []):
            report.sections.append((f"hyperpy node {harness.name} output", harness.tail()))
    return report
