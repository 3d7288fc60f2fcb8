"""The project's `[project].dependencies`, installed once into a cached site directory for the guest.

Why a separate site: the component must contain exactly the app's declared dependencies, not
whatever happens to be installed next to hyperpy (componentize-py's command line would add the
host's site-packages on its own; we call it with an explicit path instead). The site is keyed by the
requirement list and the host Python, installed with pip into a temporary directory and renamed
into place, so a failed install never leaves a half-filled site behind.

Native extension modules (`.so`, `.pyd`) are compiled for the build machine; componentize-py can
only link wasm32-wasi builds, which PyPI does not carry. A dependency that ships one is refused
here, naming the distribution and the module, instead of failing later with an import error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hyperpy.build.errors import BuildError
from hyperpy.package.project import Project

# Requirements satisfied by the staged hyperpy runtime rather than by installation.
PROVIDED_BY_HYPERPY = frozenset({"hyperpy", "msgpack"})
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement (`Foo_Bar>=1` -> `foo-bar`)."""
    match = _NAME.match(requirement)
    if not match:
        raise BuildError(f"dependency {requirement!r} in [project].dependencies is not a valid requirement")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def guest_requirements(project: Project) -> tuple[str, ...]:
    """The requirements to install for the guest (hyperpy and msgpack come with the runtime)."""
    return tuple(r for r in project.dependencies if requirement_name(r) not in PROVIDED_BY_HYPERPY)


def requirements_key(requirements: tuple[str, ...]) -> str:
    payload = json.dumps(
        {"requirements": sorted(requirements), "python": sys.version_info[:2], "platform": sys.platform}
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _record_owners(site: Path) -> dict[str, str]:
    """Installed file (relative to site) -> distribution name, from each *.dist-info/RECORD."""
    owners: dict[str, str] = {}
    for record in site.glob("*.dist-info/RECORD"):
        distribution = record.parent.name.split("-")[0]
        for line in record.read_text(encoding="utf-8", errors="replace").splitlines():
            path = line.split(",", 1)[0]
            if path:
                owners[os.path.normpath(path)] = distribution
    return owners


def _requested(report: Path) -> set[str]:
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return set()
    return {
        requirement_name(item["metadata"]["name"])
        for item in data.get("install", [])
        if item.get("requested") and "metadata" in item
    }


def native_modules(site: Path) -> dict[str, list[str]]:
    """Distribution -> dotted names of the native extension modules it installed into `site`."""
    owners = _record_owners(site)
    found: dict[str, list[str]] = {}
    for path in sorted(site.rglob("*")):
        if not path.is_file() or not path.name.endswith(NATIVE_SUFFIXES):
            continue
        relative = path.relative_to(site)
        if relative.parts[0] == "bin":
            continue
        module = ".".join((*relative.parts[:-1], path.name.split(".")[0]))
        distribution = owners.get(os.path.normpath(str(relative)), relative.parts[0])
        found.setdefault(distribution, []).append(module)
    return found


def _native_error(native: dict[str, list[str]], requested: set[str]) -> BuildError:
    lines = []
    for distribution, modules in sorted(native.items()):
        how = "" if requirement_name(distribution) in requested else " (pulled in by another dependency)"
        lines.append(f"  - {distribution}{how}: native extension module {', '.join(modules)}")
    return BuildError(
        "dependencies with native extension modules cannot run inside a component:\n"
        + "\n".join(lines)
        + "\nThese are compiled for this machine and there is no wasm32-wasi build of them on PyPI. Remove "
        "them from [project].dependencies in pyproject.toml or use pure-Python alternatives."
    )


def dependency_site(project: Project, cache_root: Path) -> Path | None:
    """The site directory holding the project's guest dependencies (None if it has none)."""
    requirements = guest_requirements(project)
    if not requirements:
        return None
    key = requirements_key(requirements)
    final = cache_root / "site" / key[:32]
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=".install-", dir=final.parent))
    report = temporary.with_suffix(".report.json")
    try:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--target",
            str(temporary),
            "--no-input",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--no-compile",
            "--quiet",
            "--report",
            str(report),
            *requirements,
        ]
        completed = subprocess.run(command, cwd=project.root, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-12:])
            raise BuildError(
                f"installing [project].dependencies ({', '.join(requirements)}) with pip failed:\n{tail}"
            )
        native = native_modules(temporary)
        if native:
            raise _native_error(native, _requested(report))
        shutil.rmtree(temporary / "bin", ignore_errors=True)
        try:
            os.rename(temporary, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        report.unlink(missing_ok=True)
    return final
