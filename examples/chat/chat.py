"""Peer-to-peer chat: each node runs this process; messages travel between them as @remote calls.

* `send(to, text)` (local or HTTP `POST /api/send` with `{"to": "...", "text": "..."}`) calls
  `receive_message` on the chat process of node `to` and records the message once it arrived;
* `receive_message` is the only handler other nodes may call. It takes the author from the
  kernel-verified `source()`, never from the payload, and pushes the message to connected web
  clients over the WebSocket at `/ws`;
* web clients may also send `{"to": "...", "text": "..."}` frames on that WebSocket.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from hyperpy import (
    CallOffline,
    CallTimeout,
    Err,
    Ok,
    RemoteError,
    Result,
    app,
    background,
    call,
    http,
    local,
    log,
    our,
    remote,
    source,
    ws,
    ws_close,
    ws_open,
)
from hyperpy.http_server import WsMessageType, ws_broadcast, ws_push
from hyperpy.state import OnDiff


@dataclass
class ChatMessage:
    author: str  # node name
    text: str
    sent_at: float = 0.0  # seconds since the epoch, by the author's clock


@app(name="chat", save=OnDiff())
class Chat:
    conversations: dict[str, list[ChatMessage]] = field(default_factory=dict)

    @http(method="POST", path="/api/send")
    @local
    async def send(self, to: str, text: str) -> Result[int, str]:
        """Deliver `text` to node `to`; answers the conversation length, or why it failed."""
        if not text.strip():
            return Err("empty message")
        message = ChatMessage(our().node, text, time.time())
        peer = f"{to}@{our().process}"
        try:
            await call(peer, "receive_message", message, timeout=5, returns=bool)
        except CallOffline:
            return Err(f"{to} is offline")
        except CallTimeout:
            return Err(f"{to} did not answer")
        except RemoteError as error:
            return Err(f"{to} refused the message: {error.detail}")
        return Ok(self._record(to, message))

    @remote
    def receive_message(self, message: ChatMessage) -> bool:
        sender = source().node
        stored = ChatMessage(sender, message.text, message.sent_at)
        self._record(sender, stored)
        ws_broadcast(json.dumps({"from": sender, **asdict(stored)}))
        log(f"message from {sender}: {message.text}", verbosity=1)
        return True

    @http(method="GET", path="/api/conversations/{partner}")
    @local
    def history(self, partner: str) -> list[ChatMessage]:
        return self.conversations.get(partner, [])

    @http(method="GET", path="/api/partners")
    @local
    def partners(self) -> list[str]:
        return sorted(self.conversations)

    @ws_open
    def client_connected(self, channel_id: int, path: str) -> None:
        ws_push(channel_id, json.dumps({"partners": self.partners()}))

    @ws_close
    def client_left(self, channel_id: int) -> None:
        log(f"web client left (channel {channel_id})", verbosity=1)

    @ws
    def client_frame(self, channel_id: int, message_type: WsMessageType, data: bytes) -> None:
        """A web client sends `{"to": node, "text": ...}`; the result comes back on its channel."""
        try:
            request = json.loads(data)
            to, text = str(request["to"]), str(request["text"])
        except (ValueError, KeyError, TypeError):
            ws_push(channel_id, json.dumps({"error": 'send {"to": "<node>", "text": "<message>"}'}))
            return

        async def deliver() -> None:
            result = await self.send(to, text)
            outcome = {"sent": result.value} if isinstance(result, Ok) else {"error": result.error}
            ws_push(channel_id, json.dumps(outcome))

        background(deliver())

    def _record(self, partner: str, message: ChatMessage) -> int:
        conversation = self.conversations.setdefault(partner, [])
        conversation.append(message)
        return len(conversation)
