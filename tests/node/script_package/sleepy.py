"""A long-running script: sleeps as many seconds as its argument says (timers go through timer:distro:sys)."""

import asyncio

from hyperpy import log, script


@script
async def main(args: str) -> str:
    seconds = float(args or "1")
    log(f"sleeping {seconds}s", verbosity=0)
    await asyncio.sleep(seconds)
    return f"slept {seconds}s"
