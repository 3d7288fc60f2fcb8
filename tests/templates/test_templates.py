"""Every `hyperpy new` template is lint-clean, passes its own tests on the local node (natively, and as
the built .wasm after `hyperpy build` + `hyperpy check`), and the UI template's page works in a real
headless Chromium through the generated client. Each template is rendered once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from hyperpy.cli import main
from hyperpy.templates.scaffold import TEMPLATES, create_project

VENV_BIN = Path(sys.executable).parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def _tool(name: str) -> str:
    beside = VENV_BIN / name
    return str(beside) if beside.exists() else name


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    parent = tmp_path_factory.mktemp("templates")
    return {template: create_project(f"demo-{template}", template, parent=parent) for template in TEMPLATES}


def _run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment.setdefault("HYPERPY_CACHE_DIR", str(Path(__file__).resolve().parents[2] / ".hyperpy-cache"))
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_template_is_lint_clean(rendered: dict[str, Path], template: str) -> None:
    project = rendered[template]
    # what a build leaves (outside git, so ruff would not skip it) and generated stubs are not linted
    leftovers = [project / name for name in ("target/hyperpy/stage/x.py", "pkg/x.py", "apis/x.py")]
    for leftover in leftovers:
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_text("import os,sys\nx=1 ;y = [ 1,2 ]\n")
    try:
        check = _run([_tool("ruff"), "check", "--no-cache", "."], project)
        assert check.returncode == 0, check.stdout
        formatted = _run([_tool("ruff"), "format", "--check", "--no-cache", "."], project)
        assert formatted.returncode == 0, formatted.stdout
    finally:
        for leftover in leftovers:
            leftover.unlink()


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_template_passes_its_own_tests_natively(rendered: dict[str, Path], template: str) -> None:
    result = _run([*PYTEST, "--hyperpy-mode", "native"], rendered[template])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


# One componentize-py build per process and per script (the chat template has both): 5-20 s of CPU
# each on an idle machine, minutes on a loaded one.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_template_builds_checks_and_passes_as_a_component(rendered: dict[str, Path], template: str) -> None:
    project = rendered[template]
    build = _run([_tool("hyperpy"), "build", "."], project)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    check = _run([_tool("hyperpy"), "check", "."], project)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = _run([*PYTEST, "--hyperpy-mode", "component"], project)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]


def test_new_refuses_bad_names_unknown_templates_and_existing_folders(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["new", "My_App", "--dir", str(tmp_path)])
    assert bad.exit_code == 1 and "invalid project name 'My_App'" in bad.output
    unknown = runner.invoke(main, ["new", "x", "--template", "nope", "--dir", str(tmp_path)])
    assert unknown.exit_code == 2 and "nope" in unknown.output
    assert runner.invoke(main, ["new", "twice", "--dir", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "pyproject.toml").is_file()  # --dir is the project folder itself, not its parent
    again = runner.invoke(main, ["new", "twice", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "already exists and is not empty" in again.output


def test_new_project_layout_has_its_api_and_ui_client(rendered: dict[str, Path]) -> None:
    ui = rendered["ui"]
    assert (ui / "api" / "demo-ui.wit").is_file()
    assert "export const DemoUi" in (ui / "ui" / "caller-utils.js").read_text()
    assert 'import { DemoUi, ApiError } from "./caller-utils.js";' in (ui / "ui" / "app.js").read_text()
    assert not (rendered["raw"] / "api").exists()  # raw processes declare no typed API
    assert (rendered["http"] / ".gitignore").is_file()


def _built_pkg_with_ui(project: Path) -> Path:
    """`hyperpy build` the project; the build copies the app's `ui` folder into pkg/ui, as kit's
    packages carry their page, and zips it."""
    build = _run([_tool("hyperpy"), "build", "."], project)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    pkg = project / "pkg"
    zipped = zipfile.ZipFile(project / "target" / "demo-ui:template.os.zip").namelist()
    for name in ("index.html", "app.js", "caller-utils.js"):
        assert (pkg / "ui" / name).read_bytes() == (project / "ui" / name).read_bytes()
        assert f"ui/{name}" in zipped
    return pkg


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_ui_page_works_in_headless_chromium_through_the_generated_client(
    rendered: dict[str, Path], tmp_path: Path
) -> None:
    from hyperpy.node.control.surface import node_with_control_surface

    project = rendered["ui"]
    process = "demo-ui:demo-ui:template.os"
    pkg = _built_pkg_with_ui(project)
    node, surface = node_with_control_surface("fake.dev", home=tmp_path / "home", port=0)
    with node:
        node.install(pkg, mode="component")
        base = f"{surface.url}/{process}"
        # add a to-do exactly as caller-utils.js's add_todo does, then let the page list it
        body = json.dumps({"AddTodo": "seen in chromium"}).encode()
        request = urllib.request.Request(f"{base}/api/add-todo", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:  # no retry: install waits
            assert json.loads(response.read())["Ok"]["text"] == "seen in chromium"
        dom = subprocess.run(
            [_chromium() or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=10000",
             "--dump-dom", f"{base}/"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert "<span>seen in chromium</span>" in dom.stdout, dom.stdout[-2000:] + dom.stderr[-2000:]
    assert "1 to-do(s)" in dom.stdout
