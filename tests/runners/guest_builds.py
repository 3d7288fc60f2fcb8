"""Build the runner tests' guest components with componentize-py, once per machine.

componentize-py needs 5-10 s per component, so each build is cached under
`.hyperpy-cache/test-components/` (or `$HYPERPY_CACHE_DIR/test-components/`), keyed by the sha256 of
everything that goes in: the guest sources, the WIT, the world and componentize-py's version. The
compiled (Cranelift) form is cached separately by the runner's own `CompileCache`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from hyperpy.package.wit import wit_file

REPO_ROOT = Path(__file__).resolve().parents[2]
GUESTS = Path(__file__).resolve().parent / "guests"

# A world that imports an interface no Hyperware node provides (next to everything a process has).
FOREIGN_WORLD_WIT = """\
package hyperpy-test:foreign@0.1.0;

interface weather {
    forecast: func(city: string) -> string;
}

world process-with-foreign-import {
    import weather;
    include hyperware:process/process-v1@1.0.0;
}
"""


def cache_root() -> Path:
    return Path(os.environ.get("HYPERPY_CACHE_DIR") or REPO_ROOT / ".hyperpy-cache")


def _componentize_py() -> list[str]:
    script = Path(sys.executable).with_name("componentize-py")
    return [str(script)] if script.exists() else [sys.executable, "-m", "componentize_py"]


def build_guest(module: str, *, world: str = "process-v1", world_wit: str | None = None) -> Path:
    """The component for guest `module` (a file in `guests/`), built at most once per content hash."""
    hyperware = wit_file().read_text(encoding="utf-8")
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(GUESTS.glob("*.py"))}
    key = hashlib.sha256(
        json.dumps(
            [module, world, world_wit, hyperware, sources, metadata.version("componentize-py")],
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    output = cache_root() / "test-components" / f"runner-{module}-{key}.wasm"
    if output.is_file():
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hyperpy-runner-guest-") as scratch:
        work = Path(scratch)
        wit_dir = work / "wit"
        if world_wit is None:
            wit_dir.mkdir()
            (wit_dir / "hyperware.wit").write_text(hyperware, encoding="utf-8")
        else:
            (wit_dir / "deps" / "hyperware").mkdir(parents=True)
            (wit_dir / "deps" / "hyperware" / "hyperware.wit").write_text(hyperware, encoding="utf-8")
            (wit_dir / "world.wit").write_text(world_wit, encoding="utf-8")
        built = work / f"{module}.wasm"
        command = [*_componentize_py(), "-d", str(wit_dir), "-w", world, "componentize", module]
        result = subprocess.run(
            [*command, "-p", str(GUESTS), "-o", str(built)],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"componentize-py failed for guest {module}:\n{result.stderr}")
        partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
        shutil.copyfile(built, partial)
        partial.replace(output)
    return output
