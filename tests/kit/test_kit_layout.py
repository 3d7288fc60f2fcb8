"""Loading kit's layout, the user's manifest/scripts.json as the source of truth, scripts config,
requirements.txt, bindings-style detection and `hyperpy check` of an unbuilt kit project. No builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit_fixtures import PROJECTS, copy_project

from hyperpy.build.check import check_path
from hyperpy.package.kit_layout import read_requirements, record_generated, written_by_hyperpy
from hyperpy.package.process_module import legacy_bindings_module, process_kind
from hyperpy.package.project import ProjectConfigError, generated_files, load_project, manifest_entries
from hyperpy.package.scripts import ScriptsError, parse_scripts
from hyperpy.runtime.kit_bindings import legacy_type_name, world_class_name


def errors(root: Path) -> str:
    with pytest.raises(ProjectConfigError) as caught:
        load_project(root)
    return str(caught.value)


def test_a_kit_project_needs_no_pyproject(tmp_path: Path) -> None:
    project = load_project(copy_project("chat", tmp_path))
    assert (project.layout, project.package_id, project.version) == ("kit", "chat:template.os", "0.1.0")
    (chat,) = project.processes
    assert (chat.name, chat.module, chat.source_dir, chat.wasm_file_name) == (
        "chat",
        "lib",
        "chat/src",
        "chat.wasm",
    )
    assert (chat.public, chat.request_networking, chat.request_capabilities) == (
        True,
        True,
        ("http-server:distro:sys",),
    )
    (send,) = project.scripts
    assert (send.name, send.module, send.source_dir) == ("send", "lib", "send/src")
    assert send.entry.request_capabilities == ["chat:chat:template.os"]
    assert project.module_path(chat) == project.root / "chat" / "src" / "lib.py"
    # The manifest is the user's, exactly: nothing generated for pkg/.
    assert generated_files(project, manifest_entries(project)) == {}


def test_kit_layout_problems_name_the_file_the_field_and_the_fix(tmp_path: Path) -> None:
    root = copy_project("chat", tmp_path)
    (root / "chat" / "src" / "lib.py").unlink()
    assert f"{root / 'pkg' / 'manifest.json'}: [0].process_wasm_path: chat.wasm: no Python source" in errors(
        root
    )
    (root / "chat" / "src" / "lib.rs").write_text("")
    assert "Rust or JavaScript process; hyperpy builds Python only" in errors(root)
    (root / "pkg" / "manifest.json").unlink()
    assert f"{root / 'pkg' / 'manifest.json'}: is missing" in errors(root)
    (root / "metadata.json").unlink()
    (root / "pkg" / "scripts.json").unlink()
    assert "pyproject.toml: file not found" in errors(root)


def test_a_prebuilt_wasm_without_source_is_kept(tmp_path: Path) -> None:
    root = copy_project("chat", tmp_path)
    (root / "chat" / "src" / "lib.py").unlink()
    (root / "pkg" / "chat.wasm").write_bytes(b"\0asm")
    project = load_project(root)
    assert (project.processes, project.prebuilt) == ((), ("chat",))


PYPROJECT = '[project]\nname = "chat"\n[tool.hyperpy]\n'


def test_pyproject_settings_that_disagree_with_the_users_manifest_are_an_error(tmp_path: Path) -> None:
    root = copy_project("chat", tmp_path)
    (root / "pyproject.toml").write_text(
        PYPROJECT + "[tool.hyperpy.processes.chat]\npublic = false\nrequest_networking = true\n"
    )
    message = errors(root)
    assert (
        f"{root / 'pyproject.toml'}: tool.hyperpy.processes.chat.public: false disagrees with "
        f"{root / 'pkg' / 'manifest.json'}: [0].public = true" in message
    )
    assert "request_networking" not in message  # it agrees
    (root / "pyproject.toml").write_text(PYPROJECT + "[tool.hyperpy.processes.chat]\npublic = true\n")
    project = load_project(root)
    assert project.user_manifest == root / "pkg" / "manifest.json"
    assert [p.source_dir for p in project.processes] == ["chat/src"]
    assert manifest_entries(project)[0].request_capabilities == ["http-server:distro:sys"]


def test_pyproject_scripts_disagreeing_with_the_users_scripts_json(tmp_path: Path) -> None:
    root = copy_project("chat", tmp_path)
    (root / "pyproject.toml").write_text(PYPROJECT + "[tool.hyperpy.scripts.send]\nroot = true\n")
    assert "tool.hyperpy.scripts.send.root: true disagrees with" in errors(root)
    (root / "pyproject.toml").write_text(PYPROJECT + "[tool.hyperpy.scripts.other]\n")
    assert "tool.hyperpy.scripts.other: script other.wasm is not in" in errors(root)


def test_scripts_from_pyproject_are_generated_into_scripts_json(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "tools"\n[tool.hyperpy]\n'
        "[tool.hyperpy.scripts.say-hi]\nrequest_networking = true\n"
        'request_capabilities = ["net:distro:sys"]\n'
    )
    project = load_project(tmp_path)
    (script,) = project.scripts
    assert (script.name, script.module, script.wasm_file_name) == ("say-hi", "say_hi", "say-hi.wasm")
    files = generated_files(project, manifest_entries(project))
    assert json.loads(files["scripts.json"]) == {
        "say-hi.wasm": {
            "root": False,
            "public": False,
            "request_networking": True,
            "request_capabilities": ["net:distro:sys"],
            "grant_capabilities": [],
        }
    }
    assert [e.process_name for e in parse_manifest_bytes(files["manifest.json"])] == ["tools"]
    # What a build wrote is its own to rewrite; anything else in pkg/ is the user's.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "scripts.json").write_bytes(files["scripts.json"])
    assert not written_by_hyperpy(tmp_path, "scripts.json")
    record_generated(tmp_path, files)
    assert written_by_hyperpy(tmp_path, "scripts.json")
    assert load_project(tmp_path).user_scripts is None
    (tmp_path / "pkg" / "scripts.json").write_text(files["scripts.json"].decode().replace("true", "false"))
    assert "tool.hyperpy.scripts.say-hi.request_networking: true disagrees" in errors(tmp_path)


def parse_manifest_bytes(data: bytes):
    from hyperpy.package.manifest import parse_manifest

    return parse_manifest(data)


def test_scripts_json_is_validated_like_hyperdrive_reads_it() -> None:
    with pytest.raises(ScriptsError) as caught:
        parse_scripts('{"send.wasm": {"root": false, "public": "no", "request_networkin": true}}', "s.json")
    text = str(caught.value)
    assert "s.json: send.wasm.public: Input should be a valid boolean" in text
    assert "s.json: send.wasm.request_networkin: unknown field (did you mean 'request_networking'?)" in text
    with pytest.raises(ScriptsError, match="script file name"):
        parse_scripts('{"Send Now.wasm": {"root": false, "public": false, "request_networking": false}}')


def test_requirements_txt(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# deps\nhumanize>=4  # pretty numbers\n\nmsgpack\n")
    assert read_requirements(tmp_path) == ("humanize>=4", "msgpack")
    (tmp_path / "requirements.txt").write_text("-r other.txt\n")
    with pytest.raises(
        ProjectConfigError, match=r"requirements.txt: line 1: pip option '-r' is not supported"
    ):
        read_requirements(tmp_path)


def test_bindings_style_detection(tmp_path: Path) -> None:
    chat = PROJECTS / "chat" / "chat" / "src" / "lib.py"
    assert legacy_bindings_module(chat) == "chat_template_dot_os_v0"
    assert process_kind(chat) == "raw"
    old_world = tmp_path / "old.py"
    old_world.write_text(
        "import process\nfrom process.imports.standard import receive\n\n"
        "class Process(process.Process):\n    pass\n"
    )
    assert legacy_bindings_module(old_world) == "process"
    modern = tmp_path / "modern.py"
    modern.write_text("from wit_world.imports.standard import receive\n\nclass WitWorld:\n    pass\n")
    assert (legacy_bindings_module(modern), process_kind(modern)) == (None, "raw")
    app = tmp_path / "app.py"
    app.write_text("from hyperpy import app\n")
    assert (legacy_bindings_module(app), process_kind(app)) == (None, "framework")
    assert world_class_name("chat_template_dot_os_v0") == "ChatTemplateDotOsV0"
    assert world_class_name("process") == "Process"
    assert [legacy_type_name(n) for n in ("Message_Request", "OnExit_None_", "SendErrorKind")] == [
        "MessageRequest",
        "OnExitNone",
        "SendErrorKind",
    ]


def test_check_of_an_unbuilt_kit_project_says_to_run_hyperpy_build(tmp_path: Path) -> None:
    root = copy_project("chat", tmp_path)
    lines = [str(problem) for problem in check_path(root).problems]
    assert any(
        "/chat.wasm does not exist in the package (not built yet: run `hyperpy build` (it builds chat.wasm "
        "from chat/src/lib.py))" in line
        for line in lines
    ), lines
    assert any(
        "send.wasm does not exist in the package (not built yet: run `hyperpy build`" in line
        for line in lines
    )
