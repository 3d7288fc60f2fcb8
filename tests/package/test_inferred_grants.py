"""Inferred capabilities are requested *and granted*: on Hyperdrive a Response needs the same messaging
capability as a Request, so a non-public process that binds at http-server or sleeps on timer hears
back only if it granted that module messaging (runtime-contract §1.5). vfs, state and kernel always
get through and are never granted. The manifest golden shows the whole planned result."""

from __future__ import annotations

from pathlib import Path

from hyperpy.package.manifest import CapabilityGrant, manifest_json
from hyperpy.package.project import (
    InferredNeeds,
    effective_capabilities,
    effective_grants,
    load_project,
    manifest_entries,
)

GOLDEN = Path(__file__).parent / "golden" / "inferred_manifest.json"

CONFIG = """
[project]
name = "web"

[tool.hyperpy.processes.web]

[tool.hyperpy.processes.partial]
request_capabilities = ["timer:distro:sys"]
grant_capabilities = [{process = "http-server:distro:sys", params = "messaging"}]

[tool.hyperpy.processes.quiet]
infer_capabilities = false
grant_capabilities = ["web:web:template.os"]
"""

# What the framework sees in an app with @http handlers, a UI folder and kv use.
NEEDS = InferredNeeds(
    frozenset({"http-server:distro:sys", "timer:distro:sys", "vfs:distro:sys", "kv:distro:sys"}),
    ui_folder="ui",
)


def _project(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    return load_project(tmp_path)


def test_the_planned_manifest_requests_and_grants_what_the_app_needs(tmp_path: Path) -> None:
    project = _project(tmp_path)
    needs = {process.name: NEEDS for process in project.processes}
    text = manifest_json(manifest_entries(project, needs))
    assert text == GOLDEN.read_text(), f"planned manifest differs from {GOLDEN}:\n{text}"


def test_grants_are_listed_with_their_origin_and_follow_the_request_rules(tmp_path: Path) -> None:
    web, partial, quiet = _project(tmp_path).processes
    assert [g.describe() for g in effective_grants(web, NEEDS)] == [
        "http-server:distro:sys (inferred)",
        "kv:distro:sys (inferred)",
        "timer:distro:sys (inferred)",
    ]
    # A configured entry replaces the inferred one, in either spelling of the messaging capability.
    assert [g.describe() for g in effective_grants(partial, NEEDS)] == [
        "http-server:distro:sys 'messaging' (config)",
        "kv:distro:sys (inferred)",
        "timer:distro:sys (inferred)",
    ]
    requested = [c.describe() for c in effective_capabilities(partial, NEEDS)]
    assert requested[0] == "timer:distro:sys (config)" and "timer:distro:sys (inferred)" not in requested
    # infer_capabilities = false turns off inferred grants exactly as it turns off inferred requests.
    assert [g.entry for g in effective_grants(quiet, NEEDS)] == ["web:web:template.os"]
    assert effective_capabilities(quiet, NEEDS) == []


def test_processes_whose_messages_always_pass_are_never_granted(tmp_path: Path) -> None:
    web = _project(tmp_path).processes[0]
    always = InferredNeeds(frozenset({"vfs:distro:sys", "state:distro:sys", "kernel:distro:sys"}))
    assert effective_grants(web, always) == []
    assert {c.entry for c in effective_capabilities(web, always)} == set(always.processes)


def test_a_raw_process_with_no_needs_gets_only_its_configured_grants(tmp_path: Path) -> None:
    quiet = _project(tmp_path).processes[2]
    assert [g.entry for g in effective_grants(quiet)] == ["web:web:template.os"]
    assert isinstance(effective_grants(_project(tmp_path).processes[1])[0].entry, CapabilityGrant)
