"""Install a package the way the app store does (runtime-contract.md §2.6, §2.7).

Why three phases: a bad package must be refused *before* anything changes, so `prepare_package`
reads and validates everything (zip names, strict manifest, every wasm or native module present)
without touching the node; `unpack_package` builds the new package drive beside the old one and swaps
it in; `apply_package` (on the kernel loop) is the app store's sequence — per process KillProcess,
InitializeProcess with no initial caps, GrantCapabilities (requested + network + drive read/write);
then per process its manifest grants and RunProcess. Like the app store there is no rollback once the
kernel phase has begun (it only fails if the kernel refuses, which validation makes unlikely).

Sources: zip bytes, a `.zip` path, a built `pkg/` directory, or a project directory (its `pkg/`, or —
native mode only — its `[tool.hyperpy]` config when it has not been built yet, planned into the pkg/
the build would write: the manifest with inferred requests and grants, the UI folder, the user's own
pkg/ files). Directories are zipped with kit's deterministic writer, so `version_hash` equals what
`hyperpy build` reports.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperpy.node.kernel_json import on_exit_from_json, serde_json_text
from hyperpy.node.runners.native import NativeLoadError, NativeModuleRef
from hyperpy.node.runners.native_guard import guest_code
from hyperpy.node.well_known import KERNEL_PROCESS_ID, drive_caps, messaging_cap, network_cap
from hyperpy.node.wit_types import Address, Capability, PackageId, ProcessId
from hyperpy.package.archive import PackageZip, PackageZipError, sha256_bytes, zip_directory_bytes
from hyperpy.package.cache import DeflateCache
from hyperpy.package.kit_layout import is_project_dir
from hyperpy.package.manifest import (
    MANIFEST_FILE,
    CapabilityGrant,
    ManifestEntry,
    ManifestError,
    parse_manifest,
)
from hyperpy.package.metadata import MetadataError, parse_metadata, plan_metadata
from hyperpy.package.pkg_contents import API_ZIP, PkgContentsError, api_wit_files, api_zip, pkg_files
from hyperpy.package.process_module import AppImportError, inferred_needs
from hyperpy.package.project import (
    InferredNeeds,
    Project,
    ProjectConfigError,
    generated_files,
    load_project,
    manifest_entries,
)
from hyperpy.package.ui_folder import UiFolderError, own_pkg_files, ui_files

if TYPE_CHECKING:
    from hyperpy.node.kernel import Kernel

MODES = ("component", "native")
METADATA_FILE = "metadata.json"


class InstallError(Exception):
    """The package was refused; the message names the problem and the fix. The node is unchanged."""


@dataclass(frozen=True)
class InstalledPackage:
    """What `Node.install` installed."""

    package_id: PackageId
    version_hash: str
    processes: list[ProcessId]
    mode: str


@dataclass
class PreparedPackage:
    """A validated package, ready to unpack and start."""

    package_id: PackageId
    zip_bytes: bytes
    version_hash: str
    files: PackageZip
    manifest: list[ManifestEntry]
    wit_version: int | None
    mode: str
    natives: dict[str, NativeModuleRef]  # wasm file name (no leading '/') -> module

    @property
    def drive(self) -> str:
        return f"/{self.package_id}/pkg"

    def process_id(self, entry: ManifestEntry) -> ProcessId:
        return ProcessId(entry.process_name, self.package_id.package_name, self.package_id.publisher_node)


# ============================================================================================ prepare


# In memory only: installs zip the same components again and again within one process (a dev loop,
# a test session); `hyperpy.package.cache.DeflateCache` is the one deflate cache, shared with the build.
_deflate_cache = DeflateCache()


def prepare_package(
    source: str | Path | bytes,
    *,
    mode: str = "component",
    package_id: str | PackageId | None = None,
    native_modules: Mapping[str, str | Path | NativeModuleRef] | None = None,
) -> PreparedPackage:
    """Read and validate a package without changing anything; raise InstallError on any problem."""
    if mode not in MODES:
        raise InstallError(f"unknown install mode {mode!r}: use 'component' (the .wasm) or 'native' (Python)")
    try:
        return _prepare(source, mode, package_id, native_modules or {})
    except (
        PackageZipError,
        ManifestError,
        MetadataError,
        ProjectConfigError,
        NativeLoadError,
        UiFolderError,
    ) as exc:
        raise InstallError(f"{_describe_source(source)}: {exc}") from None


def _describe_source(source: str | Path | bytes) -> str:
    return f"package zip ({len(source)} bytes)" if isinstance(source, bytes) else str(source)


def _prepare(
    source: str | Path | bytes,
    mode: str,
    package_id: str | PackageId | None,
    native_modules: Mapping[str, str | Path | NativeModuleRef],
) -> PreparedPackage:
    project: Project | None = None
    metadata_path: Path | None = None
    name_hint: str | None = None
    if isinstance(source, bytes):
        zip_bytes = source
    else:
        path = Path(source)
        if path.is_file():
            zip_bytes = path.read_bytes()
            name_hint = path.name.removesuffix(".zip")
        elif path.is_dir():
            project, pkg_dir = _package_directory(path, mode)
            metadata_path = (pkg_dir.parent if pkg_dir is not None else path) / METADATA_FILE
            if pkg_dir is not None:
                zip_bytes = zip_directory_bytes(pkg_dir, _deflate_cache)
            else:
                assert project is not None
                zip_bytes = _synthesized_zip(project)
        else:
            raise InstallError(
                f"{path}: no such file or directory (pass a package zip, a pkg/ or a project directory)"
            )

    files = PackageZip(zip_bytes, _describe_source(source))
    if not files.has_file(MANIFEST_FILE):
        raise InstallError(
            f"{_describe_source(source)}: no manifest.json at the top of the package "
            "(a package zip holds the contents of pkg/, with manifest.json at its root)"
        )
    manifest = parse_manifest(files.read(MANIFEST_FILE), f"{_describe_source(source)}: manifest.json")
    metadata = (
        parse_metadata(metadata_path.read_bytes(), str(metadata_path))
        if metadata_path and metadata_path.is_file()
        else None
    )
    resolved_id = _package_id(package_id, project, metadata, name_hint, source)
    wit_version = metadata.properties.wit_version if metadata is not None else None

    natives: dict[str, NativeModuleRef] = {}
    if mode == "native":
        natives = _native_refs(manifest, project, native_modules, source)
    else:
        missing = [e.process_wasm_path for e in manifest if not files.has_file(e.wasm_file_name)]
        if missing:
            raise InstallError(
                f"{_describe_source(source)}: manifest names {', '.join(missing)} but the package has no "
                "such file; build the package first (hyperpy build) or install it with mode='native'"
            )
    return PreparedPackage(
        resolved_id, zip_bytes, sha256_bytes(zip_bytes), files, manifest, wit_version, mode, natives
    )


def _package_directory(path: Path, mode: str) -> tuple[Project | None, Path | None]:
    """(project or None, the pkg/ directory to zip or None when native mode synthesizes it)."""
    if (path / MANIFEST_FILE).is_file():
        return None, path
    project = load_project(path) if is_project_dir(path) else None
    if (path / "pkg" / MANIFEST_FILE).is_file():
        return project, path / "pkg"
    if project is not None and mode == "native":
        return project, None
    raise InstallError(
        f"{path}: not a package: expected pkg/manifest.json (run `hyperpy build` first) or manifest.json; "
        "an unbuilt project can be installed with mode='native'"
    )


def _synthesized_zip(project: Project) -> bytes:
    """A pkg/ for an unbuilt project in native mode: what `hyperpy build` would put there.

    Same planner, same inferred needs, so a framework app that serves HTTP gets http-server (and
    timer, ...) requested *and granted* natively exactly as its built component would, without listing
    them by hand; the project's UI folder is copied into `pkg/ui/` by the build's own rule
    (`hyperpy.package.ui_folder.ui_files`), the user's own files in `pkg/` are kept, and `api.zip`
    holds the package's API as the build writes it (`hyperpy.package.pkg_contents`).
    """
    needs = _inferred_needs(project)
    manifest = manifest_entries(project, needs)
    generated = generated_files(project, manifest)
    managed = {*generated, API_ZIP, *(unit.wasm_file_name for unit in project.buildables)}
    own_files = own_pkg_files(project.pkg_dir, managed)
    declared = {name: process_needs.ui_folder for name, process_needs in needs.items()}
    try:
        metadata = plan_metadata(
            project.root,
            package=project.package,
            publisher=project.publisher,
            version=project.version,
            description=project.description,
        )
        api = api_zip(
            project.root,
            api_wit_files(project.api_dir),
            metadata.metadata.properties.api_includes or [],
            metadata.path,
        )
    except (MetadataError, PkgContentsError) as exc:
        raise InstallError(str(exc)) from None
    files = pkg_files(
        own_files=own_files,
        ui=ui_files(project, declared, own_files),
        wasm={},
        generated=generated,
        api=api,
    )
    with tempfile.TemporaryDirectory() as temporary:
        pkg = Path(temporary)
        for relative, source in files.items():
            target = pkg / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                target.write_bytes(source)
            else:
                shutil.copyfile(source, target)
        return zip_directory_bytes(pkg, _deflate_cache)


def _inferred_needs(project: Project) -> dict[str, InferredNeeds]:
    """What each framework process needs, read from its app as the build reads it
    (`hyperpy.package.process_module.inferred_needs`, the one rule for both).

    Done also when `infer_capabilities` is off: the app's UI folder must reach the package either way
    (the manifest planner itself leaves out inferred capabilities then). A module that is missing,
    fails to import or declares a wrong app refuses the install, as it fails `hyperpy build`:
    otherwise it would only show up later as a process that cannot load.
    """
    from hyperpy.runtime.errors import DeclarationError

    try:
        # guarded as native mode is: a native extension import refuses the install here, where
        # the build would refuse it (the refusal's message is the install error's)
        with guest_code(lambda line: None):
            return inferred_needs(project)
    except (AppImportError, DeclarationError) as exc:
        raise InstallError(str(exc)) from None


def _package_id(
    explicit: str | PackageId | None,
    project: Project | None,
    metadata: Any,
    name_hint: str | None,
    source: str | Path | bytes,
) -> PackageId:
    candidates: list[str] = []
    if explicit is not None:
        candidates.append(str(explicit))
    if project is not None:
        candidates.append(project.package_id)
    if metadata is not None:
        candidates.append(metadata.package_id)
    if name_hint is not None:
        candidates.append(name_hint)
    for text in candidates:
        try:
            return PackageId.parse(text)
        except ValueError:
            if text is candidates[0] and explicit is not None:
                raise InstallError(f"package_id {text!r} is not 'package:publisher'") from None
    raise InstallError(
        f"{_describe_source(source)}: can't tell the package id: name the zip '<package>:<publisher>.zip', "
        "keep metadata.json next to pkg/, or pass package_id='package:publisher'"
    )


def _native_refs(
    manifest: list[ManifestEntry],
    project: Project | None,
    native_modules: Mapping[str, str | Path | NativeModuleRef],
    source: str | Path | bytes,
) -> dict[str, NativeModuleRef]:
    refs: dict[str, NativeModuleRef] = {}
    if project is not None:
        # Scripts too: the terminal spawns them from their wasm path like any process.
        for unit in project.buildables:
            refs[unit.wasm_file_name] = NativeModuleRef(unit.module, str(project.source_root(unit)))
    for key, value in native_modules.items():
        name = key.lstrip("/")
        if not name.endswith(".wasm"):
            raise InstallError(f"native_modules key {key!r}: expected a wasm file name such as 'echo.wasm'")
        refs[name] = value if isinstance(value, NativeModuleRef) else NativeModuleRef.parse(value)
    missing = [e.process_wasm_path for e in manifest if e.wasm_file_name not in refs]
    if missing:
        raise InstallError(
            f"{_describe_source(source)}: native mode needs a Python module for {', '.join(missing)}; pass "
            "native_modules={'<file>.wasm': 'module.py'} or install the project directory"
        )
    return refs


# ============================================================================================= unpack


def package_drive_dir(home: Path, package_id: PackageId) -> Path:
    return home / "vfs" / str(package_id) / "pkg"


def unpack_package(prepared: PreparedPackage, home: Path) -> Path:
    """Write the package drive: new tree beside the old, then swapped in. Returns the drive path."""
    drive = package_drive_dir(home, prepared.package_id)
    drive.parent.mkdir(parents=True, exist_ok=True)
    suffix = secrets.token_hex(4)
    staging = drive.with_name(f".pkg.new-{suffix}")
    try:
        prepared.files.extract_to(staging)
        for name, ref in prepared.natives.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ref.to_marker())
        (staging / f"{prepared.package_id}.zip").write_bytes(prepared.zip_bytes)
        if prepared.files.has_file("api.zip"):
            try:
                PackageZip(prepared.files.read("api.zip"), "api.zip").extract_to(staging / "api")
            except PackageZipError:
                shutil.rmtree(staging / "api", ignore_errors=True)
        old = drive.with_name(f".pkg.old-{suffix}")
        if drive.exists():
            drive.rename(old)
        staging.rename(drive)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return drive


# ============================================================================================== apply


def requested_capabilities(node: str, entries: list[str | CapabilityGrant]) -> list[Capability]:
    """App store `parse_capabilities`: a process id string → messaging; an object → JSON text of params."""
    caps = []
    for entry in entries:
        if isinstance(entry, str):
            caps.append(messaging_cap(node, ProcessId.parse(entry)))
        else:
            caps.append(
                Capability(Address(node, ProcessId.parse(entry.process)), serde_json_text(entry.params))
            )
    return caps


def apply_package(kernel: Kernel, prepared: PreparedPackage, home: Path) -> list[ProcessId]:
    """The app store's kernel sequence. Run on the kernel loop (via `Kernel.call`)."""
    node = kernel.name
    drive_dir = package_drive_dir(home, prepared.package_id)
    started: list[ProcessId] = []
    # Read each wasm once: processes sharing a file (several entries, one component) share the bytes.
    codes: dict[str, bytes] = {}
    for entry in prepared.manifest:
        process_id = prepared.process_id(entry)
        kernel.kill_process(process_id, revoke=True)
        if entry.wasm_file_name not in codes:
            codes[entry.wasm_file_name] = (drive_dir / entry.wasm_file_name).read_bytes()
        code = codes[entry.wasm_file_name]
        on_exit = on_exit_from_json(entry.model_dump(mode="json")["on_exit"])
        if not kernel.initialize_process(
            process_id,
            f"{prepared.drive}/{entry.wasm_file_name}",
            prepared.wit_version,
            on_exit,
            [],
            entry.public,
            code,
            initializer=KERNEL_PROCESS_ID,
        ):
            raise InstallError(
                f"{process_id}: the kernel refused to initialize the process (see the terminal)"
            )
        caps = requested_capabilities(node, list(entry.request_capabilities))
        if entry.request_networking:
            caps.append(network_cap(node))
        caps.extend(drive_caps(node, prepared.drive))
        kernel.add_capabilities(process_id, caps)
    for entry in prepared.manifest:
        process_id = prepared.process_id(entry)
        issuer = Address(node, process_id)
        for grant in entry.grant_capabilities:
            if isinstance(grant, str):
                kernel.add_capabilities(ProcessId.parse(grant), [messaging_cap(node, process_id)])
            else:
                params = serde_json_text(grant.params)
                kernel.add_capabilities(ProcessId.parse(grant.process), [Capability(issuer, params)])
        if not kernel.run_process(process_id):
            raise InstallError(f"{process_id}: the kernel could not start the process (see the terminal)")
        started.append(process_id)
    kernel.printout(
        1,
        f"installed {prepared.package_id} ({prepared.version_hash[:12]}, {prepared.mode} mode): "
        + ", ".join(str(p) for p in started),
    )
    return started
