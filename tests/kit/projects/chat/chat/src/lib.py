"""A chat process in the style of kit's Python template: componentize-py 0.11 bindings, named
after the world, errors returned as `Err`. Written for hyperpy's tests."""

import json

import chat_template_dot_os_v0
from chat_template_dot_os_v0.imports.standard import (
    Address,
    MessageRequest,
    MessageResponse,
    ProcessId,
    Request,
    Response,
    print_to_terminal,
    receive,
    send_and_await_response,
    send_response,
)
from chat_template_dot_os_v0.types import Err

OUR_PROCESS = ProcessId("chat", "chat", "template.os")


def node_of(address):
    return address.split("@", 1)[0]


def reply(body):
    send_response(Response(False, json.dumps(body).encode("utf-8"), None, []), None)


def remember(history, peer, author, content):
    history.setdefault(peer, []).append({"author": author, "content": content})


def serve_one(our_node, history):
    result = receive()
    if isinstance(result, Err):
        print_to_terminal(0, f"chat: receive failed: {result.value}")
        return
    source, message = result
    if isinstance(message, MessageResponse):
        print_to_terminal(0, "chat: ignoring a stray response")
        return
    assert isinstance(message, MessageRequest)
    body = json.loads(message.value.body)
    if "Send" in body:
        target = body["Send"]["target"]
        text = body["Send"]["message"]
        if target == our_node:
            print_to_terminal(0, f"{source.node}: {text}")
            remember(history, source.node, source.node, text)
        else:
            answer = send_and_await_response(
                Address(target, OUR_PROCESS),
                Request(False, 5, message.value.body, None, []),
                None,
            )
            if isinstance(answer, Err):
                reply({"Error": f"could not reach {target}: {answer.value.kind.name}"})
                return
            remember(history, target, our_node, text)
        reply({"Send": None})
    elif "History" in body:
        reply({"History": history.get(body["History"], [])})
    else:
        reply({"Error": f"unknown request {sorted(body)}"})


class ChatTemplateDotOsV0(chat_template_dot_os_v0.ChatTemplateDotOsV0):
    def init(self, our):
        print_to_terminal(0, "chat: begin (python, kit bindings)")
        our_node = node_of(our)
        history = {}
        while True:
            try:
                serve_one(our_node, history)
            except Exception as exc:
                print_to_terminal(0, f"chat: error: {exc}")
