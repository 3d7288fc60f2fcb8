"""Build errors a user can act on (issue 2 item 6), and nothing half-written when a build fails.

One real build covers the three pre-init failures at once (three processes compiled in parallel):
a syntax error, an exception raised while importing (after a pure-Python dependency imported fine),
and the import of a native extension module. The other errors are found before componentize-py runs.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from build_wheels import make_wheel
from click.testing import CliRunner
from echo_copies import copy_echo

from hyperpy.build import BuildError, BuildResult, build_project
from hyperpy.cli import main

WIT_WORLD = textwrap.dedent(
    """

    class WitWorld:
        def init(self, our: str) -> None:
            return None
    """
)


@dataclass
class FailedBuild:
    project: Path
    message: str
    before: dict[str, bytes]


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file under pkg/ and target/ (except the shared cache) plus metadata.json."""
    files = {}
    for base in ("pkg", "target"):
        for path in sorted((project / base).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(project))] = path.read_bytes()
    files["metadata.json"] = (project / "metadata.json").read_bytes()
    return files


@pytest.fixture(scope="session")
def failed_build(echo_build: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> FailedBuild:
    project = tmp_path_factory.mktemp("broken") / "echo_raw"
    shutil.copytree(echo_build.project.root, project)
    before = snapshot(project)
    wheels = tmp_path_factory.mktemp("wheels")
    tinydep = make_wheel(wheels, "tinydep", {"tinydep/__init__.py": b"VALUE = 42\n"})

    echo = project / "echo.py"
    echo.write_text(echo.read_text() + "\n\ndef broken(:\n    pass\n")
    (project / "crash.py").write_text(
        "import tinydep\n\nassert tinydep.VALUE == 42\n\nimport helper  # noqa: E402\n" + WIT_WORLD
    )
    (project / "helper.py").write_text(
        'def load_settings():\n    raise RuntimeError("settings file missing")\n\n\n'
        "SETTINGS = load_settings()\n"
    )
    (project / "native.py").write_text("import pydantic_core\n" + WIT_WORLD)
    config = project / "pyproject.toml"
    config.write_text(
        config.read_text().replace("dependencies = []", f"dependencies = [{tinydep!r}]")
        + "\n[tool.hyperpy.processes.crash]\n\n[tool.hyperpy.processes.native]\n"
    )
    with pytest.raises(BuildError) as caught:
        build_project(project, jobs=2, progress=False)
    return FailedBuild(project, str(caught.value), before)


def section(message: str, process: str) -> str:
    """The part of a combined error message about one process (each starts with `process '<name>':`)."""
    parts = [
        part for part in re.split(r"\n\n(?=process ')", message) if part.startswith(f"process {process!r}:")
    ]
    assert len(parts) == 1, message
    return parts[0]


def test_syntax_error_names_the_users_file_and_line(failed_build: FailedBuild) -> None:
    text = section(failed_build.message, "echo")
    source = failed_build.project / "echo.py"
    line = source.read_text().splitlines().index("def broken(:") + 1
    assert f"process 'echo': syntax error in {source}, line {line}" in text
    assert "def broken(:" in text and "^" in text
    assert "SyntaxError" in text


def test_import_time_exception_shows_the_users_traceback(failed_build: FailedBuild) -> None:
    text = section(failed_build.message, "crash")
    assert "importing module 'crash' failed with RuntimeError: settings file missing" in text
    assert f'File "{failed_build.project / "helper.py"}", line 2, in load_settings' in text
    assert f'File "{failed_build.project / "crash.py"}", line 5' in text
    # The pure-Python dependency imported fine inside the component (the failure is after it).
    assert "tinydep" not in text.split("Traceback")[0]


def test_native_extension_import_names_the_module_and_why(failed_build: FailedBuild) -> None:
    text = section(failed_build.message, "native")
    assert "module 'pydantic_core'" in text
    assert "native extension module" in text and "wasm32-wasi" in text
    assert str(failed_build.project / "native.py") in text


def test_messages_carry_no_componentize_py_noise(failed_build: FailedBuild) -> None:
    for noise in ("Caused by:", "Stack backtrace", '"/0/', '"/1/', "<frozen importlib", "AssertionError"):
        assert noise not in failed_build.message


def test_failed_build_leaves_pkg_target_and_metadata_untouched(failed_build: FailedBuild) -> None:
    assert snapshot(failed_build.project) == failed_build.before
    assert not (failed_build.project / "target" / "hyperpy" / "tmp").exists()


def test_missing_process_module_names_the_expected_paths(tmp_path: Path) -> None:
    project = copy_echo(tmp_path / "echo_raw")
    (project / "echo.py").unlink()
    with pytest.raises(BuildError) as caught:
        build_project(project, progress=False)
    message = str(caught.value)
    assert f"process 'echo': module 'echo' not found: expected {project / 'echo.py'} or" in message
    assert str(project / "echo" / "__init__.py") in message
    assert "[tool.hyperpy.processes.echo]" in message
    assert not (project / "pkg").exists() and not (project / "metadata.json").exists()
    assert not (project / "target").exists()


def test_bad_config_shows_file_and_field_path(tmp_path: Path) -> None:
    project = copy_echo(tmp_path / "echo_raw")
    config = project / "pyproject.toml"
    config.write_text(re.sub(r"(?m)^public = (true|false)$", 'public = "no"', config.read_text()))
    with pytest.raises(BuildError) as caught:
        build_project(project, progress=False)
    assert str(caught.value) == (
        f"{config}: tool.hyperpy.processes.echo.public: Input should be a valid boolean (write true or false)"
    )


def test_dependency_with_native_extension_is_refused_before_compiling(tmp_path: Path) -> None:
    project = copy_echo(tmp_path / "echo_raw")
    requirement = make_wheel(
        tmp_path,
        "fastthing",
        {
            "fastthing/__init__.py": b"from fastthing._speedups import go\n",
            "fastthing/_speedups.cpython-311-x86_64-linux-gnu.so": b"\x7fELF not really",
        },
    )
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace("dependencies = []", f"dependencies = [{requirement!r}]"))
    with pytest.raises(BuildError) as caught:
        build_project(project, progress=False)
    message = str(caught.value)
    assert "fastthing: native extension module fastthing._speedups" in message
    assert "no wasm32-wasi build" in message
    assert not (project / "pkg").exists()


def test_cli_reports_failure_with_exit_status_1(tmp_path: Path) -> None:
    project = copy_echo(tmp_path / "echo_raw")
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('publisher = "template.os"', 'publisher = "Template.OS"'))
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1
    assert "build failed" in result.output
    assert "tool.hyperpy.publisher: publisher 'Template.OS' is not hypermap-safe" in result.output


def test_cli_prints_zip_and_sha256(echo_copy: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--quiet", str(echo_copy)])
    assert result.exit_code == 0, result.output
    zip_line, sha_line = result.output.strip().splitlines()[-2:]
    assert zip_line == str(echo_copy / "target" / "echo-raw:template.os.zip")
    assert sha_line.startswith("sha256 ") and len(sha_line.split()[1]) == 64
