"""`kill <process>`: KillProcess through the kernel (Hyperdrive `terminal/kill`)."""

import json

from hyperpy import CallError, ProcessId, request, script
from hyperpy.node.distro import USAGE

KERNEL = "kernel:distro:sys"


@script
async def main(args: str) -> str:
    try:
        process = ProcessId.parse(args)
    except ValueError:
        return f"Invalid process ID.\n{USAGE} kill <process_id>"
    try:
        reply = await request(KERNEL, json.dumps({"KillProcess": str(process)}), timeout=60)
    except CallError:
        return "failed to get response from kernel"
    try:
        killed = json.loads(reply.body)["KilledProcess"]
    except (ValueError, KeyError, TypeError):
        return "failed to parse kernel response"
    return f"killed process {killed}"
