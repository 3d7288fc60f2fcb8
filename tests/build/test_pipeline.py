"""`build_project` on the raw echo: kit's package layout, byte-identical rebuilds, incremental skips."""

from __future__ import annotations

import fcntl
import io
import json
import re
import shutil
import threading
import zipfile
from pathlib import Path

from echo_copies import copy_echo

from hyperpy.build import BuildResult, build_project, stale_processes
from hyperpy.package.archive import sha256_file
from hyperpy.package.manifest import parse_manifest
from hyperpy.package.metadata import parse_metadata


def zip_names(path: Path) -> list[str]:
    return [info.filename for info in zipfile.ZipFile(path).infolist()]


def test_first_build_writes_pkg_zip_and_metadata(echo_build: BuildResult) -> None:
    root = echo_build.project.root
    assert echo_build.zip_path == root / "target" / "echo-raw:template.os.zip"
    assert echo_build.sha256 == sha256_file(echo_build.zip_path)
    assert sorted(p.name for p in (root / "pkg").iterdir()) == ["api.zip", "echo.wasm", "manifest.json"]
    assert zip_names(echo_build.zip_path) == ["api.zip", "echo.wasm", "manifest.json"]
    assert echo_build.metadata_outcome == "created"
    metadata = parse_metadata((root / "metadata.json").read_bytes())
    assert metadata.package_id == "echo-raw:template.os"
    assert metadata.properties.current_version == "0.1.0"
    (entry,) = parse_manifest((root / "pkg" / "manifest.json").read_bytes())
    assert entry.process_wasm_path == "/echo.wasm"
    (process,) = echo_build.processes
    assert process.kind == "raw" and process.wasm_path == root / "pkg" / "echo.wasm"
    assert (root / "pkg" / "echo.wasm").read_bytes()[
        :8
    ] == b"\0asm\x0d\x00\x01\x00"  # a component, not a module
    # Nothing temporary is left behind.
    assert not (root / "target" / "hyperpy" / "tmp").exists()
    assert not list((root / "target").glob(".*"))


def test_rebuild_of_unchanged_sources_is_a_byte_identical_noop(echo_copy: Path) -> None:
    zip_path = echo_copy / "target" / "echo-raw:template.os.zip"
    before = zip_path.read_bytes()
    again = build_project(echo_copy, progress=False)
    assert again.built == [] and again.skipped == ["echo"]
    assert again.up_to_date and again.metadata_outcome == "kept"
    assert zip_path.read_bytes() == before
    # Without pkg/ and the zip, the package is re-assembled from the cached component: same bytes.
    shutil.rmtree(echo_copy / "pkg")
    zip_path.unlink()
    rebuilt = build_project(echo_copy, progress=False)
    assert rebuilt.built == [] and not rebuilt.up_to_date
    assert zip_path.read_bytes() == before
    assert rebuilt.sha256 == again.sha256


def test_config_change_rebuilds_the_package_but_not_the_component(echo_copy: Path) -> None:
    config = echo_copy / "pyproject.toml"
    (before,) = parse_manifest((echo_copy / "pkg" / "manifest.json").read_bytes())
    flipped = str(not before.public).lower()
    config.write_text(re.sub(r"(?m)^public = (true|false)$", f"public = {flipped}", config.read_text()))
    assert stale_processes(echo_copy) == []
    result = build_project(echo_copy, progress=False)
    assert result.built == []
    (entry,) = parse_manifest((echo_copy / "pkg" / "manifest.json").read_bytes())
    assert entry.public is (not before.public)
    manifest_in_zip = zipfile.ZipFile(result.zip_path).read("manifest.json")
    assert json.loads(manifest_in_zip)[0]["public"] is (not before.public)


def test_source_and_wit_changes_make_the_process_stale(echo_copy: Path) -> None:
    assert stale_processes(echo_copy) == []
    source = echo_copy / "echo.py"
    source.write_text(source.read_text() + "\n# an edit\n")
    assert stale_processes(echo_copy) == ["echo"]
    source.write_text(source.read_text().replace("\n# an edit\n", ""))
    assert stale_processes(echo_copy) == []
    # Files outside the sources (tests, docs, build outputs) never invalidate the component.
    (echo_copy / "tests").mkdir()
    (echo_copy / "tests" / "test_more.py").write_text("x = 1\n")
    (echo_copy / "NOTES.md").write_text("notes\n")
    assert stale_processes(echo_copy) == []
    # An API WIT file changes the world, so the component must be rebuilt.
    (echo_copy / "api").mkdir()
    (echo_copy / "api" / "echo.wit").write_text("interface echo {\n    record ping { n: u32 }\n}\n")
    assert stale_processes(echo_copy) == ["echo"]


def test_users_own_pkg_files_are_kept_and_zipped(echo_copy: Path) -> None:
    (echo_copy / "pkg" / "ui").mkdir()
    (echo_copy / "pkg" / "ui" / "index.html").write_text("<h1>echo</h1>")
    (echo_copy / "pkg" / "scripts.json").write_text("{}")
    result = build_project(echo_copy, progress=False)
    assert zip_names(result.zip_path) == [
        "api.zip",
        "echo.wasm",
        "manifest.json",
        "scripts.json",
        "ui/",
        "ui/index.html",
    ]
    assert (echo_copy / "pkg" / "ui" / "index.html").read_text() == "<h1>echo</h1>"


def test_api_zip_holds_api_includes(echo_copy: Path) -> None:
    (echo_copy / "docs.txt").write_text("how to call echo")
    metadata_path = echo_copy / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["properties"]["api_includes"] = ["docs.txt"]
    metadata_path.write_text(json.dumps(metadata, indent=4))
    result = build_project(echo_copy, progress=False)
    api_zip = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(result.zip_path).read("api.zip")))
    assert api_zip.namelist() == ["docs.txt"]
    assert result.built == []


def test_another_copy_reuses_the_cached_component(tmp_path: Path, echo_build: BuildResult) -> None:
    result = build_project(copy_echo(tmp_path / "elsewhere"), progress=False)
    assert result.skipped == ["echo"]
    assert result.zip_path.read_bytes() == echo_build.zip_path.read_bytes()


def test_a_build_waiting_for_the_project_lock_survives_the_previous_build_cleaning_up(
    echo_copy: Path,
) -> None:
    """Two builds of one project (two terminals, two pytest sessions): the second waits for the lock.

    The first build removes the shared work root when it finishes. The waiting build must not have
    created its work directory before it held the lock, or that directory vanishes under it (this
    failed with FileNotFoundError from mkdtemp before the work root was created under the lock).
    """
    (echo_copy / "echo.py").write_text((echo_copy / "echo.py").read_text() + "\n")
    lock_path = echo_copy / "target" / "hyperpy" / "build.lock"
    work_root = echo_copy / "target" / "hyperpy" / "tmp"
    outcome: dict[str, object] = {}

    def build() -> None:
        try:
            outcome["result"] = build_project(echo_copy, progress=False)
        except Exception as error:  # reported by the assertion below
            outcome["error"] = error

    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # we are "the first build"
        waiting = threading.Thread(target=build)
        waiting.start()
        waiting.join(timeout=1.0)  # give it time to reach the lock; it cannot pass it
        assert waiting.is_alive(), outcome
        shutil.rmtree(work_root, ignore_errors=True)  # the first build's clean-up
        fcntl.flock(handle, fcntl.LOCK_UN)
    waiting.join(timeout=300)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].zip_path.is_file()  # type: ignore[attr-defined]
