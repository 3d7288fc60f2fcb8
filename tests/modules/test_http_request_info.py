"""`header_map`: incoming headers spelled as Hyperdrive's http-server serializes them."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from hyperpy.node.modules.http_request_info import header_map


def test_names_lower_case_last_value_wins_and_invisible_values_are_empty() -> None:
    headers = CIMultiDict(
        [
            ("X-Plain", "a value\twith tab"),
            ("X-Twice", "first"),
            ("x-twice", "second"),
            ("X-Latin", "caf\u00e9"),  # sent as the byte 0xe9: not visible ASCII
            ("X-Control", "bell\x07"),
            ("X-Delete", "\x7f"),
            ("X-Empty", ""),
        ]
    )
    request = make_mocked_request("GET", "/", headers=headers)
    assert header_map(request) == {
        "x-plain": "a value\twith tab",
        "x-twice": "second",
        "x-latin": "",
        "x-control": "",
        "x-delete": "",
        "x-empty": "",
    }
