"""Host side of the local Hyperdrive node emulator: kernel, runners, runtime modules, control API.

The public API is `Node` and `Emulator` (see docs/node.md); everything else is reached through them.
"""

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
]
