"""Package zips: kit's deterministic layout, and a reader that refuses unsafe entries."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from hyperpy.package.archive import (
    PackageZip,
    PackageZipError,
    sha256_bytes,
    sha256_file,
    write_directory_zip,
    zip_directory_bytes,
)


def make_pkg(root: Path) -> Path:
    pkg = root / "pkg"
    (pkg / "ui" / "assets").mkdir(parents=True)
    (pkg / "a").mkdir()
    (pkg / "manifest.json").write_text("[]")
    (pkg / "echo.wasm").write_bytes(b"\0asm" + bytes(1000))
    (pkg / "a-b.txt").write_text("dash sorts after the directory a/, as kit's Path ordering does")
    (pkg / "a" / "x").write_text("x")
    (pkg / "ui" / "index.html").write_text("<html/>")
    (pkg / "ui" / "assets" / "app.js").write_text("1")
    return pkg


def test_kit_layout(tmp_path: Path) -> None:
    data = zip_directory_bytes(make_pkg(tmp_path))
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = [info.filename for info in archive.infolist()]
    assert names == [
        "a/",
        "a/x",
        "a-b.txt",
        "echo.wasm",
        "manifest.json",
        "ui/",
        "ui/assets/",
        "ui/assets/app.js",
        "ui/index.html",
    ]
    for info in archive.infolist():
        assert info.date_time == (2023, 6, 19, 0, 0, 0)
        mode = info.external_attr >> 16
        assert stat.S_IMODE(mode) == 0o755
        if info.is_dir():
            assert stat.S_ISDIR(mode)
        else:
            assert stat.S_ISREG(mode)
            assert info.compress_type == zipfile.ZIP_DEFLATED
    assert archive.read("echo.wasm") == b"\0asm" + bytes(1000)


def test_same_tree_same_bytes_regardless_of_mtimes(tmp_path: Path) -> None:
    pkg = make_pkg(tmp_path)
    first = zip_directory_bytes(pkg)
    (pkg / "manifest.json").touch()
    destination = tmp_path / "target" / "echo:template.os.zip"
    digest = write_directory_zip(pkg, destination)
    assert destination.read_bytes() == first
    assert digest == sha256_bytes(first) == sha256_file(destination)
    assert not list(destination.parent.glob(".*partial"))


def test_empty_directory_gives_empty_zip(tmp_path: Path) -> None:
    data = zip_directory_bytes(tmp_path)
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []
    assert len(data) == 22  # just the end-of-central-directory record


def test_reader_round_trip_and_extract(tmp_path: Path) -> None:
    package = PackageZip(zip_directory_bytes(make_pkg(tmp_path)))
    assert package.file_names() == [
        "a-b.txt",
        "a/x",
        "echo.wasm",
        "manifest.json",
        "ui/assets/app.js",
        "ui/index.html",
    ]
    assert package.has_file("/echo.wasm")
    assert package.read("/manifest.json") == b"[]"
    with pytest.raises(PackageZipError, match=r"no file 'missing\.wasm'"):
        package.read("/missing.wasm")
    out = tmp_path / "out"
    package.extract_to(out)
    assert (out / "ui" / "assets" / "app.js").read_text() == "1"


def _zip_with(entries: list[tuple[str, bytes]], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.txt", "escapes the package"),
        ("/abs.txt", "absolute paths"),
        ("a/../../b", "escapes the package"),
        ("dir\\file", "invalid name"),
        ("C:/x", "escapes the package or is malformed"),
    ],
)
def test_reader_refuses_unsafe_names(name: str, reason: str) -> None:
    with pytest.raises(PackageZipError, match=reason):
        PackageZip(_zip_with([(name, b"x")]), "evil.zip")


def test_reader_refuses_symlinks_duplicates_and_garbage() -> None:
    with pytest.raises(PackageZipError, match="symbolic link"):
        PackageZip(_zip_with([], symlink="link"))
    with pytest.warns(UserWarning), pytest.raises(PackageZipError, match="appears twice"):
        PackageZip(_zip_with([("a", b"1"), ("a", b"2")]))
    with pytest.raises(PackageZipError, match="not a zip file"):
        PackageZip(b"not a zip")
