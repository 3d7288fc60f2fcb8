"""The package world: generated `include process-v1`, or the one the package's api/*.wit declares."""

from __future__ import annotations

from pathlib import Path

from hyperpy.build.world import GENERATED_WORLD_FILE, world_name, world_spec
from hyperpy.package.wit import WIT_FILE_NAME


def test_world_name_follows_kit_and_stays_a_valid_wit_identifier() -> None:
    assert world_name("echo", "template.os") == "echo-template-dot-os-v0"
    assert world_name("2048", "1337.os") == "n2048-n1337-dot-os-v0"


def test_without_api_files_the_world_includes_process_v1(tmp_path: Path) -> None:
    spec = world_spec("echo", "template.os", tmp_path / "api")
    assert spec.world == "echo-template-dot-os-v0"
    assert sorted(spec.tree.files) == [GENERATED_WORLD_FILE, WIT_FILE_NAME]
    generated = spec.tree.files[GENERATED_WORLD_FILE]
    assert generated == b"world echo-template-dot-os-v0 {\n    include process-v1;\n}\n"
    assert spec.api_files == ()


def test_api_files_are_copied_and_the_package_world_is_used(tmp_path: Path) -> None:
    api = tmp_path / "api"
    api.mkdir()
    (api / "echo.wit").write_text("interface echo {\n    record ping { n: u32 }\n}\n")
    (api / "echo-template-dot-os-v0.wit").write_text(
        "world echo-template-dot-os-v0 {\n    import echo;\n    include process-v1;\n}\n"
    )
    (api / "types-echo-template-dot-os-v0.wit").write_text(
        "world types-echo-template-dot-os-v0 {\n    import echo;\n    include lib;\n}\n"
    )
    spec = world_spec("echo", "template.os", api)
    assert spec.world == "echo-template-dot-os-v0"
    assert GENERATED_WORLD_FILE not in spec.tree.files
    assert "echo.wit" in spec.tree.files and len(spec.api_files) == 3


def test_a_single_declared_world_is_used_like_kit(tmp_path: Path) -> None:
    api = tmp_path / "api"
    api.mkdir()
    (api / "mine.wit").write_text("// world commented-out {}\nworld my-world {\n    include process-v1;\n}\n")
    assert world_spec("echo", "template.os", api).world == "my-world"


def test_interfaces_without_a_world_get_the_generated_one(tmp_path: Path) -> None:
    api = tmp_path / "api"
    api.mkdir()
    (api / "types.wit").write_text("interface types {\n    record ping { n: u32 }\n}\n")
    spec = world_spec("echo", "template.os", api)
    assert spec.world == "echo-template-dot-os-v0"
    assert GENERATED_WORLD_FILE in spec.tree.files
