"""`[tool.hyperpy]`: defaults for a one-process package, every setting, and errors with field paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperpy.package.manifest import CapabilityGrant, OnExitRequests, manifest_json
from hyperpy.package.project import (
    InferredNeeds,
    ProjectConfigError,
    effective_capabilities,
    effective_networking,
    load_project,
    manifest_entries,
)


def write(root: Path, text: str) -> Path:
    (root / "pyproject.toml").write_text(text)
    return root


def errors(root: Path) -> list[str]:
    with pytest.raises(ProjectConfigError) as caught:
        load_project(root)
    return str(caught.value).splitlines()


def test_minimal_project_gets_one_process_named_like_the_package(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, '[project]\nname = "echo"\nversion = "0.2.0"\n[tool.hyperpy]\n'))
    assert (project.package, project.publisher, project.version) == ("echo", "template.os", "0.2.0")
    (process,) = project.processes
    assert (process.name, process.module, process.on_exit, process.public) == (
        "echo",
        "echo",
        "Restart",
        False,
    )
    assert project.zip_path == tmp_path / "target" / "echo:template.os.zip"
    assert project.module_candidates(process) == [tmp_path / "echo.py", tmp_path / "echo" / "__init__.py"]
    assert project.module_path(process) is None
    (tmp_path / "echo.py").write_text("")
    assert project.module_path(process) == tmp_path / "echo.py"


def test_dashed_process_defaults_to_underscored_module(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, '[project]\nname = "my-app"\n[tool.hyperpy]\n'))
    assert project.processes[0].module == "my_app"
    assert project.version == "0.1.0"


def test_full_configuration(tmp_path: Path) -> None:
    project = load_project(
        write(
            tmp_path,
            """
[project]
name = "ignored-when-package-is-set"
version = "9.9.9"
description = "from project"
dependencies = ["tinydep>=1", "hyperpy"]

[tool.hyperpy]
package = "chat"
publisher = "my-node.os"
version = "1.2.3"

[tool.hyperpy.processes.chat]
module = "app.main"
on_exit = "None"
public = true
request_networking = true
request_capabilities = ["vfs:distro:sys", {process = "kv:distro:sys", params = {kind = "read"}}]
grant_capabilities = ["worker:chat:my-node.os"]
infer_capabilities = false

[tool.hyperpy.processes.worker]
on_exit = {Requests = [{target = "our.os@chat:chat:my-node.os", body = "worker stopped"}]}
""",
        )
    )
    assert (project.package, project.publisher, project.version) == ("chat", "my-node.os", "1.2.3")
    assert project.description == "from project"
    assert project.dependencies == ("tinydep>=1", "hyperpy")
    chat, worker = project.processes
    assert (
        chat.module == "app.main" and chat.public and chat.request_networking and not chat.infer_capabilities
    )
    assert chat.request_capabilities == (
        "vfs:distro:sys",
        CapabilityGrant(process="kv:distro:sys", params={"kind": "read"}),
    )
    assert worker.module == "worker"
    assert isinstance(worker.on_exit, OnExitRequests)
    manifest = json.loads(manifest_json(manifest_entries(project)))
    address, request, blob = manifest[1]["on_exit"]["Requests"][0]
    assert address == "our.os@chat:chat:my-node.os"
    assert bytes(request["body"]) == b"worker stopped"
    assert request["expects_response"] is None and request["capabilities"] == [] and blob is None
    assert manifest[0]["on_exit"] == "None"
    assert manifest[0]["grant_capabilities"] == ["worker:chat:my-node.os"]


def test_inferred_capabilities_are_added_shown_and_can_be_turned_off(tmp_path: Path) -> None:
    project = load_project(
        write(
            tmp_path,
            """
[project]
name = "web"
[tool.hyperpy.processes.web]
request_capabilities = ["timer:distro:sys"]
[tool.hyperpy.processes.quiet]
infer_capabilities = false
""",
        )
    )
    web, quiet = project.processes
    needs = InferredNeeds(frozenset({"http-server:distro:sys", "timer:distro:sys"}), networking=True)
    assert [c.describe() for c in effective_capabilities(web, needs)] == [
        "timer:distro:sys (config)",
        "http-server:distro:sys (inferred)",
    ]
    assert effective_networking(web, needs) == (True, "inferred")
    assert effective_capabilities(quiet, needs) == []
    assert effective_networking(quiet, needs) == (False, "config")
    entries = manifest_entries(project, {"web": needs, "quiet": needs})
    assert entries[0].request_capabilities == ["timer:distro:sys", "http-server:distro:sys"]
    assert entries[0].request_networking is True
    assert entries[1].request_capabilities == [] and entries[1].request_networking is False


def test_invalid_fields_are_reported_with_file_and_path(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[project]
name = "echo"
[tool.hyperpy]
publisher = "Template.os"
[tool.hyperpy.processes.echo]
publik = true
public = "yes"
module = "not a module"
on_exit = "Stop"
request_capabilities = ["http-server", {process = "kv:distro:sys"}]
""",
    )
    source = str(tmp_path / "pyproject.toml")
    lines = errors(tmp_path)
    assert all(line.startswith(f"{source}: tool.hyperpy.") for line in lines), lines
    fields = {line.split(": ")[1] for line in lines}
    assert fields == {
        "tool.hyperpy.publisher",
        "tool.hyperpy.processes.echo.publik",
        "tool.hyperpy.processes.echo.public",
        "tool.hyperpy.processes.echo.module",
        "tool.hyperpy.processes.echo.on_exit",
        "tool.hyperpy.processes.echo.request_capabilities[0]",
        "tool.hyperpy.processes.echo.request_capabilities[1].params",
    }
    assert f"{source}: tool.hyperpy.processes.echo.publik: unknown field (did you mean 'public'?)" in lines
    assert (
        f"{source}: tool.hyperpy.processes.echo.public: Input should be a valid boolean (write true or false)"
        in lines
    )


def test_missing_pieces(tmp_path: Path) -> None:
    source = tmp_path / "pyproject.toml"
    assert errors(tmp_path) == [
        f"{source}: file not found (create it with a [project] name and a [tool.hyperpy] table "
        "(or use kit's layout: metadata.json, pkg/manifest.json, <process>/src/lib.py))"
    ]
    write(tmp_path, '[project]\nname = "echo"\n')
    assert errors(tmp_path) == [
        f"{source}: tool.hyperpy: table is missing (add a [tool.hyperpy] section (it may be empty))"
    ]
    write(tmp_path, "[tool.hyperpy]\n")
    assert errors(tmp_path) == [
        f'{source}: tool.hyperpy.package: no package name (set package = "my-app" or [project] name)'
    ]
    write(tmp_path, "[tool.hyperpy\n")
    assert errors(tmp_path)[0].startswith(f"{source}: not valid TOML:")


def test_unsafe_names_from_project_table_and_process_keys(tmp_path: Path) -> None:
    write(tmp_path, '[project]\nname = "My_App"\nversion = "1"\n[tool.hyperpy.processes.Bad_Name]\n')
    lines = errors(tmp_path)
    assert any(
        line.startswith(f"{tmp_path / 'pyproject.toml'}: project.name:") and "'my-app'" in line
        for line in lines
    )
    assert any(": project.version: version '1' is not a semantic version" in line for line in lines)
    assert any(
        ": tool.hyperpy.processes.Bad_Name: process name 'Bad_Name' is not hypermap-safe" in x for x in lines
    )
