"""The decorators an app author writes: `@app` on the class, `@http`/`@local`/... on its methods.

Decorators only *record* what was declared (a `HandlerDecl` on the function, `AppSettings` on the
class) and check what can be checked on the spot (a bad HTTP method, a negative period). Everything
that needs resolved type hints is validated by `spec.app_spec`, which the build runs, so forward
references to types defined later in the module still work.

Decorators may be stacked in any order (`@http` + `@local` + `@remote` is one handler reachable three
ways) and return the function unchanged, so the method stays callable from Python.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from hyperpy.runtime.errors import DeclarationError
from hyperpy.runtime.state import OnDiff, SavePolicy

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

HANDLER_ATTR = "__hyperpy_handler__"
APP_ATTR = "__hyperpy_app__"
MIGRATION_ATTR = "__hyperpy_migrate_from__"
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")

# A class body that defines the same method name twice silently keeps only the last one; counting
# decorations per qualname is how we notice. The count lives in the module's own namespace (this key
# in its globals), so it belongs to one *execution* of the module: re-importing an edited module
# (hyperpy dev, the build, a retry after a failed import) starts from zero instead of looking like a
# redefinition, and the count goes away with the module.
DECORATED_KEY = "__hyperpy_decorated__"


@dataclass
class HandlerDecl:
    """What the decorators recorded on one function."""

    kinds: set[str] = field(default_factory=set)
    http_methods: list[str] | None = None  # None: every method
    http_path: str | None = None
    http_status: int = 200
    ws_path: str | None = None
    timer_seconds: float | None = None
    timer_repeat: bool = True
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HttpEndpoint:
    """An HTTP path bound with http-server (hyperapp's `Binding::Http`)."""

    path: str
    authenticated: bool = True
    local_only: bool = False
    secure_subdomain: bool = False


@dataclass(frozen=True)
class WsEndpoint:
    """A WebSocket path bound with http-server (hyperapp's `Binding::Ws`)."""

    path: str
    authenticated: bool = True
    secure_subdomain: bool = False
    extension: bool = False


@dataclass(frozen=True)
class AppSettings:
    """Package-level settings named once, in code (the build may override them from config)."""

    name: str | None = None
    icon: str | None = None
    widget: str | None = None
    ui: str | None = None
    ui_authenticated: bool = True
    endpoints: tuple[HttpEndpoint | WsEndpoint, ...] | None = None
    authenticated: bool = True
    save: SavePolicy = field(default_factory=OnDiff)
    state_version: int = 1
    uses: tuple[str, ...] = ()
    request_networking: bool | None = None
    debug: bool = False
    rollback_on_error: bool = True


def _decl(func: Any, where: str) -> HandlerDecl:
    if isinstance(func, staticmethod | classmethod):
        raise DeclarationError(
            f"@{where} on {_name(func.__func__)}: handlers must be plain methods (def name(self, ...)), "
            "not static or class methods"
        )
    if not callable(func):
        raise DeclarationError(f"@{where} must decorate a method, got {func!r}")
    decl = getattr(func, HANDLER_ATTR, None)
    if decl is None:
        decl = HandlerDecl()
        setattr(func, HANDLER_ATTR, decl)
        namespace = getattr(func, "__globals__", None)
        if isinstance(namespace, dict):
            counts = namespace.setdefault(DECORATED_KEY, {})
            qualname = getattr(func, "__qualname__", repr(func))
            counts[qualname] = counts.get(qualname, 0) + 1
    return decl


def _name(func: Any) -> str:
    return str(getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func)))


def duplicate_definitions(function: Any) -> int:
    """How many distinct functions were decorated under `function`'s name in the same execution of
    its module (>1 means the class body redefined it)."""
    namespace = getattr(function, "__globals__", None)
    counts = namespace.get(DECORATED_KEY, {}) if isinstance(namespace, dict) else {}
    return int(counts.get(getattr(function, "__qualname__", ""), 0))


def init(func: F) -> F:
    """Run this method on every process start, after the state is loaded (no parameters)."""
    _decl(func, "init").kinds.add("init")
    return func


def local(func: F) -> F:
    """Expose the method to requests from processes on our node."""
    _decl(func, "local").kinds.add("local")
    return func


def remote(func: F) -> F:
    """Expose the method to requests from other nodes (and, like hyperapp, from our node too)."""
    _decl(func, "remote").kinds.add("remote")
    return func


def _methods(method: str | Iterable[str] | None, where: str) -> list[str] | None:
    if method is None:
        return None
    names = [method] if isinstance(method, str) else list(method)
    result = []
    for name in names:
        upper = str(name).upper()
        if upper not in HTTP_METHODS:
            raise DeclarationError(
                f"@{where}: unknown HTTP method {name!r}; use one of {', '.join(HTTP_METHODS)}"
            )
        result.append(upper)
    return result


def _check_path(path: str | None, where: str) -> str | None:
    if path is None:
        return None
    if not isinstance(path, str) or not path.startswith("/"):
        raise DeclarationError(
            f"@{where}: path {path!r} must be a string starting with '/', e.g. '/api/items'"
        )
    return path


@overload
def http(func: F, /) -> F: ...
@overload
def http(
    *, method: str | Iterable[str] | None = None, path: str | None = None, status: int = 200
) -> Callable[[F], F]: ...


def http(
    func: Any = None,
    /,
    *,
    method: str | Iterable[str] | None = None,
    path: str | None = None,
    status: int = 200,
) -> Any:
    """Expose the method over HTTP. `method` limits the verbs (default: all); `path` fixes the route
    (`/items/{id}` binds `id` from the URL). Without `path` the handler answers hyperapp-style
    requests whose JSON body names it (`{"Name": args}`) on the app's API path. `status` is the
    HTTP status of a successful answer (e.g. 201 for a POST that creates; 204 sends no body and no
    Content-Type); `set_response_status()` and `Response(status=...)` override it per request."""
    methods = _methods(method, "http")
    checked_path = _check_path(path, "http")
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 299:
        raise DeclarationError(f"@http(status={status!r}): a success status is an integer 200-299")

    def apply(target: F) -> F:
        decl = _decl(target, "http")
        if "http" in decl.kinds:
            decl.errors.append(
                "@http is applied twice; give one decorator all methods: @http(method=['GET', 'POST'])"
            )
        decl.kinds.add("http")
        decl.http_methods = methods
        decl.http_path = checked_path
        decl.http_status = status
        return target

    return apply(func) if func is not None else apply


def _ws_kind(kind: str, func: Any, path: str | None) -> Any:
    checked_path = _check_path(path, kind)

    def apply(target: F) -> F:
        decl = _decl(target, kind)
        decl.kinds.add(kind)
        decl.ws_path = checked_path
        return target

    return apply(func) if func is not None else apply


def ws(func: Any = None, /, *, path: str | None = None) -> Any:
    """Receive WebSocket frames: `def on_frame(self, channel_id: int, message_type: WsMessageType,
    data: bytes) -> None`. Pings are answered automatically. `path` defaults to `/ws`."""
    return _ws_kind("ws", func, path)


def ws_open(func: Any = None, /, *, path: str | None = None) -> Any:
    """Called when a WebSocket client connects: `def opened(self, channel_id: int, path: str)`."""
    return _ws_kind("ws_open", func, path)


def ws_close(func: Any = None, /, *, path: str | None = None) -> Any:
    """Called when a WebSocket client disconnects: `def closed(self, channel_id: int)`."""
    return _ws_kind("ws_close", func, path)


def timer(seconds: float, *, repeat: bool = True) -> Callable[[F], F]:
    """Run the method `seconds` after start, then (with `repeat`) every `seconds` after each run
    finishes. Runs never overlap. The method takes no parameters."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise DeclarationError(f"@timer/@every: seconds must be a positive number, got {seconds!r}")

    def apply(target: F) -> F:
        decl = _decl(target, "timer")
        if "timer" in decl.kinds:
            decl.errors.append("has two @timer/@every decorators; keep one")
        decl.kinds.add("timer")
        decl.timer_seconds = float(seconds)
        decl.timer_repeat = repeat
        return target

    return apply


def every(seconds: float) -> Callable[[F], F]:
    """Periodic handler: `@every(60)` runs the method once a minute (see `timer`)."""
    return timer(seconds, repeat=True)


def migrate(from_version: int) -> Callable[[F], F]:
    """Mark a static function that upgrades stored state from `from_version` to the next version.

    It receives the stored fields as a plain dict (JSON values) and returns the new dict:

        @migrate(from_version=1)
        def rename_total(fields: dict) -> dict:
            fields["count"] = fields.pop("total", 0)
            return fields
    """
    if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 1:
        raise DeclarationError(f"@migrate: from_version must be an integer >= 1, got {from_version!r}")

    def apply(target: F) -> F:
        function = target.__func__ if isinstance(target, staticmethod) else target
        setattr(function, MIGRATION_ATTR, from_version)
        return target

    return apply


def app(
    cls: Any = None,
    /,
    *,
    name: str | None = None,
    icon: str | None = None,
    widget: str | None = None,
    ui: str | bool | None = None,
    ui_authenticated: bool = True,
    endpoints: Iterable[HttpEndpoint | WsEndpoint] | None = None,
    authenticated: bool = True,
    save: SavePolicy | None = None,
    state_version: int = 1,
    uses: Iterable[str] = (),
    request_networking: bool | None = None,
    debug: bool = False,
    rollback_on_error: bool = True,
) -> Any:
    """Declare the class as the module's app. Its dataclass fields are the persisted state.

    The class is turned into a dataclass if it is not one (every field needs a default, since the
    state is created fresh on first start). Settings:

    * `name`, `icon`, `widget`: homepage entry (added when `icon` or `widget` is given);
    * `ui`: folder of the package (e.g. "ui") served at the app's root; `True` means "ui";
    * `endpoints`: explicit `HttpEndpoint`/`WsEndpoint` bindings; default: inferred from handlers;
    * `authenticated`: default for inferred bindings (the node's login cookie is required);
    * `save`: `OnDiff()` (default: write after a message that changed the state), `Never()`,
      `EveryMessage()`, `EveryNMessage(n)`, `EveryNSeconds(n)`;
    * `state_version` with `@migrate(from_version=...)` functions for schema upgrades;
    * `uses`: runtime modules the app talks to that cannot be detected ("kv", "sqlite", ...);
    * `request_networking`: defaults to True when the app has `@remote` handlers;
    * `debug`: put tracebacks in error answers (never do this in production);
    * `rollback_on_error`: a handler that raises leaves the state as it was after the last handler
      that succeeded (default True; see StateKeeper.message_done).
    """
    if isinstance(state_version, bool) or not isinstance(state_version, int) or state_version < 1:
        raise DeclarationError(f"@app: state_version must be an integer >= 1, got {state_version!r}")
    ui_folder = "ui" if ui is True else (ui or None)
    settings = AppSettings(
        name=name,
        icon=icon,
        widget=widget,
        ui=ui_folder,
        ui_authenticated=ui_authenticated,
        endpoints=tuple(endpoints) if endpoints is not None else None,
        authenticated=authenticated,
        save=save if save is not None else OnDiff(),
        state_version=state_version,
        uses=tuple(uses),
        request_networking=request_networking,
        debug=debug,
        rollback_on_error=rollback_on_error,
    )
    if settings.endpoints is not None:
        for endpoint in settings.endpoints:
            if not isinstance(endpoint, HttpEndpoint | WsEndpoint):
                raise DeclarationError(
                    f"@app endpoints: {endpoint!r} is not an HttpEndpoint or WsEndpoint; "
                    "write endpoints=[HttpEndpoint('/api'), WsEndpoint('/ws')]"
                )
            _check_path(endpoint.path, "app endpoints")
    if not isinstance(settings.save, SavePolicy):
        raise DeclarationError(
            f"@app save={settings.save!r}: use Never(), EveryMessage(), EveryNMessage(n), "
            "EveryNSeconds(n) or OnDiff()"
        )

    def apply(target: C) -> C:
        if not isinstance(target, type):
            raise DeclarationError(f"@app must decorate a class, got {target!r}")
        if not dataclasses.is_dataclass(target):
            target = dataclasses.dataclass(target)  # type: ignore[assignment]
        setattr(target, APP_ATTR, settings)
        return target

    return apply(cls) if cls is not None else apply
