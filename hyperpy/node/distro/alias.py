"""`alias <name> [process]`: set or remove a terminal alias (Hyperdrive `terminal/alias`).

Sends the terminal an `EditAlias` request; the terminal prints what it did and persists it."""

import json

from hyperpy import Address, ProcessId, our, script
from hyperpy.node.distro import USAGE
from hyperpy.runtime.process import current_runtime

ALIAS_USAGE = f"{USAGE} alias <alias_name> <process_id>"
TERMINAL = "terminal:terminal:sys"


@script
def main(args: str) -> str:
    if not args:
        return f"Change alias for a process.\n{ALIAS_USAGE}"
    alias, _, process = args.partition(" ")
    if not alias:
        return f"No alias given.\n{ALIAS_USAGE}"
    if process:
        try:
            ProcessId.parse(process)
        except ValueError:
            return f"Invalid process ID.\n{ALIAS_USAGE}"
    edit = {"EditAlias": {"alias": alias, "process": process or None}}
    runtime = current_runtime()
    runtime.send(Address(our().node, ProcessId.parse(TERMINAL)), json.dumps(edit).encode())
    return "alias set"
