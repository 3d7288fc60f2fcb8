"""`pkg/scripts.json`: the terminal scripts a package ships (runtime-contract.md §2.3).

Shape, as Hyperdrive's terminal parses it (process_lib `DotScriptsEntry`, Hyperdrive
`packages/terminal/terminal/src/lib.rs` `get_entry`):

    {"send.wasm": {"root": false, "public": false, "request_networking": false,
                   "request_capabilities": ["chat:chat:template.os"],
                   "grant_capabilities": ["chat:chat:template.os"]}}

`root`, `public` and `request_networking` are required booleans; the two capability lists and
`wit_version` may be absent. A script is a `.wasm` in `pkg/` that the terminal spawns as
`<random>:<package>:<publisher>` when a user types `<script>:<package>:<publisher> args`; it is
listed here and never in manifest.json (a manifest entry would start it at install as a process).

Unknown fields are refused (as in manifest.json they are always typos, and serde would ignore them
silently, leaving the script without the capability the user meant to give it).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, TypeAdapter, ValidationError

from hyperpy.package.manifest import CapabilityEntry, CapabilityGrant
from hyperpy.package.names import validate_wasm_path
from hyperpy.package.problems import Problem, decode_json, problems_from_validation_error, render

SCRIPTS_FILE = "scripts.json"


class ScriptsError(ValueError):
    """scripts.json is not what a node's terminal accepts; one problem per field."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(render(problems))


class ScriptEntry(BaseModel):
    """One `"<name>.wasm": {...}` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    root: StrictBool
    public: StrictBool
    request_networking: StrictBool
    request_capabilities: list[CapabilityEntry] = Field(default_factory=list)
    grant_capabilities: list[CapabilityEntry] = Field(default_factory=list)
    wit_version: Annotated[StrictInt, Field(ge=0)] | None = None


SCRIPT_FIELDS = ("root", "public", "request_networking", "request_capabilities", "grant_capabilities")
_KNOWN_FIELDS = (*ScriptEntry.model_fields, *CapabilityGrant.model_fields)
_ADAPTER = TypeAdapter(dict[str, ScriptEntry])


def parse_scripts(data: bytes | str, source: str = f"pkg/{SCRIPTS_FILE}") -> dict[str, ScriptEntry]:
    """Parse scripts.json text; raise ScriptsError naming `source`, the field and the fix."""
    raw, problem = decode_json(data, source)
    if problem is not None:
        raise ScriptsError([problem])
    if not isinstance(raw, dict):
        raise ScriptsError(
            [
                Problem(
                    source, "", 'must be a JSON object {"<script>.wasm": {...}}', "wrap the entries in {...}"
                )
            ]
        )
    problems = []
    for name in raw:
        try:
            validate_wasm_path(f"/{name}", "script file name")
        except ValueError as exc:
            problems.append(Problem(source, name, str(exc), 'name entries like "send.wasm" (a file in pkg/)'))
    try:
        entries = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation_error(exc, source, known_fields=_KNOWN_FIELDS))
        entries = {}
    if problems:
        raise ScriptsError(problems)
    return entries


def scripts_to_data(entries: dict[str, ScriptEntry]) -> dict[str, dict[str, Any]]:
    """JSON-ready form: the five fields Hyperdrive reads, in its order (`wit_version` when set)."""
    data = {}
    for name in sorted(entries):
        dumped = entries[name].model_dump(mode="json")
        if dumped.get("wit_version") is None:
            dumped.pop("wit_version", None)
        data[name] = dumped
    return data


def scripts_json(entries: dict[str, ScriptEntry]) -> str:
    """Deterministic scripts.json text (4-space indent, as kit's templates, trailing newline)."""
    return json.dumps(scripts_to_data(entries), indent=4, ensure_ascii=False) + "\n"
