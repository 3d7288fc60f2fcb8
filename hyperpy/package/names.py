"""Hypermap-safe names (runtime-contract.md §2.5).

Why here: the kernel refuses to initialize a process whose name is not hypermap-safe, drops such
processes at boot, and http-server refuses to bind for them. A real node only tells you at install
time, so the project config, the manifest model and `hyperpy check` all validate names with these
functions and say what to write instead.

Rules: process and package names match `^[a-z0-9-]+$`; publishers and node names match
`^[a-z0-9-.]+$`. A process id is `process:package:publisher` (three non-empty segments); an address is
`node@process:package:publisher` (exactly one `@`).
"""

from __future__ import annotations

import re
from typing import Protocol

from hyperpy.runtime.types import ProcessId, split_address, split_process_id

_NAME_RE = re.compile(r"^[a-z0-9\-]+$")
_PUBLISHER_RE = re.compile(r"^[a-z0-9\-.]+$")
_WASM_PATH_RE = re.compile(r"^/[a-z0-9\-]+\.wasm$")

NAME_RULE = "lowercase letters a-z, digits 0-9 and '-'"
PUBLISHER_RULE = "lowercase letters a-z, digits 0-9, '-' and '.'"


class InvalidNameError(ValueError):
    """A name that a Hyperware node would refuse; the message names the field and a safe spelling."""


class ProcessParts(Protocol):
    """Anything naming a process id by parts: the framework's and the node's `ProcessId` both do."""

    @property
    def process_name(self) -> str: ...

    @property
    def package_name(self) -> str: ...

    @property
    def publisher_node(self) -> str: ...


def suggest_safe_name(value: str, *, allow_dots: bool = False) -> str:
    """Return the closest hypermap-safe spelling of `value` (lowercase, `_`/spaces to `-`).

    Used in error messages so the fix is a copy-paste, not a puzzle.
    """
    lowered = value.strip().lower().replace("_", "-").replace(" ", "-")
    pattern = r"[^a-z0-9\-.]" if allow_dots else r"[^a-z0-9\-]"
    cleaned = re.sub(pattern, "", lowered)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-")
    return cleaned or "my-app"


def is_name_safe(value: str) -> bool:
    """True if `value` is a valid process or package name."""
    return bool(_NAME_RE.match(value))


def is_publisher_safe(value: str) -> bool:
    """True if `value` is a valid publisher or node name."""
    return bool(_PUBLISHER_RE.match(value))


def is_hypermap_safe(process: ProcessParts) -> bool:
    """Hyperdrive's `check_process_id_hypermap_safe`: names `[a-z0-9-]+`, publisher `[a-z0-9-.]+`.

    The kernel refuses to initialize (and drops at boot) a process failing it, and http-server refuses
    its binds; the one copy of the rule for the whole project.
    """
    return (
        is_name_safe(process.process_name)
        and is_name_safe(process.package_name)
        and is_publisher_safe(process.publisher_node)
    )


def _problem(field: str, value: object, rule: str, suggestion: str) -> InvalidNameError:
    return InvalidNameError(
        f"{field} {value!r} is not hypermap-safe: use only {rule} (for example {suggestion!r})"
    )


def validate_process_name(value: str, field: str = "process_name") -> str:
    """Return `value` if it is a safe process name, else raise InvalidNameError naming `field`."""
    if not isinstance(value, str) or not is_name_safe(value):
        raise _problem(field, value, NAME_RULE, suggest_safe_name(str(value)))
    return value


def validate_package_name(value: str, field: str = "package_name") -> str:
    """Return `value` if it is a safe package name, else raise InvalidNameError naming `field`."""
    if not isinstance(value, str) or not is_name_safe(value):
        raise _problem(field, value, NAME_RULE, suggest_safe_name(str(value)))
    return value


def validate_publisher(value: str, field: str = "publisher") -> str:
    """Return `value` if it is a safe publisher (node name), else raise InvalidNameError."""
    if not isinstance(value, str) or not is_publisher_safe(value):
        raise _problem(field, value, PUBLISHER_RULE, suggest_safe_name(str(value), allow_dots=True))
    return value


def validate_wasm_path(value: str, field: str = "process_wasm_path") -> str:
    """Return `value` if kit accepts it as a `process_wasm_path` (`/<safe-name>.wasm`)."""
    if not isinstance(value, str) or not _WASM_PATH_RE.match(value):
        stem = suggest_safe_name(str(value).strip("/").removesuffix(".wasm"))
        raise InvalidNameError(
            f"{field} {value!r} must be '/<name>.wasm' relative to pkg/ with <name> made of {NAME_RULE} "
            f"(for example '/{stem}.wasm')"
        )
    return value


def parse_process_id(value: str, field: str = "process id") -> ProcessId:
    """Parse `process:package:publisher`; raise InvalidNameError naming `field` and the expected form."""
    if not isinstance(value, str):
        raise InvalidNameError(f"{field} must be a string 'process:package:publisher', got {value!r}")
    try:
        process, package, publisher = split_process_id(value)
    except ValueError:
        raise InvalidNameError(
            f"{field} {value!r} is not a process id: expected 'process:package:publisher' "
            "(three non-empty parts separated by ':', for example 'http-server:distro:sys')"
        ) from None
    validate_process_name(process, f"{field} {value!r}: process part")
    validate_package_name(package, f"{field} {value!r}: package part")
    validate_publisher(publisher, f"{field} {value!r}: publisher part")
    return ProcessId(process, package, publisher)


def parse_address(value: str, field: str = "address") -> tuple[str, ProcessId]:
    """Parse `node@process:package:publisher` into (node, ProcessId)."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        node, _ = split_address(value)
    except ValueError:
        raise InvalidNameError(
            f"{field} {value!r} is not an address: expected 'node@process:package:publisher' "
            "(exactly one '@', for example 'our.os@echo:echo:template.os')"
        ) from None
    process_id = value.partition("@")[2]
    validate_publisher(node, f"{field} {value!r}: node part")
    return node, parse_process_id(process_id, f"{field} {value!r}")
