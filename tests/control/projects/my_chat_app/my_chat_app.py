"""The Quick Start chat: `{"Send": {"target", "message"}}` and `{"History": node}`, as kit's template.

A Send whose target is this node is a message *to* us (from the sender's node); any other Send is
ours to deliver: it goes to the same process on the target node, then both sides keep the message
in their history with its author.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperpy import Address, app, call, local, log, our, remote, source


@dataclass
class SendRequest:
    target: str
    message: str


@dataclass
class ChatMessage:
    author: str
    content: str


@app(name="my-chat-app")
class MyChatApp:
    archive: dict[str, list[ChatMessage]] = field(default_factory=dict)

    @local
    @remote
    async def send(self, request: SendRequest) -> bool:
        sender = source().node
        me = our()
        if request.target == me.node:
            log(f"{sender}: {request.message}", verbosity=0)
            self.archive.setdefault(sender, []).append(ChatMessage(sender, request.message))
            return True
        await call(Address(request.target, me.process), "send", request, timeout=5)
        self.archive.setdefault(request.target, []).append(ChatMessage(me.node, request.message))
        return True

    @local
    @remote
    def history(self, node: str) -> list[ChatMessage]:
        return self.archive.get(node, [])
