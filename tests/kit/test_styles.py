"""Both bindings styles in kit's layout, in both modes: kit's older names imported as `process` (as
kit's echo and fibonacci templates do), and today's `wit_world`."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit_fixtures import copy_project

from hyperpy.build import build_project
from hyperpy.build.check import check_path


@pytest.fixture(scope="module")
def fib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project("fib", tmp_path_factory.mktemp("fib"))
    build_project(root, progress=False)
    return root


@pytest.fixture(scope="module")
def echo_modern(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project("echo_modern", tmp_path_factory.mktemp("echo-modern"))
    build_project(root, progress=False)
    return root


def test_the_process_world_name_is_served_by_rule(fib: Path) -> None:
    """kit builds a package without api/ against `process-v1` (bindings `process_v1`), so code importing
    `process` fails under kit; hyperpy serves kit's bindings under whatever world name the code imports."""
    assert check_path(fib).problems == []


@pytest.mark.hyperpy_modes("component", "native")
def test_process_style_answers_like_its_code_says(fib: Path, hyperpy_node) -> None:
    hyperpy_node.install(fib)
    assert hyperpy_node.request_json("fib:fib:template.os", {"Number": 30}) == {"Number": 832040}
    assert hyperpy_node.request_json("fib:fib:template.os", {"Numbr": 3}) == {"Error": "'Number'"}


@pytest.mark.hyperpy_modes("component", "native")
def test_modern_wit_world_style_in_kit_layout(echo_modern: Path, hyperpy_node) -> None:
    assert check_path(echo_modern).problems == []
    hyperpy_node.install(echo_modern)
    assert hyperpy_node.request("echo:echo:template.os", b"hi").body == b"echo: hi"
