"""`hyperpy check` on what `hyperpy build` produces for the raw echo example: it must pass, as a
directory, as `pkg/` and as the kit zip, and break in the expected way when the package is edited.

The example is built once per machine: `build_project` caches the component under the shared
`.hyperpy-cache/` (see conftest), so later sessions only re-assemble pkg/ and the zip.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hyperpy.build.check import check_path
from hyperpy.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "echo_raw"


@pytest.fixture(scope="session")
def raw_echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of examples/echo_raw (sources only copied; pkg/ and target/ are built here)."""
    from hyperpy.build.pipeline import build_project

    project = tmp_path_factory.mktemp("raw-echo") / "echo_raw"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("pkg", "target", "__pycache__"))
    build_project(project, progress=False)
    return project


@pytest.fixture
def raw_echo_copy(raw_echo: Path, tmp_path: Path) -> Path:
    """A private copy of the built package, for tests that break it."""
    copy = tmp_path / "echo_raw"
    shutil.copytree(raw_echo, copy)
    return copy


def test_built_raw_echo_passes_as_directory_pkg_and_zip(raw_echo: Path) -> None:
    [zip_path] = sorted((raw_echo / "target").glob("*.zip"))
    for target in (raw_echo, raw_echo / "pkg", zip_path):
        report = check_path(target)
        assert report.problems == [], (target, [str(p) for p in report.problems])
    summary = "\n".join(check_path(raw_echo).summary)
    assert "process echo:" in summary
    assert "imports hyperware:process/standard@1.0.0" in summary


def test_cli_passes_on_the_built_zip(raw_echo: Path) -> None:
    [zip_path] = sorted((raw_echo / "target").glob("*.zip"))
    result = CliRunner().invoke(main, ["check", str(zip_path)])
    assert result.exit_code == 0, result.output
    assert "ok: a Hyperware node will load" in result.output


def test_edited_manifest_of_the_built_package_is_caught(raw_echo_copy: Path) -> None:
    manifest_file = raw_echo_copy / "pkg" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest[0]["process_wasm_path"] = "/missing.wasm"
    del manifest[0]["public"]
    manifest_file.write_text(json.dumps(manifest))
    lines = [str(problem) for problem in check_path(raw_echo_copy).problems]
    assert any("[0].public: required field is missing" in line for line in lines), lines
    assert any("[0].process_wasm_path: /missing.wasm does not exist in the package" in line for line in lines)


def test_metadata_version_bump_without_code_hash_is_caught(raw_echo_copy: Path) -> None:
    metadata_file = raw_echo_copy / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    metadata["properties"]["current_version"] = "9.9.9"
    metadata_file.write_text(json.dumps(metadata))
    [line] = [str(problem) for problem in check_path(raw_echo_copy).problems]
    assert "properties.current_version: '9.9.9' is not a key of properties.code_hashes" in line
