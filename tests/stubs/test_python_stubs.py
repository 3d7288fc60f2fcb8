"""Python caller stubs generated from a Rust-style API send the bodies a Rust hyperapp expects.

The expected bytes follow hyperapp.md §0.5: serde's externally tagged request enum
(`{"Pascal": null | arg | [a, b]}`), compact JSON, snake_case record keys, PascalCase enum strings,
unit variant cases as bare strings, `list<u8>` as arrays of numbers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hyperpy.build.witgen.reader import read_api_dir
from hyperpy.build.witgen.resolve import StubGenerationError
from hyperpy.build.witgen.stubs_python import generate_python_stubs
from hyperpy.node.wit_types import Address
from tests.stubs.conftest import FIXTURES


class RecordingTransport:
    """Test double for the process transport: records (target, body, timeout), replies canned JSON."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.sent: list[tuple[str, bytes, float]] = []

    async def __call__(self, target: str, body: bytes, timeout: float) -> bytes:
        self.sent.append((target, body, timeout))
        if isinstance(self.reply, bytes):
            return self.reply
        return json.dumps(self.reply).encode()


def call(stub: ModuleType, reply: Any, function: str, *args: Any, **kwargs: Any) -> tuple[Any, bytes]:
    transport = RecordingTransport(reply)
    stub.use_transport(transport)
    try:
        result = asyncio.run(getattr(stub, function)("fake.dev@notes:notes:sys", *args, **kwargs))
    finally:
        stub.use_transport(None)
    assert len(transport.sent) == 1
    return result, transport.sent[0][1]


def test_two_arguments_become_a_json_array_with_pascal_enum(notes_stub: ModuleType) -> None:
    result, body = call(notes_stub, {"Ok": 7}, "add_note", "Buy milk", notes_stub.Priority.VERY_URGENT)
    assert body == b'{"AddNote":["Buy milk","VeryUrgent"]}'
    assert result == notes_stub.Ok(7)


def test_one_argument_is_sent_bare_not_in_an_array(notes_stub: ModuleType) -> None:
    _, body = call(notes_stub, None, "get_note", 7)
    assert body == b'{"GetNote":7}'


def test_no_arguments_send_null(notes_stub: ModuleType) -> None:
    result, body = call(notes_stub, [], "list_notes")
    assert body == b'{"ListNotes":null}'
    assert result == []


def test_variants_tuples_and_legacy_named_fields(notes_stub: ModuleType) -> None:
    _, body = call(notes_stub, [], "record_event", notes_stub.NoteEvent_Created(5), (1, 2))
    assert body == b'{"RecordEvent":[{"Created":5},[1,2]]}'
    _, body = call(notes_stub, [], "record_event", notes_stub.NoteEvent_Archived(), (1, 2))
    assert body == b'{"RecordEvent":["Archived",[1,2]]}'
    # `rename` uses the older one-field-per-parameter layout; names come from the fields.
    result, body = call(notes_stub, {"Ok": None}, "rename", 3, "Groceries")
    assert body == b'{"Rename":[3,"Groceries"]}'
    assert result == notes_stub.Ok(None)


def test_non_ascii_text_is_sent_as_utf8_like_serde(notes_stub: ModuleType) -> None:
    _, body = call(notes_stub, {"Ok": 1}, "add_note", "café ☕", notes_stub.Priority.LOW)
    assert body == '{"AddNote":["café ☕","Low"]}'.encode()


def test_response_records_decode_with_snake_keys_bytes_and_json_values(notes_stub: ModuleType) -> None:
    wire_note = {
        "id": 1,
        "title": "t",
        "body": None,
        "priority": "High",
        "attachment": [104, 105],
        "owner": "fake.dev@notes:notes:sys",
        "type": "memo",
        "extra": {"any": ["json", 1]},
    }
    result, _ = call(notes_stub, wire_note, "get_note", 1)
    assert result == notes_stub.Note(
        id=1,
        title="t",
        body=None,
        priority=notes_stub.Priority.HIGH,
        attachment=b"hi",
        owner="fake.dev@notes:notes:sys",
        type="memo",
        extra={"any": ["json", 1]},
    )
    events, _ = call(notes_stub, [{"Tagged": ["a"]}, "Archived", {"Archived": None}], "record_event",
                     notes_stub.NoteEvent_Archived(), (0, 0))  # fmt: skip
    assert events == [notes_stub.NoteEvent_Tagged(["a"]), notes_stub.NoteEvent_Archived(),
                      notes_stub.NoteEvent_Archived()]  # fmt: skip


def test_a_response_of_the_wrong_shape_names_the_path(notes_stub: ModuleType) -> None:
    bad = {
        "id": 1,
        "title": 5,
        "priority": "High",
        "attachment": [],
        "owner": "a@b:c:d",
        "type": "",
        "extra": 0,
    }
    with pytest.raises(notes_stub.BadResponse, match=r"get-note\.title: expected str, got 5"):
        call(notes_stub, bad, "get_note", 1)
    with pytest.raises(notes_stub.BadResponse, match="expected one of 'Low', 'High', 'VeryUrgent'"):
        call(notes_stub, {**bad, "title": "x", "priority": "Medium"}, "get_note", 1)
    with pytest.raises(notes_stub.BadResponse, match="not JSON"):
        call(notes_stub, b"<html>", "list_notes")


def test_a_send_error_body_means_the_handler_is_not_exposed(notes_stub: ModuleType) -> None:
    send_error = {
        "kind": "Timeout",
        "target": "fake.dev@notes:notes:sys",
        "message": {},
        "lazy_load_blob": None,
    }
    with pytest.raises(notes_stub.NotExposed) as raised:
        call(notes_stub, send_error, "list_notes")
    assert raised.value.error["kind"] == "Timeout"


def test_address_objects_target_and_timeout_reach_the_transport(notes_stub: ModuleType) -> None:
    transport = RecordingTransport([])
    notes_stub.use_transport(transport)
    try:
        target = Address.parse("fake2.dev@notes:notes:sys")
        asyncio.run(notes_stub.list_notes(target, timeout=5))
    finally:
        notes_stub.use_transport(None)
    assert transport.sent == [("fake2.dev@notes:notes:sys", b'{"ListNotes":null}', 5)]


def test_http_only_handlers_get_no_python_function(notes_stub: ModuleType) -> None:
    assert not hasattr(notes_stub, "search")
    assert not hasattr(notes_stub, "get_stats")
    assert "HTTP-only handlers" in (notes_stub.__doc__ or "")


def test_generated_module_and_its_use_type_check_with_mypy(tmp_path: Path) -> None:
    document = read_api_dir(FIXTURES / "rust_notes" / "api")
    interface = document.interface("notes")
    assert interface is not None
    (tmp_path / "notes.py").write_text(generate_python_stubs(interface, document), encoding="utf-8")
    (tmp_path / "good.py").write_text(
        textwrap.dedent(
            """
            import notes

            async def use() -> int:
                result = await notes.add_note("a@b:c:d", "title", notes.Priority.LOW, timeout=3)
                if isinstance(result, notes.Ok):
                    return result.value
                note = await notes.get_note("a@b:c:d", 1)
                return 0 if note is None else note.id
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "bad.py").write_text(
        'import notes\n\nasync def use() -> None:\n    await notes.get_note("a@b:c:d", "not an int")\n',
        encoding="utf-8",
    )
    mypy = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--no-incremental",
        "--cache-dir",
        str(tmp_path / ".mypy"),
    ]
    good = subprocess.run([*mypy, "notes.py", "good.py"], cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout
    bad = subprocess.run([*mypy, "bad.py"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1 and 'incompatible type "str"; expected "int"' in bad.stdout, bad.stdout


def test_unknown_types_are_reported_with_the_signature_and_parameter() -> None:
    from hyperpy.build.witgen.reader import parse_wit

    document = parse_wit(
        "interface broken {\n    use standard.{address};\n"
        "    record go-signature-local {\n        target: address,\n"
        "        arg-types: tuple<missing-type>,\n        returning: bool\n    }\n}\n"
    )
    with pytest.raises(
        StubGenerationError, match=r"go-signature-local parameter 'arg0' refers to type 'missing-type'"
    ):
        generate_python_stubs(document.interfaces[0], document)
