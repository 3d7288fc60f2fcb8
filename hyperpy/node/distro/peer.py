"""`peer <name>`: a node's PKI entry (Hyperdrive `terminal/peer`)."""

from hyperpy import script
from hyperpy.node.distro._net import identity_text, net_request


@script
async def main(args: str) -> str:
    answer = await net_request({"GetPeer": args}, 10)
    if answer is None:
        return "Failed to get response from networking module"
    if not isinstance(answer, dict) or "Peer" not in answer:
        return "Got malformed response from networking module"
    if answer["Peer"] is None:
        return f"no PKI entry found with name {args}"
    name, details = identity_text(answer["Peer"])
    return f"peer identity for {name}:\n    {details}"
