"""The node's networking key: an Ed25519 key kept in `<home>/net/networking-key` (32-byte seed).

Why kept in the home: the key is the node's identity on the network (the PKI's `~net-key`), it signs
handshakes, capabilities and `Sign` requests, so it must survive restarts; a new home is a new
identity, as a new Hyperdrive node is.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def load_key(home: Path) -> Ed25519PrivateKey:
    """The node's networking key, created on first boot (atomic write, owner-only permissions)."""
    path = home / "net" / "networking-key"
    if path.exists():
        return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_bytes_raw())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return key


def public_key_hex(key: Ed25519PrivateKey) -> str:
    """The key as the `~net-key` note and `Identity.networking_key` hold it: `0x` + hex."""
    return "0x" + key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
