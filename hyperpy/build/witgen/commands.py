"""`hyperpy wit` and `hyperpy stubs`: the command-line faces of WIT generation and stub generation."""

from __future__ import annotations

from pathlib import Path

import click

from hyperpy.build.witgen.dependencies import DependencyError, fetch_dependency_apis
from hyperpy.build.witgen.from_app import ApiWitError, package_world, project_apis, write_api_wit
from hyperpy.build.witgen.reader import WitSyntaxError
from hyperpy.build.witgen.resolve import StubGenerationError
from hyperpy.build.witgen.stub_files import (
    STUBS_PACKAGE,
    dependency_api,
    own_api,
    write_python_stubs,
    write_ui_clients,
)
from hyperpy.build.witgen.validate import (
    WitValidationError,
    check_with_componentize_py,
    check_with_wasm_tools,
    wasm_tools_path,
)
from hyperpy.package.project import Project, ProjectConfigError, load_project

# Errors that mean "the user's project needs a fix", shown as one clear message without a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    ApiWitError,
    DependencyError,
    StubGenerationError,
    WitSyntaxError,
    WitValidationError,
    FileNotFoundError,
)


def _load(directory: Path) -> Project:

    try:
        return load_project(directory)
    except ProjectConfigError as error:
        raise click.ClickException(str(error)) from None


def _declaration_errors() -> tuple[type[Exception], ...]:
    from hyperpy.runtime.errors import DeclarationError

    return (*USER_ERRORS, DeclarationError)


@click.command("wit")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--check/--no-check", default=True, help="Parse the result with componentize-py (and wasm-tools)."
)
def wit_command(directory: Path, check: bool) -> None:
    """Generate api/<interface>.wit and the package worlds from the app's handlers (kit's format)."""
    project = _load(directory)
    before = _wit_texts(project.api_dir)
    try:
        written = write_api_wit(project, project_apis(project))
        if not written:
            click.echo("no typed API: the package's processes are raw (WitWorld) processes; nothing written")
            return
        if check:
            check_with_componentize_py(project.api_dir, package_world(project))
            if wasm_tools_path() is not None:
                check_with_wasm_tools(project.api_dir)
    except _declaration_errors() as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        unchanged = before.get(path) == path.read_text(encoding="utf-8")
        click.echo(f"{'unchanged' if unchanged else 'wrote'} {path}")


def _wit_texts(api_dir: Path) -> dict[Path, str]:
    """The current `api/*.wit` texts, so the command can say which files it really changed."""
    if not api_dir.is_dir():
        return {}
    return {path: path.read_text(encoding="utf-8") for path in api_dir.glob("*.wit")}


@click.command("stubs")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--local",
    "local",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A dependency's package folder, package zip or api.zip (repeatable).",
)
@click.option("--node-home", type=click.Path(file_okay=False, path_type=Path), help="A local node's home.")
@click.option("--url", help="A running node (e.g. http://localhost:8080) to ask for dependencies' APIs.")
@click.option(
    "--ui",
    "ui_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write caller-utils.ts/.js (default: the project's ui/ folder, if it has one).",
)
def stubs_command(
    directory: Path, local: tuple[Path, ...], node_home: Path | None, url: str | None, ui_dir: Path | None
) -> None:
    """Generate typed Python callers (apis/) for this package and its dependencies, and the UI client."""
    project = _load(directory)
    try:
        dependencies = fetch_dependency_apis(project.root, local=list(local), node_home=node_home, url=url)
        dependency_sets = [dependency_api(d) for d in dependencies]
        # The app may import its dependencies' stubs, so they must exist before it is imported.
        write_python_stubs(dependency_sets, project.root / STUBS_PACKAGE)
        apis = project_apis(project)
        write_api_wit(project, apis)
        own = own_api(project)
        written = write_python_stubs(([own] if own else []) + dependency_sets, project.root / STUBS_PACKAGE)
        target_ui = ui_dir if ui_dir is not None else project.root / "ui"
        if own is not None and (ui_dir is not None or target_ui.is_dir()):
            http_processes = [api.process for api in apis if "-signature-http" in api.text]
            process = http_processes[0] if http_processes else project.processes[0].name
            prefix = f"/{process}:{project.package}:{project.publisher}"
            written += write_ui_clients(own, target_ui, prefix)
    except _declaration_errors() as error:
        raise click.ClickException(str(error)) from None
    for dependency in dependencies:
        click.echo(f"API of {dependency.package_id} from {dependency.origin}")
    for path in written:
        click.echo(f"wrote {path}")
