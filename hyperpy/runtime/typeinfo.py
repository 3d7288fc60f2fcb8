"""What a type hint means, normalised once: the shared first step of every reader of type hints.

Why (as `msgspec.inspect.type_info`): the declaration check (`spec`), HTTP text conversion
(`routing`), the codec and WIT generation each peeled `Annotated[...]`, `NewType`s and `T | None`
off hints themselves and then decided what a "scalar" is; the copies had begun to disagree (one
peeled `Annotated`, another did not). `scalar_info` is the one answer for the scalar parameters of
path, query and header bindings: the spec accepts exactly the hints it describes and routing converts
text by its `kind`.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

ScalarKind = Literal["str", "int", "float", "bool", "enum", "literal"]
_PRIMITIVES: dict[Any, ScalarKind] = {str: "str", int: "int", float: "float", bool: "bool"}


def strip_annotated(hint: Any) -> Any:
    """`Annotated[T, ...]` -> `T` (repeatedly); other hints unchanged."""
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def newtype_base(hint: Any) -> Any:
    """`NewType("UserId", int)` -> `int` (through chains of NewTypes); other hints unchanged."""
    while getattr(hint, "__supertype__", None) is not None:
        hint = hint.__supertype__
    return hint


def optional_inner(hint: Any) -> Any | None:
    """`T | None` / `Optional[T]` with exactly one other member -> `T`; anything else -> None."""
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(hint)
    others = [arg for arg in args if arg is not type(None)]
    return others[0] if len(others) == 1 and len(others) != len(args) else None


@dataclass(frozen=True)
class ScalarInfo:
    """A hint a single text value converts to: its kind, the base type and whether None is allowed."""

    kind: ScalarKind
    base: Any
    optional: bool


def scalar_info(hint: Any) -> ScalarInfo | None:
    """The scalar a hint describes (str/int/float/bool, an Enum or a Literal, optionally `| None`,
    through `Annotated` and `NewType`), or None when it is not a scalar."""
    hint = newtype_base(strip_annotated(hint))
    inner = optional_inner(hint)
    optional = inner is not None
    if inner is not None:
        hint = newtype_base(strip_annotated(inner))
    if typing.get_origin(hint) is typing.Literal:
        return ScalarInfo("literal", hint, optional)
    kind = _PRIMITIVES.get(hint)
    if kind is not None:
        return ScalarInfo(kind, hint, optional)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return ScalarInfo("enum", hint, optional)
    return None
