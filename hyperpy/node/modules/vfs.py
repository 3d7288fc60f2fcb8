"""vfs:distro:sys — a real directory tree under `<home>/vfs`, with Hyperdrive's drive capabilities.

Semantics follow HD `hyperdrive/src/vfs.rs` (runtime-contract.md §3.3):

* Request `{"path": "/<pkg>:<pub>/<drive>/rest", "action": <VfsAction>}`; the path is normalised
  lexically and may not leave the vfs root; its first segment must parse as a PackageId.
* A process may always touch drives of its own package; otherwise it needs
  `{"kind": "read"|"write", "drive": "/<pkg>:<pub>/<drive>"}` issued by vfs, or `{"root": true}`.
  `CreateDrive` (own package or root) grants the creator read and write on the new drive. The kernel
  is exempt. `ReadDir` of `/` (or of a path that is not a drive) needs root and always answers.
* Successes go to rsvp, or to the source when a response is expected, and echo the request
  metadata; errors are sent only when a response is expected, without metadata.
* Files opened through `OpenFile`/`CreateFile` keep a cursor per path across requests (WriteAll,
  ReadToEnd, ReadExact, ReadToString, Seek, Len, SetLen, Hash use it), as Hyperdrive's file cache does.

All file work runs on one worker thread so the kernel's loop never blocks on disk and requests of a
node are applied in arrival order. IO errors are rendered like Rust's `io::Error` Display
(`"No such file or directory (os error 2)"`) because processes match on those strings.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import hashlib
import io
import os
import shutil
import stat
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, expects_response, module_id
from hyperpy.node.modules.wire import (
    I64,
    U64,
    UNIT,
    Tagged,
    TaggedEnum,
    WireError,
    WireModel,
    decode_json,
    encode_json,
    require_object,
    validate,
)
from hyperpy.node.persistence import atomic_write
from hyperpy.node.well_known import drive_cap_params
from hyperpy.node.wit_types import Capability, LazyLoadBlob, ProcessId
from hyperpy.package.archive import NotAZipError, PackageZip, PackageZipError

KERNEL = module_id("kernel")
OPEN_FILE_LIMIT = 128
NEW_FILE_MODE = 0o644  # what a plain create gives under the usual umask 022
READ_MIME = "application/octet-stream"


class OpenFile(WireModel):
    create: bool


class ReadExact(WireModel):
    length: U64


class NewPath(WireModel):
    new_path: str


SEEK_FROM = TaggedEnum("SeekFrom", {"Start": U64, "End": I64, "Current": I64})


VFS_ACTION = TaggedEnum(
    "VfsAction",
    {
        "CreateDrive": UNIT,
        "CreateDir": UNIT,
        "CreateDirAll": UNIT,
        "CreateFile": UNIT,
        "OpenFile": OpenFile,
        "CloseFile": UNIT,
        "Write": UNIT,
        "WriteAll": UNIT,
        "Append": UNIT,
        "SyncAll": UNIT,
        "Read": UNIT,
        "ReadDir": UNIT,
        "ReadToEnd": UNIT,
        "ReadExact": ReadExact,
        "ReadToString": UNIT,
        "Seek": Any,
        "RemoveFile": UNIT,
        "RemoveDir": UNIT,
        "RemoveDirAll": UNIT,
        "Rename": NewPath,
        "Metadata": UNIT,
        "AddZip": UNIT,
        "CopyFile": NewPath,
        "Len": UNIT,
        "SetLen": U64,
        "Hash": UNIT,
    },
)

WRITE_ACTIONS = frozenset(
    {
        "CreateDir",
        "CreateDirAll",
        "CreateFile",
        "OpenFile",
        "CloseFile",
        "Write",
        "WriteAll",
        "Append",
        "SyncAll",
        "RemoveFile",
        "RemoveDir",
        "RemoveDirAll",
        "AddZip",
        "SetLen",
    }
)
READ_ACTIONS = frozenset(
    {"Read", "ReadDir", "ReadExact", "ReadToEnd", "ReadToString", "Seek", "Hash", "Metadata", "Len"}
)
EXPECTED_SHAPE = '{"path": "/<package>:<publisher>/<drive>/<file>", "action": <VfsAction>}'


class VfsFailure(Exception):
    """A VfsError to send back: `value` is its JSON form ("NoWriteCap", {"IOError": ".."}, ...)."""

    def __init__(self, value: object, explanation: str = "") -> None:
        super().__init__(explanation or str(value))
        self.value = value
        self.explanation = explanation


def io_error_text(error: OSError) -> str:
    """Render an OSError like Rust's `std::io::Error` Display."""
    if error.errno is not None:
        return f"{os.strerror(error.errno)} (os error {error.errno})"
    return str(error)


def io_failure(error: OSError) -> VfsFailure:
    return VfsFailure({"IOError": io_error_text(error)})


@dataclass(frozen=True)
class VfsPath:
    """A request path split as Hyperdrive does: package, drive, and the rest (relative)."""

    package: str
    drive_name: str
    rest: str

    @property
    def drive(self) -> str:
        return f"/{self.package}/{self.drive_name}"


def normalize_relative(path: str) -> str:
    """Lexically normalise `path` under the vfs root; refuse anything that climbs out of it."""
    parts: list[str] = []
    for part in path.lstrip("/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise VfsFailure("MalformedRequest", f"path {path!r} climbs out of the vfs root")
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _valid_package_id(text: str) -> bool:
    segments = text.split(":")
    return len(segments) == 2 and all(segments)


def parse_vfs_path(path: str) -> VfsPath:
    """Split `/<pkg>:<pub>/<drive>/rest` or raise MalformedRequest naming what is wrong."""
    parts = [part for part in normalize_relative(path).split("/") if part] or []
    if len(parts) < 2:
        raise VfsFailure(
            "MalformedRequest",
            f"path {path!r} needs at least '/<package>:<publisher>/<drive>'",
        )
    if not _valid_package_id(parts[0]):
        raise VfsFailure(
            "MalformedRequest",
            f"path {path!r} must start with a package id '<package>:<publisher>', not {parts[0]!r}",
        )
    return VfsPath(parts[0], parts[1], "/".join(parts[2:]))


ROOT_CAP_PARAMS = '{"root":true}'


def _file_type(entry_is_file: bool, entry_is_dir: bool, entry_is_symlink: bool) -> str:
    if entry_is_file:
        return "File"
    if entry_is_dir:
        return "Directory"
    if entry_is_symlink:
        return "Symlink"
    return "Other"


class OpenFiles:
    """Hyperdrive's per-path file cache: one read+write handle and cursor per path.

    Closing a handle because of the limit remembers its cursor, so reopening continues where the
    process left off (Hyperdrive's `cursor_positions`). Used only from the vfs worker thread.
    """

    def __init__(self, limit: int = OPEN_FILE_LIMIT) -> None:
        self.limit = limit
        self.handles: OrderedDict[Path, BinaryIO] = OrderedDict()
        self.cursors: dict[Path, int] = {}

    def open(self, path: Path, *, create: bool, truncate: bool) -> BinaryIO:
        handle = self.handles.get(path)
        if handle is not None:
            self.handles.move_to_end(path)
            return handle
        flags = os.O_RDWR | (os.O_CREAT if create else 0) | (os.O_TRUNC if truncate else 0)
        descriptor = os.open(path, flags, 0o644)
        handle = os.fdopen(descriptor, "r+b", buffering=0)
        position = self.cursors.pop(path, 0)
        if position:
            handle.seek(position)
        self.handles[path] = handle
        while len(self.handles) > self.limit:
            old_path, old_handle = self.handles.popitem(last=False)
            if old_handle.tell():
                self.cursors[old_path] = old_handle.tell()
            old_handle.close()
        return handle

    def forget(self, path: Path) -> None:
        """Drop the handle and cursor of `path` (CloseFile, CreateFile, RemoveFile)."""
        handle = self.handles.pop(path, None)
        if handle is not None:
            handle.close()
        self.cursors.pop(path, None)

    def close_all(self) -> None:
        for handle in self.handles.values():
            handle.close()
        self.handles.clear()
        self.cursors.clear()


@dataclass
class Outcome:
    """What a finished action answers: the VfsResponse JSON and an optional blob.

    `to_source_always` marks Hyperdrive's root ReadDir, which answers the source unconditionally.
    """

    body: object
    data: bytes | None = None
    to_source_always: bool = False


class VfsModule(ModuleBase):
    process_id = module_id("vfs")

    def __init__(self) -> None:
        super().__init__()
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="vfs")
        self.files = OpenFiles()
        self._root = Path()

    @property
    def root(self) -> Path:
        """The vfs root directory, `<home>/vfs`."""
        return self._root

    async def on_start(self) -> None:
        self._root = (self.node.home / "vfs").resolve()
        self._root.mkdir(parents=True, exist_ok=True)

    async def on_stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.files.close_all)
        self._executor.shutdown(wait=True)

    async def handle(self, message: KernelMessage) -> None:
        request = self.local_request(message)
        if request is None:
            return
        try:
            work = self._prepare(message, request.body)
        except VfsFailure as failure:
            self._fail(message, failure)
            return
        future = asyncio.get_running_loop().run_in_executor(self._executor, work)
        future.add_done_callback(lambda done: self._finish(message, request.metadata, done))

    def _finish(self, message: KernelMessage, metadata: str | None, done: asyncio.Future[Outcome]) -> None:
        try:
            outcome = done.result()
        except VfsFailure as failure:
            self._fail(message, failure)
            return
        except OSError as error:
            self._fail(message, io_failure(error))
            return
        except Exception as error:  # a bug here must not leave the process waiting for its timeout
            self._fail(message, VfsFailure({"IOError": str(error)}, f"internal error: {error!r}"))
            return
        self._succeed(message, outcome, metadata)

    def _succeed(self, message: KernelMessage, outcome: Outcome, metadata: str | None) -> None:
        if outcome.to_source_always:
            self.respond(message, encode_json(outcome.body), metadata=metadata, target=message.source)
            return
        if message.rsvp is None and not expects_response(message):
            return
        blob = None if outcome.data is None else LazyLoadBlob(READ_MIME, outcome.data)
        self.respond(message, encode_json(outcome.body), blob, metadata)

    def _fail(self, message: KernelMessage, failure: VfsFailure) -> None:
        if failure.explanation:
            verbosity = 0 if failure.value == "MalformedRequest" else 1
            self.log(verbosity, f"vfs: request from {message.source.process} failed: {failure.explanation}")
        if expects_response(message):
            self.respond(message, encode_json({"Err": failure.value}))

    # ---------------------------------------------------------------- parsing and capabilities (loop)

    def _prepare(self, message: KernelMessage, body: bytes) -> Callable[[], Outcome]:
        """Parse and cap-check on the kernel loop; return the file work for the worker thread."""
        try:
            raw = require_object(decode_json(body), ("path", "action"), "VfsRequest")
            path = validate(str, raw["path"], "path")
            action = VFS_ACTION.parse(raw["action"], "action")
            if action.name == "Seek":
                action = Tagged("Seek", SEEK_FROM.parse(action.value, "action.Seek"))
        except WireError as error:
            raise VfsFailure("MalformedRequest", f"{error.detail}; expected {EXPECTED_SHAPE}") from None

        source = message.source.process
        if action.name == "ReadDir" and (path == "/" or not self._is_drive_path(path)):
            if not self._has_root(source):
                raise VfsFailure(
                    "NoReadCap",
                    f"ReadDir of {path!r} (outside any drive) needs the root capability {ROOT_CAP_PARAMS}",
                )
            target = self._root if path == "/" else self._root / normalize_relative(path)
            return lambda: Outcome({"ReadDir": self.list_dir(target)}, to_source_always=True)

        where = parse_vfs_path(path)
        if source != KERNEL:
            self._check_caps(source, action, where)
        target = self.resolve(where)
        return lambda: self._run(action, target, message.lazy_load_blob)

    def _is_drive_path(self, path: str) -> bool:
        try:
            parse_vfs_path(path)
        except VfsFailure:
            return False
        return True

    def _cap(self, params: str) -> Capability:
        return Capability(self.address, params)

    def _has_root(self, holder: ProcessId) -> bool:
        return self.node.has_capability(holder, self._cap(ROOT_CAP_PARAMS))

    def _has_drive_cap(self, holder: ProcessId, kind: str, drive: str) -> bool:
        return self.node.has_capability(holder, self._cap(drive_cap_params(kind, drive)))

    def _require(self, holder: ProcessId, kind: str, drive: str) -> None:
        if self._has_drive_cap(holder, kind, drive) or self._has_root(holder):
            return
        error = "NoWriteCap" if kind == "write" else "NoReadCap"
        raise VfsFailure(
            error,
            f"{holder} has no {kind} capability for drive {drive} (own-package drives are always "
            f"allowed; another package's drive needs {drive_cap_params(kind, drive)} issued by "
            "vfs:distro:sys, granted by its owner)",
        )

    def _check_caps(self, source: ProcessId, action: Tagged, where: VfsPath) -> None:
        own_package = f"{source.package_name}:{source.publisher_node}"
        if action.name in WRITE_ACTIONS or action.name in READ_ACTIONS:
            if own_package != where.package:
                self._require(source, "write" if action.name in WRITE_ACTIONS else "read", where.drive)
            return
        if action.name in ("CopyFile", "Rename"):
            new_where = parse_vfs_path(action.value.new_path)
            if own_package == where.package == new_where.package:
                return
            self._require(source, "write", where.drive)
            if new_where.drive != where.drive:
                self._require(source, "write", new_where.drive)
            return
        # CreateDrive: own package or root; the creator gets read and write on the drive.
        if own_package != where.package and not self._has_root(source):
            raise VfsFailure(
                "NoWriteCap",
                f"{source} may only create drives in its own package /{own_package}/ (or needs root)",
            )
        self.node.grant_capabilities(
            source,
            [
                self._cap(drive_cap_params("read", where.drive)),
                self._cap(drive_cap_params("write", where.drive)),
            ],
        )

    def resolve(self, where: VfsPath) -> Path:
        drive = self._root / where.package / where.drive_name
        return drive / where.rest if where.rest else drive

    # ---------------------------------------------------------------- file work (worker thread)

    def list_dir(self, directory: Path) -> list[dict[str, str]]:
        entries = []
        with os.scandir(directory) as listing:
            for entry in listing:
                relative = os.path.relpath(entry.path, self._root)
                kind = _file_type(
                    entry.is_file(follow_symlinks=False),
                    entry.is_dir(follow_symlinks=False),
                    entry.is_symlink(),
                )
                entries.append({"path": relative, "file_type": kind})
        return entries

    def _run(self, action: Tagged, path: Path, blob: LazyLoadBlob | None) -> Outcome:
        """Apply one action to the file system (worker thread); Ok unless the action returns data."""
        return FILE_ACTIONS[action.name](self, _Call(path, action.value, blob)) or Outcome("Ok")

    def open_handle(self, call: _Call) -> BinaryIO:
        """The cached read+write handle of an existing file (Hyperdrive opens without create)."""
        return self.files.open(call.path, create=False, truncate=False)


@dataclass(frozen=True)
class _Call:
    """Arguments of one file action: the resolved path, the action payload and the request blob."""

    path: Path
    value: Any
    blob: LazyLoadBlob | None


def _create_dir_all(vfs: VfsModule, call: _Call) -> None:
    call.path.mkdir(parents=True, exist_ok=True)


def _create_dir(vfs: VfsModule, call: _Call) -> None:
    call.path.mkdir()


def _create_file(vfs: VfsModule, call: _Call) -> None:
    vfs.files.forget(call.path)
    vfs.files.open(call.path, create=True, truncate=True)


def _open_file(vfs: VfsModule, call: _Call) -> None:
    vfs.files.open(call.path, create=call.value.create, truncate=False).seek(0)


def _close_file(vfs: VfsModule, call: _Call) -> None:
    vfs.files.forget(call.path)


def _write(vfs: VfsModule, call: _Call) -> None:
    """Replace the file's content atomically (Hyperdrive's `fs::write` truncates then writes, so a
    crash in between leaves an empty file; here the old or the new content survives). A handle the
    process opened on the old file is dropped, so later handle actions see the new content (from
    offset 0)."""
    data = _need_blob(call.blob)
    if call.path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(call.path))
    try:
        mode = stat.S_IMODE(call.path.stat().st_mode)
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    vfs.files.forget(call.path)
    atomic_write(call.path, data, make_parents=False, mode=mode)


def _write_all(vfs: VfsModule, call: _Call) -> None:
    data = _need_blob(call.blob)
    vfs.open_handle(call).write(data)


def _append(vfs: VfsModule, call: _Call) -> None:
    data = _need_blob(call.blob)
    handle = vfs.open_handle(call)
    handle.seek(0, io.SEEK_END)
    handle.write(data)


def _sync_all(vfs: VfsModule, call: _Call) -> None:
    os.fsync(vfs.open_handle(call).fileno())


def _read(vfs: VfsModule, call: _Call) -> Outcome:
    return Outcome("Read", call.path.read_bytes())


def _read_to_end(vfs: VfsModule, call: _Call) -> Outcome:
    return Outcome("Read", vfs.open_handle(call).read())


def _read_exact(vfs: VfsModule, call: _Call) -> Outcome:
    data = vfs.open_handle(call).read(call.value.length)
    if len(data) < call.value.length:
        raise VfsFailure({"IOError": "failed to fill whole buffer"})
    return Outcome("Read", data)


def _read_dir(vfs: VfsModule, call: _Call) -> Outcome:
    return Outcome({"ReadDir": vfs.list_dir(call.path)})


def _read_to_string(vfs: VfsModule, call: _Call) -> Outcome:
    try:
        return Outcome({"ReadToString": vfs.open_handle(call).read().decode("utf-8")})
    except UnicodeDecodeError:
        raise VfsFailure({"IOError": "stream did not contain valid UTF-8"}) from None


def _seek(vfs: VfsModule, call: _Call) -> Outcome:
    whence = {"Start": io.SEEK_SET, "End": io.SEEK_END, "Current": io.SEEK_CUR}[call.value.name]
    try:
        offset = vfs.open_handle(call).seek(call.value.value, whence)
    except OverflowError:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL)) from None
    return Outcome({"SeekFrom": {"new_offset": offset}})


def _remove_file(vfs: VfsModule, call: _Call) -> None:
    call.path.unlink()
    vfs.files.forget(call.path)


def _remove_dir(vfs: VfsModule, call: _Call) -> None:
    call.path.rmdir()


def _remove_dir_all(vfs: VfsModule, call: _Call) -> None:
    if call.path.is_symlink() or not call.path.is_dir():
        raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
    shutil.rmtree(call.path)


def _rename(vfs: VfsModule, call: _Call) -> None:
    os.rename(call.path, vfs.resolve(parse_vfs_path(call.value.new_path)))


def _copy_file(vfs: VfsModule, call: _Call) -> None:
    shutil.copyfile(call.path, vfs.resolve(parse_vfs_path(call.value.new_path)))


def _metadata(vfs: VfsModule, call: _Call) -> Outcome:
    size = call.path.stat().st_size
    kind = _file_type(call.path.is_file(), call.path.is_dir(), call.path.is_symlink())
    return Outcome({"Metadata": {"file_type": kind, "len": size}})


def _len(vfs: VfsModule, call: _Call) -> Outcome:
    return Outcome({"Len": os.fstat(vfs.open_handle(call).fileno()).st_size})


def _set_len(vfs: VfsModule, call: _Call) -> None:
    os.ftruncate(vfs.open_handle(call).fileno(), call.value)


def _hash(vfs: VfsModule, call: _Call) -> Outcome:
    handle = vfs.open_handle(call)
    handle.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 16), b""):
        digest.update(chunk)
    return Outcome({"Hash": list(digest.digest())})


def _add_zip(vfs: VfsModule, call: _Call) -> None:
    """Unzip the blob into the path like Hyperdrive: directories, then files; a file's directory must
    be listed in the zip (or exist). Unlike Hyperdrive, the zip is checked first with the package-zip
    rules (`PackageZip`: at most MAX_ENTRIES entries and MAX_UNPACKED_BYTES unpacked, no absolute or
    `..` paths, no symbolic links), so a zip bomb or an escaping entry writes nothing."""
    data = _need_blob(call.blob)
    try:
        archive = PackageZip(data, "AddZip blob")
    except NotAZipError as error:
        raise VfsFailure(
            {"ParseError": {"error": f"invalid Zip archive: {error}", "path": str(call.path)}}
        ) from None
    except PackageZipError as error:
        raise VfsFailure({"IOError": str(error)}, f"refused: {error}") from None
    call.path.mkdir(parents=True, exist_ok=True)
    for entry in archive.entries():
        local = call.path / entry.name
        if entry.is_dir:
            local.mkdir(parents=True, exist_ok=True)
            continue
        try:
            local.write_bytes(archive.read(entry.name))
        except PackageZipError:
            raise VfsFailure("UnzipError") from None


FILE_ACTIONS: dict[str, Callable[[VfsModule, _Call], Outcome | None]] = {
    "CreateDrive": _create_dir_all,
    "CreateDir": _create_dir,
    "CreateDirAll": _create_dir_all,
    "CreateFile": _create_file,
    "OpenFile": _open_file,
    "CloseFile": _close_file,
    "Write": _write,
    "WriteAll": _write_all,
    "Append": _append,
    "SyncAll": _sync_all,
    "Read": _read,
    "ReadToEnd": _read_to_end,
    "ReadExact": _read_exact,
    "ReadDir": _read_dir,
    "ReadToString": _read_to_string,
    "Seek": _seek,
    "RemoveFile": _remove_file,
    "RemoveDir": _remove_dir,
    "RemoveDirAll": _remove_dir_all,
    "Rename": _rename,
    "CopyFile": _copy_file,
    "Metadata": _metadata,
    "Len": _len,
    "SetLen": _set_len,
    "Hash": _hash,
    "AddZip": _add_zip,
}


def _need_blob(blob: LazyLoadBlob | None) -> bytes:
    if blob is None:
        raise VfsFailure("NoBlob", "this action writes the request's blob, but none was attached")
    return blob.bytes
