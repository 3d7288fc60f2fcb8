"""Host build pipeline: app -> WIT world -> component -> pkg/ -> zip; and the ABI check.

Public API: `build_project(project_dir, *, jobs=None, progress=True) -> BuildResult`,
`stale_processes(project_dir)`, `cache_root(project)` and `BuildError` (its message is written for
the user: file, field or line, and the fix).

The names are loaded on first use, so importing one submodule (`hyperpy.build.check`, the CLI)
does not import the whole pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperpy.build.errors import BuildError
    from hyperpy.build.pipeline import BuildResult, ProcessBuild, build_project, cache_root, stale_processes

_EXPORTS = {
    "BuildError": "hyperpy.build.errors",
    "BuildResult": "hyperpy.build.pipeline",
    "ProcessBuild": "hyperpy.build.pipeline",
    "build_project": "hyperpy.build.pipeline",
    "cache_root": "hyperpy.build.pipeline",
    "stale_processes": "hyperpy.build.pipeline",
}

__all__ = ["BuildError", "BuildResult", "ProcessBuild", "build_project", "cache_root", "stale_processes"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hyperpy.build' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
