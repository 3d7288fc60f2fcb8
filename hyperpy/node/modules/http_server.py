"""http-server:distro:sys — the node's real HTTP/1.1 + WebSocket server (aiohttp) and its bindings.

Semantics are Hyperdrive's (runtime-contract.md §3.1; HD `hyperdrive/src/http/server.rs`, `utils.rs`):

* **Bindings.** `Bind`/`SecureBind`/`WebSocketBind`/`WebSocketSecureBind` from a process store
  `/<process-id><path>` (one trailing `/` stripped; `homepage:homepage:sys` binds un-prefixed) as a
  route-recognizer pattern (`:param`, `*wildcard`). `Unbind` leaves a tombstone (404). A path with no
  exact binding falls back to the binding of its first segment, e.g. `/app:pkg:pub`, which is how a UI
  bound at `/` serves its sub-paths.
* **Incoming HTTP.** A Request with `expects_response` = the timeout, body
  `{"Http": {source_socket_addr, method, url, bound_path, headers, url_params, query_params}}`
  (header names lower-case, url `http://<host without port><path without query>`) and the request
  body as blob (`mime: null`). The process answers `{"status": u16, "headers": {..}}` + blob; an
  unparseable answer gives 500, none in time 408 (15 s, or the `X-Hyperware-Http-Server-Timeout`
  request header), unbound paths 404, `local_only` from a non-loopback peer or through a proxy 403,
  `authenticated` without the login cookie the login page (200). `cache: true` binds the Bind's blob
  as static content served to GET requests (`Content-Type` = blob mime or `text/plain`).
* **Action replies.** `{"Ok": null}` only when a response is expected or rsvp is set; errors
  (`MalformedRequest`, `NoBlob`, `InvalidSourceProcess`, `WsPingPongTooLong`, `WsChannelNotFound`)
  always go back to the source.
* **WebSockets** and the extension protocol: see `http_websockets.py`.

Other node parts add routes to the same server with `add_system_route` (e.g. the control surface's
`POST /rpc:distro:sys/message`) and wait for Responses addressed to http-server with
`expect`/`forget`.
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import web

from hyperpy.node.contracts import KernelMessage, RequestRefused
from hyperpy.node.modules.base import ModuleBase, module_id, request_of, wants_reply
from hyperpy.node.modules.http_auth import (
    cookie_name,
    load_secret,
    login_page,
    make_token,
    secure_subdomain,
    token_valid,
)
from hyperpy.node.modules.http_request_info import (
    header_map,
    is_loopback_peer,
    peer_address,
    request_host,
    request_timeout,
)
from hyperpy.node.modules.http_routes import Router
from hyperpy.node.modules.http_websockets import WebSocketHub, WsBinding
from hyperpy.node.modules.http_wire import (
    HTTP_SERVER_ACTION,
    HTTP_SERVER_ACTION_SHAPE,
    HttpFailure,
    HttpResponse,
)
from hyperpy.node.modules.wire import Tagged, WireError, decode_json, encode_json, validate
from hyperpy.node.well_known import HOMEPAGE_PROCESS_ID as HOMEPAGE
from hyperpy.node.wit_types import Address, LazyLoadBlob, Message_Response, ProcessId
from hyperpy.package.names import is_hypermap_safe
from hyperpy.runtime import jsonwire

MAX_REQUEST_BYTES = 256 * 1024 * 1024
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

SystemHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class HttpBinding:
    """One bound HTTP path (Hyperdrive's `BoundPath`); `app` None is an Unbind tombstone."""

    app: ProcessId | None
    path: str
    secure_subdomain: str | None = None
    authenticated: bool = False
    local_only: bool = False
    static_content: LazyLoadBlob | None = None


def normalize_path(path: str) -> str:
    """Hyperdrive's `normalize_path`: strip one trailing `/`."""
    return path[:-1] if path.endswith("/") else path


def format_path_with_process(process: ProcessId, path: str) -> str:
    """`/<process-id><path>` as stored by Bind (homepage binds un-prefixed)."""
    if process == HOMEPAGE:
        return normalize_path(path)
    if path.startswith("/"):
        return f"/{process}{normalize_path(path)}"
    return f"/{process}/{normalize_path(path)}"


def _valid_header(name: str, value: str) -> bool:
    return (
        bool(name)
        and all(char in _TOKEN_CHARS for char in name)
        and all(char == "\t" or 32 <= ord(char) < 127 or ord(char) > 127 for char in value)
    )


def is_on_site_path(target: str) -> bool:
    """Whether a `/login?redirect=` target stays on this node: an absolute path that is not `//host`,
    with no backslash (browsers read `/\\host` as `//host`), space or control character. Hyperdrive
    writes `{proto}://{host}{redirect}`, which `redirect=@attacker.example` turns into another host."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    return all(" " < char < "\x7f" and char != "\\" for char in target)


class HttpServerModule(ModuleBase):
    process_id = module_id("http-server")

    def __init__(self, *, port: int = 8080, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
        super().__init__()
        self._requested_port = port
        self._host = host
        self.timeout = timeout
        self.http_routes: Router[HttpBinding] = Router()
        self.secure_subdomains: set[str] = set()
        self._system_routes: dict[tuple[str, str], SystemHandler] = {}
        self._pending: dict[int, asyncio.Future[KernelMessage]] = {}
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None
        self._secret = b""
        self.websockets = WebSocketHub(self)

    # ------------------------------------------------------------------ public API for node parts

    @property
    def port(self) -> int:
        """The port the server listens on (the real one when started with port 0)."""
        return self._socket.getsockname()[1] if self._socket else self._requested_port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def add_system_route(self, method: str, path: str, handler: SystemHandler) -> None:
        """Serve `method path` (exact path; method "*" for any) before any process binding.

        For node parts that speak HTTP themselves, like the control surface's
        `POST /rpc:distro:sys/message`. The handler runs on the kernel's loop.
        """
        self._system_routes[(method.upper(), path)] = handler

    def expect(self, request_id: int) -> asyncio.Future[KernelMessage]:
        """A future resolved with the Response (addressed to http-server) carrying `request_id`."""
        future: asyncio.Future[KernelMessage] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        return future

    def request_refused(self, request_id: int, reason: str) -> None:
        """The kernel refused a request we sent (see contracts.RequestRefused): fail its waiter now."""
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(RequestRefused(reason))

    def forget(self, request_id: int) -> None:
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.cancel()

    def auth_cookie(self, subdomain: ProcessId | None = None) -> tuple[str, str]:
        """(cookie name, value) a logged-in browser would send — for tools and tests."""
        return cookie_name(self.node.our_node, subdomain), make_token(
            self._secret, self.node.our_node, None if subdomain is None else str(subdomain)
        )

    def bind_for(self, app: ProcessId, action: Tagged, blob: LazyLoadBlob | None = None) -> None:
        """Apply a Bind-family action as if `app` had sent it (used by homepage at boot)."""
        self._apply_binding(app, action, blob)

    # ------------------------------------------------------------------ lifecycle

    async def on_start(self) -> None:
        self._secret = load_secret(self.node.home)
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET6 if ":" in self._host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self._host, self._requested_port))
        except OSError as error:
            listener.close()
            await self._runner.cleanup()
            raise OSError(
                error.errno,
                f"http-server cannot listen on {self._host}:{self._requested_port} ({error.strerror}); "
                "is another node or kit using that port? Choose another port (--port).",
            ) from None
        self._socket = listener
        await web.SockSite(self._runner, listener).start()
        self.log(1, f"http-server: listening on {self.url}")

    async def on_stop(self) -> None:
        await self.websockets.close_all()
        for future in self._pending.values():
            if not future.done():
                future.cancel()
        self._pending.clear()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._socket is not None:
            self._socket.close()

    # ------------------------------------------------------------------ messages from the kernel

    async def handle(self, message: KernelMessage) -> None:
        if isinstance(message.message, Message_Response):
            future = self._pending.pop(message.id, None)
            if future is not None and not future.done():
                future.set_result(message)
            return
        request = request_of(message)
        assert request is not None
        try:
            action = self._parse_action(request.body)
            replied = self._perform(message, action)
        except HttpFailure as failure:
            self.log(0 if failure.error == "MalformedRequest" else 1, f"http-server: {failure.explanation}")
            self.respond(message, encode_json({"Err": failure.error}))
            return
        if not replied and wants_reply(message):
            self.respond(message, encode_json({"Ok": None}))

    def _parse_action(self, body: bytes) -> Tagged:
        try:
            return HTTP_SERVER_ACTION.parse(decode_json(body), "body")
        except WireError as error:
            raise HttpFailure(
                "MalformedRequest",
                f"malformed request: {error.detail}; expected e.g. {HTTP_SERVER_ACTION_SHAPE}",
            ) from None

    def _perform(self, message: KernelMessage, action: Tagged) -> bool:
        """Apply one action; True when it already answered (or must never answer)."""
        source = message.source.process
        if action.name in (
            "Bind",
            "SecureBind",
            "Unbind",
            "WebSocketBind",
            "WebSocketSecureBind",
            "WebSocketUnbind",
        ):
            self._apply_binding(source, action, message.lazy_load_blob)
            return False
        if action.name in ("WebSocketOpen", "WebSocketExtPushData"):
            raise HttpFailure(
                "MalformedRequest", f"{action.name} is sent by http-server, never to it ({source})"
            )
        if action.name == "WebSocketPush":
            push = action.value
            self.websockets.push(source, push.channel_id, push.message_type, message.lazy_load_blob)
            return False
        if action.name == "WebSocketExtPushOutgoing":
            push = action.value
            self.websockets.push(
                source,
                push.channel_id,
                push.message_type,
                message.lazy_load_blob,
                (message.id, push.desired_reply_type),
            )
            return True
        self.websockets.close(source, action.value)  # WebSocketClose
        return False

    def _apply_binding(self, source: ProcessId, action: Tagged, blob: LazyLoadBlob | None) -> None:
        name, value = action.name, action.value
        if name not in ("Unbind", "WebSocketUnbind") and not is_hypermap_safe(source):
            raise HttpFailure(
                "InvalidSourceProcess",
                f"{source} may not bind paths: its id is not hypermap-safe (lowercase a-z, 0-9, '-')",
            )
        path = format_path_with_process(source, value.path)
        if name == "Unbind":
            self.http_routes.add(path, HttpBinding(None, path))
        elif name == "WebSocketUnbind":
            self.websockets.routes.add(path, WsBinding(None))
        elif name == "WebSocketBind":
            self.websockets.routes.add(path, WsBinding(source, None, value.authenticated, value.extension))
        elif name == "WebSocketSecureBind":
            ws_subdomain = secure_subdomain(source)
            self.secure_subdomains.add(ws_subdomain)
            self.websockets.routes.add(path, WsBinding(source, ws_subdomain, True, value.extension))
        else:
            secure = name == "SecureBind"
            subdomain = secure_subdomain(source) if secure else None
            if subdomain:
                self.secure_subdomains.add(subdomain)
            if value.cache and blob is None:
                raise HttpFailure(
                    "NoBlob", f"{source} bound {path} with cache: true but attached no blob to serve"
                )
            self.log(
                3,
                f"http: binding {path}, "
                f"{'authenticated' if secure or value.authenticated else 'unauthenticated'}, "
                f"{'open' if secure or not value.local_only else 'local only'}, "
                f"{'cached' if value.cache else 'dynamic'}",
            )
            self.http_routes.add(
                path,
                HttpBinding(
                    app=source,
                    path=path,
                    secure_subdomain=subdomain,
                    authenticated=True if secure else value.authenticated,
                    local_only=False if secure else value.local_only,
                    static_content=blob if value.cache else None,
                ),
            )

    # ------------------------------------------------------------------ the HTTP side

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        if request.headers.get("Upgrade", "").lower() == "websocket":
            upgraded = await self.websockets.accept(request, normalize_path(raw_path))
            if upgraded is not None:
                return upgraded
        if raw_path == "/login":
            return await self._login(request)
        handler = self._system_routes.get((request.method, raw_path)) or self._system_routes.get(
            ("*", raw_path)
        )
        if handler is not None:
            return await handler(request)
        return await self._serve_binding(request, normalize_path(raw_path))

    def authorized(self, request: web.Request, subdomain_app: ProcessId | None) -> bool:
        """True when the request carries a valid login cookie (for `subdomain_app`'s subdomain)."""
        return self.cookie_valid(request.headers.get("Cookie", ""), subdomain_app)

    def cookie_valid(self, cookie_header: str, subdomain_app: ProcessId | None) -> bool:
        return token_valid(self.node.our_node, subdomain_app, cookie_header, self._secret)

    async def _login(self, request: web.Request) -> web.StreamResponse:
        """GET: the login page. POST `{"password_hash", "subdomain"}`: any password logs in (fake node)."""
        if request.method == "GET":
            return web.Response(text=login_page(self.node.our_node, None), content_type="text/html")
        if request.method != "POST":
            return web.Response(status=405)
        try:
            info = jsonwire.loads(await request.read())
            subdomain = info.get("subdomain") if isinstance(info, dict) else None
            if (
                not isinstance(info, dict)
                or "password_hash" not in info
                or not isinstance(subdomain, str | None)
            ):
                raise ValueError("expected {'password_hash': .., 'subdomain': null|'<process id>'}")
        except ValueError:
            return web.json_response("Failed to parse login info", status=400)
        is_localhost = "localhost" in request_host(request)
        subdomain = "".join(c for c in subdomain or "" if c.isascii() and (c.isalnum() or c in "-:.")) or None
        if not is_localhost:
            subdomain = None
        redirect = request.query.get("redirect")
        if redirect and not is_on_site_path(redirect):
            return web.json_response(
                f"redirect must be a path on this node such as /app:package:publisher/, not {redirect!r}",
                status=400,
            )
        token = make_token(self._secret, self.node.our_node, subdomain)
        response = (
            web.Response(status=303, headers={"Location": redirect})
            if redirect
            else web.json_response({"node": self.node.our_node})
        )
        response.headers.add(
            "Set-Cookie",
            f"{cookie_name(self.node.our_node, subdomain)}={token}; Path=/; HttpOnly; SameSite=Strict",
        )
        return response

    def _find_binding(self, path: str) -> tuple[HttpBinding, dict[str, str]] | None:
        found = self.http_routes.recognize(path)
        if found is None:
            base = path.split("/")[1] if path.count("/") >= 1 else ""
            found = self.http_routes.recognize(base)
        return found

    async def _serve_binding(self, request: web.Request, path: str) -> web.StreamResponse:
        self.log(2, f"http-server: request for {path}")
        found = self._find_binding(path)
        if found is None or found[0].app is None:
            self.log(2, f"http-server: no route found for {path}")
            return web.Response(status=404, content_type="application/octet-stream")
        binding, url_params = found
        app = binding.app
        assert app is not None
        refusal = self._check_access(request, binding, app)
        if refusal is not None:
            return refusal
        if request.method == "GET" and binding.static_content is not None:
            content = binding.static_content
            return web.Response(body=content.bytes, headers={"Content-Type": content.mime or "text/plain"})
        return await self._forward(request, path, binding, app, url_params)

    def _check_access(
        self, request: web.Request, binding: HttpBinding, app: ProcessId
    ) -> web.Response | None:
        host = request_host(request)
        request_subdomain = host.split(".")[0]
        if binding.authenticated:
            if binding.secure_subdomain is not None:
                if request_subdomain != binding.secure_subdomain:
                    location = f"http://{binding.secure_subdomain}.{request.headers.get('Host', 'localhost')}"
                    return web.Response(status=307, headers={"Location": location + str(request.rel_url)})
                if not self.authorized(request, app if "localhost" in host else None):
                    return web.Response(
                        text=login_page(self.node.our_node, str(app)), content_type="text/html"
                    )
            else:
                if request_subdomain in self.secure_subdomains and request_subdomain != secure_subdomain(app):
                    return web.Response(
                        status=403, text="secure subdomain can only serve its associated package"
                    )
                if not self.authorized(request, None):
                    return web.Response(text=login_page(self.node.our_node, None), content_type="text/html")
        if binding.local_only and not is_loopback_peer(request):
            return web.Response(status=403, content_type="application/octet-stream")
        return None

    async def _forward(
        self,
        request: web.Request,
        path: str,
        binding: HttpBinding,
        app: ProcessId,
        url_params: dict[str, str],
    ) -> web.StreamResponse:
        """Send the request to the bound process and turn its Response into the HTTP answer."""
        timeout = request_timeout(request, self.timeout)
        incoming = {
            "Http": {
                "source_socket_addr": peer_address(request),
                "method": request.method,
                "url": f"http://{request_host(request)}{path}",
                "bound_path": binding.path,
                "headers": header_map(request),
                "url_params": url_params,
                "query_params": dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)),
            }
        }
        body = await request.read()
        request_id = self.node.new_request_id()
        waiting = self.expect(request_id)
        try:
            self.request(
                Address(self.node.our_node, app),
                encode_json(incoming, has_float=False),  # strings and None only: the C encoder
                blob=LazyLoadBlob(None, body),
                expects_response=max(1, math.ceil(timeout)),
                request_id=request_id,
            )
            reply = await asyncio.wait_for(waiting, timeout)
        except TimeoutError:
            self.log(
                1,
                f"http-server: {app} did not answer {request.method} {path} in {timeout:g} s; replied 408",
            )
            return web.Response(status=408, content_type="application/octet-stream")
        except RequestRefused as refused:
            # Hyperdrive answers 408 once its timeout passes; the kernel's reason is known now.
            self.log(1, f"http-server: {request.method} {path}: {refused.reason}; replied 408")
            return web.Response(status=408, text=f"{refused.reason}\n")
        finally:
            self.forget(request_id)
        return self._http_answer(reply, app, request.method, path)

    def _http_answer(self, reply: KernelMessage, app: ProcessId, method: str, path: str) -> web.Response:
        assert isinstance(reply.message, Message_Response)
        try:
            answer = validate(HttpResponse, decode_json(reply.message.value[0].body), "response")
        except WireError as error:
            self.log(
                0,
                f"http-server: the Response of {app} to {method} {path} is not an HttpResponse "
                f'({error.detail}); expected {{"status": 200, "headers": {{"Content-Type": ".."}}}} with the '
                "body as blob; replied 500",
            )
            return web.Response(status=500, content_type="application/octet-stream")
        if answer.status < 100 or answer.status > 999:
            return web.Response(status=500, content_type="application/octet-stream")
        # A 204/304 has no content, so no default type either (RFC 9110 §15.3.5, §15.4.5).
        no_content = answer.status in (204, 304)
        headers = {} if no_content else {"Content-Type": "application/octet-stream"}
        for name, value in answer.headers.items():
            if _valid_header(name, value) and name.lower() not in ("content-length", "transfer-encoding"):
                headers = {key: kept for key, kept in headers.items() if key.lower() != name.lower()}
                headers[name] = value
        body = reply.lazy_load_blob.bytes if reply.lazy_load_blob is not None else b""
        return web.Response(status=answer.status, body=body, headers=headers)
