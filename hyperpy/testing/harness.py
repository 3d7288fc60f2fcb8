"""What a test talks to: a local node with helpers for installing, messaging and reading its output.

Why a wrapper over `hyperpy.node.Node`: tests repeat the same four things — install the package under
test (built once per session, in the test's mode), send a request and decode the JSON answer, look at
what the node printed, restart the node — and a failing test should say *what the node printed*, not
only that a wait timed out. Everything else is the Node itself (`harness.node`).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Literal

from hyperpy.node import InjectResponse, InjectTimeout, InstalledPackage, Node, ProcessInfo
from hyperpy.node.control.compiled import precompile_package
from hyperpy.node.control.surface import ControlSurface
from hyperpy.node.terminal import Printout
from hyperpy.testing.http import NodeHttp

Mode = Literal["component", "native"]
MODES: tuple[Mode, ...] = ("component", "native")
OUTPUT_TAIL_LINES = 40
LATEST_LINES = 10
DEFAULT_TIMEOUT = 10
"""Seconds a request waits for its response unless the test says otherwise."""


class NoResponse(AssertionError):
    """A request got no response in time; the message quotes the node's recent output."""


class PackageBuilds:
    """Builds each project at most once per test session, and compiles its components once.

    The build is incremental on disk too (`hyperpy build`'s cache), so a later session with unchanged
    sources does not run componentize-py again. Compiling a fresh component takes seconds; doing it
    here, before the package is installed, keeps that out of the first request's timeout.
    """

    def __init__(self, compiled_dir: Path | None = None) -> None:
        self._zips: dict[Path, Path] = {}
        self._compiled_dir = compiled_dir
        self._lock = threading.Lock()

    def zip_for(self, project: Path) -> Path:
        from hyperpy.build import build_project

        root = project.resolve()
        with self._lock:
            if root not in self._zips:
                zip_path = build_project(root, progress=False).zip_path
                self.precompile(zip_path.read_bytes())
                self._zips[root] = zip_path
            return self._zips[root]

    def precompile(self, zip_bytes: bytes) -> None:
        """Compile every `.wasm` of a package into the shared compile cache (memory + disk)."""
        precompile_package(zip_bytes, self._compiled_dir)


def is_project(path: Path) -> bool:
    """A hyperpy project (pyproject.toml, or kit's layout with Python sources: built by us, or loaded
    natively) rather than a built zip / pkg directory."""
    from hyperpy.package.kit_layout import is_project_dir

    return is_project_dir(path)


class HyperpyNode:
    """One running local node in a test, in the test's mode (`component` or `native`)."""

    def __init__(self, node: Node, surface: ControlSurface, mode: Mode, builds: PackageBuilds) -> None:
        self.node = node
        self.mode: Mode = mode
        self._surface = surface
        self._builds = builds
        self._boot_mark = 0  # terminal position at the last restart: wait_for_output looks after it
        self.http = NodeHttp(lambda: self._surface.url, self._login_cookie)
        """HTTP client on the node's base URL, logged in (`http.get("/<process>/api/items")`)."""

    def _login_cookie(self) -> tuple[str, str] | None:
        server = self._surface.http_server
        return server.auth_cookie() if server is not None else None

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def url(self) -> str:
        """The node's HTTP base URL: process bindings, kit's rpc endpoint, the REST API.

        Use it with any HTTP client, or with `hyperpy.package.control_client.inject(url, ...)` to go
        through the rpc endpoint exactly as `kit inject-message` does. The port changes on `restart()`.
        """
        return self._surface.url

    def install(
        self, source: Path | str | bytes, *, mode: Mode | None = None, **options: Any
    ) -> InstalledPackage:
        """Install a project directory (built once per session in component mode), a zip or a pkg dir.

        `mode` defaults to the test's mode; `options` go to `Node.install` (`package_id`,
        `native_modules`).
        """
        chosen = mode or self.mode
        if isinstance(source, bytes):
            if chosen == "component":
                self._builds.precompile(source)
            return self.node.install(source, mode=chosen, **options)
        path = Path(source)
        if is_project(path) and chosen == "component":
            return self.node.install(self._builds.zip_for(path), mode="component", **options)
        if path.is_file() and chosen == "component":
            self._builds.precompile(path.read_bytes())
        return self.node.install(path, mode=chosen, **options)

    def request(
        self,
        process: str,
        body: bytes | str | Any,
        *,
        blob: bytes | None = None,
        timeout: int = DEFAULT_TIMEOUT,
        metadata: str | None = None,
    ) -> InjectResponse:
        """Send a Request (as `kit inject-message` does) and return its Response.

        Raises NoResponse quoting the node's recent output when nothing answers within `timeout` s.
        """
        try:
            response = self.node.inject(process, body, blob=blob, expects_response=timeout, metadata=metadata)
        except InjectTimeout as error:
            raise NoResponse(f"{process} on {self.name} did not respond: {error}\n{self.tail()}") from None
        if response is None:
            raise NoResponse(f"{process} on {self.name}: the node returned no response")
        return response

    def request_json(
        self, process: str, value: Any, *, blob: bytes | None = None, timeout: int = DEFAULT_TIMEOUT
    ) -> Any:
        """Send `value` as a JSON body and return the response body parsed as JSON."""
        response = self.request(process, json.dumps(value), blob=blob, timeout=timeout)
        try:
            return json.loads(response.body)
        except ValueError:
            raise AssertionError(
                f"{process} answered with a body that is not JSON: {response.body[:200]!r}"
            ) from None

    def send(self, process: str, body: bytes | str | Any, *, blob: bytes | None = None) -> None:
        """Fire-and-forget Request (no response expected)."""
        self.node.inject(process, body, blob=blob, expects_response=None)

    def terminal_command(self, line: str) -> None:
        """Type a command line into the node's terminal (`m ...`, `top`, `send:pkg:pub args`); what
        the script prints arrives in the output (`wait_for_output`)."""
        self.node.terminal_command(line)

    def output(self, *, all: bool = False) -> str:
        """The node's terminal: what a developer would see, or every printout with `all=True`."""
        return self.node.terminal.text(all)

    def mark(self) -> int:
        """A position in the terminal output, for `wait_for_output(..., since=mark)`."""
        return self.node.terminal.mark()

    def wait_for_output(self, match: str, *, timeout: float = 5.0, since: int | None = None) -> Printout:
        """Wait for a printout containing `match` (raises TimeoutError quoting the recent output).

        Looks at printouts after `since` (a `mark()`); by default after the last `restart()`, so a
        line the previous boot printed does not count. `since=0` searches the whole history."""
        start = self._boot_mark if since is None else since
        return self.node.terminal.wait_for(match, timeout=timeout, since=start)

    def processes(self) -> list[ProcessInfo]:
        return self.node.processes()

    def process(self, process_id: str) -> ProcessInfo | None:
        return self.node.process(process_id)

    def kill(self, process_id: str) -> bool:
        return self.node.kill(process_id)

    def get_state(self, process_id: str) -> bytes | None:
        return self.node.get_state(process_id)

    def restart(self) -> None:
        """Stop and boot the node on the same home: persisted processes and state come back.

        Returns when they answer (see `Node.restart`); `wait_for_output` then sees only new output."""
        self._boot_mark = self.mark()
        self.node.restart()

    def tail(self, lines: int = OUTPUT_TAIL_LINES) -> str:
        """The output worth reading after a failure: the last `lines` printouts at verbosity 0-1
        (installs, crashes, the app's own messages) plus the latest few of any level, in order, so a
        burst of debug lines cannot hide the error that explains it."""
        recorded = self.node.terminal.lines(all=True)
        important = [p for p in recorded if p.verbosity <= 1][-lines:]
        chosen = sorted(
            {p.seq: p for p in [*important, *recorded[-LATEST_LINES:]]}.values(), key=lambda p: p.seq
        )
        body = "\n".join(f"  [{p.verbosity}] {p.text}" for p in chosen) or "  (no output)"
        hidden = len(recorded) - len(chosen)
        more = f" ({hidden} more debug lines: output(all=True))" if hidden else ""
        return f"output of node {self.name}{more}:\n{body}"
