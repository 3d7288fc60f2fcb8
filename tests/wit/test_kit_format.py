"""`hyperpy wit` writes the bytes kit's WIT generator writes for the equivalent Rust hyperapp.

The expected text below was derived by hand from kit's `src/build/wit_generator.rs`
(`process_rust_project`, `generate_signature_struct`, `generate_wit_file`) applied to this Rust:

    pub struct Item { pub name: String, pub count: i64 }
    pub struct ItemList { pub items: Vec<Item>, pub total: i64 }
    pub enum Color { Red, DarkBlue }
    pub struct Marker;
    #[hyperapp(wit_world = "shop-template-dot-os-v0")]
    impl ShopState {
        #[remote] async fn add(&mut self, item: Item) -> Result<ItemList, String>
        #[http(method = "GET", path = "/api/items")] #[local] async fn list_items(&self) -> ItemList
        #[local] async fn paint(&mut self, color: Color, note: serde_json::Value) -> Marker
        #[http] async fn clear(&mut self) -> Result<(), String>
    }

kit's rules that shape it: the body is trimmed, so `use` sits unindented right after the `interface`
line; the inferred `value` alias comes first; type definitions are ordered by Kahn's algorithm over
"type A's text contains type B's name" edges, alphabetically smallest first (so `item-list`, which
contains `item`, precedes `item`); signature records are sorted as text; groups are separated by a
blank line; the file ends with one newline, world files with none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from hyperpy.build.witgen.from_app import _kit_type_order, generate_interface_wit, generate_world_wit
from hyperpy.runtime.decorators import app, http, local, remote
from hyperpy.runtime.spec import app_spec
from hyperpy.runtime.types import Err, Ok


@dataclass
class Item:
    name: str
    count: int


@dataclass
class ItemList:
    items: list[Item]
    total: int


class Color(Enum):
    Red = "Red"
    DarkBlue = "DarkBlue"


@dataclass
class Marker:
    pass


@app(name="shop")
class ShopState:
    @remote
    def add(self, item: Item) -> Ok[ItemList] | Err[str]:
        return Ok(ItemList([item], 1))

    @local
    @http(method="GET", path="/api/items")
    def list_items(self) -> ItemList:
        return ItemList([], 0)

    @local
    def paint(self, color: Color, note: Any) -> Marker:
        return Marker()

    @http
    def clear(self) -> Ok[None] | Err[str]:
        return Ok(None)


KIT_INTERFACE = """\
interface shop {
use standard.{address};

    // Arbitrary JSON value; encoded as string for WIT 1.0 (TS: unknown, Rust: serde_json::Value)
    type value = string;

    enum color {
        red,
        dark-blue
    }

    record item-list {
        items: list<item>,
        total: s64
    }

    record item {
        name: string,
        count: s64
    }

    record marker {}

    // Function signature for: add (remote)
    // args: (item: item)
    // json fmt: {"Add": item}
    record add-signature-remote {
        target: address,
        arg-types: tuple<item>,
        returning: result<item-list, string>
    }

    // Function signature for: clear (http)
    // HTTP: POST /api/clear
    // args: none
    record clear-signature-http {
        target: string,
        returning: result<_, string>
    }

    // Function signature for: list-items (http)
    // HTTP: GET /api/items
    // args: none
    record list-items-signature-http {
        target: string,
        returning: item-list
    }

    // Function signature for: list-items (local)
    // args: none
    // json fmt: {"ListItems": null}
    record list-items-signature-local {
        target: address,
        returning: item-list
    }

    // Function signature for: paint (local)
    // args: (color: color, note: value)
    // json fmt: {"Paint": [color, note]}
    record paint-signature-local {
        target: address,
        arg-types: tuple<color, value>,
        returning: marker
    }
}
"""


def test_interface_file_is_byte_for_byte_what_kit_writes() -> None:
    assert generate_interface_wit(app_spec(ShopState), globals()) == KIT_INTERFACE


def test_world_files_are_what_kit_writes() -> None:
    world = "shop-template-dot-os-v0"
    assert generate_world_wit(world, ["shop"]) == (
        "world shop-template-dot-os-v0 {\n    import shop;\n    include process-v1;\n}"
    )
    assert generate_world_wit(world, ["shop"], types_only=True) == (
        "world types-shop-template-dot-os-v0 {\n    import shop;\n    include lib;\n}"
    )
    # like kit, an existing (hand-written) world keeps its imports and includes; new imports follow
    existing = "world shop-template-dot-os-v0 {\n    import other;\n    include process-v1;\n}"
    assert generate_world_wit(world, ["shop", "other"], existing=existing) == (
        "world shop-template-dot-os-v0 {\n    import other;\n    import shop;\n    include process-v1;\n}"
    )


def test_type_order_follows_kits_substring_edges_and_appends_cycles_sorted() -> None:
    definitions = {
        "b": "record b {\n    x: a\n}",
        "a": "record a {}",
        "c-list": "record c-list {\n    items: list<c>\n}",
        "c": "record c {}",
        "p": "record p {\n    q: q\n}",
        "q": "record q {\n    p: p\n}",
    }
    assert _kit_type_order(definitions) == ["b", "a", "c-list", "c", "p", "q"]
