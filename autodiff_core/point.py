"""Where a program is evaluated: one value per input, and whether they form a grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ops import ArrayMath, ScalarMath

Value = Any  # a float, or a numpy float64 array on a grid (or for a tensor)


@dataclass
class Point:
    """Where to evaluate: one value per input, and whether it is a grid (`shape`: the grid's
    shape; a tensor program's values carry it as leading axes)."""

    values: dict[str, Value]
    grid: bool
    shape: tuple[int, ...] = ()

    @property
    def math(self) -> Any:
        return ArrayMath if self.grid else ScalarMath
