"""HTTP routing: from an incoming http-server request to a handler and its typed arguments.

hyperapp's README promises method/path-aware dispatch; its code ignores method and path whenever a
body is present and never sends 405 (hyperapp.md §1.4). The rules here:

1. **By name** (hyperapp wire style): a body that is `{"Name": args}` or `"Name"` for an `@http`
   handler selects it, then its declared path and methods are enforced (404 / 405 + `Allow`).
2. **By path, then method** (REST style) otherwise: handlers whose `path` template matches
   (`/items/{id}`), else path-less handlers at `/api/<fn-kebab>`, else, for a body-less request to
   `/api`, path-less handlers without required body parameters in declaration order (hyperapp
   lets those catch every unclaimed path; we keep them to the paths bound for them). A path that
   matches with the wrong method gets 405 with `Allow`; nothing matching gets 404. OPTIONS is
   answered with `Allow`; HEAD falls back to a GET handler.
3. Arguments: path placeholders, `Query`/`Header` markers, then the body: one body parameter takes
   the whole JSON body, several take a JSON object by name (or an array in order). Without a body,
   scalar parameters are read from the query string.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from hyperpy.runtime import jsonwire
from hyperpy.runtime.codec import codec_for
from hyperpy.runtime.errors import CodecError
from hyperpy.runtime.paths import compile_path
from hyperpy.runtime.spec import DEFAULT_API_PATH, HandlerSpec, ParamSpec
from hyperpy.runtime.typeinfo import scalar_info
from hyperpy.runtime.wire import args_shape, decode_args


@dataclass(slots=True)
class HttpRequest:
    """An HTTP request as the handler sees it (`hyperpy.http_server.http_request()`)."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    bound_path: str = ""
    url_params: dict[str, str] = field(default_factory=dict)
    source_socket_addr: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        return jsonwire.loads(self.body) if self.body else None


def parse_http_request(payload: dict[str, Any], body: bytes, our_process: str) -> HttpRequest:
    """Build an `HttpRequest` from http-server's `IncomingHttpRequest` JSON.

    The URL carries the process id as its first path segment (`/counter:counter:sys/api`); like
    process_lib's `path()` we strip it so handlers see their own paths.
    """
    url = str(payload.get("url") or "")
    raw_path = urlsplit(url).path or "/"
    segments = raw_path.split("/")
    if len(segments) > 1 and unquote(segments[1]) == our_process:
        raw_path = "/" + "/".join(segments[2:])
    headers = payload.get("headers") or {}
    query = payload.get("query_params") or {}
    url_params = payload.get("url_params") or {}
    return HttpRequest(
        method=str(payload.get("method") or "GET").upper(),
        path=raw_path if raw_path else "/",
        url=url,
        headers={str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
        query={str(k): str(v) for k, v in query.items()} if isinstance(query, dict) else {},
        body=body,
        bound_path=str(payload.get("bound_path") or ""),
        url_params={str(k): str(v) for k, v in url_params.items()} if isinstance(url_params, dict) else {},
        source_socket_addr=payload.get("source_socket_addr"),
    )


@dataclass(slots=True)
class RouteMatch:
    handler: HandlerSpec
    arguments: dict[str, Any]


@dataclass(slots=True)
class RouteError:
    """An answer the router gives itself: 400/404/405, or 204 for OPTIONS."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


class Router:
    """Routes requests among one app's `@http` handlers (in declaration order)."""

    def __init__(self, handlers: tuple[HandlerSpec, ...]) -> None:
        self.handlers = [h for h in handlers if "http" in h.kinds]
        self.by_variant = {h.variant: h for h in self.handlers}
        self.templates = {h.name: compile_path(h.http_path) for h in self.handlers if h.http_path is not None}
        self.kebab_paths = {h.name: h.default_http_paths[1] for h in self.handlers if h.http_path is None}

    def resolve(self, request: HttpRequest) -> RouteMatch | RouteError:
        named = self._named(request)
        if named is not None:
            return named
        return self._by_path(request)

    # --- rule 1: the body names the handler --------------------------------------------------------

    def _named(self, request: HttpRequest) -> RouteMatch | RouteError | None:
        if not request.body.strip():
            return None
        try:
            parsed = jsonwire.loads(request.body)
        except ValueError:
            return None
        if isinstance(parsed, str):
            handler, payload = self.by_variant.get(parsed), None
        elif isinstance(parsed, dict) and len(parsed) == 1:
            ((name, payload),) = parsed.items()
            handler = self.by_variant.get(name)
        else:
            return None
        if handler is None:
            return None
        path_values: dict[str, str] = {}
        template = self.templates.get(handler.name)
        if template is not None:
            matched = template.match(request.path)
            if matched is None:
                return RouteError(
                    404, f"{handler.variant} is served at {handler.http_path}, not {request.path}"
                )
            path_values = matched
        refused = self._refusal(handler, request.method)
        if refused is not None:
            return refused
        try:
            body_args = decode_args(handler, payload, http=True)
            arguments = self._url_arguments(handler, request, path_values)
        except CodecError as error:
            return RouteError(
                400, f"bad request for {handler.variant}: {error}; expected {args_shape(handler, http=True)}"
            )
        arguments.update(body_args)
        return RouteMatch(handler, arguments)

    def _refusal(self, handler: HandlerSpec, method: str) -> RouteError | None:
        """None when the handler takes `method`, else the 405 answer."""
        methods = handler.http_methods
        if methods is None or method in methods or (method == "HEAD" and "GET" in methods):
            return None
        return RouteError(405, f"method {method} not allowed", {"Allow": ", ".join(methods)})

    # --- rule 2: path, then method -----------------------------------------------------------------

    def _by_path(self, request: HttpRequest) -> RouteMatch | RouteError:
        candidates: list[tuple[HandlerSpec, dict[str, str]]] = []
        for handler in self.handlers:
            template = self.templates.get(handler.name)
            if template is not None:
                matched = template.match(request.path)
                if matched is not None:
                    candidates.append((handler, matched))
        path = request.path.rstrip("/") or "/"
        if not candidates:
            candidates = [(h, {}) for h in self.handlers if self.kebab_paths.get(h.name) == path]
        if not candidates and not request.body.strip() and path == DEFAULT_API_PATH:
            candidates = [
                (h, {})
                for h in self.handlers
                if h.http_path is None and all(p.has_default or p.source != "body" for p in h.body_params)
            ]
        if not candidates:
            return RouteError(404, f"No handler found for {request.method} {request.path}")
        for handler, path_values in candidates:
            if self._refusal(handler, request.method) is None:
                return self._bind(handler, request, path_values)
        allow = sorted({m for h, _ in candidates for m in (h.http_methods or ())} | {"OPTIONS"})
        if request.method == "OPTIONS":
            return RouteError(204, "", {"Allow": ", ".join(allow)})
        return RouteError(
            405, f"method {request.method} not allowed on {request.path}", {"Allow": ", ".join(allow)}
        )

    def _bind(
        self, handler: HandlerSpec, request: HttpRequest, path_values: dict[str, str]
    ) -> RouteMatch | RouteError:
        body_present = bool(request.body.strip())
        try:
            arguments = self._url_arguments(handler, request, path_values)
            arguments.update(self._body_arguments(handler, request, body_present))
        except NoBody as missing:
            return RouteError(400, f"bad request for {handler.name}: {missing}")
        except CodecError as error:
            return RouteError(400, f"bad request for {handler.name}: {error}")
        except ValueError as error:
            return RouteError(400, f"bad request for {handler.name}: body is not valid JSON ({error})")
        return RouteMatch(handler, arguments)

    def _url_arguments(
        self, handler: HandlerSpec, request: HttpRequest, path_values: dict[str, str]
    ) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for param in handler.params:
            if param.source == "path":
                arguments[param.name] = text_to_value(param, path_values[param.key], "path")
            elif param.source == "query":
                _bind_text(arguments, param, request.query.get(param.key), "query")
            elif param.source == "header":
                _bind_text(arguments, param, request.headers.get(param.key), "header")
        return arguments

    def _body_arguments(
        self, handler: HandlerSpec, request: HttpRequest, body_present: bool
    ) -> dict[str, Any]:
        params = handler.body_params
        if not params:
            return {}
        if not body_present:
            arguments: dict[str, Any] = {}
            for param in params:
                text = request.query.get(param.key)
                if text is None and not param.has_default and not _optional(param.annotation):
                    raise NoBody(handler, param)
                _bind_text(arguments, param, text, "query")
            return arguments
        data = jsonwire.loads(request.body)
        if len(params) == 1:
            return {params[0].name: codec_for(params[0].annotation).decode(data, "body")}
        if isinstance(data, list):
            if len(data) != len(params):
                raise CodecError("body", f"an array of {len(params)} values", data)
            return {
                p.name: codec_for(p.annotation).decode(value, f"body[{i}]")
                for i, (p, value) in enumerate(zip(params, data, strict=False))
            }
        if not isinstance(data, dict):
            raise CodecError("body", "a JSON object with keys " + ", ".join(p.name for p in params), data)
        arguments = {}
        for param in params:
            if param.name in data:
                arguments[param.name] = codec_for(param.annotation).decode(
                    data[param.name], f"body.{param.name}"
                )
            elif not param.has_default:
                raise CodecError(f"body.{param.name}", "a value (this field is required)", data)
        return arguments


class NoBody(Exception):
    """An HTTP request without a body for a handler whose parameter `param` needs one."""

    def __init__(self, handler: HandlerSpec, param: ParamSpec) -> None:
        names = ", ".join(p.name for p in handler.body_params)
        where = "as the JSON body" if len(handler.body_params) == 1 else f"in a JSON body ({names})"
        scalar = scalar_info(param.annotation) is not None
        alternative = f", or as the query parameter ?{param.key}=" if scalar else ""
        super().__init__(f"the request has no body: send '{param.name}' {where}{alternative}")


def _bind_text(arguments: dict[str, Any], param: ParamSpec, text: str | None, where: str) -> None:
    if text is not None:
        arguments[param.name] = text_to_value(param, text, where)
    elif not param.has_default:
        if _optional(param.annotation):
            arguments[param.name] = None
        else:
            raise CodecError(f"{where}.{param.key}", "a value (this parameter is required)", None)


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def text_to_value(param: ParamSpec, text: str, where: str) -> Any:
    """Convert a path/query/header string to the parameter's scalar type."""
    info = scalar_info(param.annotation)
    path = f"{where}.{param.key}"
    if info is None:
        return codec_for(param.annotation).decode(text, path)
    hint = info.base
    if info.kind == "str":
        return text
    if info.kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise CodecError(path, "true or false", text)
    if info.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise CodecError(path, "an integer", text) from None
    if info.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise CodecError(path, "a number", text) from None
    if info.kind == "enum":
        return codec_for(hint).decode(text, path)
    for option in typing.get_args(hint):  # a Literal
        same = text.lower() == str(option).lower() if isinstance(option, bool) else text == str(option)
        if same:
            return option
    raise CodecError(path, "one of " + ", ".join(repr(o) for o in typing.get_args(hint)), text)
