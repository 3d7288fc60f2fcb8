"""kit's project layout, and the package files a user wrote as the source of truth.

A project written by `kit new --language python` has no pyproject.toml:

    metadata.json           package name, publisher, version (properties.package_name, ...)
    pkg/manifest.json       the processes, written by hand: process_wasm_path "/chat.wasm"
    pkg/scripts.json        optional terminal scripts: "send.wasm"
    api/*.wit               optional API and world (kit builds against the one world declared there)
    chat/src/lib.py         the source of /chat.wasm: kit runs `componentize-py ... componentize lib`
    send/src/lib.py           in chat/src, writing pkg/chat.wasm (src/build/mod.rs
                              `compile_python_wasm_process`); a script is built the same way
    requirements.txt        optional: pure-Python dependencies (hyperpy's addition, see below)

`load_kit_project` reads exactly that. The manifest and scripts.json are the user's: the build
never rewrites them, it ships them byte for byte. kit itself never writes either file.

Dependencies: kit's Python build installs nothing but componentize-py (into `<process>/process_env`)
and does not read a requirements file; a package reaches a kit-built component only when installed
into that virtualenv by hand. hyperpy reads `requirements.txt` beside metadata.json (plain
requirement lines) and installs it as it installs `[project].dependencies`.

With a pyproject.toml too, `[tool.hyperpy]` adds hyperpy's settings; if the user also wrote
pkg/manifest.json (or scripts.json) themselves, that file still wins: settings that disagree with it
are an error naming both files and the field, never silently overwritten (`with_user_package_files`).
Whether a file in pkg/ is the user's or was written by a previous `hyperpy build` is told by its
sha256 in the build's record, `target/hyperpy/generated.json`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hyperpy.package.manifest import MANIFEST_FILE, ManifestEntry, ManifestError, parse_manifest
from hyperpy.package.metadata import METADATA_FILE, MetadataError, read_package_identity
from hyperpy.package.problems import Problem
from hyperpy.package.project import (
    CONFIG_FILE,
    CONFIG_TABLE,
    KIT_SOURCE,
    HyperpyTable,
    ProcessConfig,
    ProcessSettings,
    Project,
    ProjectConfigError,
    ScriptConfig,
    ScriptSettings,
    _resolve_process,
    _resolve_script,
    default_source,
)
from hyperpy.package.scripts import SCRIPT_FIELDS, SCRIPTS_FILE, ScriptEntry, ScriptsError, parse_scripts

GENERATED_RECORD = Path("target") / "hyperpy" / "generated.json"
REQUIREMENTS_FILE = "requirements.txt"
COMPARED_PROCESS_FIELDS = (
    "on_exit",
    "public",
    "request_networking",
    "request_capabilities",
    "grant_capabilities",
)


# ------------------------------------------------------------------------------ who wrote pkg/ files


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_generated(root: Path, files: dict[str, bytes]) -> None:
    """Remember the pkg/ files a build wrote (name -> content), so the next build may replace them."""
    path = root / GENERATED_RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {name: _sha256(data) for name, data in sorted(files.items())}
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def written_by_hyperpy(root: Path, name: str) -> bool:
    """True if `pkg/<name>` is exactly what the last `hyperpy build` wrote there."""
    path = root / "pkg" / name
    try:
        record = json.loads((root / GENERATED_RECORD).read_text(encoding="utf-8"))
        return isinstance(record, dict) and record.get(name) == _sha256(path.read_bytes())
    except (OSError, ValueError):
        return False


def user_file(root: Path, name: str) -> Path | None:
    """`pkg/<name>` if it exists and was written by the user (not by a previous build)."""
    path = root / "pkg" / name
    return path if path.is_file() and not written_by_hyperpy(root, name) else None


# ------------------------------------------------------------------------------------- the kit layout


def is_kit_layout(root: Path) -> bool:
    """A directory kit would build: metadata.json or pkg/manifest.json, and no pyproject.toml."""
    return not (root / CONFIG_FILE).is_file() and (
        (root / METADATA_FILE).is_file() or (root / "pkg" / MANIFEST_FILE).is_file()
    )


def is_project_dir(path: Path) -> bool:
    """A project the build turns into a package (pyproject.toml, or kit's layout with Python sources),
    as opposed to an already built package directory (a pkg/ or a kit package of Rust processes)."""
    if not path.is_dir():
        return False
    if (path / CONFIG_FILE).is_file():
        return True
    return is_kit_layout(path) and any(path.glob(f"*/{KIT_SOURCE}"))


def read_requirements(root: Path) -> tuple[str, ...]:
    """The requirement lines of `requirements.txt` (comments and blank lines skipped)."""
    path = root / REQUIREMENTS_FILE
    if not path.is_file():
        return ()
    requirements, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("-"):
            problems.append(
                Problem(
                    str(path),
                    f"line {number}",
                    f"pip option {text.split()[0]!r} is not supported",
                    "list plain requirements such as 'humanize>=4' (one per line)",
                )
            )
            continue
        requirements.append(text)
    if problems:
        raise ProjectConfigError(problems)
    return tuple(requirements)


def _kit_source(root: Path, wasm_file: str) -> Path:
    return root / wasm_file.removesuffix(".wasm") / KIT_SOURCE


def _missing_source(root: Path, wasm_file: str, source: str, field: str, what: str) -> Problem:
    stem = wasm_file.removesuffix(".wasm")
    if (root / stem / "src" / "lib.rs").is_file() or (root / stem / "src" / "lib.js").is_file():
        return Problem(
            source,
            field,
            f"{stem}/src holds a Rust or JavaScript {what}; hyperpy builds Python only",
            f"build the package with kit, or put the built {wasm_file} in pkg/",
        )
    return Problem(
        source,
        field,
        f"{wasm_file}: no Python source {stem}/{KIT_SOURCE} and no pkg/{wasm_file}",
        f"kit builds /{wasm_file} from {stem}/{KIT_SOURCE}: create it, or fix the name",
    )


def load_kit_project(root: Path) -> Project:
    """A kit-layout project: metadata.json, pkg/manifest.json, pkg/scripts.json, `<dir>/src/lib.py`."""
    problems: list[Problem] = []
    metadata_path = root / METADATA_FILE
    manifest_path = root / "pkg" / MANIFEST_FILE
    if not metadata_path.is_file():
        problems.append(
            Problem(
                str(metadata_path),
                "",
                "is missing (a kit project takes its package name, publisher and version from it)",
                "create it as `kit new` does, or add a pyproject.toml with a [tool.hyperpy] table",
            )
        )
    if not manifest_path.is_file():
        problems.append(
            Problem(
                str(manifest_path),
                "",
                "is missing (a kit project lists its processes there)",
                'write [{"process_name": ..., "process_wasm_path": "/<dir>.wasm", ...}] '
                "or add a pyproject.toml with a [tool.hyperpy] table",
            )
        )
    if problems:
        raise ProjectConfigError(problems)
    try:
        metadata, version = read_package_identity(metadata_path)
    except MetadataError as exc:
        raise ProjectConfigError(exc.problems) from None
    entries = _parse_user_manifest(manifest_path)
    scripts_path = root / "pkg" / SCRIPTS_FILE
    script_entries = _parse_user_scripts(scripts_path) if scripts_path.is_file() else {}

    processes: list[ProcessConfig] = []
    prebuilt: list[str] = []
    for index, entry in enumerate(entries):
        if _kit_source(root, entry.wasm_file_name).is_file():
            stem = entry.wasm_file_name.removesuffix(".wasm")
            processes.append(_process_from_entry(entry, f"{stem}/src", "lib", infer=False))
        elif (root / "pkg" / entry.wasm_file_name).is_file():
            prebuilt.append(entry.process_name)
        else:
            problems.append(
                _missing_source(
                    root, entry.wasm_file_name, str(manifest_path), f"[{index}].process_wasm_path", "process"
                )
            )
    scripts: list[ScriptConfig] = []
    for name, script in script_entries.items():
        if _kit_source(root, name).is_file():
            stem = name.removesuffix(".wasm")
            scripts.append(ScriptConfig(name=stem, module="lib", entry=script, source_dir=f"{stem}/src"))
        elif not (root / "pkg" / name).is_file():
            problems.append(_missing_source(root, name, str(scripts_path), name, "script"))
    if problems:
        raise ProjectConfigError(problems)
    props = metadata.properties
    return Project(
        root=root,
        config_file=metadata_path,
        package=props.package_name,
        publisher=props.publisher,
        version=version,
        description=metadata.description or "",
        processes=tuple(processes),
        dependencies=read_requirements(root),
        scripts=tuple(scripts),
        layout="kit",
        user_manifest=manifest_path,
        user_scripts=scripts_path if scripts_path.is_file() else None,
        prebuilt=tuple(prebuilt),
    )


def _parse_user_manifest(path: Path) -> list[ManifestEntry]:
    try:
        return parse_manifest(path.read_bytes(), str(path))
    except ManifestError as exc:
        raise ProjectConfigError(exc.problems) from None


def _parse_user_scripts(path: Path) -> dict[str, ScriptEntry]:
    try:
        return parse_scripts(path.read_bytes(), str(path))
    except ScriptsError as exc:
        raise ProjectConfigError(exc.problems) from None


def _process_from_entry(entry: ManifestEntry, source_dir: str, module: str, *, infer: bool) -> ProcessConfig:
    return ProcessConfig(
        name=entry.process_name,
        module=module,
        on_exit=entry.on_exit,
        public=entry.public,
        request_networking=entry.request_networking,
        request_capabilities=tuple(entry.request_capabilities),
        grant_capabilities=tuple(entry.grant_capabilities),
        infer_capabilities=infer,
        source_dir=source_dir,
        wasm=entry.wasm_file_name,
    )


# ------------------------------------------------------------------- pyproject beside the user's files


def _json_form(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_json_form(item) for item in value]
    return value


def _disagreements(
    config: tuple[Path, str, BaseModel, Any], written: tuple[Path, str, Any], fields: tuple[str, ...]
) -> list[Problem]:
    """One problem per field set explicitly in the config table whose value differs from the file's.

    `config` is (pyproject.toml, table path, the table as written, its values in the file's form);
    `written` is (the user's file, the entry's location in it, the entry).
    """
    config_file, table_path, table, values = config
    written_file, where, entry = written
    problems = []
    for field in fields:
        if field not in table.model_fields_set:
            continue
        configured, actual = getattr(values, field), getattr(entry, field)
        if _json_form(configured) == _json_form(actual):
            continue
        problems.append(
            Problem(
                str(config_file),
                f"{table_path}.{field}",
                f"{json.dumps(_json_form(getattr(table, field)))} disagrees with {written_file}: "
                f"{where}.{field} = {json.dumps(_json_form(actual))}",
                f"{written_file.name} is yours and the build uses it as written: make the two agree, "
                f"or remove {field} from {config_file.name}",
            )
        )
    return problems


def with_user_package_files(project: Project, table: HyperpyTable) -> Project:
    """A pyproject project whose pkg/manifest.json or scripts.json the user wrote: those files win.

    Processes and scripts are then the ones those files list (their modules from `[tool.hyperpy]`
    where set, else by `default_source`), and every setting `[tool.hyperpy]` states explicitly must
    agree with the file; a disagreement is an error naming both files and the field.
    """
    root = project.root
    manifest_path = user_file(root, MANIFEST_FILE)
    scripts_path = user_file(root, SCRIPTS_FILE)
    if manifest_path is None and scripts_path is None:
        return project
    problems: list[Problem] = []
    processes = list(project.processes)
    prebuilt: list[str] = []
    if manifest_path is not None:
        processes = []
        entries = _parse_user_manifest(manifest_path)
        listed = {entry.process_name for entry in entries}
        for name in table.processes:
            if name not in listed:
                problems.append(
                    Problem(
                        str(project.config_file),
                        f"{CONFIG_TABLE}.processes.{name}",
                        f"process {name!r} is not in {manifest_path}, which the build uses as written",
                        f"add its entry to {manifest_path.name}, or remove the table",
                    )
                )
        for index, entry in enumerate(entries):
            settings = table.processes.get(entry.process_name)
            if settings is not None:
                # Compared in the manifest's form (on_exit requests converted as the build does).
                resolved = _resolve_process(root, entry.process_name, settings)
                table_path = f"{CONFIG_TABLE}.processes.{entry.process_name}"
                problems.extend(
                    _disagreements(
                        (project.config_file, table_path, settings, resolved),
                        (manifest_path, f"[{index}]", entry),
                        COMPARED_PROCESS_FIELDS,
                    )
                )
            process = _manifest_process(root, entry, settings)
            if project.module_path(process) is None and (root / "pkg" / entry.wasm_file_name).is_file():
                prebuilt.append(entry.process_name)
            else:
                processes.append(process)
    scripts = list(project.scripts)
    if scripts_path is not None:
        scripts = []
        written = _parse_user_scripts(scripts_path)
        for name in table.scripts:
            if f"{name}.wasm" not in written:
                problems.append(
                    Problem(
                        str(project.config_file),
                        f"{CONFIG_TABLE}.scripts.{name}",
                        f"script {name}.wasm is not in {scripts_path}, which the build uses as written",
                        f"add its entry to {scripts_path.name}, or remove the table",
                    )
                )
        for file_name, script_entry in written.items():
            stem = file_name.removesuffix(".wasm")
            settings_s = table.scripts.get(stem)
            if settings_s is not None:
                problems.extend(
                    _disagreements(
                        (project.config_file, f"{CONFIG_TABLE}.scripts.{stem}", settings_s, settings_s),
                        (scripts_path, f'"{file_name}"', script_entry),
                        SCRIPT_FIELDS,
                    )
                )
            script = _resolve_script(root, stem, settings_s or ScriptSettings())
            script = ScriptConfig(script.name, script.module, script_entry, script.source_dir)
            if project.module_path(script) is not None or not (root / "pkg" / file_name).is_file():
                scripts.append(script)
    if problems:
        raise ProjectConfigError(problems)
    return dataclasses.replace(
        project,
        processes=tuple(processes),
        scripts=tuple(scripts),
        user_manifest=manifest_path,
        user_scripts=scripts_path,
        prebuilt=tuple(prebuilt),
    )


def _manifest_process(root: Path, entry: ManifestEntry, settings: ProcessSettings | None) -> ProcessConfig:
    stem = entry.wasm_file_name.removesuffix(".wasm")
    if settings is not None and settings.module:
        source_dir, module = "", settings.module
    else:
        source_dir, module = default_source(root, entry.process_name, stem)
    return _process_from_entry(entry, source_dir, module, infer=False)
