"""Process ids and capabilities the kernel treats specially (Hyperdrive's `KERNEL_PROCESS_ID` & co).

Why one place: the capability rules of runtime-contract.md §1.5 name these processes (kernel, state
and vfs are exempt from messaging checks; the network cap is issued by the kernel), and the host
functions address them directly (state for get/set-state, vfs and kernel for spawn). Spelling them
once keeps the kernel, the process host and the installer in agreement.
"""

from __future__ import annotations

from hyperpy.node.kernel_json import serde_json_text
from hyperpy.node.wit_types import Address, Capability, ProcessId
from hyperpy.runtime import well_known as ids

# The ids are spelled once, in hyperpy.runtime.well_known; these are the host's ProcessId objects.
KERNEL_PROCESS_ID = ProcessId.parse(ids.KERNEL)
STATE_PROCESS_ID = ProcessId.parse(ids.STATE)
VFS_PROCESS_ID = ProcessId.parse(ids.VFS)
NET_PROCESS_ID = ProcessId.parse(ids.NET)
HTTP_SERVER_PROCESS_ID = ProcessId.parse(ids.HTTP_SERVER)
HOMEPAGE_PROCESS_ID = ProcessId.parse(ids.HOMEPAGE)
APP_STORE_PROCESS_ID = ProcessId.parse(ids.APP_STORE)

# Sources that pass every local messaging check (Hyperdrive kernel main loop).
CAPABILITY_EXEMPT_SOURCES = frozenset(ProcessId.parse(process) for process in ids.ALWAYS_DELIVERED)

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


def drive_cap_params(kind: str, drive: str) -> str:
    """Params of a vfs drive capability (`kind` "read" or "write", `drive` `/<package>:<publisher>/<d>`):
    `json!({"kind": kind, "drive": drive}).to_string()` as Hyperdrive's vfs and app store write them
    (a serde_json::Value, so keys sorted)."""
    return serde_json_text({"kind": kind, "drive": drive})


def drive_caps(node: str, drive: str) -> list[Capability]:
    """vfs read and write caps for `drive` (`/<package>:<publisher>/<drive>`), as the app store grants."""
    return [
        Capability(Address(node, VFS_PROCESS_ID), drive_cap_params(kind, drive)) for kind in ("read", "write")
    ]
