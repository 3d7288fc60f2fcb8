"""Name conversions shared by the wire format, routing and the build.

hyperapp turns a handler `get_user` into the request variant `GetUser` by upper-casing the first
character and every character that follows an underscore (ASCII only) and dropping the underscores
(`hyperapp-macro` `to_camel_case`). We must produce the same variant names, or Rust callers and kit's
generated stubs address handlers that do not exist.
"""

from __future__ import annotations


def variant_name(snake: str) -> str:
    """`get_user` → `GetUser`, exactly as hyperapp's macro does (`_private` → `Private`)."""
    out: list[str] = []
    capitalize_next = True
    for char in snake:
        if char == "_":
            capitalize_next = True
        elif capitalize_next:
            out.append(char.upper() if char.isascii() else char)
            capitalize_next = False
        else:
            out.append(char)
    return "".join(out)


def kebab_name(snake: str) -> str:
    """`get_user` → `get-user`: the form kit uses in HTTP paths (`/api/<fn-kebab>`) and WIT names."""
    return snake.strip("_").replace("_", "-")
