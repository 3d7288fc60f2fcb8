"""docs/reference.md is what build_tools/reference_docs.py generates from the wrappers' docstrings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_page_matches_the_docstrings() -> None:
    script = ROOT / "build_tools" / "reference_docs.py"
    spec = importlib.util.spec_from_file_location("reference_docs", script)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    page = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert page == generator.render(), "docs/reference.md is stale: run python build_tools/reference_docs.py"
    assert "(no docstring)" not in page
    for module in ("kv", "sqlite", "vfs", "http_client", "http_server"):
        assert f"## `hyperpy.{module}`" in page
