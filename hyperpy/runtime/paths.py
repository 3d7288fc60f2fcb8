"""The one path compiler: an `@http(path=...)` template, validated, as a matcher and as a binding.

Why one place (as Starlette's `compile_path`): the declaration check (`spec`), the binding sent to
http-server (`spec.bind_path`) and the request matcher (`routing.Router`) used to parse templates
with the same regex twice, so a template could be accepted by one and read differently by another.

Template syntax: literal segments and whole-segment placeholders, `{name}` (one segment) or
`{name:path}` (the rest of the path, last segment only). http-server's route syntax for the same
template is `:name` / `*name` (Hyperdrive's `http_server` binds with matchit-style routes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}$")


class PathError(ValueError):
    """A malformed template; the message names the segment and the rule (callers add the handler)."""


@dataclass(frozen=True)
class CompiledPath:
    """A validated template: its parameter names, its http-server binding and its matcher."""

    template: str
    params: tuple[str, ...]
    binding: str
    regex: re.Pattern[str] = field(repr=False)

    def match(self, path: str) -> dict[str, str] | None:
        """The percent-decoded placeholder values if `path` matches, else None (a trailing `/` is ok)."""
        found = self.regex.match(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def compile_path(template: str) -> CompiledPath:
    """Validate and compile `template`; raise PathError naming what is wrong."""
    segments = template.strip("/").split("/") if template.strip("/") else []
    params: list[str] = []
    pattern: list[str] = []
    for index, segment in enumerate(segments):
        match = _PLACEHOLDER.match(segment)
        if match is None:
            if "{" in segment or "}" in segment:
                raise PathError(
                    f"path segment {segment!r} in {template!r} is malformed; a placeholder is a "
                    "whole segment like {item_id} (or {rest:path} as the last segment)"
                )
            pattern.append(re.escape(segment))
            continue
        name, rest = match.group(1), bool(match.group(2))
        if rest and index != len(segments) - 1:
            raise PathError(f"{segment!r} in {template!r} must be the last segment")
        if name in params:
            raise PathError(f"path {template!r} names {{{name}}} twice")
        params.append(name)
        pattern.append(f"(?P<{name}>.+)" if rest else f"(?P<{name}>[^/]+)")
    regex = re.compile("^/" + "/".join(pattern) + "/?$") if pattern else re.compile("^/?$")
    return CompiledPath(template, tuple(params), _binding(template), regex)


def _binding(template: str) -> str:
    """`{id}` / `{rest:path}` in http-server's route syntax (`:id`, `*rest`), other text unchanged."""
    out = []
    for segment in template.split("/"):
        match = _PLACEHOLDER.match(segment)
        if match is None:
            out.append(segment)
        else:
            out.append(("*" if match.group(2) else ":") + match.group(1))
    return "/".join(out)
