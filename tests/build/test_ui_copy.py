"""The project's UI folder reaches the package: copied into pkg/ui/ and the zip, covered by the
incremental hash (a UI edit re-zips without recompiling), and a missing folder fails the build early."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hyperpy.build import BuildError, build_project


def _zip_files(path: Path) -> dict[str, bytes]:
    archive = zipfile.ZipFile(path)
    return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def _configure_ui(project: Path, folder: str) -> None:
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace("[tool.hyperpy]\n", f'[tool.hyperpy]\nui = "{folder}"\n', 1))


def test_the_configured_ui_folder_is_copied_into_pkg_ui_and_zipped(echo_copy: Path) -> None:
    web = echo_copy / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<h1>v1</h1>")
    (web / "assets" / "app.js").write_text("console.log(1)")
    (web / ".gitignore").write_text("node_modules\n")
    _configure_ui(echo_copy, "web")
    first = build_project(echo_copy, progress=False)
    assert first.built == []  # the UI is not part of the component: no recompilation
    files = _zip_files(first.zip_path)
    assert files["ui/index.html"] == b"<h1>v1</h1>" and files["ui/assets/app.js"] == b"console.log(1)"
    assert "ui/.gitignore" not in files
    assert (echo_copy / "pkg" / "ui" / "index.html").read_text() == "<h1>v1</h1>"

    again = build_project(echo_copy, progress=False)
    assert again.up_to_date and again.sha256 == first.sha256  # deterministic

    (web / "index.html").write_text("<h1>v2</h1>")
    (web / "assets" / "app.js").unlink()
    edited = build_project(echo_copy, progress=False)
    assert edited.built == [] and not edited.up_to_date and edited.sha256 != first.sha256
    files = _zip_files(edited.zip_path)
    assert files["ui/index.html"] == b"<h1>v2</h1>" and "ui/assets/app.js" not in files
    assert not (echo_copy / "pkg" / "ui" / "assets" / "app.js").exists()  # what we copied, we remove


def test_a_missing_ui_folder_fails_the_build_naming_path_and_setting_and_changes_nothing(
    echo_copy: Path,
) -> None:
    before = (echo_copy / "target" / "echo-raw:template.os.zip").read_bytes()
    _configure_ui(echo_copy, "frontend/dist")
    with pytest.raises(BuildError) as caught:
        build_project(echo_copy, progress=False)
    message = str(caught.value)
    assert "tool.hyperpy.ui = 'frontend/dist'" in message
    assert f"{echo_copy / 'frontend' / 'dist'} does not exist" in message
    assert (echo_copy / "target" / "echo-raw:template.os.zip").read_bytes() == before


APP_WITH_UI = """\
from hyperpy import app, http


@app(name="paged", ui="ui")
class Paged:
    @http
    def hello(self) -> str:
        return "hi"
"""


def test_an_app_declaring_a_ui_folder_the_project_lacks_fails_before_compiling(tmp_path: Path) -> None:
    project = tmp_path / "paged"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "paged"\n[tool.hyperpy]\npublisher = "tests.os"\n'
    )
    (project / "paged.py").write_text(APP_WITH_UI)
    with pytest.raises(BuildError) as caught:
        build_project(project, progress=False)
    message = str(caught.value)
    assert message.startswith("process 'paged': @app(ui='ui') serves the package folder pkg/ui/")
    assert f"{project / 'ui'}, but that folder does not exist" in message
    assert "[tool.hyperpy]" in message
    assert not (project / "pkg").exists() and not list((project / "target").glob("*.zip"))
