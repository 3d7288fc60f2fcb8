"""Raw process that misbehaves on request: `spin` loops forever without calling the host, `alloc`
allocates until memory runs out (the MemoryError ends init: a crash); anything else is echoed."""

import wit_world
from componentize_py_types import Err
from wit_world.imports.standard import Message_Request, Response, print_to_terminal, receive, send_response


class WitWorld(wit_world.WitWorld):
    def init(self, our: str) -> None:
        print_to_terminal(0, f"runaway: started as {our}")
        while True:
            try:
                _source, message = receive()
            except Err:
                continue
            if not isinstance(message, Message_Request):
                continue
            body = message.value.body
            if body == b"spin":
                print_to_terminal(0, "runaway: spinning")
                while True:
                    pass
            if body == b"alloc":
                print_to_terminal(0, "runaway: allocating")
                chunks = []
                while True:
                    chunks.append(bytearray(8 * 1024 * 1024))
            send_response(Response(False, body, None, []), None)
