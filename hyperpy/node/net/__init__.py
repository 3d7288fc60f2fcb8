"""Networking between nodes in separate processes and on separate machines (net:distro:sys's wire).

* `wire` — KernelMessage, HandshakePayload and RoutingRequest as rmp-serde writes them;
* `connection` — TCP and WebSocket framing and the Noise XX handshake;
* `pki` — the `Pki` interface (name -> key, ip, ports, routers) and the directory-backed one;
* `keys` — the node's Ed25519 networking key;
* `transport` — `NetTransport`, the kernel's `NetworkLink` over real sockets.

The in-memory `hyperpy.node.network.Network` stays for nodes in one process (the Emulator's default).
See docs/node.md, "Nodes on a network".
"""
