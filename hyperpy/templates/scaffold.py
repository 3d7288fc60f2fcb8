"""`hyperpy new NAME [--template T]`: start a project that builds and passes its tests immediately.

Why generate the API files at creation: a fresh project should be complete — `api/*.wit` present
(what `hyperpy build` ships in api.zip) and, for the web-UI template, the page's typed client
`ui/caller-utils.js` already there — so the first `pytest` or browser visit works without knowing
which generator to run first.
"""

from __future__ import annotations

import keyword
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import click

TEMPLATES_DIR = Path(__file__).resolve().parent
DEFAULT_TEMPLATE = "http"
DEFAULT_PUBLISHER = "template.os"

TEMPLATES: dict[str, str] = {
    "http": "a counter with an HTTP and a local API and persisted state (the default)",
    "chat": "peer-to-peer chat between nodes: @remote handlers, calls to other nodes, a terminal script",
    "ui": "a to-do app with a plain HTML/JS web UI using the generated typed client",
    "raw": "a raw process written against the WIT world (WitWorld class, receive/respond loop)",
    "extension": "a process plus a native Python extension over the MessagePack WebSocket protocol",
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_PLACEHOLDER_RE = re.compile(r"\{\{(package|module|App|publisher|process_id)\}\}")


class ScaffoldError(ValueError):
    """The project cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class ProjectNames:
    package: str
    module: str
    app: str
    publisher: str

    @property
    def process_id(self) -> str:
        return f"{self.package}:{self.package}:{self.publisher}"

    def values(self) -> dict[str, str]:
        return {
            "package": self.package,
            "module": self.module,
            "App": self.app,
            "publisher": self.publisher,
            "process_id": self.process_id,
        }


def project_names(name: str, publisher: str = DEFAULT_PUBLISHER) -> ProjectNames:
    """Derive every name from NAME; raise ScaffoldError naming the rule that NAME breaks."""
    from hyperpy.package.names import validate_publisher

    if not _NAME_RE.match(name) or name.endswith("-") or "--" in name:
        raise ScaffoldError(
            f"invalid project name {name!r}: use lowercase letters, digits and single '-' (starting with a "
            "letter), e.g. 'my-app' — it becomes the package and process name on the node"
        )
    module = name.replace("-", "_")
    if keyword.iskeyword(module):
        raise ScaffoldError(f"invalid project name {name!r}: {module!r} is a Python keyword")
    try:
        validate_publisher(publisher)
    except ValueError as error:
        raise ScaffoldError(f"invalid publisher {publisher!r}: {error}") from None
    app = "".join(part[:1].upper() + part[1:] for part in name.split("-"))
    return ProjectNames(name, module, app, publisher)


def _target_path(relative: Path, names: ProjectNames) -> Path:
    parts = [part.replace("__module__", names.module) for part in relative.parts]
    if parts[-1] == "gitignore.tmpl":
        parts[-1] = ".gitignore"
    elif parts[-1].endswith(".tmpl"):
        parts[-1] = parts[-1][: -len(".tmpl")]
    return Path(*parts)


def render(template: str, destination: Path, names: ProjectNames) -> list[Path]:
    """Write the template's files into `destination` (which must not exist or be empty)."""
    source = TEMPLATES_DIR / template
    if template not in TEMPLATES or not source.is_dir():
        known = ", ".join(sorted(TEMPLATES))
        raise ScaffoldError(f"unknown template {template!r}; choose one of: {known}")
    if destination.exists() and any(destination.iterdir()):
        raise ScaffoldError(f"{destination} already exists and is not empty; pick another name or folder")
    values = names.values()
    written: list[Path] = []
    try:
        for path in sorted(source.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            target = destination / _target_path(path.relative_to(source), names)
            target.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8")
            target.write_text(_PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], text), encoding="utf-8")
            written.append(target)
    except OSError:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return written


def generate_api_files(destination: Path) -> list[Path]:
    """`api/*.wit` for the new project and, when it has a ui/ folder, the page's typed client."""
    from hyperpy.build.witgen.from_app import project_apis, write_api_wit
    from hyperpy.build.witgen.stub_files import own_api, write_ui_clients
    from hyperpy.package.project import load_project

    project = load_project(destination)
    apis = project_apis(project)
    written = write_api_wit(project, apis)
    own = own_api(project)
    if own is not None and (destination / "ui").is_dir():
        process = next(
            (api.process for api in apis if "-signature-http" in api.text), project.processes[0].name
        )
        written += write_ui_clients(
            own, destination / "ui", f"/{process}:{project.package}:{project.publisher}"
        )
    return written


def create_project(
    name: str,
    template: str = DEFAULT_TEMPLATE,
    *,
    parent: Path = Path("."),
    publisher: str = DEFAULT_PUBLISHER,
    destination: Path | None = None,
) -> Path:
    """Create `destination` (default `parent/name`) from `template`, with its API files generated;
    return the project folder."""
    names = project_names(name, publisher)
    destination = destination if destination is not None else parent / name
    render(template, destination, names)
    generate_api_files(destination)
    return destination


@click.command("new")
@click.argument("name")
@click.option(
    "--template",
    "-t",
    type=click.Choice(sorted(TEMPLATES)),
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="; ".join(f"{key}: {text}" for key, text in TEMPLATES.items()),
)
@click.option("--publisher", default=DEFAULT_PUBLISHER, show_default=True, help="Your node name (publisher).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The project folder to create (it may exist if empty) [default: ./NAME].",
)
def new_command(name: str, template: str, publisher: str, directory: Path | None) -> None:
    """Create a new hyperpy project NAME from a template that builds and passes its tests."""
    from hyperpy.build.witgen.commands import USER_ERRORS

    handled: tuple[type[Exception], ...] = (ScaffoldError, *USER_ERRORS)
    try:
        destination = create_project(name, template, publisher=publisher, destination=directory)
    except handled as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {destination} from the {template!r} template")
    click.echo(f"  cd {destination}")
    click.echo("  pytest          # its tests, on a local node")
    click.echo("  hyperpy dev     # edit, save, see")
