"""`build_project`: a package project -> components -> `pkg/` -> `target/<package>:<publisher>.zip`.

Order of work, and why:
1. Everything that can be checked without compiling is checked first (config, metadata, process
   modules exist, dependencies are pure Python, declared UI folders exist), so mistakes surface in
   well under a second.
2. Inputs are staged as content-addressed trees (see content_tree.py) and each process gets a cache
   key from them plus the tool versions; a process whose key is cached skips componentize-py.
3. Missing components build in parallel subprocesses. Failures are collected, translated into
   messages about the user's code, and reported together.
4. Only when every process built is anything in the project touched: `pkg/` (the user's own files,
   the project's UI folder copied into `pkg/ui/`, manifest, api.zip, wasm) is assembled in a staging
   directory and swapped in by rename, the zip is written to a temporary file and renamed, and
   metadata.json is written. A failed build leaves pkg/, target/ and metadata.json as they were.

Two builds of unchanged sources give the same zip bytes: the component comes from the cache and
the zip writer is deterministic. (componentize-py itself is not: its pre-init snapshot differs from
run to run, so a component rebuilt from scratch has different bytes; we measured this with 0.25.1.)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from hyperpy.build.componentize import (
    ComponentizeFailure,
    ComponentizeJob,
    componentize_py_version,
    run_componentize,
)
from hyperpy.build.content_tree import ContentTree, sha256_of
from hyperpy.build.dependencies import dependency_site, guest_requirements, requirements_key
from hyperpy.build.entry import entry_module_name, entry_tree, framework_available, legacy_entry_tree
from hyperpy.build.errors import BuildError, GuestPaths, translate_componentize_failure
from hyperpy.build.guest_path import KIT_BINDINGS_FILES, imports_hyperpy, project_sources, runtime_tree
from hyperpy.build.progress import BuildReporter, reporter
from hyperpy.build.world import world_spec
from hyperpy.package.archive import sha256_file, zip_directory_bytes
from hyperpy.package.cache import DeflateCache, cache_override, mark_used, prune
from hyperpy.package.kit_layout import record_generated, written_by_hyperpy
from hyperpy.package.manifest import MANIFEST_FILE, ManifestEntry
from hyperpy.package.metadata import MetadataError, MetadataPlan, plan_metadata
from hyperpy.package.pkg_contents import API_ZIP, PkgContentsError, api_zip, pkg_files
from hyperpy.package.process_module import (
    AppImportError,
    ProcessKind,
    inferred_needs,
    legacy_bindings_module,
    missing_module_problem,
    process_kind,
)
from hyperpy.package.project import (
    NO_NEEDS,
    Buildable,
    EffectiveCapability,
    InferredNeeds,
    Project,
    ProjectConfigError,
    ScriptConfig,
    effective_capabilities,
    effective_grants,
    effective_networking,
    generated_files,
    load_project,
    manifest_entries,
)
from hyperpy.package.scripts import SCRIPTS_FILE, ScriptsError
from hyperpy.package.ui_folder import UiFolderError, own_pkg_files, ui_files

BUILD_RECORD = "last-build.json"
# Bump when the way components are produced changes, so old cache entries are not reused.
BUILD_FORMAT = 1
# Components (and their deflated forms) kept per cache directory, most recently used first.
KEEP_CACHED = 48


@dataclass(frozen=True)
class ProcessBuild:
    """What happened to one process or script: `status` is "built" or "cached".

    `role` is "process" (in manifest.json) or "script" (in scripts.json); `bindings` names the
    kit-style bindings module the code imports (served by the compatibility layer), if any.
    """

    name: str
    kind: ProcessKind
    status: str
    wasm_path: Path
    wasm_size: int
    seconds: float
    capabilities: tuple[EffectiveCapability, ...]
    request_networking: tuple[bool, str]
    grants: tuple[EffectiveCapability, ...] = ()
    role: str = "process"
    bindings: str | None = None


@dataclass(frozen=True)
class BuildResult:
    project: Project
    zip_path: Path
    sha256: str
    pkg_dir: Path
    processes: tuple[ProcessBuild, ...]
    manifest: tuple[ManifestEntry, ...]
    metadata_outcome: str
    up_to_date: bool
    # Things the user should know that do not stop the build (a capability their own manifest lacks).
    warnings: tuple[str, ...] = ()
    # "generated" or "yours (kept as written)" for manifest.json and scripts.json.
    manifest_origin: str = "generated"
    scripts_origin: str | None = None

    @property
    def built(self) -> list[str]:
        return [p.name for p in self.processes if p.status == "built"]

    @property
    def skipped(self) -> list[str]:
        return [p.name for p in self.processes if p.status == "cached"]


def cache_root(project: Project) -> Path:
    """Where staged inputs and built components live: $HYPERPY_CACHE_DIR or <project>/target/hyperpy
    (`hyperpy.package.cache` says why the build's default is per project)."""
    override = cache_override()
    return override if override is not None else project.target_dir / "hyperpy"


def _hyperpy_version() -> str:
    try:
        return importlib_metadata.version("hyperpy")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class _Plan:
    """Per-process inputs resolved before any compilation."""

    process: Buildable
    kind: ProcessKind
    module_file: Path
    bindings: str | None
    app_module: str
    python_path: list[Path]
    key: str
    wasm_cache: Path


def _as_build_error(exc: Exception) -> BuildError:
    error = BuildError(str(exc))
    error.__cause__ = exc
    return error


def _load(project_dir: Path | str) -> tuple[Project, MetadataPlan]:
    """The project and what its metadata.json must become; config problems become BuildError."""
    try:
        project = load_project(project_dir)
        metadata_plan = plan_metadata(
            project.root,
            package=project.package,
            publisher=project.publisher,
            version=project.version,
            description=project.description,
        )
    except (ProjectConfigError, MetadataError) as exc:
        raise _as_build_error(exc) from exc
    return project, metadata_plan


def build_project(project_dir: Path | str, *, jobs: int | None = None, progress: bool = True) -> BuildResult:
    """Build the package project in `project_dir`; raise BuildError with a user-facing message on failure."""
    project, metadata_plan = _load(project_dir)
    return _Builder(project, metadata_plan, jobs=jobs, progress=progress).run()


class _Builder:
    def __init__(self, project: Project, metadata_plan: MetadataPlan, *, jobs: int | None, progress: bool):
        self.project = project
        self.metadata_plan = metadata_plan
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.progress = progress
        self.cache = cache_root(project)
        # Large entries (components) deflated once per content, on disk under the build cache: a
        # manifest-only change re-zips pkg/ for the price of a file read.
        self.deflate_cache = DeflateCache(self.cache / "deflate", min_size=1 << 20, memory_limit=0)
        self.work_root = project.target_dir / "hyperpy" / "tmp"
        self.work = self.work_root  # replaced by this build's own directory in run()
        self.needs: dict[str, InferredNeeds] = {}
        self.host_import_error: str | None = None
        self.modules: dict[str, tuple[Path, ProcessKind]] = {}  # keyed by wasm file name

    # -- planning ---------------------------------------------------------------------------------

    def _check_modules(self) -> dict[str, tuple[Path, ProcessKind]]:
        found: dict[str, tuple[Path, ProcessKind]] = {}
        problems = []
        for process in self.project.buildables:
            module_file = self.project.module_path(process)
            if module_file is None:
                problems.append(missing_module_problem(self.project, process))
                continue
            kind = process_kind(module_file)
            if kind == "framework" and not framework_available():
                problems.append(
                    f"{_role(process)} {process.name!r}: {module_file} defines no WitWorld class, so it "
                    "would be built as a hyperpy framework app, but this hyperpy has no framework entry "
                    "point "
                    "(hyperpy.runtime.entry); define `class WitWorld` with `def init(self, our: str)` "
                    "to build it as a raw process"
                )
                continue
            found[process.wasm_file_name] = (module_file, kind)
        if problems:
            raise BuildError("\n".join(problems))
        return found

    def _plan(self) -> tuple[list[_Plan], dict[Path, Path], dict[Path, str]]:
        modules = self.modules or self._check_modules()
        site = dependency_site(self.project, self.cache)
        stage = self.cache / "stage"
        if any(kind == "framework" for _file, kind in modules.values()):
            self._describe_framework_apps(modules, site)
        sources = project_sources(self.project.root)
        sources_digest = sources.digest()
        sources_dir = sources.materialize(stage / "src", sources_digest)
        kinds = {kind for _file, kind in modules.values()}
        bindings = {name: legacy_bindings_module(file) for name, (file, _kind) in modules.items()}
        full_runtime = "framework" in kinds or site is not None or imports_hyperpy(sources)
        runtime_digest, runtime_dir = None, None
        if full_runtime or any(bindings.values()):
            # Code in kit's bindings style needs only the compatibility layer, so its components stay
            # cached while the rest of the runtime changes.
            runtime = runtime_tree() if full_runtime else runtime_tree(only=KIT_BINDINGS_FILES)
            runtime_digest = runtime.digest()
            runtime_dir = runtime.materialize(stage / "runtime", runtime_digest)
        world = world_spec(self.project.package, self.project.publisher, self.project.api_dir)
        wit_digest = world.tree.digest()
        self.wit_dir = world.tree.materialize(stage / "wit", wit_digest)
        self.world = world.world
        self.api_files = world.api_files
        originals = {sources_dir: self.project.root}
        labels = {runtime_dir: "<hyperpy runtime>"} if runtime_dir is not None else {}
        if site is not None:
            labels[site] = "<dependencies>"
        common = {
            "format": BUILD_FORMAT,
            "sources": sources_digest,
            "runtime": runtime_digest,
            "wit": wit_digest,
            "world": world.world,
            "requirements": requirements_key(guest_requirements(self.project)) if site else None,
            "componentize-py": componentize_py_version(),
            "hyperpy": _hyperpy_version(),
            "python": sys.version.split()[0],
        }
        plans = []
        for process in self.project.buildables:
            module_file, kind = modules[process.wasm_file_name]
            legacy = bindings[process.wasm_file_name]
            process_sources = sources_dir / process.source_dir if process.source_dir else sources_dir
            python_path = [runtime_dir, process_sources] if runtime_dir is not None else [process_sources]
            app_module = process.module
            entry_digest = None
            entry = None
            if kind == "framework":
                entry = entry_tree(process.name, process.module)
            elif legacy is not None:
                entry = legacy_entry_tree(process.name, process.module, legacy)
            if entry is not None:
                entry_digest = entry.digest()
                entry_dir = entry.materialize(stage / "entry", entry_digest)
                labels[entry_dir] = "<generated entry>"
                python_path.insert(0, entry_dir)
                app_module = entry_module_name(process.name)
            if site is not None:
                python_path.append(site)
            key_input = {
                **common,
                "module": process.module,
                "source_dir": process.source_dir,
                "kind": kind,
                "entry": entry_digest,
            }
            key = sha256_of(json.dumps(key_input, sort_keys=True).encode())
            wasm_cache = self.cache / "components" / f"{key[:40]}.wasm"
            plans.append(_Plan(process, kind, module_file, legacy, app_module, python_path, key, wasm_cache))
        return plans, originals, labels

    def _describe_framework_apps(
        self, modules: dict[str, tuple[Path, ProcessKind]], site: Path | None
    ) -> None:
        """Write the API WIT of framework apps (`api/*.wit`) and read what each app needs.

        This imports the apps on the host. If that import fails (host-only trouble such as newer
        syntax, or a real error), the componentize-py run reports real errors better, so the
        failure is kept and raised only if the component builds.
        """
        from hyperpy.build.witgen.from_app import ApiWitError, generate_api_wit
        from hyperpy.runtime.errors import DeclarationError

        added = [str(site)] if site is not None else []
        sys.path[:0] = added
        try:
            try:
                generate_api_wit(self.project)
            except ApiWitError as exc:
                if isinstance(exc.__cause__, Exception) and str(exc).startswith("importing process module"):
                    self.host_import_error = str(exc)
                    return
                raise BuildError(str(exc)) from exc
            except DeclarationError as exc:
                raise BuildError(f"{self.project.config_file.parent}: {exc}") from exc
            # The apps generate_api_wit just imported are read as they are (not imported again).
            loaded = {
                process.name: module
                for process in self.project.processes
                if modules[process.wasm_file_name][1] == "framework"
                and (module := sys.modules.get(process.module)) is not None
            }
            try:
                self.needs = inferred_needs(self.project, loaded)
            except (AppImportError, DeclarationError) as exc:
                raise BuildError(str(exc)) from exc
        finally:
            for entry in added:
                if entry in sys.path:
                    sys.path.remove(entry)

    # -- compiling --------------------------------------------------------------------------------

    def _compile(self, plan: _Plan, paths: GuestPaths, report: BuildReporter) -> tuple[str, float] | str:
        """Build one component into the cache; return (status, seconds) or an error message."""
        name = plan.process.name
        if plan.wasm_cache.is_file():
            mark_used(plan.wasm_cache)
            report.done(name, "[dim]cached[/dim]")
            return "cached", 0.0
        started = time.monotonic()
        components = plan.wasm_cache.parent
        components.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(prefix=f".{name}-", suffix=".wasm", dir=components)
        os.close(handle)
        temporary = Path(temporary_name)
        try:
            style = f"kit bindings {plan.bindings}, " if plan.bindings else ""
            report.step(
                name,
                f"componentize-py ({style}{plan.kind} {_role(plan.process)}, module {plan.process.module})",
            )
            job = ComponentizeJob(
                wit_dir=str(self.wit_dir),
                world=self.world,
                python_path=tuple(str(p) for p in plan.python_path),
                app_module=plan.app_module,
                output=str(temporary),
            )
            try:
                run_componentize(job)
            except ComponentizeFailure as failure:
                report.done(name, "[red]failed[/red]", ok=False)
                return translate_componentize_failure(
                    failure.report, paths_for(plan, paths), process=name, module=plan.process.module
                )
            os.replace(temporary, plan.wasm_cache)
        finally:
            temporary.unlink(missing_ok=True)
        seconds = time.monotonic() - started
        report.done(name, f"[green]built[/green] ({plan.wasm_cache.stat().st_size / 1e6:.1f} MB)")
        return "built", seconds

    # -- assembling -------------------------------------------------------------------------------

    def _previous_record(self) -> dict[str, object]:
        try:
            data = json.loads((self.project.target_dir / "hyperpy" / BUILD_RECORD).read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _own_files(self, plans: list[_Plan], record: dict[str, object]) -> dict[str, Path]:
        """The user's own files in pkg/: everything but what this build or the previous one wrote."""
        managed = {API_ZIP, *(p.process.wasm_file_name for p in plans)}
        root = self.project.root
        if self.project.user_manifest is None:
            managed.add(MANIFEST_FILE)
        if self.project.user_scripts is None and (
            self.project.scripts or written_by_hyperpy(root, SCRIPTS_FILE)
        ):
            managed.add(SCRIPTS_FILE)
        for key in ("wasm_files", "ui_files"):
            previous = record.get(key, [])
            if isinstance(previous, list):
                managed.update(str(name) for name in previous)
        return own_pkg_files(self.project.pkg_dir, managed)

    def _ui_files(self, own_files: dict[str, Path]) -> dict[str, Path]:
        """The project's UI folder(s) as pkg-relative files; missing folders fail before compiling."""
        declared = {name: needs.ui_folder for name, needs in self.needs.items()}
        try:
            return ui_files(self.project, declared, own_files)
        except UiFolderError as exc:
            raise _as_build_error(exc) from exc

    def _pkg_tree(
        self,
        plans: list[_Plan],
        generated: dict[str, bytes],
        own_files: dict[str, Path],
        ui: dict[str, Path],
    ) -> ContentTree:
        """The complete new pkg/ (`hyperpy.package.pkg_contents`, shared with a native install)."""
        includes = self.metadata_plan.metadata.properties.api_includes or []
        try:
            api = api_zip(self.project.root, self.api_files, includes, self.metadata_plan.path)
        except PkgContentsError as exc:
            raise BuildError(str(exc)) from exc
        files = pkg_files(
            own_files=own_files,
            ui=ui,
            wasm={plan.process.wasm_file_name: plan.wasm_cache for plan in plans},
            generated=generated,
            api=api,
        )
        tree = ContentTree()
        for relative, source in files.items():
            tree.add(relative, source)
        return tree

    def _user_manifest_warnings(self, manifest: list[ManifestEntry]) -> list[str]:
        """What a framework app needs that the user's own manifest does not give it (not added:
        the file is used as written; the process would fail at run time with a capability error)."""
        if self.project.user_manifest is None:
            return []
        warnings = []
        for entry in manifest:
            needs = self.needs.get(entry.process_name)
            if needs is None:
                continue
            given = {e if isinstance(e, str) else e.process for e in entry.request_capabilities}
            missing = sorted(needs.processes - given)
            if missing:
                warnings.append(
                    f"{self.project.user_manifest}: process {entry.process_name!r} uses "
                    f"{', '.join(missing)} but its request_capabilities do not list "
                    f"{'it' if len(missing) == 1 else 'them'}; your manifest is used as written, so add "
                    "them there or the process gets a capability error at run time"
                )
            if needs.networking and not entry.request_networking:
                warnings.append(
                    f"{self.project.user_manifest}: process {entry.process_name!r} messages other nodes "
                    "but has request_networking false; set it to true there"
                )
        return warnings

    def _commit(
        self,
        tree: ContentTree,
        zip_bytes: bytes,
        written: dict[str, list[str]],
        pkg_digest: str,
        generated: dict[str, bytes],
    ) -> None:
        pkg = self.project.pkg_dir
        staged = tree.materialize(self.work, pkg_digest)
        zip_path = self.project.zip_path
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        partial = zip_path.with_name(f".{zip_path.name}.partial")
        partial.write_bytes(zip_bytes)
        old = None
        if pkg.exists():
            old = self.work / f"old-pkg-{os.getpid()}-{time.monotonic_ns()}"
            os.rename(pkg, old)
        os.rename(staged, pkg)
        os.replace(partial, zip_path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.metadata_plan.write()
        record_generated(self.project.root, generated)
        record = {"pkg_digest": pkg_digest, "zip_sha256": sha256_of(zip_bytes), **written}
        (self.project.target_dir / "hyperpy" / BUILD_RECORD).write_text(json.dumps(record, indent=2))

    def _up_to_date(self, record: dict[str, object], pkg_digest: str) -> str | None:
        """The zip's sha256 if pkg/ and the zip already are exactly what this build would write."""
        zip_path = self.project.zip_path
        if (
            record.get("pkg_digest") != pkg_digest
            or not zip_path.is_file()
            or not self.project.pkg_dir.is_dir()
        ):
            return None
        if self.metadata_plan.text is not None:
            return None
        on_disk = ContentTree()
        for root, dirs, files in os.walk(self.project.pkg_dir):
            dirs.sort()
            for file_name in files:
                path = Path(root) / file_name
                on_disk.add(path.relative_to(self.project.pkg_dir).as_posix(), path)
        if on_disk.digest() != pkg_digest:
            return None
        zip_sha = sha256_file(zip_path)
        return zip_sha if zip_sha == record.get("zip_sha256") else None

    # -- the whole build --------------------------------------------------------------------------

    def run(self) -> BuildResult:
        """Build under the project's lock, in a private work directory removed afterwards.

        The lock serializes builds of one project (a test run, `hyperpy dev` and a terminal may
        build the same example at once); without it two builds would swap pkg/ under each other.
        Missing modules are reported before anything is created in the project.
        """
        self.modules = self._check_modules()
        lock = self.project.target_dir / "hyperpy" / "build.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with _project_lock(lock):
            # Created under the lock: a build finishing before we got the lock removes the root.
            self.work_root.mkdir(parents=True, exist_ok=True)
            self.work = Path(tempfile.mkdtemp(prefix="build-", dir=self.work_root))
            try:
                return self._run()
            finally:
                shutil.rmtree(self.work, ignore_errors=True)
                with contextlib.suppress(OSError):
                    self.work_root.rmdir()  # only if no other build is using it

    def _run(self) -> BuildResult:
        plans, originals, labels = self._plan()
        record = self._previous_record()
        own_files = self._own_files(plans, record)
        # Without the apps' descriptions (host import failed) the build fails after compiling anyway.
        ui = self._ui_files(own_files) if self.host_import_error is None else {}
        paths = GuestPaths((), originals, labels)
        names = [plan.process.name for plan in plans]
        outcomes: dict[str, tuple[str, float] | str] = {}
        with reporter(names, self.progress) as report:

            def compile_one(plan: _Plan) -> tuple[str, float] | str:
                return self._compile(plan, paths, report)

            with ThreadPoolExecutor(max_workers=min(self.jobs, len(plans)) or 1) as pool:
                for plan, outcome in zip(plans, pool.map(compile_one, plans), strict=True):
                    outcomes[plan.process.name] = outcome
        errors = [outcome for outcome in outcomes.values() if isinstance(outcome, str)]
        if errors:
            raise BuildError("\n\n".join(errors))
        if self.host_import_error is not None:
            host_python = sys.version.split()[0]
            raise BuildError(
                f"{self.host_import_error}\nThe module imports inside the component, but the build also "
                f"imports framework apps on this host (Python {host_python}) to write their API WIT and "
                "infer capabilities; make it importable here"
            )

        try:
            manifest = manifest_entries(self.project, self.needs)
            generated = generated_files(self.project, manifest)
        except (ProjectConfigError, ScriptsError) as exc:
            raise _as_build_error(exc) from exc
        tree = self._pkg_tree(plans, generated, own_files, ui)
        pkg_digest = tree.digest()
        zip_sha = self._up_to_date(record, pkg_digest)
        up_to_date = zip_sha is not None
        if zip_sha is None:
            staged_for_zip = tree.materialize(self.work, pkg_digest)
            zip_bytes = zip_directory_bytes(staged_for_zip, self.deflate_cache)
            zip_sha = sha256_of(zip_bytes)
            written = {"wasm_files": [p.process.wasm_file_name for p in plans], "ui_files": sorted(ui)}
            self._commit(tree, zip_bytes, written, pkg_digest, generated)
        prune(self.cache / "components", ".wasm", keep_count=KEEP_CACHED)
        self.deflate_cache.prune_disk(KEEP_CACHED)

        builds = []
        for plan in plans:
            outcome = outcomes[plan.process.name]
            assert not isinstance(outcome, str)
            status, seconds = outcome
            unit = plan.process
            if isinstance(unit, ScriptConfig):
                entry = unit.entry
                capabilities = tuple(EffectiveCapability(c, "config") for c in entry.request_capabilities)
                grants = tuple(EffectiveCapability(c, "config") for c in entry.grant_capabilities)
                networking = (entry.request_networking, "config")
            else:
                process_needs = self.needs.get(unit.name, NO_NEEDS)
                capabilities = tuple(effective_capabilities(unit, process_needs))
                grants = tuple(effective_grants(unit, process_needs))
                networking = effective_networking(unit, process_needs)
            builds.append(
                ProcessBuild(
                    name=unit.name,
                    kind=plan.kind,
                    status=status,
                    wasm_path=self.project.pkg_dir / unit.wasm_file_name,
                    wasm_size=plan.wasm_cache.stat().st_size,
                    seconds=seconds,
                    capabilities=capabilities,
                    request_networking=networking,
                    grants=grants,
                    role=_role(unit),
                    bindings=plan.bindings,
                )
            )
        yours = "yours (kept as written)"
        return BuildResult(
            project=self.project,
            zip_path=self.project.zip_path,
            sha256=zip_sha,
            pkg_dir=self.project.pkg_dir,
            processes=tuple(builds),
            manifest=tuple(manifest),
            metadata_outcome=self.metadata_plan.outcome,
            up_to_date=up_to_date,
            warnings=tuple(self._user_manifest_warnings(manifest)),
            manifest_origin=yours if self.project.user_manifest is not None else "generated",
            scripts_origin=(
                yours
                if self.project.user_scripts is not None
                else ("generated" if self.project.scripts else None)
            ),
        )


def _role(unit: Buildable) -> str:
    return "script" if isinstance(unit, ScriptConfig) else "process"


@contextlib.contextmanager
def _project_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` (POSIX flock; a no-op where fcntl does not exist)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def paths_for(plan: _Plan, paths: GuestPaths) -> GuestPaths:
    """The guest path names (/0, /1, ...) of this process's componentize-py run."""
    return GuestPaths(tuple(plan.python_path), paths.originals, paths.labels)


def stale_processes(project_dir: Path | str) -> list[str]:
    """The processes the next build would run componentize-py for (their component is not cached).

    Lets tools and tests ask what a build will do without building (inputs are staged, nothing in
    pkg/ or target/<zip> is touched).
    """
    project, metadata_plan = _load(project_dir)
    plans, _originals, _labels = _Builder(project, metadata_plan, jobs=1, progress=False)._plan()
    return [plan.process.name for plan in plans if not plan.wasm_cache.is_file()]
