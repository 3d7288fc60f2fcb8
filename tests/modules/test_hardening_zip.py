"""Hostile zips: vfs `AddZip` from a real process (both modes) and package installs refuse zip bombs,
too many entries, escaping or absolute paths and symbolic links with a clear error, writing nothing."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from node_probe import Probe, vfs

from hyperpy.node.install import InstallError
from hyperpy.package.archive import MAX_ENTRIES, MAX_UNPACKED_BYTES

DRIVE = "/modprobe:test.os/unzipped"


def zip_of(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def declared_bomb() -> bytes:
    """One small entry whose headers claim more than the unpacked limit (what a bomb declares)."""
    data = bytearray(zip_of([("bomb.bin", b"0" * 1000)]))
    claimed = struct.pack("<I", min(MAX_UNPACKED_BYTES + 1, 0xFFFFFFFE))
    local = data.index(b"PK\x03\x04")
    data[local + 22 : local + 26] = claimed
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = claimed
    return bytes(data)


HOSTILE = {
    "parent path": (zip_of([("../escaped.txt", b"x")]), "escapes"),
    "deep parent path": (zip_of([("a/../../escaped.txt", b"x")]), "escapes"),
    "absolute path": (zip_of([("/tmp/hyperpy-absolute.txt", b"x")]), "absolute"),
    "symbolic link": (zip_of([symlink_entry("link", "/etc/passwd")]), "symbolic link"),
    "too many entries": (zip_of([(f"f{n}", b"") for n in range(MAX_ENTRIES + 1)]), "entries"),
    "bomb": (declared_bomb(), "unpacks to more than"),
}


@pytest.mark.hyperpy_modes("native", "component")
def test_add_zip_refuses_hostile_zips_and_writes_nothing(probe: Probe, hyperpy_node: Any) -> None:
    home: Path = hyperpy_node.node.home
    assert vfs(probe, DRIVE, "CreateDrive")["body"] == "Ok"
    for case, (data, named) in HOSTILE.items():
        error = vfs(probe, DRIVE, "AddZip", blob=data)["body"]
        assert isinstance(error, dict) and set(error) == {"Err"}, (case, error)
        assert set(error["Err"]) == {"IOError"} and named in error["Err"]["IOError"], (case, error)
        assert not (home / "vfs" / "modprobe:test.os" / "escaped.txt").exists()
        assert not Path("/tmp/hyperpy-absolute.txt").exists()
        assert list((home / "vfs" / "modprobe:test.os" / "unzipped").iterdir()) == [], case
    good = zip_of([("ui/", b""), ("ui/index.html", b"<h1>ok</h1>")])
    assert vfs(probe, DRIVE, "AddZip", blob=good)["body"] == "Ok"


def test_a_hostile_package_zip_is_refused_at_install(hyperpy_node: Any) -> None:
    for case, (data, named) in HOSTILE.items():
        with pytest.raises(InstallError, match=named):
            hyperpy_node.node.install(data, mode="native", package_id="hostile:test.os")
        assert not (hyperpy_node.node.home / "vfs" / "hostile:test.os").exists(), case
