"""`hi <node> <message>`: send text to another node's terminal (Hyperdrive `terminal/hi`).

The receiving node's `net:distro:sys` prints the text and answers "ack"."""

from hyperpy import Address, CallOffline, CallTimeout, ProcessId, our, request, script
from hyperpy.node.distro import USAGE

HI_USAGE = f"{USAGE} hi <node_id> <message>"


@script
async def main(args: str) -> str:
    if not args:
        return f"Send a text message to another node's terminal.\n{HI_USAGE}"
    node_id, separator, message = args.partition(" ")
    if not separator:
        return f"Not enough arguments given.\n{HI_USAGE}"
    if node_id == "our":
        node_id = our().node
    try:
        reply = await request(Address(node_id, ProcessId("net", "distro", "sys")), message, timeout=10)
    except CallTimeout:
        return f"message to {node_id} timed out"
    except CallOffline:
        return f"{node_id} is offline or does not exist"
    try:
        return f"response from {node_id}: {reply.body.decode()}"
    except UnicodeDecodeError:
        return f"malformed response from {node_id}"
