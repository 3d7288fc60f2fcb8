"""Name conversions between Python, WIT and the hyperapp JSON wire, following kit's rules.

Why exact rules matter: the wire carries names, not positions. A handler `get_user` is the WIT
function `get-user` and the JSON request key `"GetUser"`; a record field `user_id` is the WIT field
`user-id` and the JSON key `"user_id"`; an enum case `dark-mode` is the JSON string `"DarkMode"`.
A Rust hyperapp computes these with kit's conversions; if ours differed by one letter, calls
would silently miss. Each function here documents the kit behaviour it mirrors.
"""

from __future__ import annotations

import keyword
import re

# WIT keywords must be written with a `%` prefix when used as identifiers.
WIT_KEYWORDS = frozenset(
    {
        "as", "async", "bool", "borrow", "char", "constructor", "enum", "export", "f32", "f64",
        "flags", "float32", "float64", "from", "func", "future", "import", "include", "interface",
        "list", "option", "own", "package", "record", "resource", "result", "s16", "s32", "s64",
        "s8", "static", "stream", "string", "tuple", "type", "u16", "u32", "u64", "u8", "use",
        "variant", "with", "world",
    }
)  # fmt: skip

_KEBAB_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$")


def to_kebab(name: str) -> str:
    """Python/Rust name -> WIT name, as kit does: `_` -> `-`, and `-` before each capital.

    `get_user` -> `get-user`, `FileInfo` -> `file-info`, `HTTPServer` -> `h-t-t-p-server` (kit
    splits every capital; we keep that so names match a Rust package's WIT exactly).
    """
    out: list[str] = []
    for index, char in enumerate(name):
        if char == "_":
            out.append("-")
        elif char.isupper():
            if index > 0 and out and out[-1] != "-":
                out.append("-")
            out.append(char.lower())
        else:
            out.append(char)
    return "".join(out)


def is_wit_identifier(name: str) -> bool:
    """Whether a kebab name is a valid WIT identifier (each `-` part starts with a letter)."""
    return bool(_KEBAB_RE.match(name))


def wit_ident(kebab: str) -> str:
    """Escape a kebab name for WIT source: keywords get a `%` prefix."""
    return f"%{kebab}" if kebab in WIT_KEYWORDS else kebab


def kebab_to_snake(kebab: str) -> str:
    """WIT name -> JSON key / Rust name: `user-id` -> `user_id` (serde's default field names)."""
    return kebab.replace("-", "_")


def kebab_to_pascal(kebab: str) -> str:
    """WIT name -> serde variant name / class name: `get-user` -> `GetUser`, `h-t-t-p` -> `HTTP`."""
    return "".join(part[:1].upper() + part[1:] for part in kebab.split("-") if part)


def python_identifier(name: str) -> str:
    """A snake name usable as a Python identifier: keywords get a trailing `_` (`from` -> `from_`)."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in {"None", "True", "False"}:
        return name + "_"
    return name


def upper_snake(kebab: str) -> str:
    """WIT enum case -> Python enum member name: `dark-mode` -> `DARK_MODE` (as componentize-py)."""
    return python_identifier(kebab.replace("-", "_").upper())
