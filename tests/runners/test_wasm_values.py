"""Pieces of the value conversion that can be checked without a guest.

The conversions themselves are pinned end to end through a real component in
`test_component_values.py`; here: the repair of wasmtime-py's shared scratch set, and the shapes
wasmtime-py needs for untagged variants (a real `Record`, a `tuple`).
"""

from __future__ import annotations

import threading

from wasmtime.component import Record, Variant
from wasmtime.component import _types as wasmtime_component_types

from hyperpy.node.runners import component  # noqa: F401 - installs the repair on import
from hyperpy.node.runners import wasm_values as values
from hyperpy.node.wit_types import (
    Address,
    Message_Request,
    Message_Response,
    OnExit_None_,
    OnExit_Restart,
    ProcessId,
    Request,
    Response,
    SpawnError,
)

ADDRESS = Address("fake.dev", ProcessId("p", "k", "sys"))


def test_wasmtime_scratch_set_is_per_thread() -> None:
    """If wasmtime-py renames or removes the global, this fails: re-read `_lower` before upgrading."""
    scratch = wasmtime_component_types.case_test_cache
    assert isinstance(scratch, values._PerThreadClassSet)
    assert values.make_variant_lowering_thread_safe() is True
    scratch.clear()
    scratch.add(bytes)
    seen_elsewhere: list[set[type]] = []

    def other_thread() -> None:
        scratch.add(tuple)
        seen_elsewhere.append(set(scratch))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen_elsewhere == [{tuple}]
    assert set(scratch) == {bytes} and len(scratch) == 1 and bytes in scratch


def test_byte_lists_take_the_bulk_path() -> None:
    """Bodies and blobs are list<u8>: wasmtime-py's per-element conversion costs seconds per MB."""
    from wasmtime.component import ListType

    assert getattr(ListType.convert_to_c, "_hyperpy_bulk_bytes", False)
    assert values.make_byte_lists_fast() is True  # idempotent


def test_untagged_message_cases_have_the_classes_wasmtime_dispatches_on() -> None:
    request = values.lower_message(Message_Request(Request(False, None, b"", None, [])))
    response = values.lower_message(Message_Response((Response(False, b"", None, []), None)))
    assert isinstance(request, Record)
    assert isinstance(response, tuple) and isinstance(response[0], Record)


def test_records_use_kebab_case_attribute_names() -> None:
    lowered = values.lower_address(ADDRESS)
    assert getattr(lowered.process, "process-name") == "p"
    assert values.lift_address(lowered) == ADDRESS


def test_tagged_and_untagged_results() -> None:
    assert values.lower_on_exit(OnExit_None_()) == Variant("none")
    assert values.lower_on_exit(OnExit_Restart()) == Variant("restart")
    assert values.lower_spawn_error(SpawnError.NO_FILE_AT_PATH) == "no-file-at-path"
    assert values.lower_receive_ok((ADDRESS, Message_Request(Request(False, 1, b"", None, [])))).tag == "ok"
