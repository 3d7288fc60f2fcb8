"""`peers`: the peers the node holds connections with (Hyperdrive `terminal/peers`)."""

from hyperpy import script
from hyperpy.node.distro._net import identity_text, net_request


@script
async def main(args: str) -> str:
    answer = await net_request("GetPeers", 10)
    if answer is None:
        return "Failed to get peers from networking module"
    if not isinstance(answer, dict) or not isinstance(answer.get("Peers"), list):
        return "Got malformed response from networking module"
    lines = []
    for peer in answer["Peers"]:
        name, details = identity_text(peer)
        lines.append(f"{name}:\n    {details}")
    return "identities of current connected peers:\n" + "\n".join(lines)
