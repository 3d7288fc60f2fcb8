"""Pieces of the value conversion that can be checked without a guest.

The conversions themselves are pinned end to end through a real component in
`test_component_values.py`; here: the shapes untagged variants need (a real `Record`, a `tuple`).
"""

from __future__ import annotations

from wasmtime.component import Record, Variant

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
