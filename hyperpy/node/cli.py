"""`hyperpy inject`, `hyperpy start-package` and `hyperpy run`: the node's commands.

inject and start-package are thin shells over `hyperpy.node.control.client`, which speaks kit's rpc
protocol, so they work against the local node and against a real Hyperdrive alike. Errors are printed
as one sentence with the fix, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from hyperpy.node.control.client import (
    DEFAULT_URL,
    ControlError,
    InjectResult,
    inject,
    node_url,
    prepare_upload,
    start_package,
)
from hyperpy.node.control.wire import KIT_EXPECTS_RESPONSE


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
    try:
        click.echo(result.body_text())
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
