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
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
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


def deflate(data: bytes) -> bytes:
    """Raw deflate at zlib's default level 6 (what kit's zip crate and Python's zipfile use)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# A zip written by hand (rather than with `zipfile`) so that a file's compressed bytes can come from
# a cache: deflating an 18 MB component takes over a second, and the package is re-zipped whenever
# only its manifest changed. The layout is the classic one (no zip64, no extra fields), readable by
# every unzip, including Hyperdrive's zip crate.
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_VERSION = 20  # 2.0: deflate and directories
_MADE_BY_UNIX = (3 << 8) | _VERSION
_UTF8_FLAG = 0x800


def _dos_time(moment: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = moment
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def zip_entries_bytes(
    entries: list[tuple[str, bytes | None]], compress: Callable[[bytes], bytes] = deflate
) -> bytes:
    """A kit-style zip of `entries` in the given order: (name, content) for files, (name/, None) for dirs.

    `compress` turns a file's bytes into raw deflate data; pass a caching one to skip recompression.
    """
    time_field, date_field = _dos_time(KIT_ZIP_TIMESTAMP)
    out = io.BytesIO()
    central = io.BytesIO()
    for name, content in entries:
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else _UTF8_FLAG
        if content is None:
            method, crc, packed, size = 0, 0, b"", 0
            attributes = ((stat.S_IFDIR | KIT_PERMISSIONS) << 16) | 0x10
        else:
            method, crc, packed, size = 8, zlib.crc32(content), compress(content), len(content)
            attributes = (stat.S_IFREG | KIT_PERMISSIONS) << 16
        offset = out.tell()
        if offset + len(packed) > 0xFFFFFFFF or size > 0xFFFFFFFF:
            raise PackageZipError(f"{name}: packages over 4 GiB are not supported")
        shared = (_VERSION, flags, method, time_field, date_field, crc, len(packed), size, len(encoded))
        out.write(_LOCAL_HEADER.pack(0x04034B50, *shared, 0))
        out.write(encoded)
        out.write(packed)
        central.write(
            _CENTRAL_HEADER.pack(0x02014B50, _MADE_BY_UNIX, *shared, 0, 0, 0, 0, attributes, offset)
        )
        central.write(encoded)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(_END_RECORD.pack(0x06054B50, 0, 0, len(entries), len(entries), len(directory), start, 0))
    return out.getvalue()


def zip_directory_bytes(directory: Path, compress: Callable[[bytes], bytes] = deflate) -> bytes:
    """The kit-style zip of `directory`'s contents, as bytes (entry names relative to it)."""
    entries: list[tuple[str, bytes | None]] = []
    for path in _walk_sorted(directory):
        name = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise PackageZipError(f"{path}: symbolic links are not packaged; copy the file instead")
        entries.append((name + "/", None) if path.is_dir() else (name, path.read_bytes()))
    return zip_entries_bytes(entries, compress)


def write_directory_zip(directory: Path, destination: Path) -> str:
    """Zip `directory` to `destination` atomically (temp file + rename); return the zip's sha256."""
    data = zip_directory_bytes(directory)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.partial")
    temporary.write_bytes(data)
    temporary.replace(destination)
    return sha256_bytes(data)


class NotAZipError(PackageZipError):
    """The bytes are not a zip archive at all (as opposed to a zip with a refused entry)."""


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
        except (zipfile.BadZipFile, ValueError) as exc:
            raise NotAZipError(f"{source}: not a zip file ({exc})") from None
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
