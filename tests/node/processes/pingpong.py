"""Raw process for round-trip tests: `{"pings": N, "target": addr}` makes N send-and-await round trips
to `target` (another pingpong, which echoes) and answers with the count of matching replies and the
seconds it took; any other request is echoed back."""

import json
import time

import wit_world
from componentize_py_types import Err
from wit_world.imports import standard


def address(value):
    node, _, rest = value.partition("@")
    name, package, publisher = rest.split(":")
    return standard.Address(node, standard.ProcessId(name, package, publisher))


class WitWorld(wit_world.WitWorld):
    def init(self, our: str) -> None:
        while True:
            try:
                _source, message = standard.receive()
            except Err:
                continue
            if not isinstance(message, standard.Message_Request):
                continue
            body = message.value.body
            if not body.startswith(b'{"pings"'):
                standard.send_response(standard.Response(False, body, None, []), None)
                continue
            command = json.loads(body)
            target = address(command["target"])
            matched = 0
            started = time.perf_counter()
            for index in range(command["pings"]):
                payload = str(index).encode()
                _, reply = standard.send_and_await_response(
                    target, standard.Request(False, 5, payload, None, []), None
                )
                if reply.value[0].body == payload:
                    matched += 1
            elapsed = time.perf_counter() - started
            result = json.dumps({"matched": matched, "seconds": elapsed}).encode()
            standard.send_response(standard.Response(False, result, None, []), None)
