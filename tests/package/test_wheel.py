"""The built wheel carries the Hyperware WIT, and `wit_dir()` finds it there (not only in a checkout)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_the_wit_and_wit_dir_finds_it(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("hyperpy-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("hyperpy/wit/hyperware.wit") == (REPO_ROOT / "wit" / "hyperware.wit").read_bytes()
        archive.extractall(tmp_path / "site")
    assert not any(name.startswith(("tests/", "examples/", "build_tools/")) for name in names)
    located = subprocess.run(
        [sys.executable, "-c", "from hyperpy.package.wit import wit_file; print(wit_file())"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site")},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(located) == tmp_path / "site" / "hyperpy" / "wit" / "hyperware.wit"
