"""pytest plugin and fixtures for testing packages on the local node (see docs/testing.md).

`HyperpyNode` (what the `hyperpy_node` fixture gives), `NoResponse` and `PackageBuilds` are importable
from here for type hints. They load lazily: pytest imports this package for the plugin in every
session, and the node should only be imported by sessions that use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperpy.testing.harness import HyperpyNode, NoResponse, PackageBuilds

__all__ = ["HyperpyNode", "NoResponse", "PackageBuilds"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hyperpy.testing import harness

        return getattr(harness, name)
    raise AttributeError(f"module 'hyperpy.testing' has no attribute {name!r}")
