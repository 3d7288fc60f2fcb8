"""HTTP routing: by name (hyperapp bodies) constrained by method/path, else by path then method;
404, 405 with Allow, path/query/header binding."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from hyperpy.runtime.decorators import app, http, local
from hyperpy.runtime.routing import HttpRequest, RouteError, RouteMatch, Router, parse_http_request
from hyperpy.runtime.spec import app_spec
from hyperpy.runtime.types import Header, Query, Response


class Sort(enum.Enum):
    NEW = "New"
    OLD = "Old"


@dataclass
class Item:
    name: str
    price: float = 0.0


@app
class Shop:
    @http
    def status(self) -> str:
        return "ok"

    @http(method="POST")
    @local
    def add_item(self, item: Item) -> int:
        return 1

    @http(method="GET", path="/items/{item_id}")
    def get_item(self, item_id: int, full: Annotated[bool, Query()] = False) -> Item | None:
        return None

    @http(method=["PUT", "DELETE"], path="/items/{item_id}")
    def change_item(self, item_id: int, item: Item | None = None) -> bool:
        return True

    @http(method="GET", path="/items")
    def list_items(self, sort: Sort = Sort.NEW, limit: int = 10) -> list[Item]:
        return []

    @http(method="GET", path="/files/{rest:path}")
    def file(self, rest: str, token: Annotated[str, Header("x-token")] = "") -> Response:
        return Response(b"")


ROUTER = Router(app_spec(Shop).handlers)


def request(
    method: str,
    path: str,
    body: Any = b"",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> RouteMatch | RouteError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ROUTER.resolve(
        HttpRequest(method, path, "http://localhost" + path, headers or {}, query or {}, raw)
    )


def matched(result: RouteMatch | RouteError, handler: str) -> dict[str, Any]:
    assert isinstance(result, RouteMatch), result
    assert result.handler.name == handler
    return result.arguments


def test_hyperapp_body_selects_the_handler_by_name_on_any_path() -> None:
    args = matched(request("POST", "/api", {"AddItem": {"name": "pen", "price": 1.5}}), "add_item")
    assert args == {"item": Item("pen", 1.5)}
    matched(request("POST", "/api/add-item", {"AddItem": {"name": "pen"}}), "add_item")


def test_named_handler_with_wrong_method_gets_405_with_allow() -> None:
    result = request("PUT", "/api", {"AddItem": {"name": "pen"}})
    assert isinstance(result, RouteError)
    assert (result.status, result.headers) == (405, {"Allow": "POST"})


def test_named_handler_with_a_path_must_be_called_on_it() -> None:
    result = request("GET", "/api", {"GetItem": None})
    assert isinstance(result, RouteError) and result.status == 404
    assert "GetItem is served at /items/{item_id}, not /api" in result.message


def test_malformed_named_arguments_get_400_naming_the_expected_shape() -> None:
    result = request("POST", "/api", {"AddItem": {"price": 2}})
    assert isinstance(result, RouteError) and result.status == 400
    assert "args: missing field name (expected a Item object)" in result.message
    assert 'expected {"AddItem": <a Item object>}' in result.message


def test_zero_parameter_handler_by_name_null_and_bare_string() -> None:
    matched(request("POST", "/api", {"Status": None}), "status")
    matched(request("POST", "/api", "Status"), "status")


def test_bodyless_request_routes_by_path_with_typed_path_and_query_values() -> None:
    args = matched(request("GET", "/items/42", query={"full": "true"}), "get_item")
    assert args == {"item_id": 42, "full": True}


def test_same_path_different_methods_pick_the_right_handler() -> None:
    args = matched(request("PUT", "/items/7", {"name": "cup"}), "change_item")
    assert args == {"item_id": 7, "item": Item("cup")}
    assert matched(request("DELETE", "/items/7"), "change_item") == {"item_id": 7}


def test_path_that_exists_with_another_method_is_405_with_every_allowed_method() -> None:
    result = request("POST", "/items/7")
    assert isinstance(result, RouteError)
    assert result.status == 405
    assert result.headers == {"Allow": "DELETE, GET, OPTIONS, PUT"}


def test_options_is_answered_with_allow() -> None:
    result = request("OPTIONS", "/items/7")
    assert isinstance(result, RouteError) and result.status == 204
    assert result.headers["Allow"] == "DELETE, GET, OPTIONS, PUT"


def test_head_falls_back_to_the_get_handler() -> None:
    matched(request("HEAD", "/items/3"), "get_item")


def test_unknown_path_is_404_naming_method_and_path() -> None:
    result = request("GET", "/nothing/here")
    assert isinstance(result, RouteError)
    assert (result.status, result.message) == (404, "No handler found for GET /nothing/here")


def test_bad_path_value_is_400() -> None:
    result = request("GET", "/items/abc")
    assert isinstance(result, RouteError) and result.status == 400
    assert 'path.item_id: expected an integer, got "abc"' in result.message


def test_scalar_body_parameters_come_from_the_query_when_there_is_no_body() -> None:
    assert matched(request("GET", "/items", query={"sort": "Old", "limit": "3"}), "list_items") == {
        "sort": Sort.OLD,
        "limit": 3,
    }
    assert matched(request("GET", "/items"), "list_items") == {}


def test_wildcard_path_and_header_binding() -> None:
    args = matched(request("GET", "/files/a/b%20c.txt", headers={"x-token": "s3"}), "file")
    assert args == {"rest": "a/b c.txt", "token": "s3"}


def test_pathless_handler_is_reachable_at_its_kit_path_and_at_api_without_body() -> None:
    matched(request("GET", "/api/status"), "status")
    matched(request("GET", "/api"), "status")


def test_rest_style_body_with_wrong_shape_is_400() -> None:
    result = request("PUT", "/items/1", {"price": "cheap"})
    assert isinstance(result, RouteError) and result.status == 400


def test_incoming_http_server_request_is_parsed_with_the_process_prefix_stripped() -> None:
    payload = {
        "source_socket_addr": "127.0.0.1:5555",
        "method": "get",
        "url": "http://localhost/shop:shop:template.os/items/9",
        "bound_path": "/shop:shop:template.os/items/:item_id",
        "headers": {"X-Token": "t"},
        "url_params": {"item_id": "9"},
        "query_params": {"full": "1"},
    }
    parsed = parse_http_request(payload, b"", "shop:shop:template.os")
    assert (parsed.method, parsed.path, parsed.headers, parsed.query) == (
        "GET",
        "/items/9",
        {"x-token": "t"},
        {"full": "1"},
    )
    assert matched(ROUTER.resolve(parsed), "get_item") == {"item_id": 9, "full": True}


@pytest.mark.parametrize(("text", "value"), [("true", True), ("0", False), ("Yes", True)])
def test_boolean_query_spellings(text: str, value: bool) -> None:
    assert matched(request("GET", "/items/1", query={"full": text}), "get_item")["full"] is value


def test_a_request_without_a_body_says_so_and_what_to_send() -> None:
    result = request("POST", "/api/add-item")  # add_item(item: Item) needs a body
    assert isinstance(result, RouteError) and result.status == 400
    assert result.message == "bad request for add_item: the request has no body: send 'item' as the JSON body"
