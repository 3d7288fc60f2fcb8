"""`metadata.json` beside `pkg/` (runtime-contract.md §2.4, `Erc721Metadata` in Hyperdrive).

Why these rules: kit reads this file on every build, the app store sends it with `Install`, and
`kit publish` compares `code_hashes[current_version]` with the zip hash. We therefore create it once
(when missing) with every field kit's templates write, and afterwards keep the user's file: the only
edit is kit's own (when `code_hashes` lists a newer version than `current_version`, the version is
moved forward). Unknown fields are preserved, because serde ignores them and users may rely on them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from hyperpy.package.names import validate_package_name, validate_publisher
from hyperpy.package.problems import Problem, decode_json, problems_from_validation_error, render
from hyperpy.runtime import jsonwire

METADATA_FILE = "metadata.json"
_SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


class MetadataError(ValueError):
    """metadata.json is missing a field, malformed or inconsistent with the project."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(render(problems))


def validate_semver(value: str, field: str = "version") -> str:
    """Return `value` if it is a semantic version (`1.2.3`, `1.2.3-rc.1`); raise ValueError otherwise."""
    if not _SEMVER_RE.match(value):
        raise ValueError(
            f"{field} {value!r} is not a semantic version (write MAJOR.MINOR.PATCH, e.g. '0.1.0')"
        )
    return value


def semver_key(value: str) -> tuple[Any, ...]:
    """Sort key implementing semver precedence (a pre-release sorts before its release)."""
    match = _SEMVER_RE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a semantic version")
    major, minor, patch, pre = match.groups()
    core = (int(major), int(minor), int(patch))
    if pre is None:
        return (*core, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*core, 0, parts)


def _semver(value: str) -> str:
    return validate_semver(value, "current_version")


class PackageProperties(BaseModel):
    """`properties` of the metadata; the first five fields are required by Hyperdrive."""

    model_config = ConfigDict(extra="allow")

    package_name: Annotated[StrictStr, AfterValidator(validate_package_name)]
    publisher: Annotated[StrictStr, AfterValidator(validate_publisher)]
    current_version: Annotated[StrictStr, AfterValidator(_semver)]
    mirrors: list[StrictStr]
    code_hashes: dict[StrictStr, StrictStr]
    license: StrictStr | None = None
    screenshots: list[StrictStr] | None = None
    wit_version: StrictInt | None = None
    dependencies: list[StrictStr] | None = None
    api_includes: list[StrictStr] | None = None


class PackageMetadata(BaseModel):
    """The whole metadata.json (ERC-721 style: display fields plus `properties`)."""

    model_config = ConfigDict(extra="allow")

    name: StrictStr | None = None
    description: StrictStr | None = None
    image: StrictStr | None = None
    external_url: StrictStr | None = None
    animation_url: StrictStr | None = None
    properties: PackageProperties

    @property
    def package_id(self) -> str:
        return f"{self.properties.package_name}:{self.properties.publisher}"


_KNOWN_FIELDS = (*PackageMetadata.model_fields, *PackageProperties.model_fields)


def consistency_problems(metadata: PackageMetadata, source: str) -> list[Problem]:
    """Rules beyond the schema: `code_hashes` keys are versions and contain `current_version`."""
    props = metadata.properties
    problems = []
    bad_keys = [key for key in props.code_hashes if not _SEMVER_RE.match(key)]
    for key in bad_keys:
        problems.append(
            Problem(
                source, f"properties.code_hashes.{key}", "key is not a semantic version", "use e.g. '0.1.0'"
            )
        )
    if props.current_version not in props.code_hashes:
        problems.append(
            Problem(
                source,
                "properties.current_version",
                f"{props.current_version!r} is not a key of properties.code_hashes",
                f'add "{props.current_version}": "" to properties.code_hashes',
            )
        )
    return problems


def parse_metadata(data: bytes | str, source: str = METADATA_FILE) -> PackageMetadata:
    """Parse and validate metadata JSON; raise MetadataError with one line per problem."""
    raw, problem = decode_json(data, source)
    if problem is not None:
        raise MetadataError([problem])
    try:
        metadata = PackageMetadata.model_validate(raw)
    except ValidationError as exc:
        raise MetadataError(problems_from_validation_error(exc, source, known_fields=_KNOWN_FIELDS)) from None
    problems = consistency_problems(metadata, source)
    if problems:
        raise MetadataError(problems)
    return metadata


def new_metadata(package: str, publisher: str, version: str, description: str = "") -> PackageMetadata:
    """The metadata kit's templates start with: every field present, the version's hash left empty."""
    return PackageMetadata(
        name=package,
        description=description,
        image="",
        external_url="",
        animation_url="",
        properties=PackageProperties(
            package_name=package,
            publisher=publisher,
            current_version=version,
            mirrors=[],
            code_hashes={version: ""},
            license=None,
            screenshots=None,
            wit_version=1,
            dependencies=[],
            api_includes=[],
        ),
    )


def metadata_json(metadata: PackageMetadata) -> str:
    """Deterministic text for a metadata file we create (4-space indent, trailing newline)."""
    return json.dumps(metadata.model_dump(mode="json"), indent=4, ensure_ascii=False) + "\n"


def _newest_version(metadata: PackageMetadata) -> str | None:
    versions = [key for key in metadata.properties.code_hashes if _SEMVER_RE.match(key)]
    return max(versions, key=semver_key) if versions else None


@dataclass(frozen=True)
class MetadataPlan:
    """What the build will do with metadata.json: `outcome` is "created", "updated" or "kept".

    Planning is separate from writing so a build validates the file first and writes it only once
    everything else succeeded (a failed build leaves the project untouched).
    """

    path: Path
    metadata: PackageMetadata
    outcome: str
    text: str | None  # new file content, None when the file stays as it is

    def write(self) -> None:
        if self.text is not None:
            _write_atomically(self.path, self.text)


def plan_metadata(
    package_dir: Path,
    *,
    package: str,
    publisher: str,
    version: str,
    description: str = "",
) -> MetadataPlan:
    """Decide what `package_dir/metadata.json` must be for this project; raise MetadataError if invalid.

    - missing: created from the project (package, publisher, version);
    - present: validated and kept; if `code_hashes` names a newer version than `current_version`,
      `current_version` is moved forward in place (kit's rule), an older newest version is an error;
    - its package name, publisher and version must match the project, because the zip name, process
      ids and the app-store install all use the metadata's values.
    """
    path = package_dir / METADATA_FILE
    source = str(path)
    if not path.exists():
        metadata = new_metadata(package, publisher, version, description)
        return MetadataPlan(path, metadata, "created", metadata_json(metadata))
    text = path.read_text(encoding="utf-8")
    metadata = _parse_for_update(text, source)
    outcome, new_text = "kept", None
    newest = _newest_version(metadata)
    current = metadata.properties.current_version
    if newest is not None and newest != current and semver_key(newest) > semver_key(current):
        new_text = _replace_current_version(text, newest)
        metadata = parse_metadata(new_text, source)
        outcome = "updated"
    problems = consistency_problems(metadata, source) + _project_mismatches(
        metadata, source, package=package, publisher=publisher, version=version
    )
    if problems:
        raise MetadataError(problems)
    return MetadataPlan(path, metadata, outcome, new_text)


def load_or_create_metadata(
    package_dir: Path,
    *,
    package: str,
    publisher: str,
    version: str,
    description: str = "",
) -> tuple[PackageMetadata, str]:
    """plan_metadata, then write the file; return (metadata, "created" | "updated" | "kept")."""
    plan = plan_metadata(
        package_dir, package=package, publisher=publisher, version=version, description=description
    )
    plan.write()
    return plan.metadata, plan.outcome


def _project_mismatches(
    metadata: PackageMetadata, source: str, *, package: str, publisher: str, version: str
) -> list[Problem]:
    props = metadata.properties
    problems = []
    if props.package_name != package:
        problems.append(
            Problem(
                source,
                "properties.package_name",
                f"{props.package_name!r} differs from the project's package {package!r}",
                "make them the same",
            )
        )
    if props.publisher != publisher:
        problems.append(
            Problem(
                source,
                "properties.publisher",
                f"{props.publisher!r} differs from the project's publisher {publisher!r}",
                "make them the same",
            )
        )
    if props.current_version != version:
        if _SEMVER_RE.match(version) and semver_key(version) > semver_key(props.current_version):
            fix = f'add "{version}": "" to properties.code_hashes to release {version}'
        else:
            fix = f"set the project's version to {props.current_version!r} (the newest in code_hashes)"
        problems.append(
            Problem(
                source,
                "properties.current_version",
                f"{props.current_version!r} differs from the project's version {version!r}",
                fix,
            )
        )
    return problems


def _parse_for_update(text: str, source: str) -> PackageMetadata:
    """Parse allowing `current_version` to lag behind code_hashes (the case kit repairs)."""
    try:
        return parse_metadata(text, source)
    except MetadataError as exc:
        lagging = [
            p for p in exc.problems if p.field == "properties.current_version" and "is not a key" in p.message
        ]
        if len(lagging) != len(exc.problems):
            raise
    raw = jsonwire.loads(text)
    metadata = PackageMetadata.model_validate(raw)
    newest = _newest_version(metadata)
    current = metadata.properties.current_version
    if newest is None or semver_key(newest) < semver_key(current):
        raise MetadataError(
            [
                Problem(
                    source,
                    "properties.current_version",
                    f"{current!r} is newer than every version in properties.code_hashes (newest: {newest!r})",
                    f'add "{current}": "" to properties.code_hashes',
                )
            ]
        )
    return metadata


def _replace_current_version(text: str, version: str) -> str:
    """Rewrite only the `current_version` value, keeping the user's formatting (as kit does)."""
    return re.sub(
        r'("current_version"\s*:\s*")([^"]*)(")', lambda m: m.group(1) + version + m.group(3), text, count=1
    )


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def read_package_identity(path: Path) -> tuple[PackageMetadata, str]:
    """metadata.json of a project configured by it alone (kit's layout), and the version to build.

    The version is `current_version`, or the newest `code_hashes` key when that is newer: kit's
    build moves `current_version` forward to it (and so does `plan_metadata`).
    """
    source = str(path)
    metadata = _parse_for_update(path.read_text(encoding="utf-8"), source)
    current = metadata.properties.current_version
    newest = _newest_version(metadata)
    if newest is not None and semver_key(newest) > semver_key(current):
        return metadata, newest
    return metadata, current
