"""Turn validation failures into one line per problem: `file: field path: problem (fix)`.

Why: pydantic's own report is written for Python developers (`on_exit.literal['None','Restart']`),
while our users edit JSON and TOML. Manifest, metadata and project config errors all go through
here, so every tool (build, check, node installer) reports them the same way.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hyperpy.runtime import jsonwire

# Tags of our discriminated unions; they appear in pydantic error locations but mean nothing to users.
UNION_TAGS = frozenset({"process-id", "grant", "exit-simple", "exit-requests"})

_FIXES = {
    "missing": "add this field",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "string_type": "write a string",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "list_type": "write a list [...]",
    "dict_type": "write an object {...}",
    "model_type": "write an object {...}",
    "model_attributes_type": "write an object {...}",
    "tuple_type": "write a list [...]",
    "too_short": "add the missing items",
    "too_long": "remove the extra items",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "literal_error": "use one of the listed values",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one file, and how to fix it."""

    file: str
    field: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}: " if self.field else f"{self.file}: "
        return where + self.message + (f" ({self.fix})" if self.fix else "")


def format_location(location: Sequence[int | str], prefix: str = "") -> str:
    """Render a pydantic location as `a.b[0].c`, dropping union tags; `prefix` is prepended."""
    text = prefix
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in UNION_TAGS:
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def problems_from_validation_error(
    error: ValidationError,
    file: str,
    *,
    prefix: str = "",
    known_fields: Iterable[str] = (),
) -> list[Problem]:
    """One Problem per pydantic error; unknown fields get a 'did you mean' from `known_fields`."""
    names = sorted(set(known_fields))
    problems = []
    for item in error.errors(include_url=False):
        location = item["loc"]
        kind = item["type"]
        message = str(item["msg"])
        fix = _FIXES.get(kind, "")
        if kind == "value_error":
            message = message.removeprefix("Value error, ")
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            field_name = str(location[-1]) if location else ""
            message = "unknown field"
            close = difflib.get_close_matches(field_name, names, n=1)
            fix = f"did you mean {close[0]!r}?" if close else "remove it or check its spelling"
        problems.append(Problem(file, format_location(location, prefix), message, fix))
    return problems


def decode_json(data: bytes | str, source: str) -> tuple[Any, Problem | None]:
    """(decoded value, None), or (None, the Problem saying why `data` is not JSON)."""
    try:
        return jsonwire.loads(data), None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, Problem(source, "", f"not valid JSON: {exc}", "fix the JSON syntax")


def render(problems: Iterable[Problem]) -> str:
    """All problems, one per line."""
    return "\n".join(str(p) for p in problems)
