"""Raw kit-style process: answers every request with its own body (and blob); prints what it got."""

import wit_world
from componentize_py_types import Err
from wit_world.imports.standard import (
    Message_Request,
    Response,
    get_blob,
    print_to_terminal,
    receive,
    send_response,
)


class WitWorld(wit_world.WitWorld):
    def init(self, our: str) -> None:
        print_to_terminal(0, f"echo: started as {our}")
        while True:
            try:
                _source, message = receive()
            except Err:
                continue
            if isinstance(message, Message_Request):
                print_to_terminal(1, f"echo: got {message.value.body!r}")
                send_response(Response(False, message.value.body, message.value.metadata, []), get_blob())
