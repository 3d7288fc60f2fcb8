"""Host build pipeline: app -> WIT world -> component -> pkg/ -> zip; and the ABI check.

Public API: `build_project(project_dir, *, jobs=None, progress=True) -> BuildResult` and
`BuildError` (its message is written for the user: file, field or line, and the fix).
"""

from hyperpy.build.errors import BuildError
from hyperpy.build.pipeline import BuildResult, ProcessBuild, build_project, cache_root, stale_processes

__all__ = ["BuildError", "BuildResult", "ProcessBuild", "build_project", "cache_root", "stale_processes"]
