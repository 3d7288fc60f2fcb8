"""The network between emulated nodes: delivery across kernels, and nodes going offline.

Why this small: Hyperdrive's `net` module does PKI lookups, encrypted connections and routing; what a
process can observe of it is only (a) remote messages arrive, subject to the network capability on
both ends (checked by each kernel), and (b) a message to a node that cannot be reached comes back as
`send-error{kind: offline}` — to a request with a context (§1.7). Here every node of an `Emulator`
registers with one `Network`; a message to a node that is unknown, stopped or set offline, or from a
node that is offline, is reported Offline at once (Hyperdrive may first wait up to 5 s to connect).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.wit_types import SendErrorKind

if TYPE_CHECKING:
    from hyperpy.node.kernel import Kernel


class Network:
    """Connects the kernels of several nodes in one Python process."""

    def __init__(self) -> None:
        self._kernels: dict[str, Kernel] = {}
        self._offline: set[str] = set()
        self._lock = threading.Lock()

    def attach(self, kernel: Kernel) -> None:
        with self._lock:
            self._kernels[kernel.name] = kernel

    def detach(self, kernel: Kernel) -> None:
        with self._lock:
            if self._kernels.get(kernel.name) is kernel:
                del self._kernels[kernel.name]

    def set_offline(self, node: str, offline: bool = True) -> None:
        """Cut `node` off (its processes keep running; nothing reaches it or leaves it) or reconnect it."""
        with self._lock:
            if offline:
                self._offline.add(node)
            else:
                self._offline.discard(node)

    def send(self, message: KernelMessage, sender: Kernel) -> None:
        """Deliver `message` to its target node, or report Offline to `sender` (on the sender's loop)."""
        from hyperpy.node.kernel import KernelStopped

        with self._lock:
            target = self._kernels.get(message.target.node)
            reachable = (
                target is not None
                and message.target.node not in self._offline
                and sender.name not in self._offline
            )
        if target is None or not reachable:
            sender.network_error(message, SendErrorKind.OFFLINE)
            return
        try:
            target.receive_from_network(message)
        except KernelStopped:
            sender.network_error(message, SendErrorKind.OFFLINE)
