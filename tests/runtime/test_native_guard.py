"""Native mode refuses, at the app's own line and with the fix, what the component cannot do.

Native-only by nature (the component fails by itself; these checks make native mode fail the same
way instead of hiding it): sockets, threads, subprocesses, SQLite and other files, and native
extension modules such as numpy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hyperpy.node import InstallError
from hyperpy.testing.harness import HyperpyNode

APPS = Path(__file__).parent / "apps"
GUARD = "nativeguard:nativeguard:test.os"

pytestmark = pytest.mark.hyperpy_modes("native")


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("socket", "sockets do not exist inside a component"),
        ("thread", "threads do not exist inside a component"),
        ("subprocess", "a component cannot start processes"),
        ("sqlite-file", "sqlite3.connect('todo.db'): a component has no file system"),
        ("open", "open('notes.txt'): a component has no file system at run time"),
    ],
)
def test_what_the_component_cannot_do_is_refused_at_the_apps_line(
    hyperpy_node: HyperpyNode, what: str, words: str
) -> None:
    hyperpy_node.install(APPS / "nativeguard")
    answer = json.loads(hyperpy_node.request(GUARD, json.dumps({"Attempt": what})).body)
    message = answer["Err"]
    assert words in message and "native mode refuses it too" in message
    assert "nativeguard.py:" in message  # the app's own file and line
    line = hyperpy_node.wait_for_output("native mode: ", timeout=10).text
    assert "nativeguard.py:" in line and words in line  # loud on the terminal, even if caught


def test_what_the_component_can_do_still_works(hyperpy_node: HyperpyNode) -> None:
    hyperpy_node.install(APPS / "nativeguard")
    answer = json.loads(hyperpy_node.request(GUARD, json.dumps({"Attempt": "sqlite-memory"})).body)
    assert answer == "worked"


def test_a_native_extension_import_is_refused_at_install(hyperpy_node: HyperpyNode) -> None:
    for name in [name for name in sys.modules if name.split(".")[0] == "kiwisolver"]:
        del sys.modules[name]  # so this session imports it afresh (the guard sees imports, not names)
    with pytest.raises(InstallError) as failure:  # refused before anything runs, as the build would
        hyperpy_node.install(APPS / "nativeext")
    message = str(failure.value)
    assert "module 'kiwisolver._cext' is a native extension" in message
    assert "nativeext.py:5" in message
    assert "use a pure-Python package instead" in message
