"""Echo: answer every request with a response carrying the same body (the raw baseline)."""

from __future__ import annotations


class WitWorld:
    def init(self, our: str) -> None:
        from componentize_py_types import Err
        from wit_world.imports import standard

        while True:
            try:
                _source, message = standard.receive()
            except Err:
                continue
            if isinstance(message, standard.Message_Request):
                standard.send_response(standard.Response(False, message.value.body, None, []), None)
