"""`net-diagnostics`: the networking module's diagnostics (Hyperdrive `terminal/net-diagnostics`)."""

from hyperpy import script
from hyperpy.node.distro._net import net_request


@script
async def main(args: str) -> str:
    answer = await net_request("GetDiagnostics", 60)
    if answer is None:
        return "Failed to get diagnostics from networking module"
    if not isinstance(answer, dict) or not isinstance(answer.get("Diagnostics"), str):
        return "Got malformed response from networking module"
    return "\r\n" + answer["Diagnostics"]
