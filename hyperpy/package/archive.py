"""Package zips: kit's deterministic writer, and a safe reader for installers.

Why deterministic: the sha256 of the zip *is* the package version hash (`code_hashes`, app-store
`Install`). Kit zips `pkg/` with sorted entries, explicit directory entries, Deflate, permissions
0o755 and a fixed timestamp (2023-06-19 00:00:00), so the same sources give the same hash. We do the
same; entry order follows kit's sort of full paths (component-wise, as Rust's `Path` orders).

Why a safe reader: the local node unpacks zips that came from elsewhere. Entry names that are
absolute, contain `..`, backslashes or drive letters, duplicates, symlinks, or more bytes than a
package can reasonably hold are refused before anything touches the disk.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

KIT_ZIP_TIMESTAMP = (2023, 6, 19, 0, 0, 0)
KIT_PERMISSIONS = 0o755
# An unpacked package larger than this is refused (Python components are ~20 MB each).
MAX_UNPACKED_BYTES = 1 << 30
MAX_ENTRIES = 10_000


class PackageZipError(ValueError):
    """A package zip that cannot be read safely; the message names the entry and the reason."""


def sha256_file(path: Path) -> str:
    """Lowercase hex sha256 of a file (kit's `hash_zip_pkg`)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _walk_sorted(directory: Path) -> list[Path]:
    """Every file and directory below `directory`, sorted component-wise like kit."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        root_path = Path(root)
        found.extend(root_path / name for name in dirs)
        found.extend(root_path / name for name in files)
    return sorted(
        found,
        key=lambda p: [part.encode("utf-8", "surrogateescape") for part in p.relative_to(directory).parts],
    )


def _zip_info(name: str, *, is_dir: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=KIT_ZIP_TIMESTAMP)
    info.create_system = 3  # Unix, so external_attr carries the mode
    if is_dir:
        info.external_attr = ((stat.S_IFDIR | KIT_PERMISSIONS) << 16) | 0x10
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.external_attr = (stat.S_IFREG | KIT_PERMISSIONS) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_directory_bytes(directory: Path) -> bytes:
    """The kit-style zip of `directory`'s contents, as bytes (entry names relative to it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in _walk_sorted(directory):
            name = path.relative_to(directory).as_posix()
            if path.is_symlink():
                raise PackageZipError(f"{path}: symbolic links are not packaged; copy the file instead")
            if path.is_dir():
                archive.writestr(_zip_info(name + "/", is_dir=True), b"")
            else:
                archive.writestr(_zip_info(name, is_dir=False), path.read_bytes(), compresslevel=6)
    return buffer.getvalue()


def write_directory_zip(directory: Path, destination: Path) -> str:
    """Zip `directory` to `destination` atomically (temp file + rename); return the zip's sha256."""
    data = zip_directory_bytes(directory)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.partial")
    temporary.write_bytes(data)
    temporary.replace(destination)
    return sha256_bytes(data)


@dataclass(frozen=True)
class ZipEntry:
    name: str
    is_dir: bool
    size: int


def _checked_name(name: str) -> str:
    """Return the normalized entry name or raise: no absolute, parent, backslash or drive paths."""
    if not name or "\\" in name or "\x00" in name:
        raise PackageZipError(f"zip entry {name!r}: invalid name")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        raise PackageZipError(f"zip entry {name!r}: absolute paths are not allowed")
    if any(part in ("..", "") for part in name.rstrip("/").split("/")) or ":" in path.parts[0]:
        raise PackageZipError(f"zip entry {name!r}: path escapes the package or is malformed")
    return name.rstrip("/")


class PackageZip:
    """Read-only, validated view of a package zip (from bytes).

    Validation happens in the constructor, so holding a PackageZip means every entry name is safe.
    """

    def __init__(self, data: bytes, source: str = "package zip"):
        self.source = source
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise PackageZipError(f"{source}: not a zip file ({exc})") from None
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise PackageZipError(f"{source}: {len(infos)} entries (more than {MAX_ENTRIES})")
        self._files: dict[str, zipfile.ZipInfo] = {}
        self._dirs: set[str] = set()
        total = 0
        for info in infos:
            try:
                name = _checked_name(info.filename)
            except PackageZipError as exc:
                raise PackageZipError(f"{source}: {exc}") from None
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise PackageZipError(f"{source}: zip entry {info.filename!r} is a symbolic link")
            if info.is_dir():
                self._dirs.add(name)
                continue
            if name in self._files or name in self._dirs:
                raise PackageZipError(f"{source}: zip entry {info.filename!r} appears twice")
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise PackageZipError(f"{source}: unpacks to more than {MAX_UNPACKED_BYTES} bytes")
            self._files[name] = info

    def entries(self) -> Iterator[ZipEntry]:
        for name in sorted(self._dirs):
            yield ZipEntry(name, True, 0)
        for name, info in sorted(self._files.items()):
            yield ZipEntry(name, False, info.file_size)

    def file_names(self) -> list[str]:
        return sorted(self._files)

    def has_file(self, name: str) -> bool:
        return name.lstrip("/") in self._files

    def read(self, name: str) -> bytes:
        """Bytes of file `name` (a leading `/` is accepted, as in `process_wasm_path`)."""
        key = name.lstrip("/")
        info = self._files.get(key)
        if info is None:
            raise PackageZipError(f"{self.source}: no file {key!r} in the package")
        data = self._zip.read(info)
        if len(data) != info.file_size:
            raise PackageZipError(f"{self.source}: {key!r} is truncated")
        return data

    def extract_to(self, destination: Path) -> None:
        """Unpack every file below `destination` (created if needed); names were validated already."""
        destination.mkdir(parents=True, exist_ok=True)
        root = destination.resolve()
        for name in sorted(self._dirs):
            (root / name).mkdir(parents=True, exist_ok=True)
        for name in self._files:
            target = (root / name).resolve()
            if root not in target.parents:
                raise PackageZipError(f"{self.source}: zip entry {name!r} escapes {destination}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read(name))
