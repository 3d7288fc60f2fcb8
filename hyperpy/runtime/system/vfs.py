"""vfs:distro:sys: files in the node's virtual file system.

Paths are absolute VFS paths `/<package>:<publisher>/<drive>/...`; `drive_path("data")` builds one
for this package. A process may always use its own package's drives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperpy.runtime import well_known
from hyperpy.runtime.system import ModuleError, module_request, our_package, tag_of

__hyperpy_process__ = well_known.VFS
PROCESS = __hyperpy_process__


@dataclass(frozen=True)
class DirEntry:
    path: str  # absolute, with a leading "/"
    file_type: str  # "File", "Directory", "Symlink" or "Other"


def drive_path(drive: str) -> str:
    """`/<our package>/<drive>`."""
    return f"/{our_package().package}/{drive.strip('/')}"


async def _vfs(path: str, action: Any, *, blob: bytes | None = None, timeout: float = 5) -> tuple[Any, Any]:
    name = tag_of(action) or "action"
    answer, reply = await module_request(
        PROCESS, {"path": path, "action": action}, blob=blob, timeout=timeout, action=f"{name} {path}"
    )
    return answer, reply


async def _ok(path: str, action: Any, *, blob: bytes | None = None) -> None:
    answer, _ = await _vfs(path, action, blob=blob)
    if answer != "Ok":
        raise ModuleError(PROCESS, answer, f"{tag_of(action)} {path}")


async def create_drive(drive: str) -> str:
    """Create (if needed) a drive of our package; returns its path."""
    path = drive_path(drive)
    await _ok(path, "CreateDrive")
    return path


async def read(path: str) -> bytes:
    """The bytes of the file at `path` (a drive path such as `/pkg:pub/data/x`)."""
    answer, reply = await _vfs(path, "Read")
    if answer != "Read":
        raise ModuleError(PROCESS, answer, f"Read {path}")
    return reply.blob.bytes if reply.blob is not None else b""


async def read_text(path: str) -> str:
    """The file at `path` decoded as UTF-8."""
    return (await read(path)).decode("utf-8")


async def write(path: str, data: bytes | str) -> None:
    """Create or replace the whole file."""
    await _ok(path, "Write", blob=data.encode("utf-8") if isinstance(data, str) else bytes(data))


async def append(path: str, data: bytes | str) -> None:
    """Append `data` (str is UTF-8 encoded) to the file at `path`, creating it."""
    await _ok(path, "Append", blob=data.encode("utf-8") if isinstance(data, str) else bytes(data))


async def read_dir(path: str) -> list[DirEntry]:
    """The entries of the directory at `path`."""
    answer, _ = await _vfs(path, "ReadDir")
    if tag_of(answer) != "ReadDir":
        raise ModuleError(PROCESS, answer, f"ReadDir {path}")
    return [DirEntry("/" + str(e["path"]).lstrip("/"), str(e["file_type"])) for e in answer["ReadDir"]]


async def walk_files(path: str) -> list[str]:
    """Every file below `path`, recursively, sorted."""
    files: list[str] = []
    for entry in await read_dir(path):
        if entry.file_type == "Directory":
            files.extend(await walk_files(entry.path))
        elif entry.file_type == "File":
            files.append(entry.path)
    return sorted(files)


async def metadata(path: str) -> tuple[str, int]:
    """(file_type, length in bytes)."""
    answer, _ = await _vfs(path, "Metadata")
    if tag_of(answer) != "Metadata":
        raise ModuleError(PROCESS, answer, f"Metadata {path}")
    return str(answer["Metadata"]["file_type"]), int(answer["Metadata"]["len"])


async def exists(path: str) -> bool:
    """Whether something exists at `path`."""
    try:
        await metadata(path)
    except ModuleError:
        return False
    return True


async def create_dir_all(path: str) -> None:
    """Create the directory at `path` and any missing parents."""
    await _ok(path, "CreateDirAll")


async def remove_file(path: str) -> None:
    """Delete the file at `path`."""
    await _ok(path, "RemoveFile")


async def remove_dir_all(path: str) -> None:
    """Delete the directory at `path` and everything below it."""
    await _ok(path, "RemoveDirAll")


async def rename(path: str, new_path: str) -> None:
    """Move the file or directory at `path` to `new_path`."""
    await _ok(path, {"Rename": {"new_path": new_path}})


async def copy_file(path: str, new_path: str) -> None:
    """Copy the file at `path` to `new_path`."""
    await _ok(path, {"CopyFile": {"new_path": new_path}})
