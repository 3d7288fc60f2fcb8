"""`hyperpy check PATH`: will a real Hyperware node load this? Answered before deployment.

A node reports most packaging mistakes late and quietly: a process whose component imports something
the kernel does not link "failed to instantiate" and is left a zombie; a manifest with a missing
field fails the app-store install; a non-hypermap-safe name is dropped at boot (runtime-contract.md
§1.1, §2.2, §2.5, §2.7). This command checks the same things up front and prints one line per
problem, each naming the file, the field and the fix.

PATH may be:
* a `.wasm` file - the component ABI checks only;
* a `pkg/` directory (has `manifest.json`) - manifest, every process wasm, `scripts.json` wasm, and
  `../metadata.json` when present;
* a package directory (has `pkg/`) - the same, plus `metadata.json` (required there);
* a package zip (`target/<package>:<publisher>.zip`) - its entries as a node unpacks them, plus
  `../metadata.json` when the zip sits in a package's `target/`.

The manifest and metadata rules are the package models' (`hyperpy.package`), so check, build and
the local node agree on them; the component facts come from `hyperpy.build.component_abi`.
"""

from __future__ import annotations

import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

import click

from hyperpy.build.component_abi import (
    KIND_COMPONENT,
    KIND_CORE_MODULE,
    ComponentFacts,
    inspect_component,
)
from hyperpy.package.archive import PackageZip, PackageZipError
from hyperpy.package.kit_layout import is_project_dir
from hyperpy.package.manifest import MANIFEST_FILE, ManifestEntry, ManifestError, parse_manifest
from hyperpy.package.metadata import METADATA_FILE, MetadataError, PackageMetadata, parse_metadata
from hyperpy.package.problems import Problem
from hyperpy.package.scripts import SCRIPTS_FILE, ScriptsError, parse_scripts
from hyperpy.runtime import jsonwire

STANDARD_INTERFACE = "hyperware:process/standard@1.0.0"
STANDARD_PACKAGE_PREFIX = "hyperware:process/"

# The imports of the WASI 0.2 command world (`wasi:cli/imports`): exactly what
# `wasmtime_wasi::p2::add_to_linker_async` links in Hyperdrive. Nothing else from WASI is available
# (no wasi:http, wasi:keyvalue, ...), and only the 0.2 series (semver-compatible patch versions).
WASI_P2_COMMAND_INTERFACES = frozenset(
    {
        "wasi:cli/environment",
        "wasi:cli/exit",
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/stderr",
        "wasi:cli/terminal-input",
        "wasi:cli/terminal-output",
        "wasi:cli/terminal-stdin",
        "wasi:cli/terminal-stdout",
        "wasi:cli/terminal-stderr",
        "wasi:clocks/monotonic-clock",
        "wasi:clocks/wall-clock",
        "wasi:filesystem/types",
        "wasi:filesystem/preopens",
        "wasi:io/error",
        "wasi:io/poll",
        "wasi:io/streams",
        "wasi:random/random",
        "wasi:random/insecure",
        "wasi:random/insecure-seed",
        "wasi:sockets/network",
        "wasi:sockets/instance-network",
        "wasi:sockets/udp",
        "wasi:sockets/udp-create-socket",
        "wasi:sockets/tcp",
        "wasi:sockets/tcp-create-socket",
        "wasi:sockets/ip-name-lookup",
    }
)
_WASI_NAME_RE = re.compile(r"^(wasi:[a-z0-9-]+/[a-z0-9-]+)(?:@(\d+)\.(\d+)\.(\d+)(?:[-+].*)?)?$")
_INIT_RE = re.compile(r"^func\([a-z0-9-]+: string\)$")
INIT_EXPECTED = "init: func(our: string)"
_USE_OUR_WIT = "build against hyperpy's wit/hyperware.wit (hyperware:process@1.0.0), not a modified copy"


def standard_signatures() -> dict[str, str]:
    """The functions of `hyperware:process/standard@1.0.0` as wasmtime types them (shipped data).

    Generated from a component built from hyperpy's `wit/hyperware.wit`; a test rebuilds it and
    compares, so this file cannot drift from the WIT.
    """
    text = resources.files("hyperpy.build").joinpath("standard_abi.json").read_text(encoding="utf-8")
    functions: dict[str, str] = jsonwire.loads(text)["functions"]
    return functions


def strip_parameter_names(signature: str) -> str:
    """`func(a: u8, b: string) -> x` -> `func(u8, string) -> x`: wasmtime links by types, not names."""
    if not signature.startswith("func("):
        return signature
    depth = 0
    for index, char in enumerate(signature):
        if char in "(<{":
            depth += 1
        elif char in ")>}":
            depth -= 1
            if depth == 0:
                inner, rest = signature[5:index], signature[index + 1 :]
                break
    else:
        return signature
    params, current, depth = [], "", 0
    for char in inner:
        if char in "(<{":
            depth += 1
        elif char in ")>}":
            depth -= 1
        if char == "," and depth == 0:
            params.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        params.append(current)
    types = [param.split(":", 1)[1].strip() for param in params]  # describe_func always names params
    return f"func({', '.join(types)}){rest}"


# ---------------------------------------------------------------------------------------------------
# Component ABI


def component_problems(facts: ComponentFacts, file: str) -> list[Problem]:
    """Every reason a Hyperware node would refuse this binary, one Problem each."""
    if facts.kind == KIND_CORE_MODULE:
        return [
            Problem(
                file,
                "",
                "is a core WebAssembly module, not a component; Hyperdrive loads only components "
                "(it reports 'invalid wasm file')",
                "build the process with `hyperpy build` (componentize-py emits a component), or wrap a "
                "core module with `wasm-tools component new`",
            )
        ]
    if facts.kind != KIND_COMPONENT:
        return [
            Problem(
                file,
                "",
                "is not a WebAssembly binary (no '\\0asm' header)",
                "point at the .wasm that `hyperpy build` wrote to pkg/",
            )
        ]
    if facts.validation_error is not None:
        if facts.feature:
            message = (
                f"uses the WebAssembly feature {facts.feature}, which Hyperdrive's wasmtime 33 does not "
                f"enable, so the node cannot load it [{facts.validation_error}]"
            )
            fix = f"build without {facts.feature} (for Python: plain `hyperpy build`, no async/WASIp3 world)"
        else:
            message = (
                "does not validate under the WebAssembly features Hyperdrive's wasmtime 33 enables "
                f"[{facts.validation_error}]"
            )
            fix = "rebuild it with `hyperpy build`; a hand-made component must stick to wasm 2.0 features"
        return [Problem(file, "wasm features", message, fix)]
    problems: list[Problem] = []
    for name, functions in sorted(facts.imports.items()):
        problems.extend(_import_problems(name, functions, file))
    problems.extend(_export_problems(facts.exports, file))
    return problems


def _import_problems(name: str, functions: dict[str, str], file: str) -> list[Problem]:
    where = f"import {name}"
    if name == STANDARD_INTERFACE:
        return _standard_problems(functions, file)
    if name.startswith(STANDARD_PACKAGE_PREFIX):
        return [
            Problem(
                file,
                where,
                f"Hyperdrive provides only {STANDARD_INTERFACE}",
                "build against hyperpy's WIT: world `process-v1` of package hyperware:process@1.0.0",
            )
        ]
    wasi = _WASI_NAME_RE.match(name)
    if wasi:
        interface, major, minor = wasi.group(1), wasi.group(2), wasi.group(3)
        if interface not in WASI_P2_COMMAND_INTERFACES:
            return [
                Problem(
                    file,
                    where,
                    f"{interface} is not part of the WASI 0.2 command world (wasi:cli/imports), the only "
                    "WASI Hyperdrive links, so instantiation fails",
                    "stop using it: remove it from your WIT world and avoid Python modules that need it",
                )
            ]
        if (major, minor) != ("0", "2"):
            version = f"{major}.{minor}" if major is not None else "an unversioned"
            return [
                Problem(
                    file,
                    where,
                    f"imports WASI {version} interface; Hyperdrive links WASI 0.2 (p2) only",
                    "build with componentize-py 0.25 (WASI 0.2.x) and without a WASIp3/async world",
                )
            ]
        return []
    return [
        Problem(
            file,
            where,
            f"foreign import: Hyperdrive satisfies only {STANDARD_INTERFACE} and WASI 0.2 interfaces, "
            "so the node fails to instantiate this process",
            "remove the import from your WIT world; reach another package's API by messaging its process, "
            "or compose the provider in at build time with `wasm-tools compose`",
        )
    ]


def _standard_problems(functions: dict[str, str], file: str) -> list[Problem]:
    expected = standard_signatures()
    problems = []
    for function, signature in sorted(functions.items()):
        where = f"import {STANDARD_INTERFACE} function {function}"
        if function not in expected:
            problems.append(
                Problem(
                    file,
                    where,
                    "Hyperdrive's standard interface has no such function",
                    _USE_OUR_WIT,
                )
            )
        elif strip_parameter_names(signature) != strip_parameter_names(expected[function]):
            problems.append(
                Problem(
                    file,
                    where,
                    f"signature differs from Hyperdrive's: found {signature}, expected {expected[function]}",
                    _USE_OUR_WIT,
                )
            )
    return problems


def _export_problems(exports: dict[str, str], file: str) -> list[Problem]:
    signature = exports.get("init")
    if signature is None:
        return [
            Problem(
                file,
                "export init",
                f"the component does not export `{INIT_EXPECTED}`, which Hyperdrive calls to start it",
                "target the world `process-v1` (or `include process-v1` in yours) and define "
                "`class WitWorld` with `def init(self, our: str) -> None`",
            )
        ]
    if not _INIT_RE.match(signature):
        return [
            Problem(
                file,
                "export init",
                f"exported as `init: {signature}`; Hyperdrive calls `{INIT_EXPECTED}` and no other type",
                "export exactly `init: func(our: string)` (no result, one string parameter): "
                "`include process-v1` instead of declaring init yourself",
            )
        ]
    return []


def summarize_component(facts: ComponentFacts) -> str:
    """One line: size, what it imports, what it exports."""
    wasi_versions = sorted(
        {name.split("@", 1)[1] for name in facts.imports if name.startswith("wasi:") and "@" in name}
    )
    wasi_count = sum(1 for name in facts.imports if name.startswith("wasi:"))
    others = sorted(name for name in facts.imports if not name.startswith("wasi:"))
    parts = [*others]
    if wasi_count:
        parts.append(f"{wasi_count} WASI {'/'.join(wasi_versions) or ''} interfaces".replace("  ", " "))
    return (
        f"{facts.size / 1e6:.1f} MB component, imports {' + '.join(parts) or 'nothing'}, "
        f"exports init: {facts.exports.get('init', '?')}"
    )


# ---------------------------------------------------------------------------------------------------
# Package files: a directory or a zip, read the same way


class PackageFiles(Protocol):
    def unbuilt(self, name: str) -> str | None:
        """How to make a missing wasm when `hyperpy build` would (a project directory), else None."""
        ...

    def read(self, name: str) -> bytes | None:
        """Bytes of `name` (relative to pkg/, leading '/' allowed), or None when absent."""
        ...

    def label(self, name: str) -> str:
        """How to name `name` in a message, e.g. `pkg/echo.wasm` or `target/x.zip!echo.wasm`."""
        ...


@dataclass
class _DirectoryFiles:
    root: Path
    prefix: str
    # The project beside pkg/ when it builds with `hyperpy build` (pyproject or kit layout).
    project: Path | None = None

    def read(self, name: str) -> bytes | None:
        path = self.root / name.lstrip("/")
        return path.read_bytes() if path.is_file() else None

    def label(self, name: str) -> str:
        return f"{self.prefix}{name.lstrip('/')}"

    def unbuilt(self, name: str) -> str | None:
        """The fix for a missing wasm that `hyperpy build` would make: None if it would not."""
        if self.project is None:
            return None
        stem = name.lstrip("/").removesuffix(".wasm")
        source = self.project / stem / "src" / "lib.py"
        if source.is_file():
            return f"not built yet: run `hyperpy build` (it builds {name.lstrip('/')} from {stem}/src/lib.py)"
        return "not built yet: run `hyperpy build`"


@dataclass
class _ZipFiles:
    archive: PackageZip
    prefix: str

    def unbuilt(self, name: str) -> str | None:
        return None

    def read(self, name: str) -> bytes | None:
        return self.archive.read(name) if self.archive.has_file(name) else None

    def label(self, name: str) -> str:
        return f"{self.prefix}{name.lstrip('/')}"


# ---------------------------------------------------------------------------------------------------
# The report


@dataclass
class CheckReport:
    """What `hyperpy check` found: problems (empty = the package is fine) and a short summary."""

    target: str
    problems: list[Problem] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


Progress = Callable[[str], None]


def _no_progress(_: str) -> None:
    return None


def check_path(path: Path | str, progress: Progress = _no_progress) -> CheckReport:
    """Check a `.wasm`, `pkg/` dir, package dir or package zip; see the module docstring."""
    path = Path(path)
    report = CheckReport(str(path))
    if not path.exists():
        report.problems.append(
            Problem(str(path), "", "does not exist", "pass a .wasm, a pkg/ directory, a package dir or a zip")
        )
    elif path.is_dir():
        _check_directory(path, report, progress)
    elif path.name in (MANIFEST_FILE, METADATA_FILE):  # a file of the package: check the package
        _check_directory(path.parent, report, progress)
    elif zipfile.is_zipfile(path):
        _check_zip(path, report, progress)
    else:
        label = _display(path)
        _check_component(path.read_bytes(), label, label, report, progress)
    return report


def _check_component(data: bytes, label: str, title: str, report: CheckReport, progress: Progress) -> None:
    """Inspect one wasm file: its problems go to `report`, and `<title>: <summary>` if it validates."""
    progress(label)
    facts = inspect_component(data)
    report.problems.extend(component_problems(facts, label))
    if facts.validates:
        report.summary.append(f"{title}: {summarize_component(facts)}")


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _check_directory(path: Path, report: CheckReport, progress: Progress) -> None:
    if (path / MANIFEST_FILE).is_file():
        pkg_dir, package_dir, metadata_required = path, path.parent, False
    elif (path / "pkg").is_dir():
        pkg_dir, package_dir, metadata_required = path / "pkg", path, True
    else:
        built_here = is_project_dir(path)
        report.problems.append(
            Problem(
                _display(path),
                "",
                "has no pkg/manifest.json" + (" (the package is not built yet)" if built_here else ""),
                "run `hyperpy build` first" if built_here else "pass a package directory, pkg/ or a zip",
            )
        )
        return
    project = package_dir if is_project_dir(package_dir) else None
    files = _DirectoryFiles(pkg_dir, _display(pkg_dir).rstrip("/") + "/", project)
    _check_package(files, report, progress)
    _check_metadata_file(package_dir / METADATA_FILE, report, required=metadata_required)


def _check_zip(path: Path, report: CheckReport, progress: Progress) -> None:
    label = _display(path)
    try:
        archive = PackageZip(path.read_bytes(), label)
    except PackageZipError as exc:
        report.problems.append(Problem(label, "", str(exc), "rebuild the zip with `hyperpy build`"))
        return
    if not archive.has_file(MANIFEST_FILE) and archive.has_file(f"pkg/{MANIFEST_FILE}"):
        report.problems.append(
            Problem(
                label,
                "entries",
                "entries sit under pkg/, but a node expects manifest.json at the zip root",
                "zip the contents of pkg/, not the directory (as `hyperpy build` and kit do)",
            )
        )
        return
    _check_package(_ZipFiles(archive, f"{label}!"), report, progress)
    metadata_file = path.parent.parent / METADATA_FILE
    if path.parent.name == "target" and metadata_file.is_file():
        metadata = _check_metadata_file(metadata_file, report, required=True)
        expected = f"{metadata.package_id}.zip" if metadata else None
        if expected and path.name != expected:
            report.problems.append(
                Problem(
                    label,
                    "file name",
                    f"does not match metadata.json's package id (expected {expected})",
                    "rebuild with `hyperpy build`, which names the zip <package>:<publisher>.zip",
                )
            )


def _check_package(files: PackageFiles, report: CheckReport, progress: Progress) -> None:
    manifest_label = files.label(MANIFEST_FILE)
    manifest_bytes = files.read(MANIFEST_FILE)
    entries: list[ManifestEntry] = []
    wasm_paths: list[tuple[int, str, str]] = []  # (entry index, process name, process_wasm_path)
    if manifest_bytes is None:
        report.problems.append(
            Problem(manifest_label, "", "is missing", "every package needs one: run `hyperpy build`")
        )
    else:
        try:
            entries = parse_manifest(manifest_bytes, manifest_label)
            wasm_paths = [(i, e.process_name, e.process_wasm_path) for i, e in enumerate(entries)]
        except ManifestError as exc:
            report.problems.extend(exc.problems)
            wasm_paths = _wasm_paths_of_invalid_manifest(manifest_bytes)
    for index, process_name, wasm_path in wasm_paths:
        data = files.read(wasm_path)
        if data is None:
            report.problems.append(
                Problem(
                    manifest_label,
                    f"[{index}].process_wasm_path",
                    f"{wasm_path} does not exist in the package",
                    files.unbuilt(wasm_path)
                    or "build the process with `hyperpy build`, or point process_wasm_path at an existing "
                    ".wasm",
                )
            )
            continue
        label = files.label(wasm_path)
        _check_component(data, label, f"process {process_name}: {label}", report, progress)
    if entries:
        report.summary.insert(0, f"{manifest_label}: {len(entries)} process(es), schema ok")
    _check_scripts(files, report, progress)


def _wasm_paths_of_invalid_manifest(manifest_bytes: bytes) -> list[tuple[int, str, str]]:
    """The wasm paths a schema-invalid manifest still names, so one run reports every problem."""
    try:
        raw = jsonwire.loads(manifest_bytes)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(raw, list):
        return []
    found = []
    for index, entry in enumerate(raw):
        if isinstance(entry, dict) and isinstance(entry.get("process_wasm_path"), str):
            path = entry["process_wasm_path"]
            if path.endswith(".wasm") and ".." not in path:
                found.append((index, str(entry.get("process_name", f"#{index}")), path))
    return found


def _check_scripts(files: PackageFiles, report: CheckReport, progress: Progress) -> None:
    """`scripts.json` names more wasm files run as processes (terminal scripts): same ABI rules."""
    raw = files.read(SCRIPTS_FILE)
    if raw is None:
        return
    label = files.label(SCRIPTS_FILE)
    try:
        scripts = parse_scripts(raw, label)
    except ScriptsError as exc:
        report.problems.extend(exc.problems)
        return
    for name in sorted(scripts):
        data = files.read(name)
        if data is None:
            report.problems.append(
                Problem(
                    label,
                    name,
                    f"{name} does not exist in the package",
                    files.unbuilt(name) or "build it or remove the entry",
                )
            )
            continue
        _check_component(data, files.label(name), f"script {name}", report, progress)


def _check_metadata_file(path: Path, report: CheckReport, *, required: bool) -> PackageMetadata | None:
    label = _display(path)
    if not path.is_file():
        if required:
            report.problems.append(
                Problem(
                    label,
                    "",
                    "is missing (kit, `kit start-package` and the app store read it)",
                    "run `hyperpy build`, which creates it",
                )
            )
        return None
    try:
        metadata = parse_metadata(path.read_bytes(), label)
    except MetadataError as exc:
        report.problems.extend(exc.problems)
        return None
    props = metadata.properties
    report.summary.append(f"{label}: {metadata.package_id} {props.current_version} (in code_hashes)")
    return metadata


# ---------------------------------------------------------------------------------------------------
# Command line


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=Path("."))
def check_command(path: Path) -> None:
    """Check that a real Hyperware node will load PATH (a .wasm, pkg/ dir, package dir or zip).

    Prints one line per problem (file: field: problem (fix)) and exits 1, or a short summary and 0.
    """

    def progress(label: str) -> None:
        if sys.stderr.isatty():  # compiling takes seconds per component; say what is going on
            click.echo(f"checking {label} ...", err=True)

    report = check_path(path, progress)
    if report.problems:
        for problem in report.problems:
            click.echo(str(problem))
        count = len(report.problems)
        click.echo(
            f"{count} problem{'s' if count != 1 else ''}: a Hyperware node would not load {report.target}",
            err=True,
        )
        sys.exit(1)
    for line in report.summary:
        click.echo(line)
    click.echo(f"ok: a Hyperware node will load {report.target}")
