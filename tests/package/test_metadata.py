"""metadata.json: created when missing with every field, kept when present, kit's version rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperpy.package.metadata import (
    MetadataError,
    load_or_create_metadata,
    parse_metadata,
    plan_metadata,
    semver_key,
)

PROJECT = {"package": "echo", "publisher": "template.os", "version": "0.1.0"}


def test_created_with_every_field_when_missing(tmp_path: Path) -> None:
    metadata, outcome = load_or_create_metadata(tmp_path, description="says it back", **PROJECT)
    assert outcome == "created"
    written = json.loads((tmp_path / "metadata.json").read_text())
    assert written == {
        "name": "echo",
        "description": "says it back",
        "image": "",
        "external_url": "",
        "animation_url": "",
        "properties": {
            "package_name": "echo",
            "publisher": "template.os",
            "current_version": "0.1.0",
            "mirrors": [],
            "code_hashes": {"0.1.0": ""},
            "license": None,
            "screenshots": None,
            "wit_version": 1,
            "dependencies": [],
            "api_includes": [],
        },
    }
    assert metadata.package_id == "echo:template.os"


def test_plan_writes_nothing_until_asked(tmp_path: Path) -> None:
    plan = plan_metadata(tmp_path, **PROJECT)
    assert plan.outcome == "created"
    assert not (tmp_path / "metadata.json").exists()
    plan.write()
    assert (tmp_path / "metadata.json").exists()


def test_existing_file_is_kept_byte_for_byte(tmp_path: Path) -> None:
    text = (
        '{"name": "Echo!", "custom": 1, "properties": {"package_name": "echo", "publisher": "template.os",\n'
        '  "current_version": "0.1.0", "mirrors": ["a.os"], "code_hashes": {"0.1.0": "abc"}}}\n'
    )
    (tmp_path / "metadata.json").write_text(text)
    metadata, outcome = load_or_create_metadata(tmp_path, **PROJECT)
    assert outcome == "kept"
    assert (tmp_path / "metadata.json").read_text() == text
    assert metadata.properties.mirrors == ["a.os"]
    assert metadata.model_extra == {"custom": 1}


def test_newer_code_hash_moves_current_version_like_kit(tmp_path: Path) -> None:
    original = json.loads(json.dumps({"properties": {
        "package_name": "echo", "publisher": "template.os", "current_version": "0.1.0",
        "mirrors": [], "code_hashes": {"0.1.0": "", "0.2.0": ""}}}))  # fmt: skip
    (tmp_path / "metadata.json").write_text(json.dumps(original, indent=2))
    metadata, outcome = load_or_create_metadata(tmp_path, **{**PROJECT, "version": "0.2.0"})
    assert outcome == "updated"
    assert metadata.properties.current_version == "0.2.0"
    assert json.loads((tmp_path / "metadata.json").read_text())["properties"]["current_version"] == "0.2.0"


def test_current_version_must_be_listed_and_not_newest_beyond(tmp_path: Path) -> None:
    document = {"properties": {"package_name": "echo", "publisher": "template.os", "current_version": "0.3.0",
                               "mirrors": [], "code_hashes": {"0.1.0": ""}}}  # fmt: skip
    (tmp_path / "metadata.json").write_text(json.dumps(document))
    with pytest.raises(MetadataError) as caught:
        plan_metadata(tmp_path, **{**PROJECT, "version": "0.3.0"})
    assert "properties.current_version: '0.3.0' is newer than every version in properties.code_hashes" in str(
        caught.value
    )


def test_mismatch_with_project_names_the_field_and_fix(tmp_path: Path) -> None:
    load_or_create_metadata(tmp_path, **PROJECT)
    with pytest.raises(MetadataError) as caught:
        plan_metadata(tmp_path, package="other", publisher="x.os", version="0.2.0")
    message = str(caught.value)
    assert f"{tmp_path / 'metadata.json'}: properties.package_name: 'echo' differs" in message
    assert "properties.publisher: 'template.os' differs" in message
    assert 'add "0.2.0": "" to properties.code_hashes' in message


def test_schema_problems_one_line_each() -> None:
    with pytest.raises(MetadataError) as caught:
        parse_metadata('{"properties": {"package_name": "Echo", "current_version": "one", "licence": "MIT"}}')
    lines = str(caught.value).splitlines()
    assert any(
        line.startswith("metadata.json: properties.package_name: package_name 'Echo'") for line in lines
    )
    assert "metadata.json: properties.publisher: required field is missing (add this field)" in lines
    assert any(
        "properties.current_version: current_version 'one' is not a semantic version" in x for x in lines
    )
    assert "metadata.json: properties.code_hashes: required field is missing (add this field)" in lines


def test_semver_precedence() -> None:
    ordered = ["0.1.0-alpha", "0.1.0-alpha.1", "0.1.0-beta", "0.1.0", "0.2.0", "0.10.0", "1.0.0"]
    assert sorted(reversed(ordered), key=semver_key) == ordered
