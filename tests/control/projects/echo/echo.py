"""A public raw echo for the control-surface and plugin tests: "crash" traps, "remember" sets state."""


class WitWorld:
    def init(self, our: str) -> None:
        from componentize_py_types import Err
        from wit_world.imports import standard

        standard.print_to_terminal(0, "echo: ready")
        while True:
            try:
                _source, message = standard.receive()
            except Err:
                continue
            if not isinstance(message, standard.Message_Request):
                continue
            body = message.value.body
            if body == b'"crash"':
                raise RuntimeError("echo was asked to crash")
            if body == b'"remember"':
                standard.set_state(b"remembered")
            standard.print_to_terminal(0, "echo: got " + body.decode())
            blob = standard.get_blob() if standard.has_blob() else None
            standard.send_response(standard.Response(False, body, None, []), blob)
