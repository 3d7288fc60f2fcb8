"""`hyperpy inject`, `hyperpy start-package` and `hyperpy run`: the node's commands.

inject and start-package are thin shells over `hyperpy.package.control_client`, which speaks kit's rpc
protocol, so they work against the local node and against a real Hyperdrive alike. Errors are printed
as one sentence with the fix, never as a traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hyperpy.node.control.console import ConsoleStream, VerbosityKeys
from hyperpy.package.control_client import (
    DEFAULT_URL,
    ControlError,
    InjectResult,
    inject,
    node_url,
    prepare_upload,
    start_package,
)
from hyperpy.package.control_wire import KIT_EXPECTS_RESPONSE

if TYPE_CHECKING:
    from hyperpy.node import Node


def _resolve_url(url: str | None, port: int | None) -> str:
    if url is not None and port is not None:
        raise click.UsageError("give either --url or --port, not both")
    if url is not None:
        return url
    return node_url(port) if port is not None else DEFAULT_URL


def _print_result(result: InjectResult, blob_out: Path | None) -> None:
    if result.reply is None:
        click.echo(f"sent (HTTP {result.status}); no response requested")
        return
    body = result.reply.body_bytes()
    try:
        click.echo(body.decode())
    except UnicodeDecodeError:
        click.echo(f"(the response body is {len(body)} bytes of binary data: {body[:32].hex()}...)")
    try:
        blob = result.blob()
    except ControlError as error:
        raise click.ClickException(str(error)) from None
    if blob is None:
        return
    if blob_out is not None:
        blob_out.write_bytes(blob)
        click.echo(f"blob: {len(blob)} bytes written to {blob_out}", err=True)
        return
    try:
        click.echo(f"blob: {blob.decode()}")
    except UnicodeDecodeError:
        click.echo(f"blob: {len(blob)} bytes of binary data (use --blob-out FILE to save it)")


@click.command("inject")
@click.argument("process")
@click.argument("body")
@click.option("--node", "-n", default=None, help="Target node name [default: the node behind the URL].")
@click.option("--port", "-p", type=int, default=None, help="Local node port [default: 8080].")
@click.option("--url", default=None, help=f"Node base URL instead of --port [default: {DEFAULT_URL}].")
@click.option(
    "--blob",
    "-b",
    "blob_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Send this file's bytes as the request blob.",
)
@click.option("--non-block", "-l", is_flag=True, help="Don't wait for a response (fire-and-forget).")
@click.option(
    "--blob-out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the response blob to this file instead of printing it.",
)
def inject_command(
    process: str,
    body: str,
    node: str | None,
    port: int | None,
    url: str | None,
    blob_file: Path | None,
    non_block: bool,
    blob_out: Path | None,
) -> None:
    """Send BODY (usually JSON) to PROCESS on a running node and print the response (like kit inject-message).

    Example: hyperpy inject echo:echo:template.os '{"Echo":"hi"}' --port 8080
    """
    target = _resolve_url(url, port)
    blob = blob_file.read_bytes() if blob_file is not None else None
    try:
        result = inject(
            target,
            process,
            body,
            node=node,
            blob=blob,
            expects_response=None if non_block else KIT_EXPECTS_RESPONSE,
        )
    except ControlError as error:
        raise click.ClickException(str(error)) from None
    _print_result(result, blob_out)


@click.command("start-package")
@click.argument(
    "source",
    type=click.Path(exists=True, path_type=Path),
    default=Path("."),
    required=False,
)
@click.option("--url", default=None, help=f"Node base URL [default: {DEFAULT_URL}].")
@click.option("--port", "-p", type=int, default=None, help="Local node port instead of --url.")
@click.option(
    "--metadata",
    "metadata_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="metadata.json to use when SOURCE is a zip outside its project's target/ directory.",
)
def start_package_command(
    source: Path, url: str | None, port: int | None, metadata_path: Path | None
) -> None:
    """Install a built package (project DIR or ZIP) into a running node, as kit start-package does.

    Works against the local node (`hyperpy run`) and a real Hyperdrive started with --expose-local.
    """
    target = _resolve_url(url, port)
    try:
        upload = prepare_upload(source, metadata_path)
        click.echo(f"{upload.package_id}: sha256 {upload.version_hash}")
        start_package(target, upload)
    except ControlError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"installed {upload.package_id} on the node at {target}")


@dataclass(frozen=True)
class RunSource:
    """One thing `hyperpy run` installs: what to pass to `Node.install`, and how."""

    path: Path
    mode: str
    build_first: bool


def default_sources(paths: tuple[Path, ...], cwd: Path) -> tuple[Path, ...]:
    """`hyperpy run` with no SOURCES runs the project in the current directory, when there is one.

    Why: `cd myapp && hyperpy run` is what a user types after `hyperpy new`; booting an empty node there
    would look like the app silently failed to start. A directory is a project when its pyproject.toml
    has a `[tool.hyperpy]` table, or it has kit's layout with Python sources (metadata.json,
    pkg/manifest.json, <dir>/src/lib.py); elsewhere an empty node boots (to receive `hyperpy start-package`).
    """
    if paths:
        return paths
    from hyperpy.package.kit_layout import is_kit_layout, is_project_dir

    pyproject = cwd / "pyproject.toml"
    if not pyproject.is_file():
        return (cwd,) if is_kit_layout(cwd) and is_project_dir(cwd) else ()
    import tomllib

    try:
        config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return (cwd,)  # let the project loader report the broken file with its location
    return (cwd,) if "hyperpy" in config.get("tool", {}) else ()


def resolve_sources(paths: tuple[Path, ...], native: bool) -> list[RunSource]:
    """Decide per path: a project (pyproject or kit layout with Python sources) is built (component)
    or loaded (native); a zip, a kit-built package or a `pkg/` directory is installed as it is
    (component only)."""
    from hyperpy.package.kit_layout import is_project_dir

    sources = []
    for path in paths:
        is_project = is_project_dir(path)
        if native and not is_project:
            raise click.UsageError(
                f"--native needs a project directory (pyproject.toml, or kit's layout with Python "
                f"sources); {path} is a built "
                "package, which only runs as components (drop --native)"
            )
        sources.append(RunSource(path, "native" if native else "component", is_project and not native))
    return sources


def _build(path: Path) -> Path:
    """Build a project with `hyperpy build`'s pipeline and return its zip (imported here: the node
    itself never depends on the build)."""
    from hyperpy.build import build_project

    return build_project(path).zip_path


def _prepare(sources: list[RunSource]) -> list[tuple[Path, str]]:
    """Build what needs building and compile every component before the node boots, so the first
    message to a process never waits behind the compiler. Returns (what to install, mode) pairs."""
    from hyperpy.node.control.compiled import precompile_package

    prepared = []
    for source in sources:
        target = _build(source.path) if source.build_first else source.path
        if source.mode == "component" and target.is_file():
            precompile_package(target.read_bytes())
        prepared.append((target, source.mode))
    return prepared


def _install_all(node: Node, prepared: list[tuple[Path, str]], stream: ConsoleStream) -> None:
    for target, mode in prepared:
        installed = node.install(target, mode=mode)
        names = ", ".join(str(p) for p in installed.processes)
        stream.info(f"installed {installed.package_id} ({installed.mode}): {names}")


def _wait_for_interrupt() -> None:
    """Block the main thread until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _node_names(fake_node_name: str, nodes: str | None) -> list[str]:
    """`--nodes a,b` or the one `--fake-node-name`; kit's rule: `fake2` means `fake2.dev`."""
    from hyperpy.node.net.pki import fake_node_name as dotted

    if nodes is None:
        return [dotted(fake_node_name)]
    names = [dotted(name.strip()) for name in nodes.split(",") if name.strip()]
    if not names:
        raise click.UsageError(
            "--nodes needs node names separated by commas, e.g. --nodes fake.dev,fake2.dev"
        )
    if len(set(names)) != len(names):
        raise click.UsageError(f"--nodes lists a name twice: {nodes}")
    return names


def _split_names(text: str | None) -> tuple[str, ...]:
    from hyperpy.node.net.pki import fake_node_name as dotted

    return tuple(dotted(name.strip()) for name in (text or "").split(",") if name.strip())


def _serve_commands(node: Node, keys: VerbosityKeys, stream: ConsoleStream, port: int) -> None:
    """Take terminal command lines until Ctrl-C: at a prompt on a TTY, else from piped stdin."""
    from hyperpy.node.control.command_line import read_piped_lines, run_prompt

    ready = f"node {node.name} ready on http://localhost:{port}"
    if sys.stdin is not None and sys.stdin.isatty():
        stream.info(f"{ready} (type a command such as `top`; Ctrl-V: verbosity, Ctrl-C or Ctrl-D to stop)")
        run_prompt(node.name, node.home, node.terminal_command, lambda: keys.handle("\x16"), stream)
        return
    stream.info(f"{ready} (Ctrl-C to stop; reading commands from stdin)")
    if sys.stdin is not None:
        read_piped_lines(node.terminal_command, stream)
    _wait_for_interrupt()


@click.command("run")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--port", "-p", type=int, default=8080, show_default=True, help="HTTP port of the node.")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Node home directory (kept between runs) [default: a temporary directory]. With --nodes, "
    "each node's home is HOME/<name>.",
)
@click.option("--native", is_flag=True, help="Run the projects' Python modules natively instead of .wasm.")
@click.option(
    "--fake-node-name",
    "-f",
    default="fake.dev",
    show_default=True,
    help="The node's name (a name without a dot gets .dev: fake2 = fake2.dev).",
)
@click.option(
    "--nodes",
    default=None,
    help="Boot several nodes in this process, e.g. fake.dev,fake2.dev (HTTP on --port, --port+1, ...).",
)
@click.option(
    "--ws-port", type=int, default=None, help="Networking WebSocket port [default: first free >= 9000]."
)
@click.option(
    "--tcp-port", type=int, default=None, help="Networking TCP port [default: first free >= 10000]."
)
@click.option(
    "--network",
    default=None,
    help="Name of the local network whose nodes see each other (keeps independent runs apart) "
    "[default: $HYPERPY_NETWORK or 'default'].",
)
@click.option(
    "--ip",
    default=None,
    help="Address other nodes reach this node at (published in the PKI; the listeners bind to it) "
    "[default: 127.0.0.1, or with --join the address that reaches the joined machine].",
)
@click.option(
    "--join",
    default=None,
    metavar="HOST:PORT",
    help="Join the nodes of another machine: HOST:PORT of one of its nodes' WebSocket networking port "
    "(printed at its start); the two machines' PKIs are then kept in sync.",
)
@click.option(
    "--routers",
    default=None,
    help="Make the node indirect, reachable only through these router nodes (comma-separated).",
)
@click.option(
    "--max-passthroughs",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Route for indirect nodes: at most this many connections spliced through this node.",
)
@click.option(
    "--verbosity",
    "-v",
    "verbosity",
    type=click.IntRange(0, 3),
    default=0,
    show_default=True,
    help="Terminal verbosity 0-3: printouts at or below this level are shown.",
)
def run_command(
    sources: tuple[Path, ...],
    port: int,
    home: Path | None,
    native: bool,
    fake_node_name: str,
    nodes: str | None,
    ws_port: int | None,
    tcp_port: int | None,
    network: str | None,
    ip: str | None,
    join: str | None,
    routers: str | None,
    max_passthroughs: int,
    verbosity: int,
) -> None:
    """Boot a local node, install SOURCES (project dirs or zips; default: the project in the current
    directory, if it has a [tool.hyperpy] table) and run its terminal until Ctrl-C.

    Project directories are built first (component mode) or imported natively (--native). The node
    serves kit's rpc endpoint, so `hyperpy inject`, `hyperpy start-package` and kit work against it.
    Nodes started by `hyperpy run` on this machine reach each other over real TCP/WebSocket
    connections (docs/node.md, "Nodes on a network").
    Type terminal commands as on Hyperdrive (`m our@proc:pkg:pub '{"json": 1}'`, `hi`, `top`, `cat`,
    `alias`, a package's `script:pkg:publisher args`); piped stdin is read line by line. In a
    terminal, Ctrl-V cycles the verbosity 0-3.
    """
    from rich.console import Console

    from hyperpy.build.errors import BuildError
    from hyperpy.node import InstallError
    from hyperpy.node.control.compiled import compiled_cache_dir
    from hyperpy.node.control.surface import node_with_control_surface
    from hyperpy.node.net.boot import address_towards, machine_pki, node_net_config, pki_location
    from hyperpy.node.net.pki import JoinedPki, PkiError
    from hyperpy.node.runners.compile_cache import ComponentLoadError
    from hyperpy.package.archive import PackageZipError

    names = _node_names(fake_node_name, nodes)
    if len(names) > 1 and (ws_port is not None or tcp_port is not None):
        raise click.UsageError(
            "--ws-port/--tcp-port name one node's ports; with --nodes they are chosen free"
        )
    sources = default_sources(sources, Path.cwd())
    resolved = resolve_sources(sources, native)
    stream = ConsoleStream(Console(highlight=False))
    if not sources:
        stream.info(
            "no hyperpy project here: booting an empty node (install with `hyperpy start-package DIR`)",
            style="yellow",
        )
    try:
        prepared = _prepare(resolved)
    except (BuildError, ComponentLoadError, PackageZipError) as error:
        raise click.ClickException(str(error)) from None
    booted: list[Node] = []
    unsubscribes = []

    def set_verbosity(level: int) -> None:
        for booted_node in booted:
            booted_node.terminal.set_verbosity(level)

    keys = VerbosityKeys(set_verbosity, verbosity, stream)
    taken: set[int] = set()
    try:
        pki = machine_pki(network, join)
        if ip is None:
            ip = address_towards(join) if join is not None else "127.0.0.1"
    except (OSError, PkiError) as error:
        raise click.ClickException(f"--join {join}: {error}" if join else str(error)) from None
    try:
        for index, name in enumerate(names):
            net = node_net_config(
                pki=pki,
                ip=ip,
                ws_port=ws_port,
                tcp_port=tcp_port,
                routers=_split_names(routers),
                max_passthroughs=max_passthroughs,
                taken=taken,
            )
            node_home = home / name if home is not None and len(names) > 1 else home
            node, _surface = node_with_control_surface(
                name,
                home=node_home,
                port=port + index,
                verbosity=verbosity,
                cache_dir=compiled_cache_dir(),
                net=net,
            )
            unsubscribes.append(node.terminal.subscribe(stream))
            booted.append(node)
            node.start()
            _install_all(node, prepared, stream)
            assert node.transport is not None
            identity = node.transport.identity()
            reach = ", ".join(f"{p} {identity.ip}:{n}" for p, n in sorted(identity.ports.items())) or (
                "through routers " + ", ".join(identity.routers)
            )
            stream.info(f"node {name}: networking {reach}; PKI {pki_location(net)}")
        if isinstance(pki, JoinedPki):
            pki.sync()
            if pki.last_error is not None:
                stream.info(f"{pki.last_error} (retrying every {pki.SYNC_INTERVAL:g} s)", style="red")
            else:
                stream.info(f"joined {pki.remote}: {len(pki.entries())} nodes known")
        for index, name in enumerate(names[1:], start=1):
            stream.info(f"node {name} ready on http://localhost:{port + index} (commands go to {names[0]})")
        _serve_commands(booted[0], keys, stream, port)
        stream.info("stopping the node" if len(names) == 1 else "stopping the nodes", style="yellow")
    except (InstallError, OSError, PkiError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        keys.stop()
        for unsubscribe in unsubscribes:
            unsubscribe()
        for node in reversed(booted):
            node.close()
        if isinstance(pki, JoinedPki):
            pki.close()
