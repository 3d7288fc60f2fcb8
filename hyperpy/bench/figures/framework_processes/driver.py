"""Driver: on `{"target": name, "body": text, "count": N}` make N sequential request/response round
trips to process `name` of this package with request body `text`, then answer N.

A raw receive/respond loop (kit's template shape), so the figure measures only the target.
"""

from __future__ import annotations

import json


class WitWorld:
    def init(self, our: str) -> None:
        from componentize_py_types import Err
        from wit_world.imports import standard

        me = standard.our()
        while True:
            try:
                _source, message = standard.receive()
            except Err:
                continue
            if not isinstance(message, standard.Message_Request):
                continue
            command = json.loads(message.value.body)
            target = standard.Address(
                me.node,
                standard.ProcessId(command["target"], me.process.package_name, me.process.publisher_node),
            )
            request = standard.Request(False, 30, command["body"].encode(), None, [])
            count = int(command["count"])
            answered = 0
            for _ in range(count):
                standard.send_request(target, request, None, None)
                while True:
                    try:
                        _source, reply = standard.receive()
                    except Err:
                        break  # a timeout ends this round trip unanswered
                    if isinstance(reply, standard.Message_Response):
                        answered += 1
                        break
            standard.send_response(standard.Response(False, str(answered).encode(), None, []), None)
