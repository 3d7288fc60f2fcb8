"""Importing an app on the host and reading what it needs: one rule for the build and a native install."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hyperpy.package.process_module import AppImportError, import_app, inferred_needs
from hyperpy.package.project import load_project

APP = """
from hyperpy import app, http, kv

@app(name="needy")
class Needy:
    @http
    def get(self) -> int:
        return 1
"""


def _project(root: Path, source: str) -> Path:
    (root / "pyproject.toml").write_text(
        textwrap.dedent("""
        [project]
        name = "needy"
        version = "0.1.0"

        [tool.hyperpy]
        publisher = "test.os"

        [tool.hyperpy.processes.needy]
        module = "needy_app"
    """)
    )
    (root / "needy_app.py").write_text(source)
    return root


def test_needs_come_from_the_app_itself(tmp_path: Path) -> None:
    needs = inferred_needs(load_project(_project(tmp_path, APP)))
    assert {"http-server:distro:sys", "kv:distro:sys"} <= needs["needy"].processes


def test_an_edited_app_is_imported_again_not_read_from_a_stale_module(tmp_path: Path) -> None:
    project = _project(tmp_path, "VALUE = 1\n")
    assert import_app(project, "needy_app").VALUE == 1
    (project / "needy_app.py").write_text("VALUE = 22\n")  # another size: the .pyc check is mtime + size
    assert import_app(project, "needy_app").VALUE == 22


def test_an_import_failure_names_the_process_file_and_line(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, "x = 1\nraise RuntimeError('boom')\n"))
    with pytest.raises(
        AppImportError, match=r"process 'needy': importing process module 'needy_app'.*needy_app.py:2"
    ):
        inferred_needs(project)


def test_a_declaration_error_at_import_names_the_apps_line_not_the_decorator(tmp_path: Path) -> None:
    source = 'from hyperpy import app, http\n\n@app(name="needy")\nclass Needy:\n    @http(path="api")\n    def get(self) -> int:\n        return 1\n'  # noqa: E501
    project = load_project(_project(tmp_path, source))
    with pytest.raises(AppImportError) as failure:
        inferred_needs(project)
    message = str(failure.value)
    assert "needy_app.py:5" in message and "decorators.py" not in message
    assert "path 'api' must be a string starting with '/'" in message


def test_a_syntax_error_names_its_own_line(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, "x = 1\ndef broken(:\n    pass\n"))
    with pytest.raises(AppImportError, match=r"needy_app.py:2"):
        inferred_needs(project)
