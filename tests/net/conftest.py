"""Nodes on real loopback sockets, in one process: the transport, the PKI and the adversarial tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hyperpy.node import Node
from hyperpy.node.modules import ModulesConfig, default_modules
from hyperpy.node.net.pki import DirectoryPki
from hyperpy.node.net.transport import NetConfig

NodeMaker = Callable[..., Node]


@pytest.fixture
def pki(tmp_path: Path) -> DirectoryPki:
    """A PKI of this test only (independent runs never see each other's `fake.dev`)."""
    return DirectoryPki(tmp_path / "pki")


@pytest.fixture
def make_node(tmp_path: Path, pki: DirectoryPki) -> Iterator[NodeMaker]:
    """Boot a node on loopback with the test's PKI: `make_node("a.dev", tcp_port=0, ws_port=None)`."""
    started: list[Node] = []

    def make(name: str, **net_options: object) -> Node:
        config = NetConfig(pki=pki, **net_options)  # type: ignore[arg-type]
        node = Node(
            name,
            tmp_path / name,
            net=config,
            modules=lambda: default_modules(ModulesConfig(http_port=0)),
        )
        node.start()
        started.append(node)
        return node

    yield make
    for node in reversed(started):
        node.close()


def hello(sender: Node, target: str, text: str = "hello", timeout: int = 5) -> bytes:
    """What the `hi` script does: a Request to net:distro:sys on `target`; returns the answer body."""
    response = sender.inject(f"{target}@net:distro:sys", text, expects_response=timeout)
    assert response is not None
    return response.body
