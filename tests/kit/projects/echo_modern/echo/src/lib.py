"""kit's layout, written against today's componentize-py bindings (`wit_world`, `WitWorld`, errors
raised): answers every request with its own body, prefixed."""

from componentize_py_types import Err
from wit_world.imports.standard import Message_Request, Response, receive, send_response


class WitWorld:
    def init(self, our: str) -> None:
        while True:
            try:
                _source, message = receive()
            except Err:
                continue
            if isinstance(message, Message_Request):
                send_response(Response(False, b"echo: " + message.value.body, None, []), None)
