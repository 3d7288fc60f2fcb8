"""`hyperpy run` boots a node that kit's tools can use, streams its terminal and stops cleanly on Ctrl-C;
the REST API lists and kills processes."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from run_nodes import NO_PROXY, RunningNode

from hyperpy.cli import main

ECHO_PROJECT = Path(__file__).parent / "projects" / "echo"
ECHO = "echo:echo:template.os"


@pytest.fixture
def running_echo() -> Iterator[RunningNode]:
    node = RunningNode(str(ECHO_PROJECT), "--native")
    try:
        node.wait_for("ready on")
        yield node
    finally:
        if node.process.poll() is None:
            node.process.kill()
            node.process.wait(timeout=30)


def test_run_serves_inject_rest_and_stops_on_ctrl_c(running_echo: RunningNode) -> None:
    injected = CliRunner().invoke(main, ["inject", ECHO, '{"hi":"there"}', "--port", str(running_echo.port)])
    assert injected.exit_code == 0, injected.output
    assert injected.output.strip() == '{"hi":"there"}'
    running_echo.wait_for('echo: got {"hi":"there"}')

    with NO_PROXY.open(running_echo.url("/hyperpy/api/processes")) as response:
        listed = json.loads(response.read())
    assert [(p["id"], p["status"], p["mode"]) for p in listed["processes"]] == [(ECHO, "running", "native")]

    kill = urllib.request.Request(running_echo.url(f"/hyperpy/api/kill?id={ECHO}"), method="POST")
    with NO_PROXY.open(kill) as response:
        assert json.loads(response.read()) == {"killed": ECHO}
    with pytest.raises(urllib.error.HTTPError) as gone:
        NO_PROXY.open(running_echo.url(f"/hyperpy/api/process?id={ECHO}"))
    assert gone.value.code == 404
    # the kernel refuses a message to a process that is not there at once, and says so
    refused = CliRunner().invoke(main, ["inject", ECHO, "{}", "--port", str(running_echo.port)])
    assert refused.exit_code != 0
    assert f"refused the message to {ECHO} at once (HTTP 408" in refused.output
    assert f"no process {ECHO} on fake.dev" in refused.output

    assert running_echo.stop() == 0
    running_echo.wait_for("stopping the node", timeout=5)


def test_rest_api_refuses_a_malformed_process_id(running_echo: RunningNode) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        NO_PROXY.open(running_echo.url("/hyperpy/api/process?id=not-an-id"))
    assert refused.value.code == 400
    assert "process:package:publisher" in json.loads(refused.value.read())["error"]


def test_native_needs_a_project_directory(tmp_path: Path) -> None:
    package_zip = tmp_path / "echo:template.os.zip"
    package_zip.write_bytes(b"PK")

    result = CliRunner().invoke(main, ["run", str(package_zip), "--native"])

    assert result.exit_code == 2
    assert "--native needs a project directory" in result.output


def test_run_without_sources_runs_the_project_in_the_current_directory(tmp_path: Path) -> None:
    """`cd myapp && hyperpy run` runs myapp; a directory that is not a hyperpy project boots empty."""
    from hyperpy.commands.run import default_sources

    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.hyperpy]\npackage = "app"\n')
    assert default_sources((), project) == (project,)

    other = tmp_path / "lib"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "lib"\n')
    assert default_sources((), other) == ()
    assert default_sources((), tmp_path) == ()  # no pyproject.toml at all

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[tool.hyperpy\n")
    assert default_sources((), broken) == (broken,)  # the project loader then names the TOML error

    explicit = (other,)
    assert default_sources(explicit, project) is explicit  # named sources always win
