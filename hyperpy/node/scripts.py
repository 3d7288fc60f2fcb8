"""A package's `pkg/scripts.json` as the terminal reads it, and the capabilities a script starts with.

Mirrors Hyperdrive's terminal (`hyperdrive/packages/terminal/terminal/src/lib.rs`, `get_entry` and
`handle_run`) and process_lib's `DotScriptsEntry`: `root`, `public` and `request_networking` are
required booleans, `request_capabilities` / `grant_capabilities` optional lists whose entries are a
process id string (messaging) or `{"process": id, "params": json}`; entries that do not parse are
skipped, as the terminal skips them. `wit_version` is optional.

Why not the package layer's strict scripts.json model (what `hyperpy build` writes and `hyperpy
check` enforces): a node must run what a real node runs, and Hyperdrive's terminal reads the file
with serde's defaults — unknown fields ignored, a capability entry it cannot parse skipped — so a
package another tool wrote runs here exactly as it would there.

The script process gets: its requested caps (issued by our node), the cap to message the terminal
back, the network cap when `request_networking`, and every cap the terminal holds when `root`.
The kernel then keeps only those the terminal itself holds (InitializeProcess from a process).
Each `grant_capabilities` entry gives that process a cap issued by the script (messaging, or the
given params).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hyperpy.node.kernel_json import serde_json_text
from hyperpy.node.well_known import MESSAGING_PARAMS, network_cap
from hyperpy.node.wit_types import Address, Capability, ProcessId
from hyperpy.runtime import jsonwire

SCRIPTS_FILE = "scripts.json"


class ScriptError(Exception):
    """Why the terminal could not run a script; `str()` is Hyperdrive's wording (`ScriptError`)."""


def unknown_name(name: str) -> ScriptError:
    return ScriptError(f"'{name}' not found, either as an alias or process ID")


FAILED_TO_READ_WASM = "failed to read script Wasm from VFS"
NO_SCRIPTS_MANIFEST = "no scripts manifest in package"
NO_SCRIPT_IN_MANIFEST = "script not in scripts.json file"
INVALID_SCRIPTS_MANIFEST = "could not parse scripts.json file"
KERNEL_UNRESPONSIVE = "kernel unresponsive"


@dataclass(frozen=True)
class DotScriptsEntry:
    """One `scripts.json` entry (process_lib `DotScriptsEntry`)."""

    root: bool
    public: bool
    request_networking: bool
    request_capabilities: list[Any] = field(default_factory=list)
    grant_capabilities: list[Any] = field(default_factory=list)
    wit_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "public": self.public,
            "request_networking": self.request_networking,
            "request_capabilities": self.request_capabilities,
            "grant_capabilities": self.grant_capabilities,
            "wit_version": self.wit_version,
        }


def parse_scripts_json(data: bytes) -> dict[str, DotScriptsEntry]:
    """Every entry of a `scripts.json` file; raise ScriptError(INVALID_SCRIPTS_MANIFEST) when the file
    does not deserialize as `HashMap<String, DotScriptsEntry>`."""
    try:
        value = jsonwire.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ScriptError(INVALID_SCRIPTS_MANIFEST) from None
    if not isinstance(value, dict):
        raise ScriptError(INVALID_SCRIPTS_MANIFEST)
    return {str(name): _entry(raw) for name, raw in value.items()}


def _entry(raw: Any) -> DotScriptsEntry:
    if not isinstance(raw, dict):
        raise ScriptError(INVALID_SCRIPTS_MANIFEST)
    root, public, networking = (raw.get(key) for key in ("root", "public", "request_networking"))
    if not (isinstance(root, bool) and isinstance(public, bool) and isinstance(networking, bool)):
        raise ScriptError(INVALID_SCRIPTS_MANIFEST)
    lists = [raw.get(key) for key in ("request_capabilities", "grant_capabilities")]
    if not all(item is None or isinstance(item, list) for item in lists):
        raise ScriptError(INVALID_SCRIPTS_MANIFEST)
    wit_version = raw.get("wit_version")
    if wit_version is not None and (not isinstance(wit_version, int) or isinstance(wit_version, bool)):
        raise ScriptError(INVALID_SCRIPTS_MANIFEST)
    return DotScriptsEntry(root, public, networking, lists[0] or [], lists[1] or [], wit_version)


def _parsed_entries(values: list[Any]) -> list[tuple[ProcessId, str]]:
    """(process, params JSON text) for each entry that parses; the others are skipped."""
    parsed = []
    for value in values:
        if isinstance(value, str):
            name, params = value, MESSAGING_PARAMS
        elif isinstance(value, dict) and isinstance(value.get("process"), str) and "params" in value:
            name, params = value["process"], serde_json_text(value["params"])
        else:
            continue
        try:
            parsed.append((ProcessId.parse(name), params))
        except ValueError:
            continue
    return parsed


def requested_caps(
    entry: DotScriptsEntry, node: str, terminal: Address, terminal_caps: list[Capability]
) -> list[Capability]:
    """The initial capabilities of a script process started by `terminal`."""
    caps = {
        cap.key(): cap
        for cap in (
            Capability(Address(node, process), params)
            for process, params in _parsed_entries(entry.request_capabilities)
        )
    }
    always = Capability(terminal, MESSAGING_PARAMS)
    caps[always.key()] = always
    if entry.request_networking:
        network = network_cap(node)
        caps[network.key()] = network
    if entry.root:
        for cap in terminal_caps:
            caps[cap.key()] = cap
    return list(caps.values())


def granted_caps(entry: DotScriptsEntry, node: str, script: ProcessId) -> list[tuple[ProcessId, Capability]]:
    """(holder, cap issued by the script) for each `grant_capabilities` entry."""
    issuer = Address(node, script)
    return [
        (process, Capability(issuer, params)) for process, params in _parsed_entries(entry.grant_capabilities)
    ]
