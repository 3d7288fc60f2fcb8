"""The machine and tool versions a benchmark ran on, recorded beside every figure.

Why: a ratio is only comparable with another ratio measured on a similar setup; BENCHMARKS.md and
the JSON output always say how many cores, which CPU, and which Python, wasmtime and
componentize-py produced the numbers.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Environment:
    cores: int
    cpu: str
    platform: str
    python: str
    wasmtime: str
    componentize_py: str
    hyperpy: str
    commit: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def one_line(self) -> str:
        return (
            f"{self.cores} cores ({self.cpu}), {self.platform}, Python {self.python}, "
            f"wasmtime {self.wasmtime}, componentize-py {self.componentize_py}, hyperpy {self.hyperpy}"
            + (f" @ {self.commit}" if self.commit else "")
        )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _commit() -> str:
    """The checkout's short commit, or '' outside a git checkout (an installed wheel)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return ""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head


def describe_environment() -> Environment:
    return Environment(
        cores=os.cpu_count() or 1,
        cpu=_cpu_model(),
        platform=f"{platform.system()} {platform.machine()}",
        python=f"{platform.python_implementation()} {platform.python_version()}",
        wasmtime=_version("wasmtime"),
        componentize_py=_version("componentize-py"),
        hyperpy=_version("hyperpy"),
        commit=_commit(),
    )
