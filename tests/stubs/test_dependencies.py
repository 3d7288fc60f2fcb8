"""Dependencies' APIs are found like kit finds them (local path, node home, running node, cache) and
`hyperpy stubs` turns them into importable, typed Python callers."""

from __future__ import annotations

import base64
import io
import json
import shutil
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from hyperpy.build.witgen.dependencies import DependencyError, declared_dependencies, fetch_dependency_apis
from hyperpy.cli import main

NOTES = Path(__file__).parent / "fixtures" / "rust_notes"


def _caller_project(root: Path, dependencies: list[str]) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "caller"\nversion = "0.1.0"\n\n[tool.hyperpy]\npublisher = "template.os"\n'
    )
    (root / "caller.py").write_text(
        "class WitWorld:\n    def init(self, our: str) -> None:\n        print(our)\n", encoding="utf-8"
    )
    metadata = {"name": "caller", "properties": {"package_name": "caller", "publisher": "template.os",
                "current_version": "0.1.0", "mirrors": [], "code_hashes": {"0.1.0": ""},
                "dependencies": dependencies}}  # fmt: skip
    (root / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return root


def _api_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((NOTES / "api").glob("*.wit")):
            archive.writestr(path.name, path.read_text(encoding="utf-8"))
    return buffer.getvalue()


def test_declared_dependencies_come_from_metadata(tmp_path: Path) -> None:
    root = _caller_project(tmp_path / "caller", ["notes:rust.os"])
    assert declared_dependencies(root) == ["notes:rust.os"]
    (root / "metadata.json").write_text('{"properties": {"dependencies": ["notes"]}}')
    with pytest.raises(DependencyError, match="'notes' is not a package id; write 'package:publisher'"):
        declared_dependencies(root)


def test_from_a_local_package_zip_then_offline_from_the_cache(tmp_path: Path) -> None:
    root = _caller_project(tmp_path / "caller", ["notes:rust.os"])
    package_zip = tmp_path / "notes:rust.os.zip"
    with zipfile.ZipFile(package_zip, "w") as archive:
        archive.writestr("manifest.json", "[]")
        archive.writestr("api.zip", _api_zip())
    (found,) = fetch_dependency_apis(root, local=[package_zip])
    assert found.package_id == "notes:rust.os" and "notes.wit" in found.files
    (cached,) = fetch_dependency_apis(root)
    assert cached.origin.startswith("cache ") and cached.files == found.files


def test_from_a_local_nodes_home(tmp_path: Path) -> None:
    root = _caller_project(tmp_path / "caller", ["notes:rust.os"])
    drive = tmp_path / "home" / "vfs" / "notes:rust.os" / "pkg"
    drive.mkdir(parents=True)
    (drive / "api.zip").write_bytes(_api_zip())
    (found,) = fetch_dependency_apis(root, node_home=tmp_path / "home")
    assert found.origin == f"node home {tmp_path / 'home'}"
    assert found.document().interface("notes") is not None


class _FakeAppStore(BaseHTTPRequestHandler):
    """Test double for a node's rpc endpoint: answers GetApi with the api zip as kit's reply blob."""

    requests: list[dict[str, object]] = []

    def do_POST(self) -> None:
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(message)
        blob = {"mime": None, "bytes": list(base64.b64encode(_api_zip()))}
        reply = json.dumps({"body": list(b'{"GetApiResponse":"Success"}'), "lazy_load_blob": blob}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def fake_node() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _FakeAppStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_from_a_running_node_with_kits_get_api(tmp_path: Path, fake_node: str) -> None:
    root = _caller_project(tmp_path / "caller", ["notes:rust.os"])
    _FakeAppStore.requests.clear()
    (found,) = fetch_dependency_apis(root, url=fake_node)
    assert "notes.wit" in found.files
    (message,) = _FakeAppStore.requests
    assert message["process"] == "main:app-store:sys"
    assert json.loads(str(message["body"])) == {
        "GetApi": {"package_name": "notes", "publisher_node": "rust.os"}
    }


def test_missing_dependency_says_where_it_looked_and_how_to_fix(tmp_path: Path) -> None:
    root = _caller_project(tmp_path / "caller", ["ghost:nobody.os"])
    with pytest.raises(
        DependencyError, match=r"dependency ghost:nobody.os .*no API found; looked in.*--local PATH"
    ):
        fetch_dependency_apis(root, node_home=tmp_path)


def test_stubs_command_writes_importable_typed_callers(tmp_path: Path) -> None:
    root = _caller_project(tmp_path / "caller", ["notes:rust.os"])
    local = tmp_path / "notes-package"
    shutil.copytree(NOTES, local)
    result = CliRunner().invoke(main, ["stubs", str(root), "--local", str(local)])
    assert result.exit_code == 0, result.output
    assert f"wrote {root / 'apis' / 'notes.py'}" in result.output
    stub = (root / "apis" / "notes.py").read_text(encoding="utf-8")
    assert "async def add_note(" in stub and "notes:rust.os" in stub
    missing = CliRunner().invoke(main, ["stubs", str(_caller_project(tmp_path / "other", ["ghost:x.os"]))])
    assert missing.exit_code == 1 and "Error: dependency ghost:x.os" in missing.output
