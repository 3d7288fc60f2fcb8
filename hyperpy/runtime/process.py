"""The running process: receives messages, dispatches them to handlers, answers, saves state.

One `ProcessRuntime` per process instance (natively, several run in one interpreter on different
threads, so nothing here is module-global). It is the `HyperLoop`'s driver: when no task is
runnable it blocks in `receive()` and turns the message into work.

**Answering the right request.** The kernel has no request handle: `send_response` answers the
*prompting message*, which the kernel sets when a request that expects a response arrives, and
restores when a response (or send error) to one of our requests arrives — to the prompting message
that was current when that request was sent (runtime-contract.md §1.4). With many handlers
suspended at once, a handler may finish while another request is prompting. So the runtime mirrors
the kernel's prompting message (`self.prompting`), answers immediately when its request is
prompting, and otherwise defers the answer until a turn in which it is. To guarantee such a turn
comes, every pending request keeps at least one live outstanding request that was sent while it was
prompting (its own calls, sleeps, ...); when it has none at the end of one of its turns, the
runtime sends an *anchor*: a short `timer:distro:sys` request (2 ms, doubling to 0.5 s) whose
response brings the request back. Handlers that finish in their own turn — all sync handlers and
async handlers awaiting their own calls — never need one.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import math
import traceback
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from hyperpy.runtime import jsonwire, well_known
from hyperpy.runtime.codec import Codec, codec_for
from hyperpy.runtime.context import RequestContext, current_request
from hyperpy.runtime.errors import (
    BadResponse,
    CallOffline,
    CallTimeout,
    CodecError,
    HTTPError,
    InitFailed,
)
from hyperpy.runtime.host import Host, Incoming
from hyperpy.runtime.loop import HyperLoop
from hyperpy.runtime.prompting import ANCHOR_MAX_DELAY, UNKNOWN, Answerable, Outstanding, Prompting
from hyperpy.runtime.readiness import ready_line
from hyperpy.runtime.routing import HttpRequest, RouteError, Router, parse_http_request
from hyperpy.runtime.spec import AppSpec, HandlerSpec, json_return_hint
from hyperpy.runtime.state import KeptAside, StateCodec, StateKeeper
from hyperpy.runtime.types import Address, ProcessId, Reply, Response, WithBlob, WsMessageType
from hyperpy.runtime.wire import (
    STRING_ARGS_METADATA,
    BadBody,
    args_shape,
    decode_args,
    decode_string_args,
    error_body,
    error_metadata,
    http_response_head,
    parse_request_body,
)

HTTP_SERVER_PROCESS = well_known.HTTP_SERVER
KERNEL_PROCESS = well_known.KERNEL
TIMER_ID = ProcessId.parse(well_known.TIMER)
HTTP_SERVER_ID = ProcessId.parse(well_known.HTTP_SERVER)
DEFAULT_CALL_TIMEOUT = 30.0
NO_BODY_STATUSES = frozenset({204, 304})
# Seconds a timer request waits beyond its delay before the kernel's Timeout: timer:distro:sys
# answers late on a loaded node, and a short grace produced false "did not answer" warnings.
TIMER_GRACE = 5
# A Timeout that arrives this much (seconds) before the call's deadline was the kernel refusing it.
REFUSAL_MARGIN = 0.5
# What a handler may raise and still get an answer. Other BaseExceptions (the node killing the
# process from inside a host call) must end the process, so they are not caught.
HANDLER_FAILURES = (Exception, asyncio.CancelledError, SystemExit, KeyboardInterrupt)
# Caught like the others but never answered: the process crashes with it (`_finish`). A MemoryError
# means an allocation failed somewhere in the middle of the interpreter's or the app's work (in a
# component: the node's per-process memory limit), so the app's state and the runtime's own
# bookkeeping may be half-updated; a Rust process panics on allocation failure (`handle_alloc_error`
# aborts) and Hyperdrive applies on_exit. Ordinary exceptions, RecursionError included (the stack
# unwinds cleanly), stay answered errors.
FATAL_FAILURES = (MemoryError,)


@dataclass(slots=True)
class CompiledHandler:
    spec: HandlerSpec
    function: Callable[..., Any]
    returns: Codec | None
    positional: tuple[str, ...]
    keyword: tuple[str, ...]


class ProcessRuntime:
    """Everything one running app process needs; also the loop's driver."""

    def __init__(self, spec: AppSpec, host: Host) -> None:
        self.spec = spec
        self.host = host
        self.our = host.our
        self.our_process = str(self.our.process)
        self.name = spec.name
        self.debug = spec.settings.debug
        # typeshed marks the socket/subprocess methods a process cannot have as abstract; at run
        # time they are plain methods raising NotImplementedError, so the loop is instantiable.
        self.loop = HyperLoop(self)  # type: ignore[abstract]
        self.loop.hyperpy_runtime = self  # type: ignore[attr-defined]
        self.prompting: Prompting = None
        self.outstanding: dict[bytes, Outstanding] = {}
        self._new_timers: list[asyncio.TimerHandle] = []
        self._counter = 0
        self._timer_warned = False
        self._timer_reached_us = False
        self.ws_channels: dict[int, str] = {}
        self.handlers = {h.name: self._compile(h) for h in spec.handlers}
        self.local_table = {
            h.spec.variant: h for h in self.handlers.values() if h.spec.kinds & {"local", "remote"}
        }
        self.remote_table = {h.spec.variant: h for h in self.handlers.values() if "remote" in h.spec.kinds}
        self.router = Router(spec.handlers)
        self.timer_address = Address(self.our.node, TIMER_ID)
        self.http_server_address = Address(self.our.node, HTTP_SERVER_ID)
        self.keeper = StateKeeper(
            StateCodec(spec.app_class, spec.settings.state_version),
            spec.settings.save,
            host.set_state,
            lambda delay, callback: self.loop.call_later(delay, callback),
            rollback=spec.settings.rollback_on_error,
        )
        self.instance: Any = None
        self.background: set[asyncio.Task[Any]] = set()
        # While starting (`run` until bindings and @init finished): requests that arrived meanwhile.
        self.held: list[tuple[Incoming, Answerable | None]] | None = None
        # Why the process must end (a failed start, or a FATAL_FAILURES error): `run` raises it.
        self.crash: BaseException | None = None

    def _compile(self, spec: HandlerSpec) -> CompiledHandler:
        function = getattr(self.spec.app_class, spec.name)
        returns = None
        if spec.kinds & {"http", "local", "remote"}:
            returns = codec_for(json_return_hint(spec.returns))
        signature = inspect.signature(function)
        positional: list[str] = []
        keyword: list[str] = []
        for param in list(signature.parameters.values())[1:]:
            (keyword if param.kind is inspect.Parameter.KEYWORD_ONLY else positional).append(param.name)
        return CompiledHandler(spec, function, returns, tuple(positional), tuple(keyword))

    # --- lifecycle --------------------------------------------------------------------------------

    def run(self) -> None:
        """Load the state, start the app and serve messages until the process is killed.

        Raises `InitFailed` (which traps the component, so the node applies `on_exit`) when an
        `@init` handler raises: an app whose setup failed must not serve requests. Raises a handler's
        fatal error (`FATAL_FAILURES`, i.e. MemoryError) the same way: see `_finish`.
        """
        instance, problems = self.keeper.load(self._read_state())
        self.instance = instance
        for problem in problems:
            self.log(
                0, f"saved state was not fully loaded and is kept aside ({problem}); see kept_aside_state()"
            )
        self.held = []
        self.spawn(self._startup(), name="hyperpy-startup")
        while True:
            try:
                self.loop.run_forever()
            except (SystemExit, KeyboardInterrupt) as error:
                # Raised by app code in a background task; escaping init would trap the process.
                # Anything else (e.g. the node killing the process from a host call) ends init.
                self.log(0, "event loop interrupted: " + _format_exception(error, True))
            if self.crash is not None:
                raise self.crash

    def _read_state(self) -> bytes | None:
        try:
            return self.host.get_state()
        except Exception as error:
            self.log(0, f"could not read saved state ({error}); starting fresh")
            return None

    async def _startup(self) -> None:
        """Bind HTTP/WebSocket paths (and the UI), run @init, then serve what arrived meanwhile.

        Like hyperapp, bindings complete before init runs. Unlike hyperapp (which handles messages
        while init is suspended at an `.await`), requests that arrive before init has finished are
        held and then served in arrival order, so no handler ever sees a half-initialised app (a
        table not created yet). Responses to init's own calls are not held. `@timer`/`@every`
        handlers start after init too. When all of that is done the runtime prints the ready line
        (`hyperpy.runtime.readiness`), which the local node waits for.
        """
        from hyperpy.runtime.system import homepage, http_server

        settings = self.spec.settings
        binds: list[Coroutine[Any, Any, Any]] = [
            http_server.bind_endpoint(endpoint) for endpoint in self.spec.endpoints
        ]
        if settings.ui:
            binds.append(http_server.serve_ui(settings.ui, authenticated=settings.ui_authenticated))
        try:
            await asyncio.gather(*binds)
            if settings.icon or settings.widget:
                homepage.add_to_homepage(self.name, settings.icon, "/", settings.widget)
            for handler in self.handlers.values():
                if "init" in handler.spec.kinds:
                    await self._run_init(handler)
        except HANDLER_FAILURES as error:
            self._fail_startup(error)
            return
        self.host.print(1, ready_line(self.name, [endpoint.path for endpoint in self.spec.endpoints]))
        for handler in self.handlers.values():
            if "timer" in handler.spec.kinds:
                self.spawn(self._timer_loop(handler), name=f"timer {handler.spec.name}")
        held, self.held = self.held, None
        for message, answer_to in held or ():
            self._serve_request(message, answer_to)

    async def _run_init(self, handler: CompiledHandler) -> None:
        """Run one @init handler with its request context; its exception propagates."""
        context = RequestContext(self, self.host.wit_address(self.our), handler.spec.name, "init")
        token = current_request.set(context)
        try:
            result = handler.function(self.instance)
            if getattr(result, "__await__", None) is not None:
                await result
        except HANDLER_FAILURES as error:
            raise InitFailed(f"{self.name}: @init handler '{handler.spec.name}' failed") from error
        finally:
            current_request.reset(token)
        try:
            self.keeper.message_done()
        except Exception as failure:
            self.log(0, "saving state failed: " + _format_exception(failure, True))

    def _fail_startup(self, error: BaseException) -> None:
        """Stop the loop and make `run` raise: the process ends and the node applies on_exit."""
        if not isinstance(error, InitFailed):
            wrapped = InitFailed(f"{self.name}: binding its HTTP paths failed")
            wrapped.__cause__ = error
            error = wrapped
        self.log(
            0,
            f"{error} - the process stops without serving (its on_exit applies):\n"
            + _format_exception(error.__cause__ or error, True),
        )
        self.crash = error
        self.loop.stop()

    async def _timer_loop(self, handler: CompiledHandler) -> None:
        seconds = handler.spec.timer_seconds or 1.0
        while True:
            await asyncio.sleep(seconds)
            context = RequestContext(self, self.host.wit_address(self.our), handler.spec.name, "timer")
            task = self._start(handler, context, {})
            if task is not None:
                await asyncio.wait([task])
            if not handler.spec.timer_repeat:
                return

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task[Any]:
        """Run a background task outside any request context, keeping a reference until it ends."""
        context = contextvars.copy_context()
        context.run(current_request.set, None)
        task = self.loop.create_task(coro, name=name, context=context)
        self.background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            self.log(0, f"background task {task.get_name()} failed: " + _format_exception(failure, True))

    def log(self, verbosity: int, text: str) -> None:
        try:
            self.host.print(verbosity, f"{self.name}: {text}")
        except BaseException:
            return

    # --- LoopDriver -------------------------------------------------------------------------------

    def timer_scheduled(self, handle: asyncio.TimerHandle) -> None:
        self._new_timers.append(handle)

    def report(self, text: str) -> None:
        self.log(0, text)

    def idle(self, next_deadline: float | None) -> None:
        """End of a turn: send pending timer requests and anchors, then wait for one message."""
        try:
            self._flush_timers()
            self._maybe_anchor()
        except Exception as error:
            self.log(0, "could not arm timers: " + _format_exception(error, True))
        message = self.host.receive()
        try:
            self._dispatch(message)
        except Exception as error:
            self.log(0, "failed to handle a message: " + _format_exception(error, True))

    def _next_key(self, prefix: bytes) -> bytes:
        self._counter += 1
        return prefix + str(self._counter).encode()

    def _track(self, key: bytes, outstanding: Outstanding) -> None:
        self.outstanding[key] = outstanding
        if isinstance(outstanding.saved, Answerable):
            outstanding.saved.keys.add(key)

    def _send_timer(self, key: bytes, delay: float, outstanding: Outstanding) -> None:
        millis = max(0, math.ceil(delay * 1000))
        self._track(key, outstanding)
        self.host.send_request(
            self.timer_address,
            b'{"SetTimer":%d}' % millis,
            expects_response=millis // 1000 + TIMER_GRACE,
            context=key,
        )

    def _flush_timers(self) -> None:
        if not self._new_timers:
            return
        timers, self._new_timers = self._new_timers, []
        now = self.loop.time()
        for handle in timers:
            if not self.loop.is_armed(handle):
                continue
            owner_context = handle._context.get(current_request) if handle._context else None  # type: ignore[attr-defined]
            owner = owner_context.answer_to if owner_context is not None else None
            outstanding = Outstanding("timer", self.prompting, owner, handle=handle)
            self._send_timer(self._next_key(b"hyperpy:timer:"), handle.when() - now, outstanding)

    def _maybe_anchor(self) -> None:
        request = self.prompting
        if not isinstance(request, Answerable) or request.answered:
            return
        if self.loop.time() > request.gives_up_at:
            return  # the requester has stopped waiting: an answer could no longer reach it
        for key in request.keys:
            outstanding = self.outstanding.get(key)
            if outstanding is not None and outstanding.live_for(request):
                return
        delay = request.anchor_delay
        request.anchor_delay = min(delay * 2, ANCHOR_MAX_DELAY)
        self._send_timer(self._next_key(b"hyperpy:anchor:"), delay, Outstanding("anchor", request, request))

    # --- dispatch ---------------------------------------------------------------------------------

    def _dispatch(self, message: Incoming) -> None:
        if message.kind == "request":
            self._on_request(message)
        else:
            self._on_reply(message)

    def _set_prompting(self, prompting: Prompting) -> None:
        self.prompting = prompting
        if isinstance(prompting, Answerable) and prompting.deferred is not None:
            body, blob, mime, metadata = prompting.deferred
            prompting.deferred = None
            self.host.send_response(body, blob=blob, mime=mime, metadata=metadata)

    def _on_reply(self, message: Incoming) -> None:
        key = message.context
        outstanding = self.outstanding.pop(key, None) if key is not None else None
        if outstanding is None:
            self._set_prompting(UNKNOWN)
            return
        if isinstance(outstanding.saved, Answerable):
            outstanding.saved.keys.discard(key)  # type: ignore[arg-type]
        self._set_prompting(outstanding.saved)
        if outstanding.kind in ("timer", "anchor") and message.kind != "error":
            # timer answered us once: it may message us, so a later Timeout is load, not a missing grant
            self._timer_reached_us = True
        if outstanding.kind == "call":
            self._settle_call(outstanding, message)
        elif outstanding.kind == "timer":
            if message.kind == "error" and not self._timer_warned and not self._timer_reached_us:
                self._timer_warned = True
                self.log(
                    0,
                    "timer:distro:sys did not answer in time; if this process is not public, grant "
                    "timer:distro:sys messaging (grant_capabilities) or sleeps run late",
                )
            if outstanding.handle is not None:
                self.loop.fire_timer(outstanding.handle)

    def _settle_call(self, outstanding: Outstanding, message: Incoming) -> None:
        future = outstanding.future
        if future is None or future.done():
            return
        if message.kind == "error":
            target = str(self.host.address_of(message.source))
            if message.error_kind == "offline":
                future.set_exception(
                    CallOffline(
                        f"{target} is unreachable (node offline or unknown) calling {outstanding.label}",
                        target=target,
                        handler=outstanding.label,
                    )
                )
            else:
                future.set_exception(self._timeout_error(outstanding, message, target))
            return
        future.set_result(
            Reply(
                message.body,
                self.host.blob_of(message),
                message.metadata,
                self.host.address_of(message.source),
            )
        )

    def _timeout_error(self, outstanding: Outstanding, message: Incoming, target: str) -> CallTimeout:
        """CallTimeout saying whether the call timed out or the kernel refused it at once.

        Hyperdrive's kernel answers a request to a process that is not running, or that we may not
        message, with an immediate Timeout (runtime-contract.md §1.7): the same error as a slow
        target, only early. Waiting out the deadline would hide the cause, so an early Timeout is
        reported as a refusal, and our own capabilities tell which refusal it can be.
        """
        label = outstanding.label
        if self.loop.time() >= outstanding.deadline - REFUSAL_MARGIN:
            error = CallTimeout(
                f"no response from {target} to {label} in time (the target is slow or busy)",
                target=target,
                handler=label,
            )
            return error
        address = self.host.address_of(message.source)
        if self.host.may_message(address):
            why = f"{address.process} is not running on {address.node} (not installed, exited or restarting)"
        else:
            why = (
                f"{address.process} is not running on {address.node}, or it is not public and this "
                f'process lacks the capability to message it (add "{address.process}" to '
                "request_capabilities)"
            )
        error = CallTimeout(
            f"the kernel refused the call {label} at once: {why}", target=target, handler=label
        )
        error.refused = True
        return error

    def _on_request(self, message: Incoming) -> None:
        answer_to: Answerable | None = None
        if message.expects_response is not None:
            answer_to = Answerable(self.loop.time() + message.expects_response)
            self._set_prompting(answer_to)
        elif message.inherit:
            # A forwarded request may carry an rsvp, which makes it prompting in the kernel; we cannot
            # see rsvp, so stop trusting our model until a response tells us again.
            self._set_prompting(UNKNOWN)
        if message.source_process == KERNEL_PROCESS:
            return  # e.g. the stray "run" a re-spawn delivers (runtime-contract.md §1.4 spawn quirk)
        if self.held is not None:
            # Still starting: keep it (and its blob, which the next message would replace) for later.
            self.host.blob_of(message)
            self.held.append((message, answer_to))
            return
        self._serve_request(message, answer_to)

    def _serve_request(self, message: Incoming, answer_to: Answerable | None) -> None:
        from_http_server = (
            message.source_process == HTTP_SERVER_PROCESS and message.source_node == self.our.node
        )
        if from_http_server and self._on_http_server(message, answer_to):
            return
        local = message.source_node == self.our.node
        self._on_rpc(message, answer_to, local)

    # --- local and remote requests ----------------------------------------------------------------

    def _on_rpc(self, message: Incoming, answer_to: Answerable | None, local: bool) -> None:
        kind = "local" if local else "remote"
        try:
            variant, payload = parse_request_body(message.body)
        except BadBody as error:
            self._reject(answer_to, "BadRequest", f"{error}; handlers: {self._handler_list(local)}", message)
            return
        table = self.local_table if local else self.remote_table
        handler = table.get(variant)
        if handler is None:
            if not local and variant in self.local_table:
                self._reject(
                    answer_to, "NotExposed", f"handler {variant} is not exposed to remote nodes", message
                )
            else:
                self._reject(
                    answer_to,
                    "UnknownHandler",
                    f"no {kind} handler named {variant!r}; handlers: {self._handler_list(local)}",
                    message,
                )
            return
        try:
            if message.metadata == STRING_ARGS_METADATA:
                arguments = decode_string_args(handler.spec, payload)
            else:
                arguments = decode_args(handler.spec, payload)
        except CodecError as error:
            self._reject(
                answer_to,
                "BadRequest",
                f"bad arguments for {variant}: {error}; expected {args_shape(handler.spec)}",
                message,
            )
            return
        context = RequestContext(self, message.source, handler.spec.name, kind, answer_to, message=message)
        self._start(handler, context, arguments)

    def _handler_list(self, local: bool) -> str:
        table = self.local_table if local else self.remote_table
        return ", ".join(sorted(table)) or "(none)"

    def _reject(self, answer_to: Answerable | None, kind: str, text: str, message: Incoming) -> None:
        if answer_to is None:
            self.log(1, f"ignored a request from {self.host.address_of(message.source)}: {text}")
            return
        self.log(1, f"rejected a request from {self.host.address_of(message.source)}: {text}")
        self.answer(answer_to, error_body(text), metadata=error_metadata(kind, text))

    # --- HTTP and WebSocket -----------------------------------------------------------------------

    def _on_http_server(self, message: Incoming, answer_to: Answerable | None) -> bool:
        """Handle an http-server request; False when the body is not one (treated as a local request)."""
        try:
            parsed = jsonwire.loads(message.body)
        except ValueError:
            return False
        if not isinstance(parsed, dict) or len(parsed) != 1:
            return False
        ((kind, payload),) = parsed.items()
        if kind == "Http" and isinstance(payload, dict):
            blob = self.host.blob_of(message)
            body = blob.bytes if blob is not None else b""
            self._on_http(parse_http_request(payload, body, self.our_process), message, answer_to)
            return True
        if kind == "WebSocketOpen" and isinstance(payload, dict):
            self._on_ws_open(payload, message)
            return True
        if kind == "WebSocketPush" and isinstance(payload, dict):
            self._on_ws_push(payload, message)
            return True
        if kind == "WebSocketClose":
            self._on_ws_close(payload, message)
            return True
        return False

    def _on_http(self, request: HttpRequest, message: Incoming, answer_to: Answerable | None) -> None:
        match = self.router.resolve(request)
        if isinstance(match, RouteError):
            if match.status >= 400:
                self.log(1, f"HTTP {match.status} for {request.method} {request.path}: {match.message}")
            headers = dict(match.headers)
            body = b""
            if match.message:
                body = _error_body(request, match.status, match.message, headers)
            self.answer_http(answer_to, match.status, headers, body)
            return
        handler = self.handlers[match.handler.name]
        context = RequestContext(
            self,
            message.source,
            handler.spec.name,
            "http",
            answer_to,
            http=request,
            message=message,
            response_status=handler.spec.http_status,
        )
        self._start(handler, context, match.arguments)

    def _ws_handler(self, kind: str, path: str | None) -> CompiledHandler | None:
        for handler in self.handlers.values():
            if kind in handler.spec.kinds and (path is None or handler.spec.ws_path == path):
                return handler
        return None

    def _on_ws_open(self, payload: dict[str, Any], message: Incoming) -> None:
        channel = payload.get("channel_id")
        path = str(payload.get("path") or "")
        if not isinstance(channel, int):
            return
        self.ws_channels[channel] = path
        handler = self._ws_handler("ws_open", path)
        if handler is not None:
            arguments: dict[str, Any] = {handler.spec.params[0].name: channel}
            if len(handler.spec.params) > 1:
                arguments[handler.spec.params[1].name] = path
            self._start(handler, RequestContext(self, message.source, handler.spec.name, "ws"), arguments)

    def _on_ws_push(self, payload: dict[str, Any], message: Incoming) -> None:
        from hyperpy.runtime.system.http_server import ws_push

        channel = payload.get("channel_id")
        if not isinstance(channel, int):
            return
        try:
            message_type = WsMessageType(payload.get("message_type"))
        except ValueError:
            self.log(1, f"ignored a WebSocket frame of unknown type {payload.get('message_type')!r}")
            return
        blob = self.host.blob_of(message)
        data = blob.bytes if blob is not None else b""
        if message_type is WsMessageType.PING:
            ws_push(channel, data, WsMessageType.PONG)
            return
        if message_type is WsMessageType.PONG:
            return
        handler = self._ws_handler("ws", self.ws_channels.get(channel))
        if handler is None:
            handler = self._ws_handler("ws", None)
        if handler is None:
            self.log(1, f"WebSocket frame on channel {channel} but the app has no @ws handler")
            return
        names = [p.name for p in handler.spec.params]
        arguments = dict(zip(names, (channel, message_type, data), strict=False))
        self._start(
            handler,
            RequestContext(self, message.source, handler.spec.name, "ws", message=message),
            arguments,
        )

    def _on_ws_close(self, payload: Any, message: Incoming) -> None:
        channel = payload if isinstance(payload, int) else (payload or {}).get("channel_id")
        if not isinstance(channel, int):
            return
        path = self.ws_channels.pop(channel, None)
        handler = self._ws_handler("ws_close", path)
        if handler is not None:
            arguments = {handler.spec.params[0].name: channel}
            self._start(handler, RequestContext(self, message.source, handler.spec.name, "ws"), arguments)

    # --- running handlers -------------------------------------------------------------------------

    def _split(self, handler: CompiledHandler, arguments: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        positional = []
        for name in handler.positional:
            if name not in arguments:
                break  # the rest take their defaults
            positional.append(arguments[name])
        keyword = {name: arguments[name] for name in handler.keyword if name in arguments}
        return positional, keyword

    def _start(
        self, handler: CompiledHandler, context: RequestContext, arguments: dict[str, Any]
    ) -> asyncio.Task[None] | None:
        """Run a handler: sync ones right now, async ones as a task carrying the request context.

        Returns the task (None when the handler already finished)."""
        positional, keyword = self._split(handler, arguments)
        awaitable: Any = None
        if not handler.spec.is_async:
            token = current_request.set(context)
            try:
                result = handler.function(self.instance, *positional, **keyword)
            except HANDLER_FAILURES as error:
                current_request.reset(token)
                self._finish(handler, context, None, error)
                return None
            current_request.reset(token)
            if getattr(result, "__await__", None) is None:  # cheaper than inspect.isawaitable
                self._finish(handler, context, result, None)
                return None
            awaitable = result
        if context.message is not None:
            self.host.blob_of(context.message)  # the task may ask after the next message arrived
        task_context = contextvars.copy_context()
        task_context.run(current_request.set, context)
        coro = self._run_handler(handler, context, positional, keyword, awaitable)
        task = self.loop.create_task(coro, name=f"{context.kind} {handler.spec.name}", context=task_context)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def _run_handler(
        self,
        handler: CompiledHandler,
        context: RequestContext,
        positional: Any,
        keyword: dict[str, Any],
        awaitable: Any,
    ) -> None:
        """Body of a handler task (its context already holds `context`)."""
        try:
            if awaitable is None:
                awaitable = handler.function(self.instance, *positional, **keyword)
            result = await awaitable
        except HANDLER_FAILURES as error:  # cancellation too: the caller still gets an answer
            self._finish(handler, context, None, error)
        else:
            self._finish(handler, context, result, None)

    def _finish(
        self, handler: CompiledHandler, context: RequestContext, result: Any, error: BaseException | None
    ) -> None:
        """Apply the save policy, then answer (if the request expects it) and log failures.

        Saving first means an answer the caller has seen is never lost by a crash right after it.
        This is where every handler's exception arrives (`HANDLER_FAILURES`); a fatal one
        (`FATAL_FAILURES`) is neither saved nor answered: the process crashes (`_crash_with`).
        """
        if isinstance(error, FATAL_FAILURES):
            self._crash_with(handler, error)
            return
        try:
            self.keeper.message_done(failed=error is not None)
        except Exception as failure:
            self.log(0, "saving state failed: " + _format_exception(failure, True))
        try:
            if error is not None:
                self._answer_error(handler, context, error)
            elif context.answer_to is not None:
                if context.kind == "http":
                    self._answer_http_result(handler, context, result)
                else:
                    self._answer_rpc_result(handler, context, result)
        except Exception as failure:
            if isinstance(failure, FATAL_FAILURES):  # encoding the result ran out of memory
                self._crash_with(handler, failure)
                return
            self.log(
                0, f"could not answer for handler '{handler.spec.name}': " + _format_exception(failure, True)
            )
            if context.answer_to is not None and not context.answer_to.answered:
                self._answer_error(handler, context, failure)

    def _crash_with(self, handler: CompiledHandler, error: BaseException) -> None:
        """End the process with `error`: stop the loop so `run` raises it (the component traps, the
        native runner reports a crash) and the node applies on_exit. The request stays unanswered, as
        when a Hyperdrive process dies mid-request (the caller's `expects_response` timer gives it a
        Timeout). Nothing of this message is saved: its changes may be half made."""
        self.log(0, f"handler '{handler.spec.name}' raised {type(error).__name__}: the process crashes")
        if self.crash is None:
            self.crash = error
        self.loop.stop()

    def _answer_rpc_result(self, handler: CompiledHandler, context: RequestContext, result: Any) -> None:
        blob = mime = None
        if isinstance(result, WithBlob):
            blob, mime, result = result.blob, result.mime, result.value
        codec = handler.returns or codec_for(Any)
        body = jsonwire.dumps(codec.encode(result, "result"), has_float=codec.has_float)
        self.answer(context.answer_to, body, blob=blob, mime=mime)

    def _answer_http_result(self, handler: CompiledHandler, context: RequestContext, result: Any) -> None:
        if isinstance(result, Response):
            headers = dict(context.response_headers)
            headers.update(result.header_map())
            status = result.status if result.status != 200 else context.response_status
            self._answer_http_body(context, status, headers, result.body_bytes())
            return
        codec = handler.returns or codec_for(Any)
        body = jsonwire.dumps(codec.encode(result, "result"), has_float=codec.has_float)
        headers = {"Content-Type": "application/json"}
        headers.update(context.response_headers)
        self._answer_http_body(context, context.response_status, headers, body)

    def _answer_http_body(
        self, context: RequestContext, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        """Answer; a 204/304 carries no body and so no Content-Type (RFC 9110 §15.3.5, §15.4.5)."""
        if status in NO_BODY_STATUSES:
            body = b""
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        self.answer_http(context.answer_to, status, headers, body)

    def _answer_error(self, handler: CompiledHandler, context: RequestContext, error: BaseException) -> None:
        name = handler.spec.name
        if isinstance(error, HTTPError):
            detail = error.detail if error.detail is not None else _reason(error.status)
            self.log(1, f"handler '{name}' answered HTTP {error.status}: {detail}")
        elif isinstance(error, asyncio.CancelledError):
            detail = f"handler '{name}' was cancelled"
            self.log(1, detail)
        else:
            self.log(0, f"handler '{name}' failed: " + _format_exception(error, True))
            detail = _format_exception(error, self.debug)
        if context.answer_to is None:
            return
        if context.kind == "http":
            status = error.status if isinstance(error, HTTPError) else 500
            headers = dict(error.headers) if isinstance(error, HTTPError) else {}
            if isinstance(detail, str):
                body = _error_body(context.http, status, detail, headers)
            else:
                headers.setdefault("Content-Type", "application/json")
                body = jsonwire.dumps(detail)
            self.answer_http(context.answer_to, status, headers, body)
            return
        kind = "HandlerError"
        message = detail if isinstance(detail, str) else json.dumps(detail)
        self.answer(context.answer_to, error_body(detail), metadata=error_metadata(kind, message))

    # --- answering --------------------------------------------------------------------------------

    def answer(
        self,
        answer_to: Answerable | None,
        body: bytes,
        *,
        blob: bytes | None = None,
        mime: str | None = None,
        metadata: str | None = None,
    ) -> None:
        """Send the response to `answer_to` now if it is prompting, else as soon as it is."""
        if answer_to is None or answer_to.answered:
            return
        answer_to.answered = True
        if self.prompting is answer_to:
            self.host.send_response(body, blob=blob, mime=mime, metadata=metadata)
        else:
            answer_to.deferred = (body, blob, mime, metadata)

    def answer_http(
        self, answer_to: Answerable | None, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        self.answer(answer_to, http_response_head(status, headers), blob=body)

    # --- outgoing requests ------------------------------------------------------------------------

    async def request(
        self,
        target: Address,
        body: bytes,
        *,
        timeout: float = DEFAULT_CALL_TIMEOUT,
        blob: bytes | None = None,
        mime: str | None = None,
        metadata: str | None = None,
        label: str = "",
    ) -> Reply:
        """Send a request that expects a response and wait for it (kernel timeout: `timeout` seconds,
        rounded up to whole seconds). Raises CallTimeout / CallOffline."""
        key = str(uuid.uuid4()).encode()
        future: asyncio.Future[Reply] = self.loop.create_future()
        context = current_request.get()
        owner = context.answer_to if context is not None else None
        seconds = max(1, math.ceil(timeout))
        self._track(
            key,
            Outstanding(
                "call",
                self.prompting,
                owner,
                future=future,
                label=label or str(target),
                deadline=self.loop.time() + seconds,
            ),
        )
        self.host.send_request(
            target, body, expects_response=seconds, context=key, blob=blob, mime=mime, metadata=metadata
        )
        return await future

    def send(
        self,
        target: Address,
        body: bytes,
        *,
        blob: bytes | None = None,
        mime: str | None = None,
        metadata: str | None = None,
    ) -> None:
        """Fire-and-forget request (no response will come back)."""
        self.host.send_request(target, body, expects_response=None, blob=blob, mime=mime, metadata=metadata)

    # --- state --------------------------------------------------------------------------------------

    def save_state(self) -> bool:
        return self.keeper.save()

    def kept_aside(self) -> list[KeptAside]:
        return list(self.keeper.codec.kept_aside)


def decode_reply(reply: Reply, codec: Codec, target: str, label: str) -> Any:
    """Decode a reply body with `codec`, raising BadResponse with the body shown when it does not fit."""
    try:
        value = jsonwire.loads(reply.body) if reply.body else None
    except ValueError:
        raise BadResponse(
            f"{target} answered {label} with a body that is not JSON: {reply.body[:80]!r}",
            body=reply.body,
            target=target,
            handler=label,
        ) from None
    try:
        return codec.decode(value, "response")
    except CodecError as error:
        raise BadResponse(
            f"{target} answered {label} with an unexpected value: {error}",
            body=reply.body,
            target=target,
            handler=label,
        ) from None


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}


def _error_body(request: HttpRequest | None, status: int, message: str, headers: dict[str, str]) -> bytes:
    """An HTTP error's body: `{"status": 400, "error": "Bad Request", "detail": message}` for a
    client that accepts JSON (and not HTML first), else the message as plain text. Sets the
    Content-Type in `headers` unless the handler set one."""
    accept = (request.header("accept") or "") if request is not None else ""
    wants_json = "json" in accept and not accept.lstrip().startswith("text/html")
    if wants_json and "content-type" not in {k.lower() for k in headers}:
        headers["Content-Type"] = "application/json"
        return jsonwire.dumps({"status": status, "error": _reason(status), "detail": message})
    headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    return message.encode()


def _reason(status: int) -> str:
    return _REASONS.get(status, f"HTTP {status}")


def _format_exception(error: BaseException, with_traceback: bool) -> str:
    if with_traceback:
        return "".join(traceback.format_exception(error)).rstrip()
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def current_runtime(what: str = "this function") -> ProcessRuntime:
    """The runtime of the process whose loop is running on this thread."""
    loop = asyncio.events._get_running_loop()
    runtime = getattr(loop, "hyperpy_runtime", None)
    if runtime is None:
        raise RuntimeError(f"{what} needs a running hyperpy process (call it from a handler or task)")
    return runtime


def as_address(target: Address | ProcessId | str, our: Address) -> Address:
    """Accept `Address`, `ProcessId` (our node), `"node@p:k:s"` or `"p:k:s"` (our node)."""
    if isinstance(target, Address):
        return target
    if isinstance(target, ProcessId):
        return Address(our.node, target)
    if isinstance(target, str):
        if "@" in target:
            address = Address.parse(target)
            return Address(our.node, address.process) if address.node == "our" else address
        return Address(our.node, ProcessId.parse(target))
    raise TypeError(
        f"target must be an Address, ProcessId or 'node@process:package:publisher', got {target!r}"
    )
