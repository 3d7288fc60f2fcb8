"""A raw process for the runtime-module figures: the least a kit-style process does per message.

* `{"op": "repeat", "count": N, "target": "<process id>", "body": "<text>", "blob": "<text>"|null}`
  makes N sequential request/response round trips to a local module and answers `{"ok": <count of
  answers that are not errors>}`;
* at start it binds `/api` (HTTP) and `/ws` (WebSocket), then prints `modbench: ready`;
* an incoming `{"Http": ..}` is answered 200 with a small JSON body;
* an incoming WebSocket text push is echoed back on its channel.
"""

from __future__ import annotations

import json


class WitWorld:
    def init(self, our: str) -> None:
        from componentize_py_types import Err
        from wit_world.imports import standard

        node = our.split("@")[0]
        http_server = standard.Address(node, standard.ProcessId("http-server", "distro", "sys"))
        ok_body = json.dumps({"status": 200, "headers": {"Content-Type": "application/json"}}).encode()
        ok_blob = standard.LazyLoadBlob(None, b'{"ok":true}')
        for action in (
            {"Bind": {"path": "/api", "authenticated": False, "local_only": False, "cache": False}},
            {"WebSocketBind": {"path": "/ws", "authenticated": False, "extension": False}},
        ):
            request = standard.Request(False, 5, json.dumps(action).encode(), None, [])
            standard.send_and_await_response(http_server, request, None)
        standard.print_to_terminal(0, "modbench: ready")
        while True:
            try:
                _source, message = standard.receive()
            except Err:
                continue
            if not isinstance(message, standard.Message_Request):
                continue
            body = json.loads(message.value.body or b"null")
            if isinstance(body, dict) and "Http" in body:
                standard.send_response(standard.Response(False, ok_body, None, []), ok_blob)
            elif isinstance(body, dict) and "WebSocketPush" in body:
                data = standard.get_blob()
                push = json.dumps(
                    {"WebSocketPush": {**body["WebSocketPush"], "message_type": "Text"}}
                ).encode()
                standard.send_request(http_server, standard.Request(False, None, push, None, []), None, data)
            elif isinstance(body, dict) and body.get("op") == "repeat":
                name, package, publisher = body["target"].split(":")
                target = standard.Address(node, standard.ProcessId(name, package, publisher))
                request = standard.Request(False, 30, body["body"].encode(), None, [])
                blob = (
                    None if body.get("blob") is None else standard.LazyLoadBlob(None, body["blob"].encode())
                )
                ok = 0
                for _ in range(body["count"]):
                    try:
                        _source, reply = standard.send_and_await_response(target, request, blob)
                    except Err:
                        continue
                    if not reply.value[0].body.startswith(b'{"Err"'):
                        ok += 1
                answer = json.dumps({"ok": ok}).encode()
                standard.send_response(standard.Response(False, answer, None, []), None)
