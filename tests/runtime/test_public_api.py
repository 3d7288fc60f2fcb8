"""The public API (`hyperpy`): lazy for host tools, complete for components."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hyperpy

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return completed.stdout.strip()


def test_every_public_name_resolves() -> None:
    for name in hyperpy.__all__:
        assert getattr(hyperpy, name) is not None, name
    assert hyperpy.kv.__name__ == "hyperpy.runtime.system.kv"


def test_the_top_level_is_small_and_the_rest_lives_in_namespaces() -> None:
    modules = {name for name in hyperpy.__all__ if getattr(hyperpy, name).__class__.__name__ == "module"}
    assert modules == {
        "errors",
        "homepage",
        "http_client",
        "http_server",
        "kv",
        "net",
        "sqlite",
        "state",
        "vfs",
    }
    assert len(set(hyperpy.__all__) - modules) <= 35
    from hyperpy.http_server import Response, ws_push
    from hyperpy.state import OnDiff, save_state

    assert hyperpy.http_server.Response is Response and hyperpy.state.OnDiff is OnDiff
    assert callable(ws_push) and callable(save_state)


def test_old_top_level_names_still_import_with_a_deprecation_warning() -> None:
    import pytest

    from hyperpy.http_server import Response
    from hyperpy.state import OnDiff

    with pytest.warns(DeprecationWarning, match=r"hyperpy.OnDiff moved; use hyperpy.state.OnDiff"):
        assert hyperpy.OnDiff is OnDiff
    with pytest.warns(DeprecationWarning, match=r"hyperpy.http_server.Response"):
        from hyperpy import Response as old

    assert old is Response
    with pytest.warns(DeprecationWarning, match=r"use hyperpy.background"):
        assert hyperpy.spawn is hyperpy.background
    with pytest.warns(DeprecationWarning, match="never raises it"):
        assert hyperpy.StateError is not None


def test_importing_hyperpy_does_not_load_the_runtime() -> None:
    # Host tools (`hyperpy` commands) import the package; they should not pay for asyncio.
    loaded = run_python(
        "import sys, hyperpy; print('asyncio' in sys.modules, 'hyperpy.runtime.process' in sys.modules)"
    )
    assert loaded == "False False"


def test_world_class_loads_everything_a_component_may_import_later() -> None:
    # Inside a component nothing can be imported after pre-initialisation, so the entry point
    # loads every public module (and the process runtime) up front.
    code = (
        "import sys; sys.path.insert(0, 'examples/counter'); import counter;"
        "from hyperpy.runtime.entry import world_class; world_class(counter);"
        "names = ['hyperpy.runtime.process', 'hyperpy.runtime.host', 'hyperpy.runtime.system.http_server',"
        " 'hyperpy.state', 'hyperpy.http_server', 'hyperpy.errors',"
        " 'hyperpy.runtime.system.vfs', 'hyperpy.runtime.system.net', 'msgpack'];"
        "print(all(name in sys.modules for name in names))"
    )
    assert run_python(code) == "True"
