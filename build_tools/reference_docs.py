"""Write docs/reference.md: the runtime-module wrappers' API, generated from their docstrings.

Why generated: the wrappers (`hyperpy.kv`, `sqlite`, `vfs`, `http_client`, `http_server`) are what an
app calls most, and a hand-written page drifts from the code. This reads each module's public
functions and classes (signature + docstring) with `inspect` and writes one Markdown page;
tests/docs/test_reference_docs.py fails when the page is not what this script would write.

    python build_tools/reference_docs.py          # rewrite docs/reference.md
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

MODULES = ("kv", "sqlite", "vfs", "http_client", "http_server")
PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference.md"
HEADER = """# Reference: runtime-module wrappers

Generated from the docstrings by `python build_tools/reference_docs.py`; do not edit by hand.
Import them from `hyperpy` (`from hyperpy import kv, sqlite, vfs, http_client, http_server`). Every
call is `await`ed inside a handler or task and talks to the node's runtime module of the same name
(the app requests the capability: the build infers it). Failures raise `hyperpy.ModuleError` with the
module's own error. What the modules do on the node: [modules.md](modules.md).
"""


def _doc(obj: object) -> str:
    return inspect.cleandoc(inspect.getdoc(obj) or "(no docstring)")


def _signature(name: str, obj: object) -> str:
    try:
        signature = inspect.signature(obj, eval_str=True)  # type: ignore[arg-type]
    except (TypeError, ValueError, NameError):
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    text = str(signature.replace(parameters=parameters)).replace("typing.", "")
    prefix = "async " if inspect.iscoroutinefunction(obj) else ""
    return f"{prefix}{name}{text}"


def _public(module: object) -> list[tuple[str, object]]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    found = []
    for name in names:
        obj = getattr(module, name)
        if getattr(obj, "__module__", None) != module.__name__:  # type: ignore[attr-defined]
            continue  # imported, documented where it is defined
        if inspect.isfunction(obj) or inspect.isclass(obj):
            found.append((name, obj))
    return found


def render() -> str:
    parts = [HEADER]
    for short in MODULES:
        module = importlib.import_module(f"hyperpy.runtime.system.{short}")
        parts.append(f"\n## `hyperpy.{short}`\n\n{_doc(module)}\n")
        for name, obj in _public(module):
            parts.append(f"\n### `{_signature(name, obj)}`\n\n{_doc(obj)}\n")
            if inspect.isclass(obj):
                for member, function in inspect.getmembers(obj, inspect.isfunction):
                    if member.startswith("_") or function.__qualname__.split(".")[0] != obj.__name__:
                        continue
                    parts.append(f"\n#### `{_signature(f'{name}.{member}', function)}`\n\n{_doc(function)}\n")
    return "".join(parts)


def main() -> int:
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
