"""The chat package's terminal script, kit style: `send:chat:template.os <node> <words...>`.

The terminal spawns it and sends the argument string as a Request; it asks our chat process to
send the message and prints what happened."""

import json

import chat_template_dot_os_v0
from chat_template_dot_os_v0.imports.standard import (
    Address,
    MessageRequest,
    ProcessId,
    Request,
    print_to_terminal,
    receive,
    send_and_await_response,
)
from chat_template_dot_os_v0.types import Err


class ChatTemplateDotOsV0(chat_template_dot_os_v0.ChatTemplateDotOsV0):
    def init(self, our):
        node = our.split("@", 1)[0]
        incoming = receive()
        if isinstance(incoming, Err):
            print_to_terminal(0, f"send: no arguments: {incoming.value}")
            return
        _source, message = incoming
        if not isinstance(message, MessageRequest):
            return
        words = message.value.body.decode("utf-8").split()
        if len(words) < 2:
            print_to_terminal(0, "usage: send:chat:template.os <node> <message>")
            return
        request = {"Send": {"target": words[0], "message": " ".join(words[1:])}}
        answer = send_and_await_response(
            Address(node, ProcessId("chat", "chat", "template.os")),
            Request(False, 5, json.dumps(request).encode("utf-8"), None, []),
            None,
        )
        if isinstance(answer, Err):
            print_to_terminal(0, f"send: chat did not answer: {answer.value.kind.name}")
            return
        _source, response = answer
        reply, _context = response.value
        print_to_terminal(0, f"send: {reply.body.decode('utf-8')}")
