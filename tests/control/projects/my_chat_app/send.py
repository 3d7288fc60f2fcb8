"""`send:my-chat-app:template.os <node> <message>`: the chat template's script, in Python."""

from __future__ import annotations

from my_chat_app import SendRequest

from hyperpy import CallError, call, script

CHAT = "my-chat-app:my-chat-app:template.os"


@script
async def main(args: str) -> str:
    target, _, message = args.partition(" ")
    if not message:
        return "usage:\nsend:my-chat-app:template.os target message"
    try:
        await call(CHAT, "send", SendRequest(target, message), timeout=5)
    except CallError as error:
        return f"did not receive expected Response from {CHAT}: {error}"
    return f"sent to {target}: {message}"
