"""A scriptable raw (kit-style) process for the node tests, run natively and as a component.

Why one scriptable process: each component build costs seconds, and the kernel rules under test are
about *sequences* of host calls. A test injects a JSON request `{"op": ...}` and the probe performs
it with the host functions, in the context of that message; a request or response carrying such an
op in its body (or, for a response, in the sender's saved *context*) runs it too, so multi-step
scenarios (forward with inherit, answer after an await, on-exit requests) need no extra code.

Everything the probe receives is printed at verbosity 0 as `probe <name>: got ...`, so tests wait for
terminal lines instead of sleeping.
"""

import json
import sys

import wit_world
from componentize_py_types import Err
from wit_world.imports import standard

RUNS = 0  # module global: fresh after a Restart (fresh instance / fresh import)


class Crash(Exception):
    """Raised by the `crash` op; escapes init so the process traps."""


class Finish(Exception):
    """Raised by the `exit` op; init returns normally."""


def text(data):
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return repr(data)


def decoded(data):
    """A body as JSON if it is JSON, else as text."""
    try:
        return json.loads(data)
    except (ValueError, TypeError):
        return text(data)


def encode(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def process_id(value):
    name, package, publisher = value.split(":")
    return standard.ProcessId(name, package, publisher)


def address(value):
    node, _, rest = value.partition("@")
    return standard.Address(node, process_id(rest))


def address_text(value):
    process = value.process
    return f"{value.node}@{process.process_name}:{process.package_name}:{process.publisher_node}"


def process_text(value):
    return f"{value.process_name}:{value.package_name}:{value.publisher_node}"


def capability(pair):
    return standard.Capability(address(pair[0]), pair[1])


def blob(value):
    return None if value is None else standard.LazyLoadBlob("text/plain", value.encode("utf-8"))


def blob_text(value):
    return None if value is None else text(value.bytes)


def on_exit(value):
    if value == "None":
        return standard.OnExit_None_()
    if value == "Restart":
        return standard.OnExit_Restart()
    requests = [
        (address(target), standard.Request(False, None, encode(body), None, []), None)
        for target, body in value["Requests"]
    ]
    return standard.OnExit_Requests(requests)


def on_exit_name(value):
    if isinstance(value, standard.OnExit_None_):
        return "None"
    if isinstance(value, standard.OnExit_Restart):
        return "Restart"
    return "Requests"


def parse(data):
    try:
        value = json.loads(data)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


class Probe:
    def __init__(self, our):
        self.our = our
        self.name = our.split("@")[1].split(":")[0]
        self.other_requests_op = None  # set by the `serve` op

    def say(self, message, verbosity=0):
        standard.print_to_terminal(verbosity, f"probe {self.name}: {message}")

    def reply(self, value, inherit=False, blob_value=None):
        """Answer the prompting message; the body is always JSON."""
        body = json.dumps(value).encode("utf-8")
        standard.send_response(standard.Response(inherit, body, None, []), blob(blob_value))

    def request(self, op, expects):
        caps = [capability(pair) for pair in op.get("caps", [])]
        return standard.Request(
            op.get("inherit", False), expects, encode(op.get("body", "")), op.get("metadata"), caps
        )

    # ------------------------------------------------------------------------------------------ ops

    def run(self, op):
        name = op.get("op")
        handler = getattr(self, f"op_{name}", None)
        if handler is None:
            self.say(f"unknown op {name!r}")
            return
        handler(op)

    def op_seq(self, op):
        for step in op["ops"]:
            self.run(step)

    def op_serve(self, op):
        """Run `op["op_for_others"]` for every later request that carries no op (e.g. HTTP from
        http-server, answered with `{"op": "reply", "body": {"status": 200, ...}, "blob": ...}`)."""
        self.other_requests_op = op["op_for_others"]
        self.reply("ok")

    def op_print(self, op):
        self.say(op.get("text", ""), op.get("verbosity", 0))

    def op_reply(self, op):
        self.reply(op.get("body", "ok"), op.get("inherit", False), op.get("blob"))

    def op_send(self, op):
        request = self.request(op, op.get("expects"))
        standard.send_request(address(op["target"]), request, encode(op.get("context")), blob(op.get("blob")))

    def op_await(self, op):
        request = self.request(op, op.get("expects", 5))
        try:
            source, message = standard.send_and_await_response(
                address(op["target"]), request, blob(op.get("blob"))
            )
            result = {"response": decoded(message.value[0].body), "source": address_text(source)}
        except Err as error:
            result = {"error": error.value.kind.name.lower()}
        self.say(f"await returned {json.dumps(result, sort_keys=True)}")
        if op.get("reply", True):
            self.reply(result)

    def op_await_self(self, op):
        standard.send_and_await_response(address(self.our), standard.Request(False, 5, b"me", None, []), None)

    def op_count(self, op):
        global RUNS
        RUNS += 1
        self.reply(RUNS)

    def op_blobs(self, op):
        self.reply(
            {
                "has": standard.has_blob(),
                "get": blob_text(standard.get_blob()),
                "last": blob_text(standard.last_blob()),
            }
        )

    def op_set_state(self, op):
        standard.set_state(encode(op["value"]))
        if op.get("reply", True):
            self.reply("ok")

    def op_get_state(self, op):
        value = standard.get_state()
        if op.get("reply", True):
            self.reply({"state": text(value)})

    def op_clear_state(self, op):
        standard.clear_state()
        self.reply("ok")

    def op_caps(self, op):
        caps = sorted([address_text(c.issuer), c.params] for c in standard.our_capabilities())
        self.reply(caps)

    def op_save_caps(self, op):
        standard.save_capabilities([capability(pair) for pair in op["caps"]])
        self.reply("ok")

    def op_drop_caps(self, op):
        standard.drop_capabilities([capability(pair) for pair in op["caps"]])
        self.reply("ok")

    def op_spawn(self, op):
        try:
            child = standard.spawn(
                op.get("name"),
                op["wasm_path"],
                on_exit(op.get("on_exit", "None")),
                [capability(pair) for pair in op.get("request_caps", [])],
                [(process_id(holder), params) for holder, params in op.get("grant_caps", [])],
                op.get("public", False),
            )
            result = {"spawned": process_text(child)}
        except Err as error:
            result = {"error": error.value.name}
        if op.get("reply", True):
            self.reply(result)

    def op_set_on_exit(self, op):
        standard.set_on_exit(on_exit(op["value"]))
        if op.get("reply", True):
            self.reply("ok")

    def op_get_on_exit(self, op):
        self.reply(on_exit_name(standard.get_on_exit()))

    def op_stderr(self, op):
        sys.stderr.write(op["text"])
        sys.stderr.flush()

    def op_stdout(self, op):
        print(op["text"])

    def op_crash(self, op):
        raise Crash(op.get("message", "boom"))

    def op_exit(self, op):
        raise Finish()

    # ------------------------------------------------------------------------------------ messages

    def handle(self, source, message):
        if isinstance(message, standard.Message_Request):
            request = message.value
            caps = ";".join(f"{address_text(c.issuer)} {c.params}" for c in request.capabilities)
            self.say(
                f"got request from {address_text(source)} body={text(request.body)} "
                f"has_blob={standard.has_blob()} caps=[{caps}]"
            )
            op = parse(request.body)
            if op is not None and "op" in op:
                self.run(op)
            elif self.other_requests_op is not None:
                self.run(self.other_requests_op)
            return
        response, context = message.value
        self.say(
            f"got response from {address_text(source)} context={text(context)} body={text(response.body)} "
            f"blob={blob_text(standard.get_blob())}"
        )
        op = parse(context)
        if op is not None and "op" in op:
            self.run(op)

    def handle_error(self, error, context):
        original = error.message.value.body if isinstance(error.message, standard.Message_Request) else b""
        kind = error.kind.name.lower()
        self.say(
            f"got error {kind} context={text(context)} target={address_text(error.target)} "
            f"body={text(original)} blob={blob_text(error.lazy_load_blob)}"
        )
        op = parse(context)
        if op is not None and "on_error" in op:
            self.run(op["on_error"])


class WitWorld(wit_world.WitWorld):
    def init(self, our: str) -> None:
        probe = Probe(our)
        probe.say("started")
        while True:
            try:
                source, message = standard.receive()
            except Err as error:
                send_error, context = error.value
                probe.handle_error(send_error, context)
                continue
            try:
                probe.handle(source, message)
            except Finish:
                probe.say("exiting")
                return
            except Crash:
                raise
            except Err as error:
                probe.say(f"host error {error.value!r}")
            except Exception as error:
                probe.say(f"op failed: {type(error).__name__}: {error}")
