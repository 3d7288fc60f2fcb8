"""Find the API WIT of the packages a project depends on, the way kit does.

A package declares the packages it calls in `metadata.json` -> `properties.dependencies`
(`["counter:template.os"]`, kit's format). Their API — the `api/*.wit` each package ships as
`pkg/api.zip` — is looked up, in order:

1. a local path given by the developer (`--local PATH`): a package directory (its `api/`, or
   `pkg/api.zip`), a package zip (which contains `api.zip`), an `api.zip`, or a folder of `.wit`;
2. a local node's home directory (`--node-home`): the app store unpacks an installed package's
   `api.zip` into `vfs/<package>:<publisher>/pkg/api/`;
3. a running node (`--url`): `{"GetApi": {...}}` to `main:app-store:sys` through the node's
   `/rpc:distro:sys/message` endpoint, exactly as `kit build` does; the reply blob is the api zip;
4. the copy saved by an earlier fetch under `target/deps/<package>:<publisher>/`, so a rebuild
   works offline.

Every fetched API is saved to that cache. A dependency found nowhere fails naming the places
searched and how to provide it.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hyperpy.build.witgen.model import WitDocument
from hyperpy.build.witgen.reader import read_wit_files

APP_STORE = "main:app-store:sys"


class DependencyError(ValueError):
    """A declared dependency's API could not be found or read; the message says where we looked."""


@dataclass
class DependencyApi:
    package_id: str
    files: dict[str, str]  # file name -> WIT text
    origin: str

    def document(self) -> WitDocument:
        return read_wit_files({f"{self.package_id}/{name}": text for name, text in self.files.items()})


def declared_dependencies(root: Path) -> list[str]:
    """`properties.dependencies` of `root/metadata.json` (kit's place for package dependencies)."""
    path = root / "metadata.json"
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DependencyError(f"{path}: not valid JSON ({error})") from None
    dependencies = (data.get("properties") or {}).get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise DependencyError(
            f"{path}: properties.dependencies must be a list of 'package:publisher' strings"
        )
    for dependency in dependencies:
        if dependency.count(":") != 1 or not all(dependency.split(":")):
            raise DependencyError(
                f"{path}: dependency {dependency!r} is not a package id; write 'package:publisher' "
                "(e.g. 'counter:template.os')"
            )
    return list(dependencies)


def _wit_files_from_zip(data: bytes, what: str) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DependencyError(f"{what} is not a zip file") from None
    with archive:
        names = archive.namelist()
        if "api.zip" in names and not any(n.endswith(".wit") for n in names):
            return _wit_files_from_zip(archive.read("api.zip"), f"{what} (api.zip inside)")
        return {
            Path(name).name: archive.read(name).decode("utf-8")
            for name in names
            if name.endswith(".wit") and "/" not in name.rstrip("/")
        }


def _wit_files_from_dir(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.wit"))}


def _package_id_of_dir(directory: Path) -> str | None:
    metadata = directory / "metadata.json"
    if metadata.is_file():
        try:
            properties = json.loads(metadata.read_text(encoding="utf-8")).get("properties") or {}
            return f"{properties['package_name']}:{properties['publisher']}"
        except (ValueError, KeyError, TypeError):
            return None
    if (directory / "pyproject.toml").is_file():
        from hyperpy.package.project import load_project

        try:
            return load_project(directory).package_id
        except ValueError:
            return None
    return None


def api_from_path(path: Path) -> tuple[str | None, dict[str, str]]:
    """(package id if known, WIT files) of a local package dir, package zip, api.zip or .wit folder."""
    if path.is_file():
        files = _wit_files_from_zip(path.read_bytes(), str(path))
        package_id = path.stem if path.suffix == ".zip" and path.stem.count(":") == 1 else None
        return package_id, files
    if not path.is_dir():
        raise DependencyError(f"{path}: no such file or directory")
    package_id = _package_id_of_dir(path)
    for candidate in (path / "api", path):
        files = _wit_files_from_dir(candidate)
        if files:
            return package_id, files
    api_zip = path / "pkg" / "api.zip"
    if api_zip.is_file():
        return package_id, _wit_files_from_zip(api_zip.read_bytes(), str(api_zip))
    raise DependencyError(f"{path}: has no api/*.wit and no pkg/api.zip; build that package first")


def api_from_node_home(home: Path, package_id: str) -> dict[str, str] | None:
    """The API of a package installed on a local node, read from the node's home directory."""
    drive = home / "vfs" / package_id / "pkg"
    files = _wit_files_from_dir(drive / "api") if (drive / "api").is_dir() else {}
    if files:
        return files
    api_zip = drive / "api.zip"
    if api_zip.is_file():
        return _wit_files_from_zip(api_zip.read_bytes(), str(api_zip))
    return None


def api_from_node_url(url: str, package_id: str) -> dict[str, str] | None:
    """Ask a running node's app store for the API zip (`GetApi`, as `kit build` does)."""
    from hyperpy.package.control_client import ControlError, inject

    package_name, publisher = package_id.split(":")
    body = json.dumps({"GetApi": {"package_name": package_name, "publisher_node": publisher}})
    try:
        result = inject(url, APP_STORE, body)
        blob = result.blob()
    except ControlError as error:
        raise DependencyError(f"asking the node at {url} for the API of {package_id}: {error}") from None
    if not blob:
        return None
    return _wit_files_from_zip(blob, f"the API of {package_id} from {url}")


def cache_dir(root: Path, package_id: str) -> Path:
    return root / "target" / "deps" / package_id


def fetch_dependency_apis(
    root: Path,
    dependencies: list[str] | None = None,
    *,
    local: Sequence[Path] = (),
    node_home: Path | None = None,
    url: str | None = None,
) -> list[DependencyApi]:
    """Find the API of every dependency (see the module docstring for the order); save each to the cache."""
    wanted = declared_dependencies(root) if dependencies is None else dependencies
    by_id: dict[str, tuple[dict[str, str], str]] = {}
    unnamed: list[tuple[dict[str, str], str]] = []
    for path in local:
        package_id, files = api_from_path(path)
        if package_id is None:
            unnamed.append((files, str(path)))
        else:
            by_id[package_id] = (files, str(path))
    results: list[DependencyApi] = []
    for package_id in wanted:
        looked: list[str] = []
        found = by_id.get(package_id)
        if found is None and len(unnamed) == 1 and len(wanted) == 1:
            found = unnamed[0]
        looked.append("--local paths" if local else "no --local path given")
        if found is None and node_home is not None:
            home_files = api_from_node_home(node_home, package_id)
            found = (home_files, f"node home {node_home}") if home_files else None
            looked.append(f"node home {node_home}")
        if found is None and url is not None:
            url_files = api_from_node_url(url, package_id)
            found = (url_files, f"node {url}") if url_files else None
            looked.append(f"node {url} (GetApi)")
        cached = cache_dir(root, package_id)
        if found is None and cached.is_dir():
            files = _wit_files_from_dir(cached)
            found = (files, f"cache {cached}") if files else None
        looked.append(f"cache {cached}")
        if found is None or not found[0]:
            raise DependencyError(
                f"dependency {package_id} (metadata.json properties.dependencies): no API found; looked in "
                + ", ".join(looked)
                + ". Give its package folder or zip with --local PATH, or a node that has it installed with "
                "--node-home HOME or --url URL"
            )
        files, origin = found
        if not origin.startswith("cache "):
            if cached.exists():
                shutil.rmtree(cached)
            cached.mkdir(parents=True)
            for name, text in files.items():
                (cached / name).write_text(text, encoding="utf-8")
        results.append(DependencyApi(package_id, files, origin))
    return results
