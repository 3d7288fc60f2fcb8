"""Path patterns as Hyperdrive's http-server matches them (the `route-recognizer` 0.3 crate).

Why not aiohttp's router: bindings change while the server runs, and the matching rules are the
crate's, which processes rely on:

* a pattern is split into segments at `/` *and* `.`; a segment starting with `:` is a parameter
  (one or more characters other than `/`), one starting with `*` is a wildcard (one or more of any
  character, slashes included); everything else must match literally;
* when several patterns match, the one with more static segments wins, then more parameters, then
  more wildcards;
* adding the same pattern again replaces its target (a rebind; Unbind stores an empty target);
* leading `/` is ignored on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Target = TypeVar("Target")


@dataclass(frozen=True)
class CompiledPattern:
    """One pattern: its regular expression, parameter names and route-recognizer ranking."""

    source: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    rank: tuple[int, int, int]


def segments(route: str) -> list[tuple[str, str]]:
    """route-recognizer's split: (separator or "", segment); a segment's first char is never a split."""
    pieces = []
    start = 0
    while start < len(route):
        ends = [found for found in (route.find(".", start + 1), route.find("/", start + 1)) if found != -1]
        end = min(ends) if ends else len(route)
        if route[start] in "./":
            pieces.append((route[start], route[start + 1 : end]))
        else:
            pieces.append(("", route[start:end]))
        start = end
    return pieces


def compile_pattern(pattern: str) -> CompiledPattern:
    """Translate a route-recognizer pattern into an anchored regex with one group per parameter."""
    parts: list[str] = []
    names: list[str] = []
    statics = dynamics = wildcards = 0
    for separator, segment in segments(pattern.removeprefix("/")):
        parts.append(re.escape(separator))
        if segment.startswith(":"):
            parts.append("([^/]+)")
            names.append(segment[1:])
            dynamics += 1
        elif segment.startswith("*"):
            parts.append("(.+)")
            names.append(segment[1:])
            wildcards += 1
        else:
            parts.append(re.escape(segment))
            statics += 1
    return CompiledPattern(
        source=pattern,
        regex=re.compile("".join(parts), re.DOTALL),
        names=tuple(names),
        rank=(statics, dynamics, wildcards),
    )


@dataclass
class Router(Generic[Target]):
    """Patterns and what each leads to; `recognize` returns the best match and its parameters."""

    _routes: dict[str, tuple[CompiledPattern, Target]] = field(default_factory=dict)

    def add(self, pattern: str, target: Target) -> None:
        """Add or replace; patterns differing only in parameter names are the same route."""
        compiled = compile_pattern(pattern)
        self._routes.pop(compiled.regex.pattern, None)
        self._routes[compiled.regex.pattern] = (compiled, target)

    def recognize(self, path: str) -> tuple[Target, dict[str, str]] | None:
        subject = path.removeprefix("/")
        best: tuple[tuple[int, int, int], Target, dict[str, str]] | None = None
        for compiled, target in self._routes.values():
            match = compiled.regex.fullmatch(subject)
            if match is None:
                continue
            if best is None or compiled.rank > best[0]:
                params = {
                    name: value for name, value in zip(compiled.names, match.groups(), strict=True) if name
                }
                best = (compiled.rank, target, params)
        return None if best is None else (best[1], best[2])

    def targets(self) -> list[Target]:
        return [target for _, target in self._routes.values()]
