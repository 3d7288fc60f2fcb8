"""Apps whose API has no faithful WIT form; each must fail naming handler, parameter and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from hyperpy.runtime.decorators import app, local

T = TypeVar("T")


@dataclass
class CamelRecord:
    userId: int


@dataclass
class Tree:
    label: str
    children: list[Tree] = field(default_factory=list)


@dataclass
class Page(Generic[T]):
    items: list[T]


@app
class CamelApp:
    @local
    def lookup(self, who: CamelRecord) -> int:
        return who.userId


@app
class TreeApp:
    @local
    def plant(self, tree: Tree) -> int:
        return 0


@app
class DigitApp:
    @local
    def step_2(self) -> int:
        return 2


@app
class GenericApp:
    @local
    def pages(self, ints: Page[int], names: Page[str]) -> int:
        return 0


@app
class MixedLiteralApp:
    @local
    def pick(self, choice: Literal["a", 1]) -> int:
        return 0
