"""What goes on the component's Python path besides dependencies: user sources and hyperpy's runtime.

Measured with componentize-py 0.25.1: files on the path are *not* embedded wholesale; only what the
app imports during pre-init ends up in the memory snapshot (a 4 MB unrelated file on the path left
the component size unchanged). But componentize-py walks every directory on its path (looking for
wasm extension modules and `componentize-py.toml` files), and the pre-init can import anything it
finds there. So instead of the project directory itself we stage:

- the project's sources: every `.py` file outside tests, build outputs, virtualenvs and hidden
  directories, plus the data files inside Python package directories (modules may read them at
  import time). The same set is hashed for the build cache, so the cache key and what the component
  could see are the same thing;
- hyperpy's guest part only: `hyperpy/__init__.py` and `hyperpy/runtime/**`, never host modules
  (build, node, pydantic users), plus pure-Python msgpack (its C speed-up is left out; msgpack falls
  back to `msgpack.fallback` by itself).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from hyperpy import NAMESPACE_MODULES
from hyperpy.build.content_tree import ContentTree

# Directories below a project that never hold process code.
EXCLUDED_DIRS = frozenset(
    {
        "__pycache__",
        "target",
        "pkg",
        "api",
        "ui",
        "tests",
        "test",
        "node_modules",
        "venv",
        "env",
        "build",
        "dist",
    }
)
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dylib")
_IMPORTS_HYPERPY = re.compile(
    rb"(^|[\s;])(import\s[^\n#]*\bhyperpy\b|from\s+hyperpy\b)|(import_module|__import__)\(\s*[\"']hyperpy\b",
    re.MULTILINE,
)


def _excluded_dir(path: Path, name: str) -> bool:
    return (
        name in EXCLUDED_DIRS
        or name.startswith(".")
        or name.endswith(".egg-info")
        or (path / name / "pyvenv.cfg").exists()
    )


def project_sources(root: Path) -> ContentTree:
    """The files of `root` that process modules can import or read at import time."""
    tree = ContentTree()
    for current, dirs, files in os.walk(root):
        current_path = Path(current)
        dirs[:] = sorted(d for d in dirs if not _excluded_dir(current_path, d))
        in_package = current_path != root and (current_path / "__init__.py").is_file()
        for name in sorted(files):
            if name.endswith(_SKIPPED_SUFFIXES) or name.startswith("."):
                continue
            if name.endswith(".py") or in_package:
                path = current_path / name
                tree.add(path.relative_to(root).as_posix(), path)
    return tree


def _hyperpy_root() -> Path:
    spec = importlib.util.find_spec("hyperpy")
    if spec is None or spec.origin is None:
        raise RuntimeError("hyperpy is not importable on the host")
    return Path(spec.origin).parent


# What code written against kit's bindings needs of the runtime: the compatibility layer alone.
KIT_BINDINGS_FILES = ("runtime/__init__.py", "runtime/kit_bindings.py")


def runtime_tree(only: tuple[str, ...] | None = None) -> ContentTree:
    """`hyperpy/__init__.py` with its namespace modules, `hyperpy/runtime/**.py` and pure-Python
    msgpack, as guest path files; with `only`, `hyperpy/__init__.py` and just those files of the
    package (paths relative to `hyperpy/`)."""
    tree = ContentTree()
    package = _hyperpy_root()
    tree.add("hyperpy/__init__.py", package / "__init__.py")
    if only is not None:
        for relative in only:
            tree.add(f"hyperpy/{relative}", package / relative)
        return tree
    for name in NAMESPACE_MODULES:  # hyperpy.state, hyperpy.http_server, ...: the public namespaces
        tree.add(f"hyperpy/{name}.py", package / f"{name}.py")
    runtime = package / "runtime"
    for current, dirs, files in os.walk(runtime):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(current) / name
                tree.add(f"hyperpy/{path.relative_to(package).as_posix()}", path)
    msgpack = importlib.util.find_spec("msgpack")
    if msgpack is not None and msgpack.origin is not None:
        msgpack_dir = Path(msgpack.origin).parent
        for path in sorted(msgpack_dir.glob("*.py")):
            tree.add(f"msgpack/{path.name}", path)
    return tree


def imports_hyperpy(tree: ContentTree) -> bool:
    """True if any staged Python file imports `hyperpy` (statically or by a literal module name).

    Raw processes that never import hyperpy are built without the runtime on their path, which
    keeps them minimal and keeps their cache key independent of hyperpy's runtime sources.
    """
    for relative, content in tree.files.items():
        if not relative.endswith(".py"):
            continue
        data = content if isinstance(content, bytes) else content.read_bytes()
        if _IMPORTS_HYPERPY.search(data):
            return True
    return False
