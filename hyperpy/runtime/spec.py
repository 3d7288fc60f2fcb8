"""`app_spec(module)`: the plain-data description of an app that tools and the runtime share.

The build uses it to infer capabilities (`required_processes`), the WIT generator to emit signature
records, and the runtime to dispatch. Building it validates the whole declaration; every problem
raises a `DeclarationError` that names the app, the handler (and parameter) and the fix, so a wrong
app fails at `hyperpy build` instead of misbehaving on a node.
"""

from __future__ import annotations

import functools
import inspect
import operator
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from hyperpy.runtime import well_known
from hyperpy.runtime.codec import UnsupportedType, codec_for
from hyperpy.runtime.decorators import (
    APP_ATTR,
    HANDLER_ATTR,
    AppSettings,
    HandlerDecl,
    HttpEndpoint,
    WsEndpoint,
    duplicate_definitions,
)
from hyperpy.runtime.errors import DeclarationError
from hyperpy.runtime.naming import kebab_name, variant_name
from hyperpy.runtime.paths import PathError, compile_path
from hyperpy.runtime.state import EveryNSeconds, state_fields
from hyperpy.runtime.typeinfo import scalar_info
from hyperpy.runtime.types import Header, Query, Response, WithBlob, WsMessageType

HTTP_SERVER = well_known.HTTP_SERVER
TIMER = well_known.TIMER
HOMEPAGE = well_known.HOMEPAGE
VFS = well_known.VFS

# Short names accepted in `@app(uses=[...])` and the module attribute names we look for in code.
KNOWN_PROCESSES = {
    "http-server": HTTP_SERVER,
    "http_server": HTTP_SERVER,
    "http-client": well_known.HTTP_CLIENT,
    "http_client": well_known.HTTP_CLIENT,
    "timer": TIMER,
    "vfs": VFS,
    "kv": well_known.KV,
    "sqlite": well_known.SQLITE,
    "net": well_known.NET,
    "homepage": HOMEPAGE,
    "eth": well_known.ETH,
}
EXCLUSIVE_KINDS = ("init", "ws", "ws_open", "ws_close", "timer")
RPC_KINDS = ("http", "local", "remote")
DEFAULT_API_PATH = "/api"
DEFAULT_WS_PATH = "/ws"


@dataclass(frozen=True)
class ParamSpec:
    """One handler parameter. `source` is where its value comes from: body, path, query or header;
    `key` the name used there (URL placeholder, query key, header name)."""

    name: str
    annotation: Any
    source: str
    key: str
    has_default: bool = False
    default: Any = None


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    variant: str
    kinds: frozenset[str]
    is_async: bool
    params: tuple[ParamSpec, ...]
    returns: Any
    http_methods: tuple[str, ...] | None = None
    http_path: str | None = None
    ws_path: str | None = None
    timer_seconds: float | None = None
    timer_repeat: bool = True
    doc: str | None = None
    http_status: int = 200

    @property
    def body_params(self) -> tuple[ParamSpec, ...]:
        """What an HTTP request carries in its body (path/query/header ones come from the URL)."""
        return tuple(p for p in self.params if p.source == "body")

    @property
    def call_params(self) -> tuple[ParamSpec, ...]:
        """What a local/remote request carries: every parameter, in order, as hyperapp does
        (`source` only says where an HTTP request takes the value from)."""
        return self.params

    @property
    def default_http_paths(self) -> tuple[str, ...]:
        """Where a path-less `@http` handler is reachable: `/api` (hyperapp) and `/api/<fn-kebab>`
        (the URL kit's generated TypeScript client uses)."""
        if self.http_path is not None or "http" not in self.kinds:
            return ()
        return (DEFAULT_API_PATH, f"{DEFAULT_API_PATH}/{kebab_name(self.name)}")


@dataclass
class AppSpec:
    module: str
    class_name: str
    app_class: type
    settings: AppSettings
    handlers: tuple[HandlerSpec, ...]
    state_fields: tuple[tuple[str, Any], ...]
    endpoints: tuple[HttpEndpoint | WsEndpoint, ...]
    required_processes: set[str] = field(default_factory=set)
    request_networking: bool = False

    @property
    def name(self) -> str:
        return self.settings.name or self.class_name

    def handler(self, name: str) -> HandlerSpec:
        for handler in self.handlers:
            if handler.name == name:
                return handler
        raise KeyError(f"app {self.class_name} has no handler {name!r}")

    def of_kind(self, kind: str) -> tuple[HandlerSpec, ...]:
        return tuple(h for h in self.handlers if kind in h.kinds)


# --------------------------------------------------------------------------------------------------


def defines_app_class(module: types.ModuleType) -> bool:
    """Whether `module` itself defines an `@app` class (imported ones do not count)."""
    return any(
        isinstance(value, type) and APP_ATTR in value.__dict__ and value.__module__ == module.__name__
        for value in vars(module).values()
    )


def find_app_class(module: types.ModuleType) -> type:
    """The one class in `module` decorated with `@app` (defined there or imported into it)."""
    found = []
    for value in vars(module).values():
        if isinstance(value, type) and APP_ATTR in value.__dict__ and value not in found:
            found.append(value)
    # An app defined here wins over apps merely imported (e.g. a base app it subclasses).
    own = [cls for cls in found if cls.__module__ == module.__name__]
    if own:
        found = own
    if not found:
        raise DeclarationError(
            f"module {module.__name__}: no app found; decorate one class with @hyperpy.app, e.g.\n"
            "    @app(name='counter')\n    class Counter:\n        count: int = 0"
        )
    if len(found) > 1:
        names = ", ".join(cls.__qualname__ for cls in found)
        raise DeclarationError(
            f"module {module.__name__}: several apps found ({names}); a process module holds exactly one "
            "@app class; move the others to their own modules"
        )
    return found[0]


def app_spec(module: types.ModuleType | type) -> AppSpec:
    """Describe and validate the app found in `module` (or the given app class). Cached per class."""
    cls = module if isinstance(module, type) else find_app_class(module)
    cached = cls.__dict__.get("__hyperpy_spec__")
    if isinstance(cached, AppSpec):
        return cached
    spec = _build_spec(cls)
    cls.__hyperpy_spec__ = spec  # type: ignore[attr-defined]
    return spec


def _build_spec(cls: type) -> AppSpec:
    settings: AppSettings | None = cls.__dict__.get(APP_ATTR)
    if settings is None:
        raise DeclarationError(f"class {cls.__qualname__} is not an app: decorate it with @hyperpy.app")
    app_name = cls.__qualname__
    handlers = tuple(_handler_spec(app_name, name, func, decl) for name, func, decl in _decorated(cls))
    _check_handler_set(app_name, handlers)
    fields = tuple((f.name, f.codec.hint) for f in state_fields(cls))
    _check_migrations(cls, settings)
    endpoints = (
        settings.endpoints if settings.endpoints is not None else _inferred_endpoints(settings, handlers)
    )
    spec = AppSpec(
        module=cls.__module__,
        class_name=cls.__qualname__,
        app_class=cls,
        settings=settings,
        handlers=handlers,
        state_fields=fields,
        endpoints=endpoints,
    )
    spec.required_processes = _required_processes(cls, settings, handlers, endpoints)
    remote = any("remote" in h.kinds for h in handlers)
    spec.request_networking = (
        settings.request_networking if settings.request_networking is not None else remote
    )
    return spec


def _check_migrations(cls: type, settings: AppSettings) -> None:
    from hyperpy.runtime.state import StateCodec

    StateCodec(cls, settings.state_version)


def _decorated(cls: type) -> list[tuple[str, Any, HandlerDecl]]:
    """Decorated methods of the class and its bases, subclass definitions winning."""
    seen: dict[str, tuple[str, Any, HandlerDecl]] = {}
    for klass in reversed(cls.__mro__):
        if klass is object:
            continue
        for name, raw in vars(klass).items():
            function = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
            decl = getattr(function, HANDLER_ATTR, None)
            if isinstance(decl, HandlerDecl):
                if isinstance(raw, staticmethod | classmethod):
                    raise DeclarationError(
                        f"app {cls.__qualname__}, handler '{name}': handlers must be plain methods "
                        "(def name(self, ...)), not static or class methods"
                    )
                seen[name] = (name, function, decl)
            elif name in seen:
                del seen[name]  # a subclass replaced the handler with a plain attribute
    for name, function, _ in seen.values():
        if duplicate_definitions(function) > 1:
            raise DeclarationError(
                f"app {cls.__qualname__}: handler '{name}' is defined more than once in the class body; "
                "Python keeps only the last definition, so rename one of them"
            )
    return list(seen.values())


def _fail(app_name: str, handler: str, message: str) -> DeclarationError:
    return DeclarationError(f"app {app_name}, handler '{handler}': {message}")


def _handler_spec(app_name: str, name: str, func: Any, decl: HandlerDecl) -> HandlerSpec:
    if decl.errors:
        raise _fail(app_name, name, decl.errors[0])
    kinds = frozenset(decl.kinds)
    exclusive = [k for k in EXCLUSIVE_KINDS if k in kinds]
    if exclusive and len(kinds) > 1:
        others = ", ".join(f"@{k}" for k in sorted(kinds - {exclusive[0]}))
        raise _fail(app_name, name, f"@{exclusive[0]} cannot be combined with {others}; use separate methods")
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        raise _fail(app_name, name, "handlers cannot be generators; return a list instead of yielding")
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except NameError as error:
        raise _fail(
            app_name, name, f"a type hint cannot be resolved ({error}); import or define it at module level"
        ) from None
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if not params or params[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise _fail(app_name, name, "a handler is a method: its first parameter must be self")
    params = params[1:]
    for param in params:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise _fail(app_name, name, f"*{param.name}/**{param.name} is not supported; list the parameters")
        if param.name not in hints:
            raise _fail(
                app_name, name, f"parameter '{param.name}' has no type hint; write e.g. '{param.name}: int'"
            )
    kind = exclusive[0] if exclusive else None
    is_async = inspect.iscoroutinefunction(func)
    doc = inspect.getdoc(func)
    if kind in ("init", "timer"):
        if params:
            listed = ", ".join(p.name for p in params)
            raise _fail(app_name, name, f"@{kind} handlers take no parameters (found: {listed}); remove them")
        return HandlerSpec(
            name,
            variant_name(name),
            kinds,
            is_async,
            (),
            hints.get("return"),
            timer_seconds=decl.timer_seconds,
            timer_repeat=decl.timer_repeat,
            doc=doc,
        )
    if kind in ("ws", "ws_open", "ws_close"):
        specs = _ws_params(app_name, name, kind, params, hints)
        return HandlerSpec(
            name,
            variant_name(name),
            kinds,
            is_async,
            specs,
            hints.get("return"),
            ws_path=decl.ws_path or DEFAULT_WS_PATH,
            doc=doc,
        )
    if not kinds & set(RPC_KINDS):
        raise _fail(app_name, name, "no handler kind; add @http, @local or @remote")
    if "return" not in hints:
        raise _fail(app_name, name, "no return type hint; add one, e.g. '-> int' (or '-> None')")
    path_names = _path_params(app_name, name, decl.http_path)
    specs = tuple(_rpc_param(app_name, name, kinds, p, hints[p.name], path_names) for p in params)
    missing = set(path_names) - {p.name for p in specs}
    if missing:
        raise _fail(
            app_name,
            name,
            f"path {decl.http_path!r} names {{{sorted(missing)[0]}}} but the handler has no "
            "such parameter; add it or fix the path",
        )
    returns = hints["return"]
    _check_return(app_name, name, returns)
    return HandlerSpec(
        name,
        variant_name(name),
        kinds,
        is_async,
        specs,
        returns,
        http_methods=tuple(decl.http_methods) if decl.http_methods is not None else None,
        http_path=decl.http_path,
        http_status=decl.http_status,
        doc=doc,
    )


def _path_params(app_name: str, name: str, path: str | None) -> list[str]:
    if path is None:
        return []
    try:
        return list(compile_path(path).params)
    except PathError as error:
        raise _fail(app_name, name, str(error)) from None


_SCALAR_HINT = "str, int, float, bool, an Enum or a Literal (optionally | None)"


def _is_scalar(hint: Any) -> bool:
    return scalar_info(hint) is not None


def _rpc_param(
    app_name: str,
    name: str,
    kinds: frozenset[str],
    param: inspect.Parameter,
    hint: Any,
    path_names: list[str],
) -> ParamSpec:
    marker = None
    inner = hint
    if typing.get_origin(hint) is typing.Annotated:
        inner, *extras = typing.get_args(hint)
        markers = [e for e in extras if isinstance(e, Query | Header)]
        if len(markers) > 1:
            raise _fail(
                app_name, name, f"parameter '{param.name}' has both Query and Header markers; keep one"
            )
        marker = markers[0] if markers else None
    has_default = param.default is not inspect.Parameter.empty
    default = param.default if has_default else None
    if param.name in path_names:
        source, key = "path", param.name
    elif isinstance(marker, Query):
        source, key = "query", marker.name or param.name
    elif isinstance(marker, Header):
        source, key = "header", (marker.name or param.name.replace("_", "-")).lower()
    else:
        source, key = "body", param.name
    if source != "body":
        if "http" not in kinds:
            raise _fail(
                app_name,
                name,
                f"parameter '{param.name}' is bound to the URL {source}, which only @http "
                "requests have; add @http or remove the marker",
            )
        if not _is_scalar(inner):
            raise _fail(
                app_name,
                name,
                f"parameter '{param.name}' comes from the HTTP {source} and must be "
                f"{_SCALAR_HINT}, not {inner!r}",
            )
    try:
        codec_for(inner)
    except UnsupportedType as error:
        raise _fail(app_name, name, f"parameter '{param.name}': {error}") from None
    return ParamSpec(param.name, inner, source, key, has_default, default)


def _check_return(app_name: str, name: str, returns: Any) -> None:
    for candidate in _return_alternatives(returns):
        try:
            codec_for(candidate)
        except UnsupportedType as error:
            raise _fail(app_name, name, f"return type: {error}") from None


def _return_alternatives(returns: Any) -> list[Any]:
    """The JSON-encoded part of a return hint: `Response` and `WithBlob[...]` wrappers removed."""
    origin = typing.get_origin(returns)
    if origin in (typing.Union, types.UnionType):
        alternatives = [a for a in typing.get_args(returns) if a is not Response]
        if len(alternatives) != len(typing.get_args(returns)):
            if not alternatives:
                return []
            return [functools.reduce(operator.or_, alternatives)]
        return [returns]
    if returns is Response:
        return []
    if origin is WithBlob or returns is WithBlob:
        args = typing.get_args(returns)
        return [args[0]] if args else [Any]
    return [returns]


def json_return_hint(returns: Any) -> Any:
    """The hint the codec uses for a handler's JSON result (see `_return_alternatives`)."""
    alternatives = _return_alternatives(returns)
    return alternatives[0] if alternatives else Any


def _ws_params(
    app_name: str, name: str, kind: str, params: list[inspect.Parameter], hints: dict[str, Any]
) -> tuple[ParamSpec, ...]:
    expected: dict[str, list[tuple[str, Any]]] = {
        "ws": [("channel_id", int), ("message_type", WsMessageType), ("data", bytes)],
        "ws_open": [("channel_id", int), ("path", str)],
        "ws_close": [("channel_id", int)],
    }
    shape = expected[kind]
    allowed_counts = {len(shape), 1} if kind == "ws_open" else {len(shape)}
    example = ", ".join(f"{n}: {t.__name__}" for n, t in shape)
    if len(params) not in allowed_counts:
        raise _fail(app_name, name, f"@{kind} handlers take ({example}); found {len(params)} parameter(s)")
    specs = []
    for param, (role, wanted) in zip(params, shape, strict=False):
        hint = hints[param.name]
        if hint is not wanted:
            raise _fail(
                app_name,
                name,
                f"@{kind} parameter '{param.name}' must be typed {wanted.__name__} (signature: {example})",
            )
        specs.append(ParamSpec(param.name, hint, "ws", role))
    return tuple(specs)


def _route_key(path: str) -> str:
    return "/".join("{}" if s.startswith("{") else s for s in path.strip("/").split("/"))


def _check_handler_set(app_name: str, handlers: tuple[HandlerSpec, ...]) -> None:
    inits = [h.name for h in handlers if "init" in h.kinds]
    if len(inits) > 1:
        raise DeclarationError(f"app {app_name}: more than one @init ({', '.join(inits)}); keep one")
    variants: dict[str, str] = {}
    for handler in handlers:
        if not handler.kinds & set(RPC_KINDS):
            continue
        previous = variants.setdefault(handler.variant, handler.name)
        if previous != handler.name:
            raise DeclarationError(
                f"app {app_name}: handlers '{previous}' and '{handler.name}' share the wire name "
                f"'{handler.variant}'; rename one"
            )
    routes: list[tuple[str, HandlerSpec]] = []
    for handler in handlers:
        if handler.http_path is None:
            continue
        key = _route_key(handler.http_path)
        for other_key, other in routes:
            if other_key != key:
                continue
            mine = set(handler.http_methods or ()) or None
            theirs = set(other.http_methods or ()) or None
            if mine is None or theirs is None or mine & theirs:
                overlap = (
                    "all methods" if mine is None or theirs is None else ", ".join(sorted(mine & theirs))
                )
                raise DeclarationError(
                    f"app {app_name}: handlers '{other.name}' and '{handler.name}' both answer "
                    f"{overlap} on {handler.http_path!r}; give them different paths or methods"
                )
        routes.append((key, handler))
    for kind in ("ws", "ws_open", "ws_close"):
        seen: dict[str, str] = {}
        for handler in handlers:
            if kind in handler.kinds and handler.ws_path is not None:
                previous = seen.setdefault(handler.ws_path, handler.name)
                if previous != handler.name:
                    raise DeclarationError(
                        f"app {app_name}: two @{kind} handlers ('{previous}', '{handler.name}') for path "
                        f"{handler.ws_path!r}; keep one"
                    )


def bind_path(template: str) -> str:
    """Our `{id}` / `{rest:path}` templates in http-server's route syntax (`:id`, `*rest`)."""
    return compile_path(template).binding


API_CATCH_ALL = "/api/*rest"


def _inferred_endpoints(
    settings: AppSettings, handlers: tuple[HandlerSpec, ...]
) -> tuple[HttpEndpoint | WsEndpoint, ...]:
    paths: dict[str, None] = {}
    for handler in handlers:
        if "http" not in handler.kinds:
            continue
        if handler.http_path is not None:
            paths[bind_path(handler.http_path)] = None
        for path in handler.default_http_paths:
            paths[path] = None
    if settings.ui and paths:
        # http-server falls back to an app's root binding for unbound paths (Hyperdrive does), so
        # with a UI at "/" a mistyped /api/... would answer index.html with 200. Binding the rest
        # of /api to the app makes its router answer 404 there; the UI fallback stays for the rest.
        paths[API_CATCH_ALL] = None
    endpoints: list[HttpEndpoint | WsEndpoint] = [
        HttpEndpoint(path, authenticated=settings.authenticated) for path in paths
    ]
    ws_paths: dict[str, None] = {}
    for handler in handlers:
        if handler.kinds & {"ws", "ws_open", "ws_close"} and handler.ws_path is not None:
            ws_paths[handler.ws_path] = None
    endpoints += [WsEndpoint(path, authenticated=settings.authenticated) for path in ws_paths]
    return tuple(endpoints)


def _required_processes(
    cls: type,
    settings: AppSettings,
    handlers: tuple[HandlerSpec, ...],
    endpoints: tuple[HttpEndpoint | WsEndpoint, ...],
) -> set[str]:
    # The executor uses timer:distro:sys for asyncio.sleep/wait_for, @timer handlers, EveryNSeconds
    # and for re-entering a request's context to answer it (see process.py), so every app needs it.
    required = {TIMER}
    if endpoints or settings.ui or any(h.kinds & {"http", "ws", "ws_open", "ws_close"} for h in handlers):
        required.add(HTTP_SERVER)
    if settings.ui:
        required.add(VFS)  # the UI files are read from the package drive
    if settings.icon or settings.widget:
        required.add(HOMEPAGE)
    if isinstance(settings.save, EveryNSeconds):
        required.add(TIMER)
    for name in settings.uses:
        process = KNOWN_PROCESSES.get(name, name)
        if process.count(":") != 2:
            raise DeclarationError(
                f"app {cls.__qualname__}: @app(uses=[{name!r}]) is neither a known module "
                f"({', '.join(sorted(set(KNOWN_PROCESSES) - {'http_server', 'http_client'}))}) nor a "
                "process id 'process:package:publisher'"
            )
        required.add(process)
    required |= _detected_modules(cls)
    return required


def _detected_modules(cls: type) -> set[str]:
    """Runtime modules the app's code visibly uses through hyperpy's wrappers (`kv.open(...)`)."""
    found: set[str] = set()
    module = sys.modules.get(cls.__module__)
    namespace = vars(module) if module is not None else {}
    for value in namespace.values():
        process = getattr(value, "__hyperpy_process__", None)
        if process is None:
            owner = sys.modules.get(getattr(value, "__module__", "") or "")
            process = getattr(owner, "__hyperpy_process__", None) if owner is not None else None
        if isinstance(process, str):
            found.add(process)
    # `hyperpy.kv.open(...)` in a method: the attribute name is in the code object.
    wrappers = {
        name: KNOWN_PROCESSES[name] for name in ("kv", "sqlite", "vfs", "http_client", "net", "homepage")
    }
    for raw in vars(cls).values():
        function = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
        code = getattr(function, "__code__", None)
        if code is None:
            continue
        for name in _code_names(code):
            process = wrappers.get(name)
            if process:
                found.add(process)
    return found


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names
