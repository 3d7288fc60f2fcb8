"""Echo: answer every request with a response carrying the same body (and blob, if any).

A *raw* process: it implements componentize-py's `WitWorld` for the Hyperware world directly, as
kit's Python templates do, without the hyperpy framework. Two details matter:

- componentize-py's bindings *raise* `componentize_py_types.Err` from `receive()` (a send error: a
  request we sent timed out or its target was offline); they do not return it. Catching it keeps
  the process alive.
- The bindings are imported inside `init`, not at module level, so the module can also be imported
  on the host (hyperpy's native mode installs stand-ins for them there).
"""


class WitWorld:
    def init(self, our: str) -> None:
        from componentize_py_types import Err
        from wit_world.imports import standard

        standard.print_to_terminal(1, f"echo: started as {our}")
        while True:
            try:
                _source, message = standard.receive()
            except Err as error:
                standard.print_to_terminal(1, f"echo: send error: {error.value!r}")
                continue
            if not isinstance(message, standard.Message_Request):
                continue
            request = message.value
            blob = standard.get_blob() if standard.has_blob() else None
            response = standard.Response(
                inherit=False, body=request.body, metadata=request.metadata, capabilities=[]
            )
            standard.send_response(response, blob)
