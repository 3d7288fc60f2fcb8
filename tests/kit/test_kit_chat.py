"""A kit-layout chat project in kit's legacy bindings style: built with no edits, manifest kept byte
for byte, checked, and chatting across two nodes in both modes (the Quick Start's requests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kit_fixtures import PROJECTS

from hyperpy.build import build_project
from hyperpy.build.check import check_path
from hyperpy.testing.harness import is_project

CHAT = "chat:chat:template.os"


@pytest.fixture(scope="module")
def built_chat(kit_chat: Path):
    return build_project(kit_chat, progress=False)


def test_builds_without_pyproject_and_keeps_the_users_files(built_chat, kit_chat: Path) -> None:
    assert not (kit_chat / "pyproject.toml").exists()
    for name in ("manifest.json", "scripts.json"):
        assert (kit_chat / "pkg" / name).read_bytes() == (PROJECTS / "chat" / "pkg" / name).read_bytes()
    assert (kit_chat / "metadata.json").read_bytes() == (PROJECTS / "chat" / "metadata.json").read_bytes()
    assert built_chat.zip_path.name == "chat:template.os.zip"
    roles = {(p.name, p.role, p.bindings) for p in built_chat.processes}
    assert roles == {
        ("chat", "process", "chat_template_dot_os_v0"),
        ("send", "script", "chat_template_dot_os_v0"),
    }
    # The script is built into pkg/ and listed only in scripts.json, never in the manifest.
    assert (kit_chat / "pkg" / "send.wasm").is_file()
    manifest = json.loads((kit_chat / "pkg" / "manifest.json").read_text())
    assert [entry["process_wasm_path"] for entry in manifest] == ["/chat.wasm"]


def test_passes_check(built_chat, kit_chat: Path) -> None:
    report = check_path(kit_chat)
    assert report.problems == []
    assert any("script send.wasm" in line for line in report.summary)


def test_a_rebuild_is_up_to_date_and_still_leaves_the_manifest_alone(built_chat, kit_chat: Path) -> None:
    again = build_project(kit_chat, progress=False)
    assert again.up_to_date and again.sha256 == built_chat.sha256
    assert again.manifest_origin.startswith("yours")
    assert (kit_chat / "pkg" / "manifest.json").read_bytes() == (
        PROJECTS / "chat" / "pkg" / "manifest.json"
    ).read_bytes()


@pytest.mark.hyperpy_modes("component", "native")
def test_quick_start_send_and_history_across_two_nodes(built_chat, kit_chat: Path, hyperpy_nodes) -> None:
    a, b = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (a, b):
        node.install(kit_chat)
    assert a.request_json(CHAT, {"Send": {"target": "fake2.dev", "message": "hello world"}}) == {"Send": None}
    b.wait_for_output("fake.dev: hello world")
    assert b.request_json(CHAT, {"Send": {"target": "fake.dev", "message": "wow, it works!"}}) == {
        "Send": None
    }
    assert a.request_json(CHAT, {"History": "fake2.dev"}) == {
        "History": [
            {"author": "fake.dev", "content": "hello world"},
            {"author": "fake2.dev", "content": "wow, it works!"},
        ]
    }
    assert b.request_json(CHAT, {"History": "fake.dev"}) == {
        "History": [
            {"author": "fake.dev", "content": "hello world"},
            {"author": "fake2.dev", "content": "wow, it works!"},
        ]
    }


@pytest.mark.hyperpy_modes("component", "native")
def test_send_errors_come_back_as_returned_err(built_chat, kit_chat: Path, hyperpy_nodes) -> None:
    """kit's bindings return Err: the chat's own `isinstance(answer, Err)` branch answers the caller."""
    a, _b = hyperpy_nodes("fake.dev", "fake2.dev")
    a.install(kit_chat)
    hyperpy_nodes.set_offline("fake2.dev")
    assert a.request_json(CHAT, {"Send": {"target": "fake2.dev", "message": "anyone?"}}) == {
        "Error": "could not reach fake2.dev: OFFLINE"
    }
    assert a.request_json(CHAT, {"History": "fake2.dev"}) == {"History": []}


def test_a_kit_built_package_installs_as_it_is(
    built_chat, kit_chat: Path, hyperpy_node, tmp_path: Path
) -> None:
    """What kit itself produces, a `pkg/` (manifest.json, scripts.json, wasm, api.zip) and the zip of its
    contents, installs without any hyperpy project around it."""
    pkg = tmp_path / "pkg"
    shutil.copytree(kit_chat / "pkg", pkg)
    installed = hyperpy_node.install(pkg, mode="component", package_id="chat:template.os")
    assert installed.version_hash == built_chat.sha256
    assert hyperpy_node.request_json(CHAT, {"History": "nobody.dev"}) == {"History": []}
    # A kit package directory whose processes have no Python source (kit built them) is installed as
    # it is, not rebuilt.
    package = tmp_path / "kit-package"
    shutil.copytree(pkg, package / "pkg")
    shutil.copy(kit_chat / "metadata.json", package / "metadata.json")
    (package / "chat" / "src").mkdir(parents=True)
    (package / "chat" / "src" / "lib.rs").write_text("// built by kit\n")
    assert not is_project(package)
    hyperpy_node.install(package)
    assert hyperpy_node.request_json(CHAT, {"History": "nobody.dev"}) == {"History": []}
    hyperpy_node.install(built_chat.zip_path)
    assert hyperpy_node.request_json(CHAT, {"History": "nobody.dev"}) == {"History": []}


@pytest.mark.hyperpy_modes("component", "native")
def test_the_send_script_runs_from_the_terminal(built_chat, kit_chat: Path, hyperpy_nodes) -> None:
    """`send:chat:template.os <node> <words>` typed at the terminal: the script built into pkg/ asks
    our chat to send, and prints the answer."""
    a, b = hyperpy_nodes("fake.dev", "fake2.dev")
    for node in (a, b):
        node.install(kit_chat)
    mark = a.mark()
    a.node.terminal_command("send:chat:template.os fake2.dev hi from the script")
    a.wait_for_output('send: {"Send": null}', since=mark, timeout=20)
    b.wait_for_output("fake.dev: hi from the script", timeout=5)
    assert a.request_json(CHAT, {"History": "fake2.dev"}) == {
        "History": [{"author": "fake.dev", "content": "hi from the script"}]
    }
