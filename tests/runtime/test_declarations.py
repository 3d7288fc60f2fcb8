"""Declaration errors: each names the app, the handler (and parameter) and the fix, and is raised
when the app is introspected (what `hyperpy build` does), not when a request arrives."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from hyperpy.runtime.decorators import app, every, http, init, local, migrate, remote, timer, ws, ws_open
from hyperpy.runtime.errors import DeclarationError
from hyperpy.runtime.spec import app_spec, find_app_class
from hyperpy.runtime.state import EveryNMessage, EveryNSeconds
from hyperpy.runtime.types import Header, Query, WsMessageType


def spec_error(cls: type) -> str:
    with pytest.raises(DeclarationError) as caught:
        app_spec(cls)
    return str(caught.value)


def test_duplicate_handler_name_is_reported() -> None:
    @app
    class Twice:
        @local
        def ping(self) -> int:
            return 1

        @local
        def ping(self) -> int:  # noqa: F811 - the mistake under test
            return 2

    message = spec_error(Twice)
    assert "handler 'ping' is defined more than once" in message
    assert "rename one of them" in message


def test_two_handlers_with_the_same_wire_name_are_reported() -> None:
    @app
    class Clash:
        @local
        def get_user(self) -> int:
            return 1

        @local
        def getUser(self) -> int:
            return 2

    assert "share the wire name 'GetUser'; rename one" in spec_error(Clash)


def test_unsupported_parameter_type_names_handler_parameter_and_alternatives() -> None:
    @app
    class Bad:
        @local
        def add(self, value: complex) -> int:
            return 0

    message = spec_error(Bad)
    assert (
        "app test_unsupported_parameter_type_names_handler_parameter_and_alternatives.<locals>.Bad" in message
    )
    assert "handler 'add': parameter 'value': unsupported type complex" in message
    assert "use str, int, float" in message


def test_unsupported_return_type_is_reported() -> None:
    @app
    class Bad:
        @http
        def shape(self) -> int | str:
            return 0

    message = spec_error(Bad)
    assert "handler 'shape': return type: unsupported union" in message


def test_init_with_parameters_is_reported() -> None:
    @app
    class Bad:
        @init
        async def start(self, mode: str) -> None:
            return None

    assert "handler 'start': @init handlers take no parameters (found: mode); remove them" in spec_error(Bad)


def test_missing_parameter_type_hint_is_reported() -> None:
    @app
    class Bad:
        @local
        def add(self, amount) -> int:  # type: ignore[no-untyped-def]
            return 0

    assert "handler 'add': parameter 'amount' has no type hint; write e.g. 'amount: int'" in spec_error(Bad)


def test_missing_return_type_hint_is_reported() -> None:
    @app
    class Bad:
        @remote
        def add(self, amount: int):  # type: ignore[no-untyped-def]
            return 0

    assert "handler 'add': no return type hint; add one, e.g. '-> int' (or '-> None')" in spec_error(Bad)


def test_state_field_without_default_is_reported() -> None:
    @app
    class Bad:
        count: int

        @local
        def get(self) -> int:
            return self.count

    assert "state field 'count' has no default" in spec_error(Bad)


def test_unsupported_state_field_type_is_reported() -> None:
    @app
    class Bad:
        numbers: complex = 0j

    assert "state field 'numbers': unsupported type complex" in spec_error(Bad)


def test_exclusive_kinds_cannot_be_combined() -> None:
    @app
    class Bad:
        @init
        @local
        async def start(self) -> None:
            return None

    assert "@init cannot be combined with @local; use separate methods" in spec_error(Bad)


def test_more_than_one_init_is_reported() -> None:
    @app
    class Bad:
        @init
        def one(self) -> None:
            return None

        @init
        def two(self) -> None:
            return None

    assert "more than one @init (one, two); keep one" in spec_error(Bad)


def test_path_placeholder_without_parameter_is_reported() -> None:
    @app
    class Bad:
        @http(path="/items/{item_id}")
        def item(self) -> int:
            return 0

    assert "path '/items/{item_id}' names {item_id} but the handler has no such parameter" in spec_error(Bad)


def test_malformed_path_segment_is_reported() -> None:
    @app
    class Bad:
        @http(path="/items/x{id}")
        def item(self, id: int) -> int:
            return id

    assert "path segment 'x{id}' in '/items/x{id}' is malformed" in spec_error(Bad)


def test_overlapping_routes_are_reported() -> None:
    @app
    class Bad:
        @http(method="GET", path="/items/{a}")
        def one(self, a: int) -> int:
            return a

        @http(method=["GET", "POST"], path="/items/{b}")
        def two(self, b: int) -> int:
            return b

    assert "handlers 'one' and 'two' both answer GET on '/items/{b}'" in spec_error(Bad)


def test_query_marker_needs_an_http_handler() -> None:
    @app
    class Bad:
        @local
        def search(self, text: Annotated[str, Query()]) -> list[str]:
            return []

    assert "parameter 'text' is bound to the URL query, which only @http requests have" in spec_error(Bad)


def test_header_bound_parameter_must_be_a_scalar() -> None:
    @app
    class Bad:
        @http
        def read(self, token: Annotated[list[str], Header()]) -> int:
            return 0

    assert "parameter 'token' comes from the HTTP header and must be str, int, float, bool" in spec_error(Bad)


def test_ws_handler_signature_is_checked() -> None:
    @app
    class Bad:
        @ws
        def frame(self, channel_id: int, data: bytes) -> None:
            return None

    assert "@ws handlers take (channel_id: int, message_type: WsMessageType, data: bytes)" in spec_error(Bad)


def test_ws_parameter_types_are_checked() -> None:
    @app
    class Bad:
        @ws_open
        def opened(self, channel_id: str) -> None:
            return None

    assert "@ws_open parameter 'channel_id' must be typed int" in spec_error(Bad)


def test_handler_without_kind_is_impossible_and_static_methods_are_refused() -> None:
    with pytest.raises(DeclarationError, match="not static or class methods"):

        @app
        class Bad:
            @local
            @staticmethod
            def helper() -> int:
                return 0


def test_decorator_arguments_are_checked_on_the_spot() -> None:
    with pytest.raises(DeclarationError, match="unknown HTTP method 'FETCH'; use one of GET, POST"):
        http(method="FETCH")
    with pytest.raises(DeclarationError, match="path 'items' must be a string starting with '/'"):
        http(path="items")
    with pytest.raises(DeclarationError, match="seconds must be a positive number, got 0"):
        every(0)
    with pytest.raises(DeclarationError, match="n must be an integer >= 1, got 0"):
        EveryNMessage(0)
    with pytest.raises(DeclarationError, match="n must be a positive number"):
        EveryNSeconds(-1)
    with pytest.raises(DeclarationError, match="use Never\\(\\), EveryMessage\\(\\)"):
        app(save="always")  # type: ignore[arg-type]


def test_timer_handlers_take_no_parameters() -> None:
    @app
    class Bad:
        @timer(5)
        def tick(self, n: int) -> None:
            return None

    assert "@timer handlers take no parameters (found: n)" in spec_error(Bad)


def test_migration_errors_are_reported() -> None:
    @app(state_version=2)
    class Bad:
        count: int = 0

        @migrate(from_version=2)
        @staticmethod
        def upgrade(fields: dict[str, Any]) -> dict[str, Any]:
            return fields

    assert "migration from version 2 but state_version is 2" in spec_error(Bad)


def test_unknown_uses_entry_is_reported() -> None:
    @app(uses=["kvstore"])
    class Bad:
        count: int = 0

    assert "@app(uses=['kvstore']) is neither a known module" in spec_error(Bad)


def test_forward_reference_that_cannot_resolve_is_reported() -> None:
    @app
    class Bad:
        @local
        def get(self) -> Missing:  # type: ignore[name-defined]  # noqa: F821
            return None

    assert "a type hint cannot be resolved (name 'Missing' is not defined)" in spec_error(Bad)


def test_module_without_app_and_with_two_apps() -> None:
    empty = types.ModuleType("empty_mod")
    with pytest.raises(
        DeclarationError, match=r"module empty_mod: no app found; decorate one class with @hyperpy\.app"
    ):
        find_app_class(empty)

    @app
    class One:
        pass

    @app
    class Two:
        pass

    both = types.ModuleType("both_mod")
    both.One, both.Two = One, Two  # type: ignore[attr-defined]
    with pytest.raises(DeclarationError, match=r"several apps found .*exactly one @app class"):
        find_app_class(both)


@dataclass
class Item:
    name: str


def test_a_valid_app_is_described_for_tools() -> None:
    @app(name="shop", save=EveryNMessage(3), uses=["kv"])
    class Shop:
        items: list[Item] | None = None

        @init
        async def start(self) -> None:
            return None

        @http(method="GET", path="/items/{index}")
        @local
        def item(self, index: int = 0, verbose: Annotated[bool, Query()] = False) -> Item | None:
            return None

        @http
        @remote
        def add(self, item: Item, count: int) -> int:
            return count

        @every(10)
        async def tick(self) -> None:
            return None

        @ws
        def frame(self, channel_id: int, message_type: WsMessageType, data: bytes) -> None:
            return None

    spec = app_spec(Shop)
    assert spec.name == "shop"
    assert [h.name for h in spec.handlers] == ["start", "item", "add", "tick", "frame"]
    item = spec.handler("item")
    assert item.variant == "Item" and item.kinds == {"http", "local"}
    assert [(p.name, p.source, p.key) for p in item.params] == [
        ("index", "path", "index"),
        ("verbose", "query", "verbose"),
    ]
    assert item.http_methods == ("GET",) and item.http_path == "/items/{index}"
    add = spec.handler("add")
    assert [p.name for p in add.body_params] == ["item", "count"] and add.returns is int
    assert spec.handler("tick").timer_seconds == 10.0
    assert spec.required_processes == {"http-server:distro:sys", "timer:distro:sys", "kv:distro:sys"}
    assert spec.request_networking is True
    assert [e.path for e in spec.endpoints] == ["/items/:index", "/api", "/api/add", "/ws"]
    assert spec.state_fields == (("items", list[Item] | None),)


def test_reimporting_a_fixed_module_under_the_same_name_is_not_a_redefinition() -> None:
    """`hyperpy dev` and the build re-execute an edited module under its own name: the functions of
    the earlier execution (here one whose declaration failed) must not count as duplicates."""
    import sys
    import types

    broken = "from hyperpy import app, local\n@app(name='x')\nclass X:\n    @local\n    def start(self) -> int:\n        return 1\n    @local\n    def go(self, a) -> int:\n        return 1\n"  # noqa: E501
    fixed = broken.replace("def go(self, a)", "def go(self, a: int)")

    def execute(source: str) -> type:
        module = types.ModuleType("reimported_user_module")
        sys.modules[module.__name__] = module
        try:
            exec(compile(source, "reimported_user_module.py", "exec"), module.__dict__)
        finally:
            del sys.modules[module.__name__]
        return module.X  # type: ignore[no-any-return]

    with pytest.raises(DeclarationError, match="parameter 'a' has no type hint"):
        app_spec(execute(broken))
    assert [h.name for h in app_spec(execute(fixed)).handlers] == ["start", "go"]
