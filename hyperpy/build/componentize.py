"""Run componentize-py for one process, in its own subprocess.

Why a subprocess: one componentize-py run takes seconds and ~0.4 GB, so the processes of a package
build in parallel as separate OS processes, and a crash in one cannot take the build tool down. Why its
Python API (`componentize_py.componentize`) rather than its command line: the command line appends
the host's site-packages to the guest path on its own (VIRTUAL_ENV, pipenv or `site`), which would
let a component import packages the project never declared; the API takes the path exactly.

Run as `python -m hyperpy.build.componentize` it reads one JSON job on stdin and writes one JSON
result line on stdout: `{"ok": true}` or `{"ok": false, "error": "<componentize-py's report>"}`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class ComponentizeJob:
    wit_dir: str
    world: str
    python_path: tuple[str, ...]
    app_module: str
    output: str


class ComponentizeFailure(Exception):
    """componentize-py reported an error; `report` is its raw text (guest output + cause chain)."""

    def __init__(self, report: str):
        super().__init__(report)
        self.report = report


def componentize_py_version() -> str:
    return metadata.version("componentize-py")


def _quiet_environment() -> dict[str, str]:
    environment = dict(os.environ)
    # Rust backtraces bury the guest's traceback; the user never needs them.
    environment["RUST_BACKTRACE"] = "0"
    environment["RUST_LIB_BACKTRACE"] = "0"
    return environment


def run_componentize(job: ComponentizeJob) -> None:
    """Build `job.output`; raise ComponentizeFailure with componentize-py's report if it fails."""
    completed = subprocess.run(
        [sys.executable, "-m", "hyperpy.build.componentize"],
        input=json.dumps(asdict(job)),
        capture_output=True,
        text=True,
        env=_quiet_environment(),
        check=False,
    )
    result_line = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    try:
        result = json.loads(result_line)
    except json.JSONDecodeError:
        result = None
    if completed.returncode == 0 and isinstance(result, dict) and result.get("ok"):
        return
    if isinstance(result, dict) and "error" in result:
        raise ComponentizeFailure(str(result["error"]))
    raise ComponentizeFailure(
        f"componentize-py exited with status {completed.returncode}\n{completed.stderr.strip()[-4000:]}"
    )


def _work(job: ComponentizeJob) -> dict[str, object]:
    import componentize_py

    Path(job.output).parent.mkdir(parents=True, exist_ok=True)
    try:
        componentize_py.componentize(
            [job.wit_dir],  # wit_path
            [job.world],  # worlds
            [],  # features
            False,  # all_features
            None,  # world_module (default: wit_world)
            list(job.python_path),
            [],  # module_worlds
            job.app_module,
            job.output,
            False,  # stub_wasi
            [],  # import_interface_names
            [],  # export_interface_names
            False,  # full_names
            None,  # intersect_world
        )
    except AssertionError as exc:  # componentize-py reports every failure as AssertionError
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


def main() -> None:
    raw = json.loads(sys.stdin.read())
    raw["python_path"] = tuple(raw["python_path"])
    result = _work(ComponentizeJob(**raw))
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
