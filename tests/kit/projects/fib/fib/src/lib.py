"""Answers {"Number": n} with {"Number": fib(n)}, only to its own node. Written in the style of kit's
echo and fibonacci templates: the bindings are imported as `process` (the world of Hyperware's
pre-1.0 WIT) and the export class is `Process`."""

import json

import process
from process.imports.standard import (
    MessageRequest,
    Response,
    print_to_terminal,
    receive,
    send_response,
)
from process.types import Err


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def answer(body):
    send_response(Response(False, json.dumps(body).encode(), None, []), None)


class Process(process.Process):
    def init(self, our):
        our_node = our.split("@")[0]
        print_to_terminal(0, "fib: begin (python)")
        while True:
            result = receive()
            if isinstance(result, Err):
                continue
            source, message = result
            if not isinstance(message, MessageRequest):
                continue
            if source.node != our_node:
                print_to_terminal(0, f"fib: dropping a request from {source.node}")
                continue
            try:
                number = json.loads(message.value.body)["Number"]
                answer({"Number": fib(number)})
            except Exception as exc:
                answer({"Error": str(exc)})
