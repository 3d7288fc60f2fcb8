"""The one reading of scalar hints: what path, query and header parameters may be, and how they convert."""

from __future__ import annotations

import enum
from typing import Annotated, Literal, NewType, Optional

import pytest

from hyperpy.runtime.typeinfo import scalar_info
from hyperpy.runtime.types import Query

UserId = NewType("UserId", int)


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("hint", "kind", "optional"),
    [
        (str, "str", False),
        (int | None, "int", True),
        (Optional[float], "float", True),  # noqa: UP045 - the old spelling must work too
        (Annotated[bool, Query()], "bool", False),
        (Annotated[UserId | None, Query()], "int", True),
        (UserId, "int", False),
        (Color, "enum", False),
        (Literal["a", "b"], "literal", False),
    ],
)
def test_scalars_through_annotated_newtype_and_optional(hint: object, kind: str, optional: bool) -> None:
    info = scalar_info(hint)
    assert info is not None and (info.kind, info.optional) == (kind, optional)


@pytest.mark.parametrize("hint", [list[int], dict[str, int], int | str, int | str | None, bytes])
def test_non_scalars_are_refused(hint: object) -> None:
    assert scalar_info(hint) is None
