"""The package project: `[tool.hyperpy]` in the app's `pyproject.toml`.

Why pyproject.toml: a hyperpy app is a Python project anyway (its `[project].dependencies` are the
pure-Python packages compiled into the component), so one file holds everything and there is no
second config format to learn. Everything has a default; the smallest project is

    [project]
    name = "echo"
    version = "0.1.0"

    [tool.hyperpy]
    publisher = "my-node.os"

which builds one process `echo` from the module `echo` (`echo.py` or `echo/__init__.py`). Full form:

    [tool.hyperpy]
    package = "echo"            # default: [project].name
    publisher = "template.os"   # default: "template.os" (kit's default)
    version = "0.1.0"           # default: [project].version, else "0.1.0"
    description = "..."         # default: [project].description (used when metadata.json is created)
    ui = "frontend/dist"        # default: unset; a project folder copied into pkg/ui/

    [tool.hyperpy.processes.echo]   # default: one process named like the package
    module = "echo"                 # default: the process name with '-' replaced by '_'
    on_exit = "Restart"             # "None" | "Restart" | {Requests = [{target = "...", body = "..."}]}
    public = false
    request_networking = false
    request_capabilities = ["vfs:distro:sys", {process = "kv:distro:sys", params = {kind = "read"}}]
    grant_capabilities = []
    infer_capabilities = true       # add what the app obviously needs (http-server, timer, ...)

Capabilities the framework can see a process needs (its HTTP handlers need http-server, a sleep
needs timer) are *inferred*: each is added to `request_capabilities` (so the process may message
it) and, except for vfs, state and kernel, to `grant_capabilities` (so its answers and incoming HTTP
reach a non-public process: Hyperdrive checks Responses too, runtime-contract §1.5).
`effective_capabilities` / `effective_grants` show each entry with where it came from; listing an
entry yourself replaces the inferred one, and `infer_capabilities = false` turns inference off.

`ui = "frontend/dist"` in `[tool.hyperpy]` names a project folder the build copies into `pkg/ui/`
(see `hyperpy.package.ui_folder`); without it a framework app's `@app(ui="ui")` folder is copied.
"""

from __future__ import annotations

import keyword
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
)

from hyperpy.package.manifest import (
    CapabilityEntry,
    CapabilityGrant,
    ManifestEntry,
    OnExitBlob,
    OnExitRequestBody,
    OnExitRequests,
    on_exit_discriminator,
)
from hyperpy.package.names import (
    InvalidNameError,
    parse_address,
    suggest_safe_name,
    validate_package_name,
    validate_process_name,
    validate_publisher,
)
from hyperpy.package.problems import Problem, problems_from_validation_error, render
from hyperpy.package.scripts import ScriptEntry
from hyperpy.package.ui_folder import relative_folder
from hyperpy.runtime.well_known import ALWAYS_DELIVERED

CONFIG_FILE = "pyproject.toml"
CONFIG_TABLE = "tool.hyperpy"
DEFAULT_PUBLISHER = "template.os"
DEFAULT_VERSION = "0.1.0"
DEFAULT_ON_EXIT: Literal["Restart"] = "Restart"


class ProjectConfigError(ValueError):
    """The project config is missing or invalid; one line per problem: `file: field: problem (fix)`."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(render(problems))


def _module_name(value: str) -> str:
    parts = value.split(".")
    if not value or not all(part.isidentifier() and not keyword.iskeyword(part) for part in parts):
        raise ValueError(
            f"module {value!r} is not a Python module name (write a dotted name such as 'echo' or 'app.main')"
        )
    return value


def _semver(value: str) -> str:
    from hyperpy.package.metadata import validate_semver

    return validate_semver(value, "version")


def _checked_address(value: str) -> str:
    parse_address(value, "target")
    return value


def _project_folder(value: str) -> str:
    return relative_folder(value, "a folder of the project, relative to pyproject.toml")


class OnExitRequestConfig(BaseModel):
    """TOML-friendly on_exit request (TOML has no null): converted to the manifest's triple."""

    model_config = ConfigDict(extra="forbid")

    target: Annotated[StrictStr, AfterValidator(_checked_address)]
    body: StrictStr | list[Annotated[StrictInt, Field(ge=0, le=255)]] = ""
    inherit: StrictBool = False
    metadata: StrictStr | None = None
    blob: StrictStr | None = None
    blob_mime: StrictStr | None = None

    def to_manifest(self) -> tuple[str, OnExitRequestBody, OnExitBlob | None]:
        body = list(self.body.encode("utf-8")) if isinstance(self.body, str) else list(self.body)
        request = OnExitRequestBody(
            inherit=self.inherit, expects_response=None, body=body, metadata=self.metadata, capabilities=[]
        )
        blob = None
        if self.blob is not None:
            blob = OnExitBlob(mime=self.blob_mime, bytes=list(self.blob.encode("utf-8")))
        return (self.target, request, blob)


class OnExitRequestsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Requests: list[OnExitRequestConfig]


OnExitConfig = Annotated[
    Annotated[Literal["None", "Restart"], Tag("exit-simple")]
    | Annotated[OnExitRequestsConfig, Tag("exit-requests")],
    on_exit_discriminator(OnExitRequestsConfig, '{Requests = [{target = "node@p:k:s", body = "..."}]}'),
]


class _UnitSettings(BaseModel):
    """What a process table and a script table share: the module and the permissions."""

    model_config = ConfigDict(extra="forbid")

    module: Annotated[StrictStr, AfterValidator(_module_name)] | None = None
    public: StrictBool = False
    request_networking: StrictBool = False
    request_capabilities: list[CapabilityEntry] = Field(default_factory=list)
    grant_capabilities: list[CapabilityEntry] = Field(default_factory=list)


class ProcessSettings(_UnitSettings):
    """One `[tool.hyperpy.processes.<name>]` table."""

    on_exit: OnExitConfig = DEFAULT_ON_EXIT
    infer_capabilities: StrictBool = True


class ScriptSettings(_UnitSettings):
    """One `[tool.hyperpy.scripts.<name>]` table: a terminal script, written to `pkg/scripts.json`.

    The fields are Hyperdrive's scripts.json entry (runtime-contract §2.3), all defaulting to
    false/empty; `module` defaults to the name with '-' replaced by '_' (or kit's `<name>/src/lib.py`).
    """

    root: StrictBool = False


class HyperpyTable(BaseModel):
    """The `[tool.hyperpy]` table as written by the user (before defaults are resolved)."""

    model_config = ConfigDict(extra="forbid")

    package: Annotated[StrictStr, AfterValidator(validate_package_name)] | None = None
    publisher: Annotated[StrictStr, AfterValidator(validate_publisher)] = DEFAULT_PUBLISHER
    version: Annotated[StrictStr, AfterValidator(_semver)] | None = None
    description: StrictStr | None = None
    ui: Annotated[StrictStr, AfterValidator(_project_folder)] | None = None
    processes: dict[str, ProcessSettings] = Field(default_factory=dict)
    scripts: dict[str, ScriptSettings] = Field(default_factory=dict)


_KNOWN_FIELDS = (
    *HyperpyTable.model_fields,
    *ProcessSettings.model_fields,
    *ScriptSettings.model_fields,
    *OnExitRequestConfig.model_fields,
    *CapabilityGrant.model_fields,
)


@dataclass(frozen=True)
class ProcessConfig:
    """A process with every default resolved."""

    name: str
    module: str
    on_exit: Any  # "None" | "Restart" | OnExitRequests (manifest form)
    public: bool
    request_networking: bool
    request_capabilities: tuple[str | CapabilityGrant, ...]
    grant_capabilities: tuple[str | CapabilityGrant, ...]
    infer_capabilities: bool
    # Where the module lives, relative to the project root ("" = the root itself; kit's layout:
    # "chat/src" with module "lib"), and the wasm file in pkg/ ("" = "<name>.wasm").
    source_dir: str = ""
    wasm: str = ""

    @property
    def wasm_file_name(self) -> str:
        return self.wasm or f"{self.name}.wasm"


@dataclass(frozen=True)
class ScriptConfig:
    """A terminal script: built like a process into `pkg/<name>.wasm`, listed in `pkg/scripts.json`."""

    name: str
    module: str
    entry: ScriptEntry
    source_dir: str = ""

    @property
    def wasm_file_name(self) -> str:
        return f"{self.name}.wasm"


Buildable = ProcessConfig | ScriptConfig


@dataclass(frozen=True)
class Project:
    """A loaded, validated package project."""

    root: Path
    config_file: Path
    package: str
    publisher: str
    version: str
    description: str
    processes: tuple[ProcessConfig, ...]
    dependencies: tuple[str, ...] = field(default=())
    ui: str | None = None  # `[tool.hyperpy] ui`: the project folder copied into pkg/ui/
    scripts: tuple[ScriptConfig, ...] = field(default=())
    # "pyproject": configured by [tool.hyperpy]; "kit": kit's layout, configured by metadata.json,
    # pkg/manifest.json and pkg/scripts.json alone (see hyperpy.package.kit_layout).
    layout: Literal["pyproject", "kit"] = "pyproject"
    # The user's own pkg/manifest.json and pkg/scripts.json: when set, the build ships them exactly
    # as written and never rewrites them (the processes and scripts above were read from them).
    user_manifest: Path | None = None
    user_scripts: Path | None = None
    # Processes of the user's manifest whose wasm is already in pkg/ with no Python source (kept).
    prebuilt: tuple[str, ...] = field(default=())

    @property
    def package_id(self) -> str:
        """`package:publisher`, also the zip's file stem."""
        return f"{self.package}:{self.publisher}"

    @property
    def pkg_dir(self) -> Path:
        return self.root / "pkg"

    @property
    def target_dir(self) -> Path:
        return self.root / "target"

    @property
    def zip_path(self) -> Path:
        return self.target_dir / f"{self.package_id}.zip"

    @property
    def api_dir(self) -> Path:
        return self.root / "api"

    def process(self, name: str) -> ProcessConfig:
        for process in self.processes:
            if process.name == name:
                return process
        raise KeyError(name)

    @property
    def buildables(self) -> tuple[Buildable, ...]:
        """What the build compiles: each process wasm once (processes may share one), then scripts."""
        seen: set[str] = set()
        found: list[Buildable] = []
        units: list[Buildable] = [*self.processes, *self.scripts]
        for unit in units:
            if unit.wasm_file_name not in seen:
                seen.add(unit.wasm_file_name)
                found.append(unit)
        return tuple(found)

    def source_root(self, process: Buildable) -> Path:
        """The directory the module is imported from (the component's path entry for the sources)."""
        return self.root / process.source_dir if process.source_dir else self.root

    def module_candidates(self, process: Buildable) -> list[Path]:
        """The files that may hold the process module: `a/b.py` or `a/b/__init__.py`."""
        relative = Path(*process.module.split("."))
        base = self.source_root(process)
        return [base / relative.with_suffix(".py"), base / relative / "__init__.py"]

    def module_path(self, process: Buildable) -> Path | None:
        """The file holding the process module, or None if neither candidate exists."""
        for candidate in self.module_candidates(process):
            if candidate.is_file():
                return candidate
        return None


def _problem(file: str, fieldpath: str, message: str, fix: str = "") -> Problem:
    return Problem(file, fieldpath, message, fix)


def load_project(directory: Path | str) -> Project:
    """Read `directory/pyproject.toml` and resolve `[tool.hyperpy]` with its defaults.

    Raises ProjectConfigError naming the file, the field path (`tool.hyperpy.processes.echo.public`)
    and the fix for every problem found.
    """
    root = Path(directory).resolve()
    if root.is_file() and root.name == CONFIG_FILE:
        root = root.parent
    config_file = root / CONFIG_FILE
    source = str(config_file)
    if not root.is_dir():
        raise ProjectConfigError(
            [_problem(str(root), "", "no such directory", "pass the package project directory")]
        )
    if not config_file.is_file():
        from hyperpy.package.kit_layout import is_kit_layout, load_kit_project

        if is_kit_layout(root):
            return load_kit_project(root)
        raise ProjectConfigError(
            [
                _problem(
                    source,
                    "",
                    "file not found",
                    f"create it with a [project] name and a [{CONFIG_TABLE}] table "
                    "(or use kit's layout: metadata.json, pkg/manifest.json, <process>/src/lib.py)",
                )
            ]
        )
    try:
        document = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProjectConfigError(
            [_problem(source, "", f"not valid TOML: {exc}", "fix the TOML syntax")]
        ) from None

    project_table = document.get("project", {})
    tool_table = document.get("tool", {})
    if not isinstance(tool_table, dict) or "hyperpy" not in tool_table:
        raise ProjectConfigError(
            [
                _problem(
                    source,
                    CONFIG_TABLE,
                    "table is missing",
                    f"add a [{CONFIG_TABLE}] section (it may be empty)",
                )
            ]
        )
    try:
        table = HyperpyTable.model_validate(tool_table["hyperpy"])
    except ValidationError as exc:
        raise ProjectConfigError(
            problems_from_validation_error(exc, source, prefix=CONFIG_TABLE, known_fields=_KNOWN_FIELDS)
        ) from None
    project = _resolve(root, config_file, table, project_table if isinstance(project_table, dict) else {})
    from hyperpy.package.kit_layout import with_user_package_files

    return with_user_package_files(project, table)


def _resolve(root: Path, config_file: Path, table: HyperpyTable, project_table: dict[str, Any]) -> Project:
    source = str(config_file)
    problems: list[Problem] = []

    package = table.package
    if package is None:
        name = project_table.get("name")
        if not isinstance(name, str):
            problems.append(
                _problem(
                    source,
                    f"{CONFIG_TABLE}.package",
                    "no package name",
                    'set package = "my-app" or [project] name',
                )
            )
            package = "invalid"
        else:
            try:
                package = validate_package_name(name, "[project].name used as the package name")
            except InvalidNameError as exc:
                problems.append(
                    _problem(
                        source,
                        "project.name",
                        str(exc),
                        f'or set package = "{suggest_safe_name(name)}" in [{CONFIG_TABLE}]',
                    )
                )
                package = "invalid"

    version = table.version
    if version is None:
        project_version = project_table.get("version", DEFAULT_VERSION)
        try:
            version = _semver(str(project_version))
        except ValueError as exc:
            problems.append(
                _problem(source, "project.version", str(exc), f"or set version in [{CONFIG_TABLE}]")
            )
            version = DEFAULT_VERSION

    description = table.description
    if description is None:
        description = (
            project_table.get("description", "") if isinstance(project_table.get("description"), str) else ""
        )

    raw_dependencies = project_table.get("dependencies", [])
    if not isinstance(raw_dependencies, list) or not all(isinstance(d, str) for d in raw_dependencies):
        problems.append(_problem(source, "project.dependencies", "must be a list of requirement strings"))
        raw_dependencies = []

    settings = table.processes or {package: ProcessSettings()}
    processes = []
    for process_name, process_settings in settings.items():
        try:
            validate_process_name(process_name, "process name")
        except InvalidNameError as exc:
            problems.append(_problem(source, f"{CONFIG_TABLE}.processes.{process_name}", str(exc)))
            continue
        processes.append(_resolve_process(root, process_name, process_settings))

    scripts = []
    for script_name, script_settings in table.scripts.items():
        try:
            validate_process_name(script_name, "script name")
        except InvalidNameError as exc:
            problems.append(_problem(source, f"{CONFIG_TABLE}.scripts.{script_name}", str(exc)))
            continue
        clash = next((p for p in processes if p.wasm_file_name == f"{script_name}.wasm"), None)
        if clash is not None:
            problems.append(
                _problem(
                    source,
                    f"{CONFIG_TABLE}.scripts.{script_name}",
                    f"{script_name}.wasm is also process {clash.name!r}'s wasm",
                    "give the script another name",
                )
            )
            continue
        scripts.append(_resolve_script(root, script_name, script_settings))

    if problems:
        raise ProjectConfigError(problems)
    return Project(
        root=root,
        config_file=config_file,
        package=package,
        publisher=table.publisher,
        version=version,
        description=description,
        processes=tuple(processes),
        dependencies=tuple(raw_dependencies),
        ui=table.ui,
        scripts=tuple(scripts),
    )


KIT_SOURCE = "src/lib.py"


def default_source(root: Path, name: str, wasm_stem: str) -> tuple[str, str]:
    """(source_dir, module) of a process or script with no `module` setting.

    The module named like it (`-` -> `_`) at the project root, unless only kit's layout holds it:
    `<wasm stem>/src/lib.py`, imported as `lib` from `<wasm stem>/src` (kit runs componentize-py in
    that directory with app module `lib`, src/build/mod.rs `compile_python_wasm_process`).
    """
    module = name.replace("-", "_")
    relative = Path(*module.split("."))
    at_root = (root / relative.with_suffix(".py")).is_file() or (root / relative / "__init__.py").is_file()
    if not at_root and (root / wasm_stem / KIT_SOURCE).is_file():
        return f"{wasm_stem}/src", "lib"
    return "", module


def _resolve_script(root: Path, name: str, settings: ScriptSettings) -> ScriptConfig:
    source_dir, module = ("", settings.module) if settings.module else default_source(root, name, name)
    entry = ScriptEntry(
        root=settings.root,
        public=settings.public,
        request_networking=settings.request_networking,
        request_capabilities=settings.request_capabilities,
        grant_capabilities=settings.grant_capabilities,
    )
    return ScriptConfig(name=name, module=module, entry=entry, source_dir=source_dir)


def _resolve_process(root: Path, name: str, settings: ProcessSettings) -> ProcessConfig:
    on_exit: Any = settings.on_exit
    if isinstance(on_exit, OnExitRequestsConfig):
        on_exit = OnExitRequests(Requests=[request.to_manifest() for request in on_exit.Requests])
    source_dir, module = ("", settings.module) if settings.module else default_source(root, name, name)
    return ProcessConfig(
        name=name,
        module=module,
        source_dir=source_dir,
        on_exit=on_exit,
        public=settings.public,
        request_networking=settings.request_networking,
        request_capabilities=tuple(settings.request_capabilities),
        grant_capabilities=tuple(settings.grant_capabilities),
        infer_capabilities=settings.infer_capabilities,
    )


@dataclass(frozen=True)
class InferredNeeds:
    """What the build saw a process needs (from the framework's app spec; nothing for raw processes).

    `processes`: the processes it messages; `ui_folder`: the package folder it serves as its web UI
    (`@app(ui=...)`), which the package must therefore contain.
    """

    processes: frozenset[str] = frozenset()
    networking: bool = False
    ui_folder: str | None = None


NO_NEEDS = InferredNeeds()

# Processes whose messages pass the kernel's capability check unconditionally (runtime-contract
# §1.5), so a process never needs to grant them messaging to receive their Responses.


@dataclass(frozen=True)
class EffectiveCapability:
    """A manifest capability entry and where it came from ("config" or "inferred")."""

    entry: str | CapabilityGrant
    source: Literal["config", "inferred"]

    def describe(self) -> str:
        text = self.entry if isinstance(self.entry, str) else f"{self.entry.process} {self.entry.params!r}"
        return f"{text} ({self.source})"


def _messaging_target(entry: str | CapabilityGrant) -> str | None:
    """The process an entry gives plain messaging with (a string, or an object whose params are
    "messaging": the same capability), else None."""
    if isinstance(entry, str):
        return entry
    return entry.process if entry.params == "messaging" else None


def _with_inferred(
    configured: tuple[str | CapabilityGrant, ...], inferred: set[str] | frozenset[str], infer: bool
) -> list[EffectiveCapability]:
    """Configured entries first, then inferred ones the config does not already give."""
    result = [EffectiveCapability(entry, "config") for entry in configured]
    if infer:
        given = {_messaging_target(entry) for entry in configured}
        result.extend(EffectiveCapability(pid, "inferred") for pid in sorted(inferred) if pid not in given)
    return result


def effective_capabilities(
    process: ProcessConfig, needs: InferredNeeds = NO_NEEDS
) -> list[EffectiveCapability]:
    """The capabilities the manifest will request: configured ones first, then inferred ones not
    already configured as a messaging capability. Inference is skipped if `infer_capabilities` is off.
    """
    return _with_inferred(process.request_capabilities, needs.processes, process.infer_capabilities)


def effective_grants(process: ProcessConfig, needs: InferredNeeds = NO_NEEDS) -> list[EffectiveCapability]:
    """The capabilities the manifest will grant: configured ones, then messaging to every inferred
    process except vfs, state and kernel (whose messages always pass).

    Why grant what is requested: on Hyperdrive a Response needs the same messaging capability as a
    Request, so a non-public process that asks timer for a sleep, or binds a path at http-server,
    never hears back unless it granted that module messaging. (A public process does not need the
    grants; they are harmless there, and keeping them makes the manifest independent of `public`.)
    """
    inferred = needs.processes - ALWAYS_DELIVERED
    return _with_inferred(process.grant_capabilities, inferred, process.infer_capabilities)


def effective_networking(process: ProcessConfig, needs: InferredNeeds = NO_NEEDS) -> tuple[bool, str]:
    """(request_networking, where it came from): configured true wins; else inferred unless turned off."""
    if process.request_networking:
        return True, "config"
    if process.infer_capabilities and needs.networking:
        return True, "inferred"
    return False, "config"


def manifest_entries(
    project: Project, inferred: Mapping[str, InferredNeeds] | None = None
) -> list[ManifestEntry]:
    """The manifest for `project`; `inferred` maps a process name to what the build saw it needs.

    A manifest the user wrote (`project.user_manifest`) is the manifest, exactly as written.
    """
    if project.user_manifest is not None:
        from hyperpy.package.manifest import parse_manifest

        return parse_manifest(project.user_manifest.read_bytes(), str(project.user_manifest))
    inferred = inferred or {}
    entries = []
    for process in project.processes:
        needs = inferred.get(process.name, NO_NEEDS)
        capabilities = effective_capabilities(process, needs)
        entries.append(
            ManifestEntry(
                process_name=process.name,
                process_wasm_path=f"/{process.wasm_file_name}",
                on_exit=process.on_exit,
                request_networking=effective_networking(process, needs)[0],
                request_capabilities=[capability.entry for capability in capabilities],
                grant_capabilities=[grant.entry for grant in effective_grants(process, needs)],
                public=process.public,
            )
        )
    return entries


def script_entries(project: Project) -> dict[str, ScriptEntry]:
    """`pkg/scripts.json` for `project`: the user's file as written, else from `[tool.hyperpy.scripts]`."""
    if project.user_scripts is not None:
        from hyperpy.package.scripts import parse_scripts

        return parse_scripts(project.user_scripts.read_bytes(), str(project.user_scripts))
    return {script.wasm_file_name: script.entry for script in project.scripts}


def generated_files(project: Project, manifest: list[ManifestEntry]) -> dict[str, bytes]:
    """manifest.json and scripts.json as a build of `project` writes them into pkg/.

    The user's own files are not here: they are kept byte for byte among the user's pkg/ files.
    Used by `hyperpy build` and by a native install of an unbuilt project, so both ship the same.
    """
    from hyperpy.package.manifest import MANIFEST_FILE, manifest_json
    from hyperpy.package.scripts import SCRIPTS_FILE, scripts_json

    files: dict[str, bytes] = {}
    if project.user_manifest is None:
        files[MANIFEST_FILE] = manifest_json(manifest).encode()
    if project.user_scripts is None and project.scripts:
        files[SCRIPTS_FILE] = scripts_json(script_entries(project)).encode()
    return files
