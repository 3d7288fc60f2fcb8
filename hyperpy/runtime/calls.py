"""Calling other processes: `await call(...)`, typed proxies, fire-and-forget `send(...)`.

A call sends a hyperapp request body (`{"Handler": args}`), always with `expects_response` (so the
kernel times it out and a Rust callee's unconditional reply is never stray, hyperapp.md §0.5 point
7) and a UUID correlation id as context, exactly as a Rust caller does. Failures are distinct
exceptions: `CallTimeout`, `CallOffline`, `RemoteError` (the callee's handler failed or rejected the
request) and `BadResponse` (the answer does not decode as the expected type).
"""

from __future__ import annotations

from typing import Any

from hyperpy.runtime import jsonwire
from hyperpy.runtime.codec import codec_for, encode_untyped, json_has_float
from hyperpy.runtime.errors import CodecError, RemoteError
from hyperpy.runtime.naming import variant_name
from hyperpy.runtime.process import DEFAULT_CALL_TIMEOUT, as_address, current_runtime, decode_reply
from hyperpy.runtime.spec import HandlerSpec, app_spec, json_return_hint
from hyperpy.runtime.types import Address, ProcessId, Reply
from hyperpy.runtime.wire import looks_like_send_error, parse_error_metadata, request_body

Target = Address | ProcessId | str


def _variant(handler: str) -> str:
    return handler if handler[:1].isupper() and "_" not in handler else variant_name(handler)


def _untyped_body(variant: str, args: tuple[Any, ...]) -> bytes:
    encoded = [encode_untyped(arg, f"args[{index}]") for index, arg in enumerate(args)]
    return request_body(variant, encoded, has_float=json_has_float(encoded))


async def call_raw(
    target: Target,
    handler: str,
    *args: Any,
    timeout: float = DEFAULT_CALL_TIMEOUT,
    blob: bytes | None = None,
    mime: str | None = None,
) -> Reply:
    """Call `handler` on `target` and return the raw reply (body bytes, blob, metadata)."""
    runtime = current_runtime("call_raw()")
    variant = _variant(handler)
    address = as_address(target, runtime.our)
    return await runtime.request(
        address, _untyped_body(variant, args), timeout=timeout, blob=blob, mime=mime, label=variant
    )


async def call(
    target: Target,
    handler: str,
    *args: Any,
    timeout: float = DEFAULT_CALL_TIMEOUT,
    returns: Any = Any,
    blob: bytes | None = None,
    mime: str | None = None,
) -> Any:
    """Call `handler` (snake_case or CamelCase) on `target` with positional `args`.

    `target` is an Address, `"node@process:package:publisher"`, or a process id on our node.
    `returns` is the expected result type (decoded like a handler's parameters); without it the
    decoded JSON is returned. `timeout` is in seconds (the kernel counts whole seconds).
    """
    runtime = current_runtime("call()")
    variant = _variant(handler)
    address = as_address(target, runtime.our)
    reply = await runtime.request(
        address, _untyped_body(variant, args), timeout=timeout, blob=blob, mime=mime, label=variant
    )
    return interpret_reply(reply, returns, str(address), variant)


async def request(
    target: Target,
    body: bytes | str,
    *,
    timeout: float = DEFAULT_CALL_TIMEOUT,
    blob: bytes | None = None,
    mime: str | None = None,
    metadata: str | None = None,
) -> Reply:
    """Send `body` as it is (a str is sent as UTF-8) and return the raw reply.

    For processes that do not speak hyperapp's `{"Handler": args}` bodies: runtime modules' own
    formats, a Rust process's own request enum, a remote node's `net:distro:sys` (what `hi` sends).
    Raises `CallTimeout` / `CallOffline` like `call`.
    """
    runtime = current_runtime("request()")
    address = as_address(target, runtime.our)
    data = body.encode() if isinstance(body, str) else bytes(body)
    return await runtime.request(
        address, data, timeout=timeout, blob=blob, mime=mime, metadata=metadata, label=str(address)
    )


def interpret_reply(reply: Reply, returns: Any, target: str, label: str) -> Any:
    """Turn a reply into the handler's result, or raise the matching CallError."""
    error = parse_error_metadata(reply.metadata)
    if error is not None:
        kind, message = error
        detail: Any = message
        try:
            parsed = jsonwire.loads(reply.body)
            if isinstance(parsed, dict) and "Err" in parsed:
                detail = parsed["Err"]
        except ValueError:
            detail = message
        raise RemoteError(
            f"{target} {label}: {kind}: {message}", kind=kind, detail=detail, target=target, handler=label
        )
    codec = codec_for(returns)
    try:
        return decode_reply(reply, codec, target, label)
    except Exception as failure:
        try:
            value = jsonwire.loads(reply.body)
        except ValueError:
            raise failure from None
        if looks_like_send_error(value):
            raise RemoteError(
                f"{target} rejected {label}: it answered with a SendError, which is how a Rust hyperapp "
                "says the handler is not exposed to callers like us (e.g. #[local] called remotely)",
                kind="NotExposed",
                detail=value,
                target=target,
                handler=label,
            ) from None
        raise


def send(
    target: Target, handler: str, *args: Any, blob: bytes | None = None, mime: str | None = None
) -> None:
    """Fire-and-forget: deliver the request, expect no answer (the callee will not reply)."""
    runtime = current_runtime("send()")
    runtime.send(
        as_address(target, runtime.our), _untyped_body(_variant(handler), args), blob=blob, mime=mime
    )


class Proxy:
    """A typed client for another process: `await Proxy(target, CounterApp).increment(5)`.

    With an app class, method names, argument types and return types come from its handler
    declarations (a wrong argument fails before anything is sent). Without one, any attribute is
    called untyped. `timeout` applies to every call; override per call with `.with_timeout(s)`.
    """

    def __init__(
        self, target: Target, app: type | None = None, *, timeout: float = DEFAULT_CALL_TIMEOUT
    ) -> None:
        self._target = target
        self._app = app
        self._timeout = timeout
        self._handlers: dict[str, HandlerSpec] = {}
        if app is not None:
            spec = app_spec(app)
            self._handlers = {h.name: h for h in spec.handlers if h.kinds & {"local", "remote"}}

    def with_timeout(self, timeout: float) -> Proxy:
        return Proxy(self._target, self._app, timeout=timeout)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        handler = self._handlers.get(name)
        if self._app is not None and handler is None:
            available = ", ".join(sorted(self._handlers)) or "(none)"
            raise AttributeError(
                f"{self._app.__qualname__} has no local/remote handler {name!r}; available: {available}"
            )
        target, timeout = self._target, self._timeout

        async def invoke(*args: Any) -> Any:
            if handler is None:
                return await call(target, name, *args, timeout=timeout)
            body = typed_request_body(handler, args)
            runtime = current_runtime(f"{name}()")
            address = as_address(target, runtime.our)
            reply = await runtime.request(address, body, timeout=timeout, label=handler.variant)
            return interpret_reply(reply, json_return_hint(handler.returns), str(address), handler.variant)

        invoke.__name__ = name
        return invoke


def typed_request_body(handler: HandlerSpec, args: tuple[Any, ...]) -> bytes:
    """Encode `args` with the handler's declared parameter types into its request body."""
    params = handler.call_params
    required = sum(1 for p in params if not p.has_default)
    if not required <= len(args) <= len(params):
        raise TypeError(f"{handler.name}() takes {len(params)} argument(s), got {len(args)}")
    encoded = []
    has_float = False
    for param, value in zip(params, args, strict=False):
        codec = codec_for(param.annotation)
        try:
            encoded.append(codec.encode(value, f"{handler.name}({param.name})"))
        except CodecError as error:
            raise TypeError(str(error)) from None
        has_float = has_float or codec.has_float
    return request_body(handler.variant, encoded, has_float=has_float)


__all__ = ["Proxy", "call", "call_raw", "interpret_reply", "request", "send", "typed_request_body"]
