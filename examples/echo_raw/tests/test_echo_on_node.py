"""The echo on the local node, in both modes, through the `hyperpy` pytest plugin's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperpy.package.control_client import inject

EXAMPLE = Path(__file__).resolve().parents[1]
ECHO = "echo:echo-raw:template.os"

pytestmark = pytest.mark.hyperpy_modes("component", "native")


def test_echo_answers_with_the_same_body_and_blob(hyperpy_node) -> None:
    hyperpy_node.install(EXAMPLE)

    reply = hyperpy_node.request(ECHO, '{"hello":"echo"}', blob=b"\x00\x01")

    assert reply.json() == {"hello": "echo"}
    assert reply.blob is not None and reply.blob.bytes == b"\x00\x01"


def test_echo_answers_kits_inject_message(hyperpy_node) -> None:
    hyperpy_node.install(EXAMPLE)

    result = inject(hyperpy_node.url, ECHO, "hi from kit")

    assert result.body_text() == "hi from kit"
