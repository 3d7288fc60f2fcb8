"""`hyperpy build [DIR]`: build a package project and print the zip and its sha256 (the version hash).

The per-process summary shows each process's effective requested and granted capabilities and where
each came from (config or inferred), so what the manifest will request and grant is never a surprise
and can be overridden in `[tool.hyperpy.processes.<name>]`. Scripts (`pkg/scripts.json`) are listed
too; a manifest.json or scripts.json the user wrote is reported as kept as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the pipeline (pydantic, rich) is imported when the command runs, not at CLI start
    from rich.console import Console

    from hyperpy.build.pipeline import BuildResult


def _summary(result: BuildResult, console: Console) -> None:
    for process in result.processes:
        status = "built" if process.status == "built" else "cached (inputs unchanged)"
        timing = f" in {process.seconds:.1f}s" if process.status == "built" else ""
        role = "script, " if process.role == "script" else ""
        style = f", kit bindings `{process.bindings}`" if process.bindings else ""
        console.print(
            f"[bold]{process.name}[/bold] ({role}{process.kind}{style}): {status}{timing}, "
            f"{process.wasm_size / 1e6:.1f} MB -> {process.wasm_path}",
            soft_wrap=True,
        )
        capabilities = ", ".join(c.describe() for c in process.capabilities) or "none"
        grants = ", ".join(c.describe() for c in process.grants) or "none"
        networking, source = process.request_networking
        console.print(f"  request_capabilities: {capabilities}", markup=False, soft_wrap=True)
        console.print(f"  grant_capabilities: {grants}", markup=False, soft_wrap=True)
        console.print(f"  request_networking: {str(networking).lower()} ({source})")
    pkg = result.pkg_dir
    console.print(f"{pkg / 'manifest.json'}: {result.manifest_origin}", markup=False, soft_wrap=True)
    if result.scripts_origin is not None:
        console.print(f"{pkg / 'scripts.json'}: {result.scripts_origin}", markup=False, soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
    if result.metadata_outcome != "kept":
        console.print(f"metadata.json {result.metadata_outcome}: {result.project.root / 'metadata.json'}")
    if result.up_to_date:
        console.print("package unchanged")


@click.command("build")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes built at once (default: cores)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the zip path and sha256.")
def build_command(directory: Path, jobs: int | None, quiet: bool) -> None:
    """Build the package project in DIRECTORY (default: .) into pkg/ and target/<package>:<publisher>.zip."""
    from rich.console import Console

    from hyperpy.build.errors import BuildError
    from hyperpy.build.pipeline import build_project

    console = Console(stderr=True)
    try:
        result = build_project(directory, jobs=jobs, progress=not quiet)
    except BuildError as exc:
        console.print("[red]build failed[/red]")
        console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    if not quiet:
        _summary(result, console)
    click.echo(str(result.zip_path))
    click.echo(f"sha256 {result.sha256}")
