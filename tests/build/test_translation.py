"""componentize-py's failure reports turned into messages about the user's files (canned reports)."""

from __future__ import annotations

from pathlib import Path

from hyperpy.build.errors import GuestPaths, translate_componentize_failure

STAGED = Path("/cache/stage/src/abc")
PROJECT = Path("/home/me/app")
PATHS = GuestPaths((Path("/cache/stage/runtime/r"), STAGED), {STAGED: PROJECT}, {})

SYNTAX = """  File "/1/app.py", line 3
    def f(:
          ^
SyntaxError: invalid syntax


Caused by:
    SyntaxError: invalid syntax (app.py, line 3)

Stack backtrace:
   0: anyhow::error::something"""

TRACEBACK = """Traceback (most recent call last):
  File "/1/app.py", line 1, in <module>
    import helper
  File "<frozen importlib._bootstrap>", line 1360, in _find_and_load
  File "/1/helper.py", line 2, in <module>
    raise ValueError("bad value")
ValueError: bad value


Caused by:
    ValueError: bad value"""

MISSING = """Traceback (most recent call last):
  File "/1/app.py", line 1, in <module>
    import {name}
ModuleNotFoundError: No module named '{name}'


Caused by:
    ModuleNotFoundError: No module named '{name}'"""

WIT_FAILURE = """failed to parse WIT
Caused by:
    0: failed to resolve directory
    1: name `foo` is not defined

Stack backtrace:
   0: wit_parser::something"""


def translate(report: str) -> str:
    return translate_componentize_failure(report, PATHS, process="app", module="app")


def test_syntax_error() -> None:
    message = translate(SYNTAX)
    assert message.startswith(f"process 'app': syntax error in {PROJECT / 'app.py'}, line 3\n")
    assert "def f(:" in message
    assert "Caused by" not in message and "backtrace" not in message


def test_exception_at_import_keeps_user_frames_only() -> None:
    message = translate(TRACEBACK)
    assert message.startswith("process 'app': importing module 'app' failed with ValueError: bad value")
    assert f'File "{PROJECT / "helper.py"}", line 2, in <module>' in message
    assert "frozen importlib" not in message


def test_native_module() -> None:
    message = translate(MISSING.format(name="numpy"))
    assert "module 'numpy'" in message and "native extension module" in message and "wasm32-wasi" in message
    assert f"imported by {PROJECT / 'app.py'}" in message


def test_missing_pure_module_points_at_dependencies() -> None:
    message = translate(MISSING.format(name="surely_not_installed_anywhere"))
    assert "no module named 'surely_not_installed_anywhere'" in message
    assert "[project].dependencies" in message


def test_unavailable_stdlib_module() -> None:
    message = translate(MISSING.format(name="ssl"))
    assert "module 'ssl' is not available inside a component" in message
    assert "http-client:distro:sys" in message


def test_non_python_failure_is_shortened() -> None:
    message = translate(WIT_FAILURE)
    assert message.startswith("process 'app': componentize-py failed while building module 'app':")
    assert "name `foo` is not defined" in message
    assert "Stack backtrace" not in message
