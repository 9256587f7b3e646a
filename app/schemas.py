"""The models every endpoint shares: values, strict requests, the trace, the graph, errors.
Each endpoint's own request and response models live beside it in app/routes/.

A value is a number at a point, or a (nested) list of numbers over a grid; `null` stands for a
value that is undefined there (a grid point outside the domain). JSON never holds NaN.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# --- values ----------------------------------------------------------------------------------

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
# fail_fast: a list that is not of this member's kind stops at its first wrong element. Without
# it, pydantic's union would build one error per number for each member it tries: 10 ms of the
# event loop for a grid of 20,000 numbers (1.4 ms with it).
FloatList = Annotated[list[FiniteFloat], Field(fail_fast=True)]
InputValue = FiniteFloat | FloatList | Annotated[list[FloatList], Field(fail_fast=True)]
Number = float | None
Value = Number | list[Number] | list[list[Number]]

Point = Annotated[dict[str, InputValue], Field(
    description="A value for every input: a number, or a list (or list of lists) of numbers "
                "to evaluate over a grid of points.",
    examples=[{"w": 1.0}])]
Source = Annotated[str, Field(description="The program: statements separated by newlines or "
                                          "`;`, e.g. `x = 3*w; y = 2*x^2 + 4`.",
                              examples=["x = 3*w; y = 2*x^2 + 4"])]
Outputs = Annotated[list[str] | None, Field(
    description="Names whose derivatives are wanted; by default the last statement's name.")]


class Strict(BaseModel):
    """Requests: unknown keys and lax conversions ("1" for 1, 0 for false) are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- the trace -------------------------------------------------------------------------------


class PrimalStep(BaseModel):
    """One row of the evaluation trace: `v3 = v1 * v0` and its value."""

    node: str = Field(description="Node id, e.g. `v3`; also the SVG element id.")
    op: str = Field(description="`input`, `const` or a primitive name such as `mul`.")
    label: str | None = Field(description="The user's name of the node (`c#2` for the "
                                          "second version of `c`), if any.")
    args: list[str]
    formula: str
    value: Value


class Partial(BaseModel):
    """Forward mode, one incoming edge: local derivative times the argument's tangent."""

    arg: str
    edge: str = Field(description="Edge id `v{source}_v{target}_{position}`, the SVG id.")
    formula: str
    local: Value
    tangent: Value
    product: Value


class ForwardStep(BaseModel):
    """Forward mode: a node's tangent, summed over its incoming edges."""

    node: str
    op: str
    label: str | None
    value: Value
    tangent: Value
    formula: str
    partials: list[Partial]


class Contribution(BaseModel):
    """Reverse mode, one edge: this node's adjoint times the local derivative, added to the
    argument's adjoint."""

    to: str
    edge: str
    formula: str
    local: Value
    contribution: Value
    adjoint_before: Value
    adjoint_after: Value


class ReverseStep(BaseModel):
    """Reverse mode: a node whose adjoint is complete, pushing it to its arguments."""

    node: str
    op: str
    label: str | None
    value: Value
    adjoint: Value
    formula: str
    contributions: list[Contribution]


class Pass(BaseModel):
    """One sweep: forward with a seed, or reverse with a cotangent."""

    direction: Literal["forward", "reverse"]
    seed: dict[str, float] = Field(description="Input tangents (forward) or output "
                                               "cotangents (reverse) of this sweep.")
    steps: list[ForwardStep] | list[ReverseStep]


# --- the graph -------------------------------------------------------------------------------


class GraphNode(BaseModel):
    id: str
    op: str
    label: str | None
    symbol: str
    args: list[str]
    expression: str
    outputs: list[str]
    value: float | None = Field(None, description="Constants only.")


class GraphEdge(BaseModel):
    id: str
    source: str
    target: str
    position: int


class Graph(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    inputs: dict[str, str]
    outputs: dict[str, str]


# --- errors ----------------------------------------------------------------------------------


class Problem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, str | int | float | None] | None = None


class ErrorResponse(BaseModel):
    """FastAPI's own error shape; `ctx` holds line and column, or the graph node."""

    detail: list[Problem]
