"""Process ids and capabilities the kernel treats specially (Hyperdrive's `KERNEL_PROCESS_ID` & co).

Why one place: the capability rules of runtime-contract.md §1.5 name these processes (kernel, state
and vfs are exempt from messaging checks; the network cap is issued by the kernel), and the host
functions address them directly (state for get/set-state, vfs and kernel for spawn). Spelling them
once keeps the kernel, the process host and the installer in agreement.
"""

from __future__ import annotations

from hyperpy.node.kernel_json import serde_json_text
from hyperpy.node.wit_types import Address, Capability, ProcessId
from hyperpy.package.names import is_name_safe, is_publisher_safe

KERNEL_PROCESS_ID = ProcessId("kernel", "distro", "sys")
STATE_PROCESS_ID = ProcessId("state", "distro", "sys")
VFS_PROCESS_ID = ProcessId("vfs", "distro", "sys")
NET_PROCESS_ID = ProcessId("net", "distro", "sys")
HTTP_SERVER_PROCESS_ID = ProcessId("http-server", "distro", "sys")

# Sources that pass every local messaging check (Hyperdrive kernel main loop).
CAPABILITY_EXEMPT_SOURCES = frozenset({KERNEL_PROCESS_ID, STATE_PROCESS_ID, VFS_PROCESS_ID})

MESSAGING_PARAMS = '"messaging"'
NETWORK_PARAMS = '"network"'

# A node string that the kernel replaces by its own name before any check.
OUR_NODE_ALIAS = "our"


def messaging_cap(node: str, process: ProcessId) -> Capability:
    """The capability to message `process` on `node`: issuer = that process, params `"messaging"`."""
    return Capability(Address(node, process), MESSAGING_PARAMS)


def network_cap(node: str) -> Capability:
    """The kernel-issued capability to send and receive messages across the network."""
    return Capability(Address(node, KERNEL_PROCESS_ID), NETWORK_PARAMS)


def drive_caps(node: str, drive: str) -> list[Capability]:
    """vfs read and write caps for `drive` (`/<package>:<publisher>/<drive>`), as the app store grants."""
    return [
        Capability(Address(node, VFS_PROCESS_ID), serde_json_text({"kind": kind, "drive": drive}))
        for kind in ("read", "write")
    ]


def is_hypermap_safe(process: ProcessId) -> bool:
    """Hyperdrive's `check_process_id_hypermap_safe`: names `[a-z0-9-]+`, publisher `[a-z0-9-.]+`."""
    return (
        is_name_safe(process.process_name)
        and is_name_safe(process.package_name)
        and is_publisher_safe(process.publisher_node)
    )
