"""`top [process] [-c]`: the kernel's process map, or one process (Hyperdrive `terminal/top`)."""

import json
from typing import Any

from hyperpy import CallError, ProcessId, request, script
from hyperpy.node.distro import USAGE

TOP_USAGE = (
    f"{USAGE}\n    \ntop [-c <show-caps>] <- to view all processes\n"
    "    \ntop <process_id> [-c <show-caps>] <- to view one process"
)


def _on_exit(value: Any) -> str:
    """Rust's `{:?}` of OnExit, shortened for Requests to the number of requests."""
    if isinstance(value, str):
        return value
    requests = value.get("Requests", []) if isinstance(value, dict) else []
    return f"Requests({len(requests)} requests)"


def _capability(cap: dict[str, Any]) -> str:
    """process_lib's `Capability` Display: `issuer(params as JSON)`."""
    try:
        params = json.dumps(json.loads(cap["params"]), separators=(",", ":"))
    except (ValueError, TypeError):
        params = '"invalid JSON in capability"'
    return f"{cap['issuer']}({params})"


def print_process(process_id: str, row: dict[str, Any], show_caps: bool) -> str:
    caps = row.get("capabilities") or []
    listed = (
        "".join(f"{_capability(cap)}\r\n        " for cap in caps)
        if show_caps
        else f"{len(caps)}, use -c to display"
    )
    return (
        f"{process_id}:\r\n    {row.get('wasm_bytes_handle') or '(runtime)'}\r\n"
        f"    wit: {row.get('wit_version') or 0}\r\n    on-exit: {_on_exit(row.get('on_exit'))}\r\n"
        f"    public: {str(row.get('public')).lower()}\r\n    capabilities:\r\n        {listed}"
    )


@script
async def main(args: str) -> str:
    words = args.split()
    show_caps = False
    targets = []
    for word in words:
        if word in ("-c", "--show-caps"):
            show_caps = True
        elif word.startswith("-"):
            return f"Failed to parse args.\n{TOP_USAGE}"
        else:
            targets.append(word)
    if len(targets) > 1:
        return f"Failed to parse args.\n{TOP_USAGE}"
    target: ProcessId | None = None
    if targets:
        try:
            target = ProcessId.parse(targets[0])
        except ValueError as error:
            return f"invalid process id: {error}\n{TOP_USAGE}"
    command = {"Debug": "ProcessMap"} if target is None else {"Debug": {"Process": str(target)}}
    try:
        reply = await request("kernel:distro:sys", json.dumps(command), timeout=60)
    except CallError:
        return "Failed to get response from kernel"
    try:
        debug = json.loads(reply.body)["Debug"]
    except (ValueError, KeyError, TypeError):
        return "Failed to parse kernel response"
    if "ProcessMap" in debug:
        rows = debug["ProcessMap"]
        printout = "\r\n".join(print_process(pid, rows[pid], show_caps) for pid in sorted(rows))
        return f"\r\n{printout}\r\n\r\ntop: {len(rows)} running processes"
    row = debug.get("Process")
    if row is None:
        return f"process {target} not running"
    return print_process(str(target), row, show_caps)
