"""The client speaks kit's protocol exactly: golden JSON for inject and start-package, and clear errors."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from hyperpy.cli import main
from hyperpy.package.control_client import ControlError, inject, prepare_upload, start_package

# kit builds its JSON with serde_json's `json!` without `preserve_order` (kit's Cargo.lock has no
# indexmap under serde_json), so objects are BTreeMaps: keys sorted, compact, as below byte for byte.
KIT_INJECT = (
    b'{"body":"{\\"Echo\\":\\"hi\\"}","context":null,"data":null,"expects_response":15,"inherit":false,'
    b'"metadata":null,"mime":"application/octet-stream","node":null,"process":"echo:echo:template.os"}'
)
KIT_NEW_PACKAGE_BODY = (
    '{"NewPackage":{"mirror":true,"package_id":{"package_name":"echo","publisher_node":"template.os"}}}'
)

MANIFEST = [
    {
        "process_name": "echo",
        "process_wasm_path": "/echo.wasm",
        "on_exit": "Restart",
        "request_networking": True,
        "request_capabilities": [],
        "grant_capabilities": [],
        "public": True,
    }
]
METADATA = {
    "name": "Echo",
    "description": "echoes",
    "image": "",
    "external_url": "",
    "animation_url": "",
    "properties": {
        "package_name": "echo",
        "publisher": "template.os",
        "current_version": "0.1.0",
        "mirrors": [],
        "code_hashes": {"0.1.0": ""},
        "wit_version": 1,
        "dependencies": [],
    },
}


def make_project(
    root: Path, manifest: list[dict] = MANIFEST, wasm_names: tuple[str, ...] = ("echo.wasm",)
) -> Path:
    """A built kit-layout project: metadata.json, pkg/ and target/<pkg>:<pub>.zip of pkg/'s contents."""
    project = root / "echo"
    pkg = project / "pkg"
    pkg.mkdir(parents=True)
    (project / "metadata.json").write_text(json.dumps(METADATA))
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    for name in wasm_names:
        (pkg / name).write_bytes(b"\0asm fake component " + name.encode())
    (project / "target").mkdir()
    with zipfile.ZipFile(project / "target" / "echo:template.os.zip", "w") as archive:
        for file in sorted(pkg.iterdir()):
            archive.write(file, file.name)
    return project


def test_inject_posts_kits_exact_json_and_decodes_the_reply(recording_node) -> None:
    recording_node.reply(b'{"Echo":"hi"}', blob=b"blob \xff bytes", mime="text/plain")

    result = inject(recording_node.url, "echo:echo:template.os", '{"Echo":"hi"}')

    assert recording_node.raw == [KIT_INJECT]
    assert recording_node.received == [
        {
            "node": None,
            "process": "echo:echo:template.os",
            "inherit": False,
            "expects_response": 15,
            "body": '{"Echo":"hi"}',
            "metadata": None,
            "context": None,
            "mime": "application/octet-stream",
            "data": None,
        }
    ]
    assert result.body_text() == '{"Echo":"hi"}'
    assert result.blob() == b"blob \xff bytes"


def test_inject_sends_the_blob_as_base64_and_the_target_node(recording_node) -> None:
    recording_node.reply(b"ok")

    inject(recording_node.url, "a:b:c", "x", node="fake2.dev", blob=b"\x00\x01payload")

    sent = recording_node.received[0]
    assert sent["node"] == "fake2.dev"
    assert base64.b64decode(sent["data"]) == b"\x00\x01payload"


def test_non_blocking_inject_sends_no_expects_response_and_reads_no_body(recording_node) -> None:
    recording_node.status(200)

    result = inject(recording_node.url, "a:b:c", "x", expects_response=None)

    assert recording_node.received[0]["expects_response"] is None
    assert result.reply is None and result.status == 200


@pytest.mark.parametrize(("code", "words"), [(408, "did not respond in time"), (403, "local-only")])
def test_inject_explains_error_statuses(recording_node, code: int, words: str) -> None:
    recording_node.status(code)

    with pytest.raises(ControlError, match=words):
        inject(recording_node.url, "a:b:c", "x")


def test_inject_without_a_node_says_how_to_start_one(unused_port_url: str) -> None:
    with pytest.raises(ControlError, match="hyperpy run"):
        inject(unused_port_url, "a:b:c", "x")


@pytest.fixture
def unused_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_start_package_sends_new_package_then_install_like_kit(recording_node, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    zip_bytes = (project / "target" / "echo:template.os.zip").read_bytes()
    recording_node.reply_json({"NewPackageResponse": "Success"})
    recording_node.reply_json({"InstallResponse": "Success"})

    start_package(recording_node.url, prepare_upload(project))

    new_package, install = recording_node.received
    assert new_package["body"] == KIT_NEW_PACKAGE_BODY
    assert install["body"].startswith('{"Install":{"metadata":{"animation_url":"","description":"echoes"')
    assert all(raw.startswith(b'{"body":') for raw in recording_node.raw)
    assert new_package["process"] == "main:app-store:sys"
    assert new_package["expects_response"] == 15
    assert json.loads(new_package["body"]) == {
        "NewPackage": {
            "package_id": {"package_name": "echo", "publisher_node": "template.os"},
            "mirror": True,
        }
    }
    assert base64.b64decode(new_package["data"]) == zip_bytes
    assert install["data"] is None
    assert json.loads(install["body"]) == {
        "Install": {
            "package_id": {"package_name": "echo", "publisher_node": "template.os"},
            "version_hash": hashlib.sha256(zip_bytes).hexdigest(),
            "metadata": {
                "name": "Echo",
                "description": "echoes",
                "image": "",
                "external_url": "",
                "animation_url": "",
                "properties": {
                    "package_name": "echo",
                    "publisher": "template.os",
                    "current_version": "0.1.0",
                    "mirrors": [],
                    "code_hashes": [["0.1.0", ""]],
                    "license": None,
                    "screenshots": None,
                    "wit_version": 1,
                    "dependencies": [],
                    "api_includes": None,
                },
            },
        }
    }


def test_start_package_fails_unless_the_node_says_success(recording_node, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    recording_node.reply_json({"NewPackageResponse": "Success"})
    recording_node.reply_json({"InstallResponse": "Failure"})

    with pytest.raises(ControlError, match="'Failure'"):
        start_package(recording_node.url, prepare_upload(project))


def test_start_package_stops_after_a_refused_new_package(recording_node, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    recording_node.reply_json({"NewPackageResponse": "NoBlob"})

    with pytest.raises(ControlError, match="NoBlob"):
        start_package(recording_node.url, prepare_upload(project))
    assert len(recording_node.received) == 1


def test_a_zip_in_target_finds_its_projects_metadata(tmp_path: Path) -> None:
    project = make_project(tmp_path)

    upload = prepare_upload(project / "target" / "echo:template.os.zip")

    assert upload.package_id == "echo:template.os"


def test_local_checks_refuse_an_unbuilt_project(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "target" / "echo:template.os.zip").unlink()

    with pytest.raises(ControlError, match="hyperpy build"):
        prepare_upload(project)


def test_local_checks_refuse_a_zip_missing_a_declared_wasm(tmp_path: Path) -> None:
    project = make_project(tmp_path, wasm_names=())

    with pytest.raises(ControlError, match=r"/echo\.wasm"):
        prepare_upload(project)


def test_local_checks_refuse_a_bad_manifest(tmp_path: Path) -> None:
    broken = [dict(MANIFEST[0], process_wasm_path="echo.wasm")]
    project = make_project(tmp_path, manifest=broken)

    with pytest.raises(ControlError, match="process_wasm_path"):
        prepare_upload(project)


def test_local_checks_refuse_bad_metadata(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    metadata = json.loads((project / "metadata.json").read_text())
    del metadata["properties"]["mirrors"]
    (project / "metadata.json").write_text(json.dumps(metadata))

    with pytest.raises(ControlError, match="mirrors"):
        prepare_upload(project)


def test_cli_inject_prints_the_response_body_and_blob(recording_node) -> None:
    recording_node.reply(b'{"Ok":1}', blob=b"hello")

    result = CliRunner().invoke(main, ["inject", "a:b:c", "{}", "--url", recording_node.url])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ['{"Ok":1}', "blob: hello"]


def test_cli_inject_reads_the_blob_file(recording_node, tmp_path: Path) -> None:
    recording_node.reply(b"ok")
    blob = tmp_path / "data.bin"
    blob.write_bytes(b"file contents")

    result = CliRunner().invoke(
        main, ["inject", "a:b:c", "{}", "--port", str(recording_node.port), "--blob", str(blob)]
    )

    assert result.exit_code == 0, result.output
    assert base64.b64decode(recording_node.received[0]["data"]) == b"file contents"


def test_cli_errors_are_one_line_without_traceback(unused_port_url: str) -> None:
    result = CliRunner().invoke(main, ["inject", "a:b:c", "{}", "--url", unused_port_url])

    assert result.exit_code == 1
    assert "could not reach a node" in result.output
    assert "Traceback" not in result.output


def test_cli_start_package_installs_a_project(recording_node, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    recording_node.reply_json({"NewPackageResponse": "Success"})
    recording_node.reply_json({"InstallResponse": "Success"})

    result = CliRunner().invoke(main, ["start-package", str(project), "--url", recording_node.url])

    assert result.exit_code == 0, result.output
    assert "installed echo:template.os" in result.output


def test_cli_inject_shows_a_binary_body_without_failing(recording_node) -> None:
    recording_node.reply(b"\xff\x00binary")

    result = CliRunner().invoke(main, ["inject", "a:b:c", "{}", "--url", recording_node.url])

    assert result.exit_code == 0, result.output
    assert "8 bytes of binary data: ff0062696e617279" in result.output
