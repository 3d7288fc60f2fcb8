"""The raw echo builds into exactly the package kit would make: layout, manifest, metadata, zip."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile

from hyperpy.build import BuildResult, build_project
from hyperpy.package.manifest import parse_manifest
from hyperpy.package.metadata import parse_metadata


def test_zip_is_kits_layout(echo_raw_build: BuildResult) -> None:
    assert echo_raw_build.zip_path.name == "echo-raw:template.os.zip"
    data = echo_raw_build.zip_path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == echo_raw_build.sha256
    archive = zipfile.ZipFile(io.BytesIO(data))
    # Entries are relative to pkg/ (manifest.json at the root), sorted, with kit's fixed metadata.
    assert archive.namelist() == ["api.zip", "echo.wasm", "manifest.json"]
    for info in archive.infolist():
        assert info.date_time == (2023, 6, 19, 0, 0, 0)
        assert stat.S_IMODE(info.external_attr >> 16) == 0o755
        assert info.compress_type == zipfile.ZIP_DEFLATED
    assert archive.read("echo.wasm") == (echo_raw_build.pkg_dir / "echo.wasm").read_bytes()
    assert zipfile.ZipFile(io.BytesIO(archive.read("api.zip"))).namelist() == []  # no api/*.wit


def test_manifest_is_the_strict_hyperdrive_schema(echo_raw_build: BuildResult) -> None:
    text = (echo_raw_build.pkg_dir / "manifest.json").read_text()
    assert json.loads(text) == [
        {
            "process_name": "echo",
            "process_wasm_path": "/echo.wasm",
            "on_exit": "Restart",
            "request_networking": False,
            "request_capabilities": ["http-server:distro:sys"],
            "grant_capabilities": [],
            "public": True,
        }
    ]
    assert [entry.process_name for entry in parse_manifest(text)] == ["echo"]


def test_metadata_is_complete_and_consistent(echo_raw_build: BuildResult) -> None:
    metadata = parse_metadata((echo_raw_build.project.root / "metadata.json").read_bytes())
    props = metadata.properties
    assert (props.package_name, props.publisher, props.current_version) == (
        "echo-raw",
        "template.os",
        "0.1.0",
    )
    assert props.current_version in props.code_hashes
    assert props.wit_version == 1
    assert metadata.name == "echo-raw" and metadata.description


def test_component_is_a_raw_process_built_without_the_runtime(echo_raw_build: BuildResult) -> None:
    (process,) = echo_raw_build.processes
    assert process.kind == "raw"
    # nothing is inferred for a raw process: only what pyproject.toml lists
    assert [c.describe() for c in process.capabilities] == ["http-server:distro:sys (config)"]
    wasm = (echo_raw_build.pkg_dir / "echo.wasm").read_bytes()
    assert wasm[:8] == b"\0asm\x0d\x00\x01\x00"
    assert b"hyperware:process/standard@1.0.0" in wasm


def test_rebuild_is_byte_identical(echo_raw_build: BuildResult) -> None:
    before = echo_raw_build.zip_path.read_bytes()
    again = build_project(echo_raw_build.project.root, progress=False)
    assert again.built == [] and again.skipped == ["echo"]
    assert again.zip_path.read_bytes() == before
    assert again.sha256 == echo_raw_build.sha256
