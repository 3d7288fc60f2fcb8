"""An async script: asks the package's echo process to echo its argument string, shouts the answer."""

from hyperpy import request, script


@script
async def main(args: str) -> str:
    reply = await request("echo:scripts-test:test.os", args, timeout=5)
    return reply.body.decode().upper()
