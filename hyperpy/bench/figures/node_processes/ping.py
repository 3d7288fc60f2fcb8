"""Ping: on a request with body N, make N sequential request/response round trips to `pong`.

A raw receive/respond loop, the shape of kit's Python templates: the smallest program that measures
what the kernel (routing, contexts, prompting message) and the runner (value conversion, thread
hand-off) cost per message. The answer to the command goes back to its sender with body N.
"""

from __future__ import annotations


class WitWorld:
    def init(self, our: str) -> None:
        from componentize_py_types import Err
        from wit_world.imports import standard

        me = standard.our()
        pong = standard.Address(
            me.node, standard.ProcessId("pong", me.process.package_name, me.process.publisher_node)
        )
        ping = standard.Request(False, 30, b"ping", None, [])
        while True:
            try:
                _source, message = standard.receive()
            except Err:
                continue
            if not isinstance(message, standard.Message_Request):
                continue
            body = message.value.body
            if body == b"stop":
                return
            count = int(body or b"0")
            for _ in range(count):
                standard.send_request(pong, ping, None, None)
                while True:
                    try:
                        _source, reply = standard.receive()
                    except Err:
                        break  # a timeout ends this round trip
                    if isinstance(reply, standard.Message_Response):
                        break
            standard.send_response(standard.Response(False, str(count).encode(), None, []), None)
