"""Importing a piece of the node does not import the whole node (aiohttp, wasmtime, the modules)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["aiohttp", "wasmtime", "hyperpy.node.node", "hyperpy.node.modules", "hyperpy.node.kernel"]


def _loaded_after(code: str) -> dict[str, bool]:
    program = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    loaded: dict[str, bool] = json.loads(completed.stdout.splitlines()[-1])
    return loaded


def test_a_submodule_import_loads_only_what_it_needs() -> None:
    assert not any(_loaded_after("import hyperpy.node.wit_types").values())
    assert not any(_loaded_after("from hyperpy.node import wit_types, contracts").values())


def test_the_public_names_still_load_on_first_use() -> None:
    loaded = _loaded_after("from hyperpy.node import Node, InstallError")
    assert loaded["hyperpy.node.node"] and loaded["hyperpy.node.kernel"]
