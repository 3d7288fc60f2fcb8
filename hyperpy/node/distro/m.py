"""`m <address> <body> [-a <seconds>]`: send a request to any process (Hyperdrive `terminal/m`).

The line is split into words and single-quoted strings (quotes removed), then read like m's clap
command: two positionals (target, body) and `-a/--await <u64>`. Without `-a` m still waits up to
5 s for a response (so the target's capability checks see a live request) and prints nothing."""

import contextlib
import re

from hyperpy import Address, CallOffline, CallTimeout, log, our, request, script
from hyperpy.node.distro import USAGE

M_USAGE = f"{USAGE} m <target> <body> [-a <await_time>]"
_WORDS = re.compile(r"'[^']*'|\S+")


def parse_words(words: list[str]) -> tuple[str, str, int | None] | None:
    """(target, body, await seconds) as clap would accept them; None when clap would refuse."""
    positionals: list[str] = []
    wait: int | None = None
    index = 0
    while index < len(words):
        word = words[index]
        value: str | None = None
        if word in ("-a", "--await"):
            if index + 1 >= len(words):
                return None
            value = words[index + 1]
            index += 1
        elif word.startswith("--await="):
            value = word.removeprefix("--await=")
        elif word.startswith("-a") and len(word) > 2 and not word.startswith("--"):
            value = word[2:].removeprefix("=")
        elif word.startswith("-") and len(word) > 1:
            return None  # clap: an unknown option
        else:
            positionals.append(word)
        if value is not None:
            if wait is not None or not value.isdigit() or int(value) >= 1 << 64:
                return None
            wait = int(value)
        index += 1
    if len(positionals) != 2:
        return None
    return positionals[0], positionals[1], wait


@script
async def main(args: str) -> str:
    if not args:
        return f"Send a request to a process.\n{M_USAGE}"
    words = [w[1:-1] if len(w) >= 2 and w[0] == w[-1] == "'" else w for w in _WORDS.findall(args)]
    parsed = parse_words(words)
    if parsed is None:
        return f"Failed to parse args.\n{M_USAGE}"
    target_text, body, wait = parsed
    try:
        target = Address.parse(target_text)
    except ValueError:
        return f'Invalid address: "{target_text}"\n{M_USAGE}'
    if target.node == "our":
        target = Address(our().node, target.process)
    if wait is None:
        with contextlib.suppress(CallTimeout, CallOffline):
            await request(target, body, timeout=5)
        return ""
    log(f"Awaiting response for {wait}s", verbosity=0)
    try:
        reply = await request(target, body, timeout=max(wait, 0))
    except CallTimeout:
        return "Target did not send response in time, try increasing the await time"
    except CallOffline:
        return "Failed to send message because the target is offline"
    return reply.body.decode("utf-8", errors="replace")
