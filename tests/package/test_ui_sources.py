"""Which project folder becomes pkg/ui/ (or the app's declared pkg/<ui>/), shared by build and install:
deterministic file lists, the `[tool.hyperpy] ui` setting, the user's own pkg/ files, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperpy.package.project import ProjectConfigError, load_project
from hyperpy.package.ui_folder import UiFolderError, own_pkg_files, ui_files


def _project(root: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    (root / "pyproject.toml").write_text(f'[project]\nname = "web"\n[tool.hyperpy]\n{extra}')
    return load_project(root)


def _write(path: Path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_declared_folder_is_copied_to_the_same_package_folder_sorted_without_hidden_files(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    for name in ("ui/index.html", "ui/assets/b.js", "ui/assets/a.css", "ui/.DS_Store", "ui/.cache/x"):
        _write(tmp_path / name)
    files = ui_files(project, {"web": "/ui/"})  # surrounding slashes dropped, as the framework does
    assert list(files) == ["ui/assets/a.css", "ui/assets/b.js", "ui/index.html"]
    assert files["ui/index.html"] == tmp_path / "ui" / "index.html"
    _write(tmp_path / "web" / "dist" / "index.html")
    assert list(ui_files(project, {"web": "web/dist", "raw": None})) == ["web/dist/index.html"]


def test_the_setting_names_the_folder_copied_into_pkg_ui(tmp_path: Path) -> None:
    project = _project(tmp_path, 'ui = "frontend/dist"\n')
    assert project.ui == "frontend/dist"
    _write(tmp_path / "frontend" / "dist" / "index.html")
    _write(tmp_path / "ui" / "stale.html")  # the setting wins over <project>/ui for pkg/ui
    assert list(ui_files(project, {"web": "ui"})) == ["ui/index.html"]
    assert list(ui_files(project, {})) == ["ui/index.html"]  # raw processes (no app) get it too


def test_a_missing_declared_folder_is_an_error_naming_the_path_and_the_settings(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(UiFolderError) as caught:
        ui_files(project, {"web": "ui"})
    message = str(caught.value)
    assert "process 'web': @app(ui='ui') serves the package folder pkg/ui/" in message
    assert f"copies from {tmp_path / 'ui'}, but that folder does not exist" in message
    assert f'set ui = "<your UI folder>" in [tool.hyperpy] of {tmp_path / "pyproject.toml"}' in message
    (tmp_path / "ui").mkdir()
    with pytest.raises(UiFolderError, match="that folder holds no files"):
        ui_files(project, {"web": "ui"})


def test_a_missing_configured_folder_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    project = _project(tmp_path, 'ui = "frontend/dist"\n')
    with pytest.raises(UiFolderError) as caught:
        ui_files(project, {}, own_files=["ui/index.html"])  # own files do not excuse a wrong setting
    assert str(caught.value) == (
        f"{tmp_path / 'pyproject.toml'}: tool.hyperpy.ui = 'frontend/dist': {tmp_path / 'frontend/dist'} "
        f"does not exist; the build copies this folder into pkg/ui/: fix the path (it is relative to "
        f"{tmp_path}) or remove the setting"
    )


def test_own_files_in_pkg_satisfy_a_declared_folder_the_project_lacks(tmp_path: Path) -> None:
    """Kit's hand-made layout (the UI kept in pkg/ui/ itself) keeps working."""
    project = _project(tmp_path)
    _write(tmp_path / "pkg" / "ui" / "index.html")
    _write(tmp_path / "pkg" / "scripts.json")
    _write(tmp_path / "pkg" / "manifest.json")
    own = own_pkg_files(tmp_path / "pkg", {"manifest.json"})
    assert list(own) == ["scripts.json", "ui/index.html"]
    assert ui_files(project, {"web": "ui"}, own) == {}


def test_folders_outside_the_project_are_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(UiFolderError, match=r"process 'web': @app\(ui='\.\./site'\): '\.\./site' is not"):
        ui_files(project, {"web": "../site"})
    with pytest.raises(
        ProjectConfigError, match=r"tool\.hyperpy\.ui: .*'\.\./x' is not a folder of the project"
    ):
        _project(tmp_path, 'ui = "../x"\n')
