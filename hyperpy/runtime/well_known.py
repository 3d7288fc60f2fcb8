"""Process ids of the node's built-in processes, spelled once for the runtime, package, build and node.

Why one place: these strings are Hyperdrive's (`KERNEL_PROCESS_ID`, `HTTP_SERVER_PROCESS_ID`, ... in
hyperware_lib's `core.rs`, and the runtime modules' names in `runtime-contract.md`). The framework
addresses them (answers to http-server, anchors to timer, `@app(uses=[...])`), the package layer
infers capabilities for them, and the node registers and checks them; a typo in any one copy would
make a process unreachable only in one place. Stdlib only: this module runs inside components.
The host's `ProcessId` objects for the same ids live in `hyperpy.node.well_known`, built from these.
"""

from __future__ import annotations

KERNEL = "kernel:distro:sys"
STATE = "state:distro:sys"
VFS = "vfs:distro:sys"
NET = "net:distro:sys"
TIMER = "timer:distro:sys"
HTTP_SERVER = "http-server:distro:sys"
HTTP_CLIENT = "http-client:distro:sys"
KV = "kv:distro:sys"
SQLITE = "sqlite:distro:sys"
ETH = "eth:distro:sys"
HOMEPAGE = "homepage:homepage:sys"
APP_STORE = "main:app-store:sys"

ALWAYS_DELIVERED = frozenset({VFS, STATE, KERNEL})
"""Sources that pass every local messaging check (Hyperdrive's kernel main loop), so a process never
needs a capability to hear from them."""
