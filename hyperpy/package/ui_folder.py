"""Which project folders become the package's web UI (`pkg/ui/`), and their files.

Why here, in the package layer: `hyperpy build` (the zip) and a native install of an unbuilt project
(the package drive the node writes) must put the *same* UI files into the package, and the node may
not import `hyperpy.build`. Both call `ui_files`.

Where a UI comes from, in order:

* `[tool.hyperpy] ui = "frontend/dist"`: that project folder is copied into `pkg/ui/` (for a UI
  built elsewhere, or served by a raw process the way kit's packages do);
* a framework app's `@app(ui="ui")`: the framework serves the package folder `pkg/<ui>/` (see
  `hyperpy.runtime.system.http_server.serve_ui`), so the project folder of the same relative path
  is copied there. For `ui=True` / `ui="ui"` that is `<project>/ui` -> `pkg/ui/`, kit's layout. When
  `[tool.hyperpy] ui` is set, it is the source of `pkg/ui/` instead;
* files you keep in `pkg/<ui>/` yourself (kit's hand-made layout) are still zipped as before; they
  satisfy a declared UI whose project folder does not exist.

Files are listed in sorted order, hidden entries (names starting with '.') and `__pycache__` left
out, so the same folder always gives the same package bytes. A declared folder that is missing or
holds no files is an error naming the path and the setting: the page would otherwise 404 on a node.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hyperpy.package.project import Project

PKG_UI = "ui"
UI_SETTING = "tool.hyperpy.ui"


class UiFolderError(ValueError):
    """A UI folder the package must contain is missing or invalid; one line per problem, with the fix."""


def relative_folder(value: str, what: str) -> str:
    """`value` as a clean relative POSIX folder ("ui", "frontend/dist"); surrounding '/' are dropped
    as the framework drops them. Raises ValueError for '', '.', '..' parts or a bare '/'."""
    text = value.strip().strip("/")
    parts = text.split("/")
    if not text or any(part in ("", ".", "..") for part in parts):
        raise ValueError(
            f"{value!r} is not {what} (write a relative folder such as 'ui' or 'frontend/dist', "
            "without '.' or '..' parts)"
        )
    return str(PurePosixPath(*parts))


def own_pkg_files(pkg_dir: Path, managed: Collection[str]) -> dict[str, Path]:
    """Files kept in `pkg_dir` that the build does not write (`managed`: pkg-relative paths), sorted.

    These are the user's own package files (`scripts.json`, a hand-made `ui/`, ...): zipped as they are.
    """
    found: dict[str, Path] = {}
    if not pkg_dir.is_dir():
        return found
    for root, dirs, files in os.walk(pkg_dir):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            relative = path.relative_to(pkg_dir).as_posix()
            if relative not in managed:
                found[relative] = path
    return found


def _folder_files(folder: Path, target: str) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            path = Path(root) / name
            if name.startswith(".") or not path.is_file():
                continue
            files[f"{target}/{path.relative_to(folder).as_posix()}"] = path
    return files


def _has_own_files(own_files: Collection[str], target: str) -> bool:
    prefix = f"{target}/"
    return any(relative.startswith(prefix) for relative in own_files)


def ui_files(
    project: Project, declared: Mapping[str, str | None], own_files: Collection[str] = ()
) -> dict[str, Path]:
    """pkg-relative path -> project file, for every UI folder the package must contain.

    `declared` maps a process name to the package folder its app serves (`@app(ui=...)`, None for
    none); `own_files` are the pkg-relative paths of the user's own files in `pkg/` (see
    `own_pkg_files`). Raises UiFolderError naming each missing or invalid folder and the setting.
    """
    sources: dict[str, tuple[Path, str]] = {}  # pkg folder -> (project folder, what asked for it)
    problems: list[str] = []
    if project.ui is not None:
        sources[PKG_UI] = (project.root / project.ui, f"{project.config_file}: {UI_SETTING} = {project.ui!r}")
    for process, folder in sorted(declared.items()):
        if folder is None:
            continue
        try:
            target = relative_folder(folder, "a folder of the package")
        except ValueError as exc:
            problems.append(f"process {process!r}: @app(ui={folder!r}): {exc}")
            continue
        if target not in sources:
            sources[target] = (project.root / target, f"process {process!r}: @app(ui={folder!r})")

    files: dict[str, Path] = {}
    for target, (source, origin) in sources.items():
        found = _folder_files(source, target) if source.is_dir() else {}
        if found or (origin.startswith("process") and _has_own_files(own_files, target)):
            files.update(found)
            continue
        problems.append(_missing_message(project, target, source, origin))
    if problems:
        raise UiFolderError("\n".join(problems))
    return dict(sorted(files.items()))


def _missing_message(project: Project, target: str, source: Path, origin: str) -> str:
    if source.is_dir():
        state = "holds no files"
    else:
        state = "is not a folder" if source.exists() else "does not exist"
    if origin.startswith("process"):
        if target == PKG_UI:
            alternative = f'or set ui = "<your UI folder>" in [tool.hyperpy] of {project.config_file}'
        else:
            alternative = (
                f'or declare @app(ui=True) and set ui = "<your UI folder>" in [tool.hyperpy] of '
                f"{project.config_file}, which is copied into pkg/ui/"
            )
        return (
            f"{origin} serves the package folder pkg/{target}/, which the build copies from {source}, "
            f"but that folder {state}: create it with your page (index.html ...), {alternative}"
        )
    return (
        f"{origin}: {source} {state}; the build copies this folder into pkg/{PKG_UI}/: "
        f"fix the path (it is relative to {project.root}) or remove the setting"
    )
