"""A small REST API on the node's port: list processes with their status, kill one, read the terminal.

Why: kit's rpc endpoint can only message processes; a developer (or a tool such as an editor plugin)
also wants to see what runs and stop what misbehaves, as Hayride's `status` / `kill` do. The routes
are local-only like the rpc endpoint, refuse what a web page could send (a foreign `Origin` or
`Host`, a body that is not JSON: `hyperpy.node.control.guard`), and live under `/hyperpy/api/`, a
prefix no process can bind (process bindings are always prefixed with their `process:package:publisher` id).

    GET  /hyperpy/api/processes          {"processes": [ProcessInfo, ...]}
    GET  /hyperpy/api/process?id=P       ProcessInfo, or 404
    POST /hyperpy/api/kill?id=P          {"killed": "P"}, or 404 when there is no such process
    GET  /hyperpy/api/terminal?since=N   {"printouts": [{seq, source, verbosity, text, shown}], "last": M}

Paths are exact (http-server's system routes); the process id goes in the query string. A malformed
id gives 400.

Sessions, in the shape of Hayride's server morph (`hyperpy.node.control.sessions`); every body is
`{"data": ...}` JSON:

    POST /v1/cast              {"cast": {"name", "function", "args": [str]}} -> {"session-id": id}
    POST /v1/sessions/status   {"session-id": id} -> {"session-status": {"active": bool}}
    POST /v1/sessions/kill     {"session-id": id} -> {"session-status": {"active": false}}
    POST /v1/sessions/output   {"session-id": id} -> {"session-output": {"active", "output": [str],
                                                      "answer": str | null, "error": str | null}}

These run scripts (whose capabilities may exceed the caller's) and are guarded the same way. An
unknown session is 404, a body of
the wrong shape 400.

ProcessInfo is `{"id", "status", "public", "on_exit", "mode", "wasm_path"}` (see docs/node.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from hyperpy.node import Node
from hyperpy.node.control.guard import control_request_problem
from hyperpy.node.control.sessions import CastSessions, SessionError, SessionView
from hyperpy.node.wit_types import Address, PackageId, ProcessId

API_PREFIX = "/hyperpy/api"

Handler = Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]]
"""An aiohttp handler, as http-server's `add_system_route` takes it."""


def _jsonable(value: object) -> object:
    if isinstance(value, ProcessId | Address | PackageId):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _process_id(request: web.Request) -> ProcessId | web.Response:
    text = request.query.get("id", "")
    try:
        return ProcessId.parse(text)
    except ValueError as error:
        return _error(400, f"{error}; pass ?id=process:package:publisher")


class RestApi:
    """The handlers, bound to one node. Node calls block, so they run in worker threads.

    `node` returns the node when a request arrives (the API is created before the node exists).
    """

    def __init__(self, node: Callable[[], Node]) -> None:
        self._get_node = node
        self._sessions: CastSessions | None = None

    @property
    def sessions(self) -> CastSessions:
        if self._sessions is None:
            self._sessions = CastSessions(self._node)
        return self._sessions

    @property
    def _node(self) -> Node:
        return self._get_node()

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, exact path, handler) for http-server's `add_system_route`."""
        return [
            ("GET", f"{API_PREFIX}/processes", self._guarded(self.list_processes)),
            ("GET", f"{API_PREFIX}/process", self._guarded(self.process_status)),
            ("POST", f"{API_PREFIX}/kill", self._guarded(self.kill_process)),
            ("GET", f"{API_PREFIX}/terminal", self._guarded(self.terminal)),
            ("POST", "/v1/cast", self._guarded(self.cast)),
            ("POST", "/v1/sessions/status", self._guarded(self.session_status)),
            ("POST", "/v1/sessions/kill", self._guarded(self.session_kill)),
            ("POST", "/v1/sessions/output", self._guarded(self.session_output)),
        ]

    @staticmethod
    def _guarded(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            problem = control_request_problem(request, json_body=True)
            if problem is not None:
                return _error(403, problem)
            return await handler(request)

        return guarded

    async def list_processes(self, request: web.Request) -> web.Response:
        processes = await asyncio.to_thread(self._node.processes)
        return web.json_response({"processes": [_jsonable(p) for p in processes]})

    async def process_status(self, request: web.Request) -> web.Response:
        process_id = _process_id(request)
        if isinstance(process_id, web.Response):
            return process_id
        info = await asyncio.to_thread(self._node.process, process_id)
        if info is None:
            return _error(404, f"no process {process_id} on {self._node.name}")
        return web.json_response(_jsonable(info))

    async def kill_process(self, request: web.Request) -> web.Response:
        process_id = _process_id(request)
        if isinstance(process_id, web.Response):
            return process_id
        killed = await asyncio.to_thread(self._node.kill, process_id)
        if not killed:
            return _error(404, f"no process {process_id} on {self._node.name}")
        return web.json_response({"killed": str(process_id)})

    async def terminal(self, request: web.Request) -> web.Response:
        since_text = request.query.get("since", "0")
        if not since_text.isdigit():
            return _error(400, "since must be a printout sequence number (an integer >= 0)")
        terminal = self._node.terminal
        printouts = terminal.since(int(since_text))
        return web.json_response(
            {
                "printouts": [
                    {
                        "seq": p.seq,
                        "source": str(p.source),
                        "verbosity": p.verbosity,
                        "text": p.text,
                        "shown": p.shown,
                    }
                    for p in printouts
                ],
                "last": terminal.mark(),
            }
        )

    # ------------------------------------------------------------------------------- sessions

    async def cast(self, request: web.Request) -> web.Response:
        data = await _data(request)
        if isinstance(data, web.Response):
            return data
        cast = data.get("cast")
        if not isinstance(cast, dict):
            return _error(400, 'expected {"data": {"cast": {"name": ..., "function": ..., "args": [...]}}}')
        name, function, args = cast.get("name"), cast.get("function", ""), cast.get("args", [])
        if not isinstance(name, str) or not name:
            return _error(
                400, "cast.name: expected a script (alias or script:package:publisher) or a process id"
            )
        if not isinstance(function, str):
            return _error(400, "cast.function: expected a string (empty to run the script `name`)")
        if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
            return _error(400, "cast.args: expected a list of strings")
        try:
            session_id = await asyncio.to_thread(self.sessions.cast, name, function, args)
        except SessionError as error:
            return _error(404, str(error))
        return web.json_response({"data": {"session-id": session_id}})

    async def _session(
        self, request: web.Request, action: Callable[[str], SessionView]
    ) -> SessionView | web.Response:
        data = await _data(request)
        if isinstance(data, web.Response):
            return data
        session_id = data.get("session-id")
        if not isinstance(session_id, str):
            return _error(400, 'expected {"data": {"session-id": "<id from /v1/cast>"}}')
        try:
            return await asyncio.to_thread(action, session_id)
        except KeyError:
            return _error(404, f"no session {session_id} on {self._node.name}")

    async def session_status(self, request: web.Request) -> web.Response:
        view = await self._session(request, self.sessions.view)
        if isinstance(view, web.Response):
            return view
        return web.json_response({"data": {"session-status": {"active": view.active}}})

    async def session_kill(self, request: web.Request) -> web.Response:
        view = await self._session(request, self.sessions.kill)
        if isinstance(view, web.Response):
            return view
        return web.json_response({"data": {"session-status": {"active": view.active}}})

    async def session_output(self, request: web.Request) -> web.Response:
        view = await self._session(request, self.sessions.view)
        if isinstance(view, web.Response):
            return view
        output = {"active": view.active, "output": view.output, "answer": view.answer, "error": view.error}
        return web.json_response({"data": {"session-output": output}})


async def _data(request: web.Request) -> dict[str, Any] | web.Response:
    """The `data` object of a Hayride-style body, or a 400 naming what is wrong."""
    try:
        body = await request.json()
    except ValueError as error:
        return _error(400, f"the body is not JSON ({error})")
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return _error(400, 'expected a JSON object {"data": {...}}')
    return data
