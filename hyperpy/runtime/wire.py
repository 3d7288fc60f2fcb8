"""The hyperapp wire format (hyperapp.md §0.5), in one place.

* Request body: the JSON of serde's externally tagged `HPMRequest` enum whose variants are the
  handler names in CamelCase: `{"Name": null}` (or the bare string `"Name"`) for no parameters,
  `{"Name": value}` for one, `{"Name": [v1, v2]}` for several.
* Response body of a local/remote handler: the JSON of the return value itself.
* HTTP answer to http-server: body `{"status": 200, "headers": {...}}`, the payload as blob.
* Errors: a hyperpy callee answers `{"Err": "message"}` (what a Rust caller expecting
  `Result<T, String>` decodes) and says what happened in the response metadata
  (`{"hyperpy":{"error":"HandlerError","message":"..."}}`), which Rust ignores and Python callers use
  to raise the right exception.
"""

from __future__ import annotations

from typing import Any

from hyperpy.runtime import jsonwire
from hyperpy.runtime.codec import codec_for
from hyperpy.runtime.errors import CodecError
from hyperpy.runtime.spec import HandlerSpec

METADATA_KEY = "hyperpy"


class BadBody(ValueError):
    """A request body that is not a hyperapp request; the message names the expected shape."""


def request_body(variant: str, encoded_args: list[Any], *, has_float: bool = True) -> bytes:
    """Body of a call to `variant` with already JSON-encoded arguments."""
    if not encoded_args:
        payload: Any = None
    elif len(encoded_args) == 1:
        payload = encoded_args[0]
    else:
        payload = encoded_args
    return jsonwire.dumps({variant: payload}, has_float=has_float)


def parse_request_body(body: bytes) -> tuple[str, Any]:
    """(variant, payload) of a hyperapp request body; `BadBody` if it is not one."""
    try:
        parsed = jsonwire.loads(body)
    except ValueError as error:  # UnicodeDecodeError is a ValueError too
        raise BadBody(f"body is not valid JSON ({error})") from None
    if isinstance(parsed, str):
        return parsed, None
    if isinstance(parsed, dict) and len(parsed) == 1:
        ((variant, payload),) = parsed.items()
        return variant, payload
    raise BadBody(
        'body must name one handler: {"HandlerName": null | value | [v1, v2, ...]} or "HandlerName"'
    )


def decode_args(handler: HandlerSpec, payload: Any, *, http: bool = False) -> dict[str, Any]:
    """Typed argument values (by parameter name) from a request payload: every parameter for a
    local/remote request, the body parameters for an HTTP one (`http=True`)."""
    params = handler.body_params if http else handler.call_params
    if not params:
        if payload is not None:
            raise CodecError("args", "null (this handler takes no arguments)", payload)
        return {}
    if len(params) == 1:
        param = params[0]
        if payload is None and param.has_default and not _accepts_null(param.annotation):
            return {}
        return {param.name: codec_for(param.annotation).decode(payload, "args")}
    required = sum(1 for p in params if not p.has_default)
    if not isinstance(payload, list) or not required <= len(payload) <= len(params):
        count = str(len(params)) if required == len(params) else f"{required} to {len(params)}"
        raise CodecError("args", f"an array of {count} arguments", payload)
    return {
        param.name: codec_for(param.annotation).decode(value, f"args[{index}]")
        for index, (param, value) in enumerate(zip(params, payload, strict=False))
    }


STRING_ARGS_METADATA = "hyperpy:string-args"
"""Request metadata of a call whose arguments are all strings, to be converted by the handler's type
hints (`/v1/cast` of a handler: tools pass arguments as text, as Hayride's cast record does)."""


def decode_string_args(handler: HandlerSpec, payload: Any) -> dict[str, Any]:
    """Typed arguments from a list of strings: a string that its parameter's type accepts as it is
    (a `str` parameter) is taken as it is, any other is read as JSON first (`"5"` for an int,
    `'{"a": 1}'` for a dataclass)."""
    params = handler.call_params
    required = sum(1 for p in params if not p.has_default)
    if not isinstance(payload, list) or not all(isinstance(item, str) for item in payload):
        raise CodecError("args", "a list of strings", payload)
    if not required <= len(payload) <= len(params):
        count = str(len(params)) if required == len(params) else f"{required} to {len(params)}"
        raise CodecError("args", f"{count} arguments", payload)
    arguments = {}
    for index, (param, text) in enumerate(zip(params, payload, strict=False)):
        codec = codec_for(param.annotation)
        where = f"args[{index}] ({param.name})"
        try:
            arguments[param.name] = codec.decode(text, where)
            continue
        except CodecError:
            pass
        try:
            value = jsonwire.loads(text)
        except ValueError:
            raise CodecError(where, f"{codec.describe} (as JSON text)", text) from None
        arguments[param.name] = codec.decode(value, where)
    return arguments


def _accepts_null(hint: Any) -> bool:
    try:
        codec_for(hint).decode(None, "")
    except CodecError:
        return False
    return True


def args_shape(handler: HandlerSpec, *, http: bool = False) -> str:
    """The request body a handler expects, for error messages: `{"Add": [<a string>, <an integer>]}`."""
    params = handler.body_params if http else handler.call_params
    if not params:
        return f'{{"{handler.variant}": null}}'
    described = [f"<{codec_for(p.annotation).describe}>" for p in params]
    if len(described) == 1:
        return f'{{"{handler.variant}": {described[0]}}}'
    return f'{{"{handler.variant}": [{", ".join(described)}]}}'


def encode_value(hint: Any, value: Any, path: str = "result") -> bytes:
    """JSON body for `value` declared as `hint`."""
    codec = codec_for(hint)
    return jsonwire.dumps(codec.encode(value, path), has_float=codec.has_float)


def error_metadata(kind: str, message: str) -> str:
    return jsonwire.dumps_str({METADATA_KEY: {"error": kind, "message": message}})


def error_body(detail: Any) -> bytes:
    return jsonwire.dumps({"Err": detail})


def parse_error_metadata(metadata: str | None) -> tuple[str, str] | None:
    """(kind, message) if the metadata is a hyperpy error envelope."""
    if not metadata or METADATA_KEY not in metadata:
        return None
    try:
        parsed = jsonwire.loads(metadata)
        info = parsed[METADATA_KEY]
        return str(info["error"]), str(info["message"])
    except (ValueError, KeyError, TypeError):
        return None


def http_response_head(status: int, headers: dict[str, str]) -> bytes:
    """Body of the Response to http-server (`HttpResponse{status, headers}`)."""
    return jsonwire.dumps({"status": status, "headers": headers}, has_float=False)


def looks_like_send_error(value: Any) -> bool:
    """A Rust hyperapp answers a request for a handler it does not expose to us with a JSON
    `SendError` (kind Timeout) instead of an error (hyperapp.md §0.5 point 5)."""
    return (
        isinstance(value, dict)
        and value.get("kind") in ("Timeout", "Offline")
        and "target" in value
        and "message" in value
    )
