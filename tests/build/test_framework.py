"""A framework app builds too: generated entry module, API WIT in api.zip, inferred capabilities."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from hyperpy.build import BuildResult, build_project
from hyperpy.cli import main

COUNTER = """\
from hyperpy import app, http, local


@app(name="counter")
class Counter:
    count: int = 0

    @http
    @local
    def increment(self, by: int) -> int:
        self.count += by
        return self.count
"""


@pytest.fixture(scope="session")
def counter_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    project = tmp_path_factory.mktemp("framework") / "counter"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "counter"\nversion = "0.1.0"\n\n[tool.hyperpy]\npublisher = "tests.os"\n'
    )
    (project / "counter.py").write_text(COUNTER)
    return build_project(project, progress=False)


def test_framework_process_is_built_with_inferred_capabilities(counter_build: BuildResult) -> None:
    (process,) = counter_build.processes
    assert process.kind == "framework"
    described = {c.describe() for c in process.capabilities}
    assert {"http-server:distro:sys (inferred)", "timer:distro:sys (inferred)"} <= described
    manifest = json.loads((counter_build.pkg_dir / "manifest.json").read_text())
    assert {"http-server:distro:sys", "timer:distro:sys"} <= set(manifest[0]["request_capabilities"])


def test_inferred_needs_are_granted_too_and_listed_as_inferred(counter_build: BuildResult) -> None:
    """The counter is not public: http-server (Bind acks, incoming HTTP) and timer (sleeps, answers)
    can only reach it through capabilities it grants them, so the build grants what it infers."""
    (process,) = counter_build.processes
    assert [g.describe() for g in process.grants] == [
        "http-server:distro:sys (inferred)",
        "timer:distro:sys (inferred)",
    ]
    manifest = json.loads((counter_build.pkg_dir / "manifest.json").read_text())
    assert manifest[0]["public"] is False
    assert manifest[0]["grant_capabilities"] == ["http-server:distro:sys", "timer:distro:sys"]
    result = CliRunner().invoke(main, ["build", str(counter_build.project.root)])
    assert result.exit_code == 0, result.output
    listing = "grant_capabilities: http-server:distro:sys (inferred), timer:distro:sys (inferred)"
    assert listing in result.output


def test_api_wit_is_generated_and_packaged(counter_build: BuildResult) -> None:
    root: Path = counter_build.project.root
    world = "counter-tests-dot-os-v0"
    assert (root / "api" / f"{world}.wit").is_file()
    api_zip = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(counter_build.zip_path).read("api.zip")))
    assert f"{world}.wit" in api_zip.namelist()
    assert "counter.wit" in api_zip.namelist()


def test_turning_inference_off_leaves_only_configured_capabilities(counter_build: BuildResult) -> None:
    root = counter_build.project.root
    config = root / "pyproject.toml"
    original = config.read_text()
    config.write_text(
        original
        + "\n[tool.hyperpy.processes.counter]\ninfer_capabilities = false\n"
        + 'request_capabilities = ["vfs:distro:sys"]\n'
    )
    try:
        result = build_project(root, progress=False)
        assert result.built == []  # manifest-only change: the component is reused
        manifest = json.loads((result.pkg_dir / "manifest.json").read_text())
        assert manifest[0]["request_capabilities"] == ["vfs:distro:sys"]
        assert manifest[0]["grant_capabilities"] == []
    finally:
        config.write_text(original)
