"""What forward and reverse accumulation return: results and their step-by-step traces.

Every dataclass here turns into plain JSON-ready data with `to_dict()`: numpy arrays become
lists and a non-finite number (a grid point outside the domain) becomes None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np


def jsonable(x: Any) -> Any:
    """Plain JSON data from our dataclasses, dicts, lists, floats and numpy arrays."""
    if is_dataclass(x) and not isinstance(x, type):
        return {f.name: jsonable(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()] if x.ndim else jsonable(x.item())
    if isinstance(x, bool | int | str) or x is None:
        return x
    if isinstance(x, float | np.floating):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


@dataclass(slots=True)
class PrimalStep:
    """One row of the evaluation trace: v3 = v1 * v0 = 3."""

    node: str
    op: str
    label: str | None
    args: list[str]
    formula: str  # "v3 = v1 * v0"
    value: Any
    shape: list[int] = field(default_factory=list)  # the node's shape, [] for a scalar


@dataclass(slots=True)
class Partial:
    """One incoming edge in forward mode: local derivative times the argument's tangent."""

    arg: str
    edge: str
    formula: str  # the local derivative as text, e.g. "cos(v0)"
    local: Any
    tangent: Any  # the argument's tangent
    product: Any  # local * tangent


@dataclass(slots=True)
class ForwardStep:
    node: str
    op: str
    label: str | None
    value: Any
    tangent: Any
    formula: str  # "v̇3 = v0 · v̇1 + v1 · v̇0"
    partials: list[Partial] = field(default_factory=list)
    shape: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Contribution:
    """One edge in reverse mode: this node's adjoint times the local derivative, added to
    the argument's adjoint (an argument used several times collects several of these)."""

    to: str
    edge: str
    formula: str
    local: Any
    contribution: Any
    adjoint_before: Any
    adjoint_after: Any


@dataclass(slots=True)
class ReverseStep:
    node: str
    op: str
    label: str | None
    value: Any
    adjoint: Any  # complete when the step runs: every use has contributed
    formula: str  # "v̄0 += v̄3 · v1"
    contributions: list[Contribution] = field(default_factory=list)
    shape: list[int] = field(default_factory=list)


@dataclass
class Pass:
    """One sweep: forward with a seed (tangent direction) or reverse with a cotangent."""

    direction: str  # "forward" or "reverse"
    seed: dict[str, Any]  # the input tangents (forward) or output cotangents (reverse)
    steps: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


@dataclass
class Result:
    """What `forward` and `reverse` return.

    `derivatives[output][input]` is the Jacobian entry (for the unit seeds or cotangents
    used); `directional` holds a Jacobian-vector product (forward, per output) or a
    vector-Jacobian product (reverse, per input) when a general seed or cotangent was given.
    """

    mode: str
    values: dict[str, Any]
    derivatives: dict[str, dict[str, Any]]
    passes: list[Pass]
    primal: list[PrimalStep]
    directional: dict[str, Any] | None = None
    invalid_points: int = 0  # grid points where a value or derivative is undefined (NaN)
    operations: dict[str, int] = field(default_factory=dict)  # cost counts, see `jacobian`

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)
