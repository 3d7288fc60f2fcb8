"""Valid manifest and metadata documents for check tests, with single fields changed or removed.

A plain module (not conftest) so parametrized tests can build their cases at collection time, and
so test modules can import `PackageFactory` by a name that is unique when several test directories
(each with its own `conftest`) run in one session.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# The `make_package` fixture (conftest): wasm files, manifest, metadata -> a package directory.
PackageFactory = Callable[..., Path]


def manifest_entry(**overrides: Any) -> dict[str, Any]:
    """A valid manifest entry for process `echo`, with fields replaced or (value None) removed."""
    entry: dict[str, Any] = {
        "process_name": "echo",
        "process_wasm_path": "/echo.wasm",
        "on_exit": "Restart",
        "request_networking": False,
        "request_capabilities": [
            "http-server:distro:sys",
            {"process": "vfs:distro:sys", "params": {"root": True}},
        ],
        "grant_capabilities": [],
        "public": True,
    }
    for name, value in overrides.items():
        if value is None:
            entry.pop(name)
        else:
            entry[name] = value
    return entry


def metadata_document(**property_overrides: Any) -> dict[str, Any]:
    """kit's metadata.json for echo:template.os 0.1.0, with `properties` fields replaced or removed."""
    properties: dict[str, Any] = {
        "package_name": "echo",
        "publisher": "template.os",
        "current_version": "0.1.0",
        "mirrors": [],
        "code_hashes": {"0.1.0": ""},
        "license": None,
        "screenshots": None,
        "wit_version": 1,
        "dependencies": [],
        "api_includes": [],
    }
    for name, value in property_overrides.items():
        if value is None:
            properties.pop(name)
        else:
            properties[name] = value
    return {
        "name": "echo",
        "description": "",
        "image": "",
        "external_url": "",
        "animation_url": "",
        "properties": properties,
    }
