"""`hyperpy check` on whole packages: directories, pkg/, zips, and the command line contract."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from check_samples import PackageFactory, manifest_entry, metadata_document
from click.testing import CliRunner

from hyperpy.build.check import check_path
from hyperpy.cli import main
from hyperpy.package.archive import write_directory_zip


def problem_lines(path: Path) -> list[str]:
    return [str(problem) for problem in check_path(path).problems]


def test_good_package_directory_passes(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package({"echo.wasm": good_wasm})
    report = check_path(package)
    assert report.problems == []
    text = "\n".join(report.summary)
    assert "1 process(es), schema ok" in text
    assert "process echo:" in text
    assert "echo:template.os 0.1.0" in text


def test_pkg_directory_and_kit_zip_pass(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package({"echo.wasm": good_wasm})
    assert check_path(package / "pkg").ok
    zip_path = package / "target" / "echo:template.os.zip"
    write_directory_zip(package / "pkg", zip_path)
    report = check_path(zip_path)
    assert report.problems == []
    assert any("echo:template.os 0.1.0" in line for line in report.summary)


def test_cli_exit_codes_and_one_line_per_problem(make_package: PackageFactory, good_wasm: Path) -> None:
    runner = CliRunner()
    good = make_package({"echo.wasm": good_wasm}, name="good")
    result = runner.invoke(main, ["check", str(good)])
    assert result.exit_code == 0, result.output
    assert "ok: a Hyperware node will load" in result.output

    broken = make_package(
        {"echo.wasm": good_wasm},
        manifest=[manifest_entry(public="yes", process_name="Echo_App")],
        name="broken",
    )
    result = runner.invoke(main, ["check", str(broken)])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line]
    assert len(lines) == 2
    assert all("manifest.json: [0]." in line for line in lines)


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        (manifest_entry(public="yes"), "[0].public", "write true or false"),
        (manifest_entry(on_exit=None), "[0].on_exit", "required field is missing"),
        (manifest_entry(on_exit="Sometimes"), "[0].on_exit", '"None", "Restart" or {"Requests"'),
        (manifest_entry(request_capabilities=[42]), "[0].request_capabilities[0]", "process id string"),
        (
            manifest_entry(grant_capabilities=["not-a-process-id"]),
            "[0].grant_capabilities[0]",
            "process:package",
        ),
        (manifest_entry(publik=True), "[0].publik", "did you mean 'public'?"),
    ],
)
def test_bad_manifest_field_names_the_field(
    make_package: PackageFactory, good_wasm: Path, entry: dict[str, object], field: str, words: str
) -> None:
    package = make_package({"echo.wasm": good_wasm}, manifest=[entry])
    lines = problem_lines(package)
    assert lines, "the broken manifest was accepted"
    matching = [line for line in lines if f"pkg/manifest.json: {field}" in line]
    assert matching, lines
    assert any(words in line for line in matching), matching


def test_manifest_that_is_not_json(make_package: PackageFactory, good_wasm: Path) -> None:
    [line] = problem_lines(make_package({"echo.wasm": good_wasm}, manifest="[{"))
    assert "manifest.json: not valid JSON" in line


def test_bad_process_name_is_not_hypermap_safe(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package({"echo.wasm": good_wasm}, manifest=[manifest_entry(process_name="Echo_App")])
    [line] = problem_lines(package)
    assert "[0].process_name" in line
    assert "not hypermap-safe" in line
    assert "'echo-app'" in line


def test_bad_publisher_in_metadata(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package({"echo.wasm": good_wasm}, metadata_doc=metadata_document(publisher="My Node!"))
    [line] = problem_lines(package)
    assert "metadata.json: properties.publisher" in line
    assert "not hypermap-safe" in line


def test_missing_wasm_names_the_manifest_field(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package(
        {"echo.wasm": good_wasm},
        manifest=[manifest_entry(), manifest_entry(process_name="worker", process_wasm_path="/worker.wasm")],
    )
    [line] = problem_lines(package)
    assert "pkg/manifest.json: [1].process_wasm_path: /worker.wasm does not exist in the package" in line
    assert "hyperpy build" in line


def test_core_module_as_process_wasm(make_package: PackageFactory, tmp_path: Path) -> None:
    core = tmp_path / "core.wasm"
    core.write_bytes(b"\x00asm\x01\x00\x00\x00")
    [line] = problem_lines(make_package({"echo.wasm": core}))
    assert "pkg/echo.wasm: is a core WebAssembly module, not a component" in line


def test_foreign_import_and_wrong_export_inside_a_package(
    make_package: PackageFactory, foreign_import_wasm: Path, wrong_export_wasm: Path
) -> None:
    manifest = [
        manifest_entry(),
        manifest_entry(process_name="other", process_wasm_path="/other.wasm"),
    ]
    package = make_package(
        {"echo.wasm": foreign_import_wasm, "other.wasm": wrong_export_wasm}, manifest=manifest
    )
    lines = problem_lines(package)
    assert len(lines) == 2
    assert any("pkg/echo.wasm: import test:foreign/lookup@0.1.0: foreign import" in line for line in lines)
    assert any(
        "pkg/other.wasm: export init: exported as `init: func(our: string) -> string`" in line
        for line in lines
    )


def test_metadata_current_version_must_be_in_code_hashes(
    make_package: PackageFactory, good_wasm: Path
) -> None:
    package = make_package(
        {"echo.wasm": good_wasm}, metadata_doc=metadata_document(code_hashes={"0.0.9": ""})
    )
    [line] = problem_lines(package)
    assert "metadata.json: properties.current_version" in line
    assert "code_hashes" in line


def test_metadata_missing_fields(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package(
        {"echo.wasm": good_wasm}, metadata_doc=metadata_document(mirrors=None, code_hashes=None)
    )
    lines = problem_lines(package)
    assert any("properties.mirrors: required field is missing" in line for line in lines)
    assert any("properties.code_hashes: required field is missing" in line for line in lines)


def test_package_directory_without_metadata(make_package: PackageFactory, good_wasm: Path) -> None:
    [line] = problem_lines(make_package({"echo.wasm": good_wasm}, with_metadata=False))
    assert "metadata.json: is missing" in line


def test_zip_with_entries_under_pkg(make_package: PackageFactory, good_wasm: Path, tmp_path: Path) -> None:
    package = make_package({"echo.wasm": good_wasm})
    wrong = tmp_path / "wrong.zip"
    with zipfile.ZipFile(wrong, "w") as archive:
        archive.write(package / "pkg" / "manifest.json", "pkg/manifest.json")
    [line] = problem_lines(wrong)
    assert "entries sit under pkg/" in line
    assert "zip the contents of pkg/" in line


def test_zip_named_for_another_package(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package({"echo.wasm": good_wasm})
    zip_path = package / "target" / "other:template.os.zip"
    write_directory_zip(package / "pkg", zip_path)
    [line] = problem_lines(zip_path)
    assert "file name: does not match metadata.json's package id (expected echo:template.os.zip)" in line


def test_scripts_json_wasm_is_checked_too(
    make_package: PackageFactory, good_wasm: Path, tmp_path: Path
) -> None:
    package = make_package({"echo.wasm": good_wasm})
    (package / "pkg" / "scripts.json").write_text(
        json.dumps({"hi.wasm": {"root": False, "public": False, "request_networking": False}})
    )
    [line] = problem_lines(package)
    assert "scripts.json: hi.wasm: hi.wasm does not exist in the package" in line


def test_unbuilt_project_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'echo'\n")
    [line] = problem_lines(tmp_path)
    assert "not built yet" in line
    assert "hyperpy build" in line


def test_missing_path(tmp_path: Path) -> None:
    [line] = problem_lines(tmp_path / "nope.zip")
    assert "does not exist" in line


def test_invalid_manifest_still_checks_the_wasm_it_names(
    make_package: PackageFactory, foreign_import_wasm: Path
) -> None:
    package = make_package({"echo.wasm": foreign_import_wasm}, manifest=[manifest_entry(public="yes")])
    lines = problem_lines(package)
    assert any("[0].public" in line for line in lines)
    assert any("pkg/echo.wasm: import test:foreign/lookup@0.1.0: foreign import" in line for line in lines)


def test_manifest_or_metadata_file_checks_its_package(make_package: PackageFactory, good_wasm: Path) -> None:
    package = make_package({"echo.wasm": good_wasm}, manifest=[manifest_entry(public="yes")])
    assert any("[0].public" in line for line in problem_lines(package / "pkg" / "manifest.json"))
    assert any("[0].public" in line for line in problem_lines(package / "metadata.json"))
