"""Issue 2's figures: what `hyperpy build` costs on top of a bare componentize-py run.

All five figures come from the same work, so they are one benchmark. Each repetition:

1. copies `examples/echo_raw` into a fresh directory with a fresh `HYPERPY_CACHE_DIR` (a cold build
   for hyperpy, whatever it cached before);
2. runs, in alternating order, the baseline - `componentize-py -d <hyperpy wit> -w process-v1
   componentize <module>` on the same module, exactly what a user would type without hyperpy - and
   the subject, the `hyperpy build` command (interpreter start, config, world, componentize-py,
   pkg/, metadata, zip and hash included);
3. runs `hyperpy build` again with nothing changed (the no-op rebuild), and `build_project` in
   process (the same no-op without interpreter and import start-up, to show where time goes);
4. compares the component and zip sizes with the bare output (zipped the way kit zips `pkg/`).

Targets (issue 2): cold build overhead ≤ 15%; no-op rebuild ≤ 0.5 s; sizes within 5%.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hyperpy.bench.registry import Benchmark, Figure, Sample, Target, register
from hyperpy.package.archive import zip_directory_bytes
from hyperpy.package.project import Project, load_project
from hyperpy.package.wit import WIT_WORLD, wit_dir

EXAMPLE_NAME = "echo_raw"
MB = 1_000_000
# Copied into each repetition's project: everything but build outputs and caches.
_NOT_SOURCES = shutil.ignore_patterns("pkg", "target", "__pycache__", ".hyperpy-cache", "*.pyc")

BARE_LABEL = "bare componentize-py componentize"
COLD = Figure(
    name="build.cold",
    title="cold build of the raw echo",
    unit="s",
    target=Target.ratio_at_most(1.15, "overhead ≤ 15%"),
    subject_label="hyperpy build",
    baseline_label=BARE_LABEL,
)
NOOP = Figure(
    name="build.noop",
    title="no-op rebuild: hyperpy build, nothing changed",
    unit="s",
    target=Target.subject_at_most(0.5, "s"),
    subject_label="hyperpy build",
    baseline_label="bare cold build",
)
NOOP_API = Figure(
    name="build.noop_api",
    title="no-op rebuild in process: build_project()",
    unit="s",
    target=Target.subject_at_most(0.5, "s"),
    subject_label="build_project()",
    baseline_label="bare cold build",
)
COMPONENT_SIZE = Figure(
    name="build.component_size",
    title="component size (pkg/echo.wasm)",
    unit="MB",
    target=Target.ratio_within(0.05, "within 5%"),
    subject_label="hyperpy",
    baseline_label="bare componentize-py output",
)
ZIP_SIZE = Figure(
    name="build.zip_size",
    title="package zip size",
    unit="MB",
    target=Target.ratio_within(0.05, "within 5%"),
    subject_label="hyperpy",
    baseline_label="bare output, zipped like kit",
)


def find_example(name: str = EXAMPLE_NAME) -> Path:
    """`examples/<name>` of the checkout hyperpy runs from (examples are not part of the wheel)."""
    example = Path(__file__).resolve().parents[3] / "examples" / name
    if not (example / "pyproject.toml").is_file():
        raise FileNotFoundError(
            f"{example} not found: the build figures need a hyperpy checkout (run `hyperpy bench` from it)"
        )
    return example


def _hyperpy_command() -> list[str]:
    script = Path(sys.executable).with_name("hyperpy")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from hyperpy.cli import main; main()"]


def _componentize_py_command() -> list[str]:
    script = Path(sys.executable).with_name("componentize-py")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "componentize_py"]


def _timed(command: list[str], *, cwd: Path, env: dict[str, str], what: str) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()
        tail = "\n".join(output[-15:])
        raise RuntimeError(f"{what} failed (exit {completed.returncode}): {' '.join(command)}\n{tail}")
    return elapsed


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for an in-process call, restoring them afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class BuildBench:
    scratch: Path
    example: Path
    module: str
    module_root: Path  # relative to the project root: the directory to put on the Python path
    process_wasm: str
    repetition: int = 0

    def fresh_project(self) -> tuple[Path, dict[str, str]]:
        """A new copy of the example and an environment whose hyperpy cache is empty."""
        self.repetition += 1
        base = self.scratch / f"repetition-{self.repetition}"
        project = base / "project"
        shutil.copytree(self.example, project, ignore=_NOT_SOURCES)
        env = dict(os.environ, HYPERPY_CACHE_DIR=str(base / "cache"))
        return project, env


def setup(scratch: Path) -> BuildBench:
    example = find_example()
    project: Project = load_project(example)
    process = project.processes[0]
    module_file = project.module_path(process)
    if module_file is None:
        raise FileNotFoundError(f"{example}: module {process.module!r} of process {process.name!r} not found")
    depth = len(process.module.split(".")) + (1 if module_file.name == "__init__.py" else 0)
    module_root = module_file.parents[depth - 1].relative_to(project.root)
    return BuildBench(
        scratch=scratch,
        example=example,
        module=process.module,
        module_root=module_root,
        process_wasm=process.wasm_file_name,
    )


def measure(state: BuildBench) -> dict[str, Sample]:
    project_dir, env = state.fresh_project()
    bare_wasm = project_dir.parent / "bare" / state.process_wasm
    bare_wasm.parent.mkdir(parents=True)
    bare = [
        *_componentize_py_command(),
        "-d",
        str(wit_dir()),
        "-w",
        WIT_WORLD,
        "componentize",
        state.module,
        "-p",
        str(project_dir / state.module_root),
        "-o",
        str(bare_wasm),
    ]
    build = [*_hyperpy_command(), "build", str(project_dir)]

    def run_bare() -> float:
        return _timed(bare, cwd=project_dir, env=env, what="bare componentize-py")

    def run_build() -> float:
        return _timed(build, cwd=project_dir, env=env, what="hyperpy build")

    if state.repetition % 2:
        bare_s = run_bare()
        cold_s = run_build()
    else:
        cold_s = run_build()
        bare_s = run_bare()
    noop_s = _timed(build, cwd=project_dir, env=env, what="hyperpy build (no-op)")
    noop_api_s = _noop_in_process(project_dir, env["HYPERPY_CACHE_DIR"])

    project = load_project(project_dir)
    built_wasm = project.pkg_dir / state.process_wasm
    bare_pkg = bare_wasm.parent
    bare_zip_bytes = len(zip_directory_bytes(bare_pkg))
    return {
        COLD.name: Sample(cold_s, bare_s),
        NOOP.name: Sample(noop_s, bare_s),
        NOOP_API.name: Sample(noop_api_s, bare_s),
        COMPONENT_SIZE.name: Sample(built_wasm.stat().st_size / MB, bare_wasm.stat().st_size / MB),
        ZIP_SIZE.name: Sample(project.zip_path.stat().st_size / MB, bare_zip_bytes / MB),
    }


def _noop_in_process(project_dir: Path, cache_dir: str) -> float:
    from hyperpy.build.pipeline import build_project  # imported here: only this figure needs it

    with _environment(HYPERPY_CACHE_DIR=cache_dir):
        started = time.perf_counter()
        build_project(project_dir, progress=False)
        return time.perf_counter() - started


register(
    Benchmark(
        name="build",
        figures=(COLD, NOOP, NOOP_API, COMPONENT_SIZE, ZIP_SIZE),
        setup=setup,
        measure=measure,
        repetitions=5,
        quick_repetitions=1,
        description="hyperpy build of examples/echo_raw against a bare componentize-py run",
    )
)
