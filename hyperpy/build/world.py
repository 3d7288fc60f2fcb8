"""The package's WIT world, laid out the way kit lays it out.

Kit copies `hyperware.wit` and the package's `api/*.wit` into one directory (so they form the single
package `hyperware:process@1.0.0`) and builds against the one world declared there, or `process-v1`
when there is none (kit `get_world_or_default`). We do the same:

- with no API files, the world is generated: `world <package>-<publisher>-v0 { include process-v1; }`;
- API files (`hyperpy wit` generates them from decorated handlers; they may also be hand-written)
  are copied beside it; the package world `<package>-<publisher>-v0` is used when they declare it,
  else the only world they declare, as kit does.

The shipped component still imports only `standard` and WASI: `include process-v1` adds nothing else,
and type-only API interfaces produce no component imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hyperpy.build.content_tree import ContentTree
from hyperpy.package.pkg_contents import api_wit_files
from hyperpy.package.wit import WIT_FILE_NAME, WIT_WORLD, wit_file

GENERATED_WORLD_FILE = "hyperpy-world.wit"
_WORLD_DECL = re.compile(r"^\s*world\s+([A-Za-z0-9%\-]+)", re.MULTILINE)


@dataclass(frozen=True)
class WorldSpec:
    tree: ContentTree
    world: str
    api_files: tuple[Path, ...]


def _wit_word(word: str) -> str:
    """WIT identifier words must start with a letter; digits-first words get an `n` prefix."""
    return word if word[:1].isalpha() else f"n{word}"


def world_name(package: str, publisher: str) -> str:
    """Kit's world naming (`echo-template-dot-os-v0`), made a valid WIT identifier for any safe name."""
    raw = f"{package}-{publisher.replace('.', '-dot-')}-v0"
    return "-".join(_wit_word(word) for word in raw.split("-") if word)


def declared_worlds(files: tuple[Path, ...]) -> list[str]:
    worlds: list[str] = []
    for path in files:
        text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
        worlds.extend(_WORLD_DECL.findall(text))
    return worlds


def world_spec(package: str, publisher: str, api_dir: Path) -> WorldSpec:
    """The WIT directory contents and the world componentize-py targets."""
    tree = ContentTree()
    tree.add(WIT_FILE_NAME, wit_file())
    api_files = api_wit_files(api_dir)
    for path in api_files:
        tree.add(path.name, path)
    declared = declared_worlds(api_files)
    kit_name = f"{package}-{publisher.replace('.', '-dot-')}-v0"
    if kit_name in declared:  # the package world written by `hyperpy wit` (or by hand, as kit names it)
        return WorldSpec(tree, kit_name, api_files)
    if len(declared) == 1:
        return WorldSpec(tree, declared[0], api_files)
    name = world_name(package, publisher)
    if name in declared:
        name = f"{name}-hyperpy"
    tree.add(GENERATED_WORLD_FILE, f"world {name} {{\n    include {WIT_WORLD};\n}}\n".encode())
    return WorldSpec(tree, name, api_files)
