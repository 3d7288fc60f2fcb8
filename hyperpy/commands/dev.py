"""`hyperpy dev`: a local node that follows your edits.

Boot the local node (with kit's rpc endpoint and the HTTP server on `--port`), install the project,
then watch its files: on every save the API files (`api/*.wit`, `apis/*.py`, `ui/caller-utils.*`)
are regenerated and the package is reinstalled — natively by default, which takes milliseconds and
keeps `breakpoint()` working, or as the real component with `--component` (a full `hyperpy build`
each time). Typing `c` + Enter builds and installs the component and keeps to it (every later save
rebuilds the component), `n` goes back to native, `r` reinstalls, `q` quits; the keys are read from
stdin whether or not it is a terminal (a pipe from an editor or script works too). The node's
terminal output streams to the console throughout; a broken edit shows its error and the previous
version keeps running.

Generated files, build outputs and tests are ignored by the watcher, so regeneration never triggers
itself, and editing a test does not reinstall the app.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import click

IGNORED_DIRECTORIES = frozenset(
    {
        "__pycache__", ".git", ".hyperpy-cache", "target", "pkg", "api", "apis", "tests", ".pytest_cache",
        ".mypy_cache", ".ruff_cache", "node_modules", ".venv", "venv",
    }
)  # fmt: skip
IGNORED_FILES = frozenset({"caller-utils.ts", "caller-utils.js", "metadata.json"})
IGNORED_SUFFIXES = (".tmp", ".pyc", ".swp", "~")


def is_relevant_change(path: Path, root: Path) -> bool:
    """Whether an edit at `path` should trigger a rebuild (sources, config, UI files)."""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    if any(part in IGNORED_DIRECTORIES or part.startswith(".#") for part in relative.parts[:-1]):
        return False
    name = relative.name
    return not (name in IGNORED_FILES or name.endswith(IGNORED_SUFFIXES) or name.startswith(".#"))


@dataclass
class DevSession:
    """One project on one node: regenerate the API files and (re)install, reporting instead of raising."""

    root: Path
    node: Any  # hyperpy.node.Node
    report: Callable[[str, str], None]
    mode: str = "native"
    installs: int = field(default=0)

    def regenerate(self) -> None:
        from hyperpy.build.witgen.dependencies import DependencyError, fetch_dependency_apis
        from hyperpy.build.witgen.from_app import project_apis, write_api_wit
        from hyperpy.build.witgen.stub_files import (
            STUBS_PACKAGE,
            dependency_api,
            own_api,
            write_python_stubs,
            write_ui_clients,
        )
        from hyperpy.package.project import load_project

        project = load_project(self.root)
        try:
            dependency_sets = [dependency_api(d) for d in fetch_dependency_apis(self.root)]
        except DependencyError as error:
            self.report(f"dependencies: {error} (run `hyperpy stubs --local ...` once)", "yellow")
            dependency_sets = []
        if dependency_sets:
            write_python_stubs(dependency_sets, self.root / STUBS_PACKAGE)
        apis = project_apis(project)
        write_api_wit(project, apis)
        own = own_api(project)
        if own is not None or dependency_sets:
            write_python_stubs(([own] if own else []) + dependency_sets, self.root / STUBS_PACKAGE)
        if own is not None and (self.root / "ui").is_dir():
            process = next(
                (a.process for a in apis if "-signature-http" in a.text), project.processes[0].name
            )
            write_ui_clients(own, self.root / "ui", f"/{process}:{project.package}:{project.publisher}")

    def install(self, mode: str | None = None) -> bool:
        """Regenerate and install in `mode` (default: the session's); True when the new version runs."""
        from hyperpy.node.readiness import ProcessStartError

        mode = mode or self.mode
        started = time.perf_counter()
        try:
            self.regenerate()
            if mode == "component":
                from hyperpy.build import build_project

                target: Path = build_project(self.root, progress=False).zip_path
            else:
                target = self.root
            installed = self.node.install(target, mode=mode)
        except ProcessStartError as error:  # installed, but its @init raised: the old one is gone
            self.report(f"reloaded, but it did not start: {error}", "bold red")
            return False
        except Exception as error:  # any failure of the user's edit: report it, keep the old version
            self.report(f"not reloaded: {_describe(error)}", "bold red")
            return False
        self.installs += 1
        elapsed = (time.perf_counter() - started) * 1000
        verb = "installed" if self.installs == 1 else "reloaded"
        self.report(f"{verb} {installed.package_id} ({mode}) in {elapsed:.0f} ms", "green")
        return True


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return (
        text if type(error).__name__.endswith(("Error", "Exception")) else f"{type(error).__name__}: {text}"
    )


def watch_changes(
    root: Path, stop: threading.Event, ready: Callable[[], None] | None = None
) -> Iterable[set[Path]]:
    """Sets of relevant changed paths under `root`, until `stop` is set (watchfiles, debounced).

    `ready` is called once the watcher is running, so nothing saved after it can be missed.
    """
    import watchfiles

    def relevant(change: watchfiles.Change, path: str) -> bool:
        return is_relevant_change(Path(path), root)

    watcher = watchfiles.watch(
        root, watch_filter=relevant, stop_event=stop, debounce=300, rust_timeout=250, yield_on_timeout=True
    )
    for changes in watcher:
        if ready is not None:
            ready()
            ready = None
        paths = {Path(path) for _, path in changes}
        if paths:
            yield paths


def _read_commands(
    session: DevSession, stop: threading.Event, lock: threading.Lock, commands: TextIO
) -> None:
    """Commands, one a line: c (component from now on), n (native), r (reinstall), q (quit).

    `c` switches the session's mode: a one-off component install would be replaced by the next
    save's native reinstall, hiding the component the developer asked to try."""
    for line in commands:
        command = line.strip().lower()
        with lock:
            if command == "c":
                session.mode = "component"
                session.install()
            elif command == "n":
                session.mode = "native"
                session.install()
            elif command == "r":
                session.install()
            elif command == "q":
                stop.set()
                return
        if stop.is_set():
            return


def run_dev(
    root: Path,
    node: Any,
    report: Callable[[str, str], None],
    *,
    mode: str,
    stop: threading.Event,
    commands: TextIO | None = None,
) -> DevSession:
    """Install once, then reinstall on every relevant change until `stop` is set (blocking).

    Commands are read from `commands` (default: stdin, terminal or not)."""
    session = DevSession(root, node, report, mode)
    lock = threading.Lock()
    with lock:
        session.install()
    source = commands if commands is not None else sys.stdin
    if source is not None and not source.closed:
        threading.Thread(target=_read_commands, args=(session, stop, lock, source), daemon=True).start()
    for paths in watch_changes(root, stop, ready=lambda: report("watching for changes", "dim")):
        names = ", ".join(sorted(str(p.relative_to(root)) for p in paths))
        report(f"changed: {names}", "dim")
        with lock:
            session.install()
    return session


@click.command("dev")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
@click.option("--port", "-p", type=int, default=8080, show_default=True, help="HTTP port of the node.")
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), help="Node home (kept between runs)."
)
@click.option("--component", is_flag=True, help="Rebuild and install the real .wasm on every change.")
@click.option("--fake-node-name", "-f", default="fake.dev", show_default=True, help="The node's name.")
@click.option("--verbosity", "-v", type=click.IntRange(0, 3), default=0, show_default=True)
def dev_command(
    directory: Path, port: int, home: Path | None, component: bool, fake_node_name: str, verbosity: int
) -> None:
    """Run a local node with the project installed; rebuild and reinstall on every save (Ctrl-C stops)."""
    import signal

    from rich.console import Console

    from hyperpy.node.control.console import ConsoleStream
    from hyperpy.node.control.surface import node_with_control_surface

    root = directory.resolve()
    if not (root / "pyproject.toml").is_file():
        raise click.ClickException(
            f"{root} is not a hyperpy project (no pyproject.toml); run `hyperpy new NAME`"
        )
    stream = ConsoleStream(Console(highlight=False))
    node, _surface = node_with_control_surface(fake_node_name, home=home, port=port, verbosity=verbosity)
    unsubscribe = node.terminal.subscribe(stream)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        node.start()
        stream.info(f"node {fake_node_name} on http://localhost:{port}; watching {root}")
        stream.info("keys (+ Enter): c = component from now on, n = native, r = reinstall, q = quit", "dim")
        run_dev(root, node, stream.info, mode="component" if component else "native", stop=stop)
        stream.info("stopping the node", "yellow")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        unsubscribe()
        node.close()
