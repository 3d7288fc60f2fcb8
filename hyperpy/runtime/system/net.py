"""net:distro:sys: sign and verify with the node's networking key. Bodies are MessagePack
(rmp_serde), not JSON: unit variants are strings, struct variants positional arrays."""

from __future__ import annotations

from typing import Any

# Imported here, not when first used: a component can only import what its pre-initialisation
# (the build) imported; msgpack's pure-Python fallback is what runs there.
import msgpack

from hyperpy.runtime import well_known
from hyperpy.runtime.process import current_runtime
from hyperpy.runtime.system import ModuleError, module_address
from hyperpy.runtime.types import Address

__hyperpy_process__ = well_known.NET
PROCESS = __hyperpy_process__


def _tag(answer: Any) -> tuple[str | None, Any]:
    if isinstance(answer, str):
        return answer, None
    if isinstance(answer, dict) and len(answer) == 1:
        ((name, value),) = answer.items()
        return str(name), value
    return None, None


async def _net(value: Any, *, blob: bytes | None = None, timeout: float = 5) -> tuple[Any, Any]:
    runtime = current_runtime("net")
    reply = await runtime.request(
        module_address(PROCESS), msgpack.packb(value), timeout=timeout, blob=blob, label="net"
    )
    try:
        answer = msgpack.unpackb(reply.body, raw=False)
    except Exception:
        raise ModuleError(PROCESS, f"unreadable answer {reply.body[:80]!r}") from None
    return answer, reply


async def sign(data: bytes) -> bytes:
    """Sign `our address ++ data` with the node key; returns the signature."""
    answer, reply = await _net("Sign", blob=bytes(data))
    tag, _ = _tag(answer)
    if tag != "Signed" or reply.blob is None:
        raise ModuleError(PROCESS, answer, "Sign")
    return reply.blob.bytes


async def verify(signer: Address | str, data: bytes, signature: bytes) -> bool:
    """Check that `signature` is `signer`'s signature over `signer ++ data`."""
    answer, _ = await _net({"Verify": [str(signer), list(signature)]}, blob=bytes(data))
    tag, value = _tag(answer)
    if tag != "Verified":
        raise ModuleError(PROCESS, answer, "Verify")
    return bool(value)
