"""A raw process that lets tests reach every runtime module the way a kit-style process does.

Ops arrive as JSON requests (`{"op": ...}`, injected by the test) and are answered with JSON:

* `call`: send `body` (JSON value, or raw bytes in `body_b64`) with an optional blob to `target`
  (`our@...` means this node); with `expects` set, wait for the answer and reply with its body, blob,
  metadata and source, or with `{"error": "timeout"|"offline"}`; without, reply `{"sent": true}`;
* `serve_file`: read a file of the package drive through vfs and bind it with `cache: true`;
* `http_answers`: set what HTTP requests to a bound path are answered with (default: an echo of the
  incoming request as JSON);
* `events`: every HTTP request, WebSocket event and unexpected message received so far.

Incoming WebSocket text/binary pushes from http-server are echoed back with an `echo:` prefix (except
on extension channels), so a test's WebSocket client sees the process answer.
"""

import base64
import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import standard


def b64(data):
    return None if data is None else base64.b64encode(data).decode()


def unb64(text):
    return None if text is None else base64.b64decode(text)


def decoded(data):
    try:
        return json.loads(data)
    except (ValueError, TypeError):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None


def address(text, our_node):
    node, _, rest = text.partition("@")
    name, package, publisher = rest.split(":")
    return standard.Address(our_node if node == "our" else node, standard.ProcessId(name, package, publisher))


def address_text(value):
    process = value.process
    return f"{value.node}@{process.process_name}:{process.package_name}:{process.publisher_node}"


def blob_of(op, prefix=""):
    data = unb64(op.get(prefix + "blob_b64"))
    return None if data is None else standard.LazyLoadBlob(op.get(prefix + "mime"), data)


class Probe:
    def __init__(self, our):
        self.our = our
        self.node = our.split("@")[0]
        self.events = []
        self.answers = {}
        self.ext_channels = set()

    def say(self, text):
        standard.print_to_terminal(0, f"modprobe: {text}")

    def reply(self, value, blob=None):
        standard.send_response(standard.Response(False, json.dumps(value).encode(), None, []), blob)

    def request(self, target, body, blob, expects, metadata=None, caps=()):
        request = standard.Request(False, expects, body, metadata, list(caps))
        if expects is None:
            standard.send_request(address(target, self.node), request, None, blob)
            return None
        try:
            source, message = standard.send_and_await_response(address(target, self.node), request, blob)
        except Err as error:
            return {"error": error.value.kind.name.lower()}
        response = message.value[0]
        got = standard.get_blob()
        return {
            "source": address_text(source),
            "body": decoded(response.body),
            "body_b64": b64(response.body),
            "metadata": response.metadata,
            "blob_b64": None if got is None else b64(got.bytes),
            "mime": None if got is None else got.mime,
        }

    # ---------------------------------------------------------------------------------------- ops

    def op_call(self, op):
        body = unb64(op["body_b64"]) if "body_b64" in op else json.dumps(op.get("body")).encode()
        caps = [
            standard.Capability(address(issuer, self.node), params) for issuer, params in op.get("caps", [])
        ]
        result = self.request(op["target"], body, blob_of(op), op.get("expects"), op.get("metadata"), caps)
        self.reply({"sent": True} if result is None else result)

    def op_serve_file(self, op):
        read = self.request(
            "our@vfs:distro:sys",
            json.dumps({"path": op["vfs_path"], "action": "Read"}).encode(),
            None,
            5,
        )
        if "error" in read or read["body"] != "Read":
            self.reply({"read_failed": read})
            return
        bind = {
            "Bind": {
                "path": op["bind"],
                "authenticated": op.get("authenticated", False),
                "local_only": False,
                "cache": True,
            }
        }
        content = standard.LazyLoadBlob(op.get("mime"), base64.b64decode(read["blob_b64"]))
        self.reply(self.request("our@http-server:distro:sys", json.dumps(bind).encode(), content, 5))

    def op_http_answers(self, op):
        self.answers.update(op["answers"])
        self.reply("ok")

    def op_events(self, op):
        self.reply(self.events)

    # ------------------------------------------------------------------------------------ messages

    def handle_request(self, source, request):
        body = decoded(request.body)
        sender = address_text(source)
        if isinstance(body, dict) and "op" in body:
            getattr(self, "op_" + body["op"])(body)
            return
        got = standard.get_blob()
        event = {"from": sender, "body": body, "blob_b64": None if got is None else b64(got.bytes)}
        self.events.append(event)
        if not isinstance(body, dict) or not sender.endswith("@http-server:distro:sys"):
            return
        if "Http" in body:
            self.answer_http(body["Http"], got)
        elif "WebSocketOpen" in body:
            self.say(f"websocket open {body['WebSocketOpen']['path']}")
        elif "WebSocketPush" in body:
            push = body["WebSocketPush"]
            if push["channel_id"] not in self.ext_channels and push["message_type"] in ("Text", "Binary"):
                echo = {"WebSocketPush": push}
                data = b"echo:" + (got.bytes if got is not None else b"")
                self.request(
                    "our@http-server:distro:sys",
                    json.dumps(echo).encode(),
                    standard.LazyLoadBlob(None, data),
                    None,
                )

    def answer_http(self, incoming, got):
        answer = self.answers.get(incoming["bound_path"])
        if answer is None:
            text = None if got is None else got.bytes.decode("utf-8", "replace")
            content = json.dumps({"request": incoming, "body": text}).encode()
            self.reply(
                {"status": 200, "headers": {"Content-Type": "application/json"}},
                standard.LazyLoadBlob(None, content),
            )
            return
        if answer.get("silent"):
            return
        data = answer.get("body", "").encode()
        self.reply(
            {"status": answer["status"], "headers": answer.get("headers", {})},
            standard.LazyLoadBlob(None, data),
        )


class WitWorld(wit_world.WitWorld):
    def init(self, our: str) -> None:
        probe = Probe(our)
        probe.say("ready")
        while True:
            try:
                source, message = standard.receive()
            except Err as error:
                probe.events.append({"error": error.value[0].kind.name.lower()})
                continue
            try:
                if isinstance(message, standard.Message_Request):
                    probe.handle_request(source, message.value)
                else:
                    got = standard.get_blob()
                    probe.events.append(
                        {
                            "from": address_text(source),
                            "response": decoded(message.value[0].body),
                            "blob_b64": None if got is None else b64(got.bytes),
                        }
                    )
            except Exception as error:
                probe.say(f"op failed: {type(error).__name__}: {error}")
