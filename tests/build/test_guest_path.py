"""What the component's Python path holds: the project's sources and hyperpy's guest runtime only."""

from __future__ import annotations

from pathlib import Path

from hyperpy.build.content_tree import ContentTree
from hyperpy.build.dependencies import guest_requirements, native_modules, requirement_name
from hyperpy.build.guest_path import imports_hyperpy, project_sources, runtime_tree
from hyperpy.package.project import load_project


def touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_project_sources_exclude_tests_outputs_and_environments(tmp_path: Path) -> None:
    for relative in [
        "app.py",
        "lib/__init__.py",
        "lib/data.json",
        "lib/sub/mod.py",
        "tools/script.py",
        "README.md",
        "pyproject.toml",
        "tests/test_app.py",
        "target/x.py",
        "pkg/y.py",
        "api/z.py",
        ".venv/lib/site.py",
        "venv2/pyvenv.cfg",
        "venv2/lib/m.py",
        "__pycache__/app.cpython-311.pyc",
        "node_modules/a.py",
        "dist/old.py",
        "lib/native.cpython-311-x86_64-linux-gnu.so",
    ]:
        touch(tmp_path / relative)
    assert sorted(project_sources(tmp_path).files) == [
        "app.py",
        "lib/__init__.py",
        "lib/data.json",
        "lib/sub/mod.py",
        "tools/script.py",
    ]


def test_runtime_tree_is_guest_code_only() -> None:
    files = sorted(runtime_tree().files)
    assert "hyperpy/__init__.py" in files
    assert any(name.startswith("hyperpy/runtime/") for name in files)
    assert all(
        name.startswith(("hyperpy/runtime/", "msgpack/")) or name == "hyperpy/__init__.py" for name in files
    )
    assert not any(name.startswith(("hyperpy/build", "hyperpy/node", "hyperpy/package")) for name in files)
    assert not any(name.endswith(".so") for name in files)


def test_imports_hyperpy_detects_imports_not_mentions() -> None:
    def tree(source: str) -> ContentTree:
        result = ContentTree()
        result.add("m.py", source.encode())
        return result

    assert imports_hyperpy(tree("from hyperpy import app\n"))
    assert imports_hyperpy(tree("import os, hyperpy\n"))
    assert imports_hyperpy(tree("x = importlib.import_module('hyperpy.runtime')\n"))
    assert not imports_hyperpy(tree('"""Built with hyperpy."""\n'))
    assert not imports_hyperpy(tree("import hyperpyish\n"))


def test_requirements_provided_by_the_runtime_are_not_installed(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "a"\n'
        'dependencies = ["hyperpy>=0.1", "msgpack", "Tiny_Dep[extra]>=1"]\n'
        "[tool.hyperpy]\n"
    )
    assert guest_requirements(load_project(tmp_path)) == ("Tiny_Dep[extra]>=1",)
    assert requirement_name("Tiny_Dep[extra]>=1") == "tiny-dep"


def test_native_modules_are_found_and_attributed(tmp_path: Path) -> None:
    touch(tmp_path / "fast" / "__init__.py")
    touch(tmp_path / "fast" / "_core.cpython-311-x86_64-linux-gnu.so")
    touch(
        tmp_path / "fast-1.0.dist-info" / "RECORD",
        "fast/__init__.py,,\nfast/_core.cpython-311-x86_64-linux-gnu.so,,\n",
    )
    touch(tmp_path / "pure" / "__init__.py")
    touch(tmp_path / "bin" / "tool.so")
    assert native_modules(tmp_path) == {"fast": ["fast._core"]}
