"""Locate the Hyperware WIT shipped with hyperpy.

Why two places: a wheel carries the file as `hyperpy/wit/hyperware.wit` (hatch force-include), while
an editable install or a checkout has it at the repository's top-level `wit/`. Everything that needs
the ABI (build, check, native shim tests) asks here, so neither layout is assumed elsewhere.
"""

from __future__ import annotations

from pathlib import Path

WIT_FILE_NAME = "hyperware.wit"
WIT_PACKAGE = "hyperware:process@1.0.0"
WIT_WORLD = "process-v1"


def wit_dir() -> Path:
    """Return the directory holding `hyperware.wit`; raise FileNotFoundError naming both places."""
    package_root = Path(__file__).resolve().parent.parent
    candidates = [package_root / "wit", package_root.parent / "wit"]
    for candidate in candidates:
        if (candidate / WIT_FILE_NAME).is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"hyperware.wit not found (looked in {looked}); reinstall hyperpy (`pip install hyperpy`) "
        "or run from a checkout that has wit/hyperware.wit"
    )


def wit_file() -> Path:
    return wit_dir() / WIT_FILE_NAME
