"""Host side of the local Hyperdrive node emulator: kernel, runners, runtime modules, control API.

The public API is `Node` and `Emulator` (see docs/node.md); everything else is reached through them.

Why the names are loaded lazily (module `__getattr__`): importing any submodule imports this package
first, and the node proper pulls in aiohttp, the runtime modules and pydantic. Tools that need only a
small piece (`hyperpy.node.wit_types` in the build, the CLI listing its commands) must not pay for
all of it, so `from hyperpy.node import Node` imports the node on first use instead.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperpy.node.install import InstalledPackage, InstallError
    from hyperpy.node.node import (
        Emulator,
        InjectError,
        InjectOffline,
        InjectResponse,
        InjectTimeout,
        Node,
        ProcessInfo,
    )
    from hyperpy.node.readiness import ProcessStartError

# public name -> the module that defines it
_EXPORTS = {
    "Emulator": "hyperpy.node.node",
    "InjectError": "hyperpy.node.node",
    "InjectOffline": "hyperpy.node.node",
    "InjectResponse": "hyperpy.node.node",
    "InjectTimeout": "hyperpy.node.node",
    "InstallError": "hyperpy.node.install",
    "InstalledPackage": "hyperpy.node.install",
    "Node": "hyperpy.node.node",
    "ProcessInfo": "hyperpy.node.node",
    "ProcessStartError": "hyperpy.node.readiness",
}

__all__ = [
    "Emulator",
    "InjectError",
    "InjectOffline",
    "InjectResponse",
    "InjectTimeout",
    "InstallError",
    "InstalledPackage",
    "Node",
    "ProcessInfo",
    "ProcessStartError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hyperpy.node' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
