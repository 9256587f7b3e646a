"""The models every endpoint shares: values, strict requests, the trace, the graph, errors.
Each endpoint's own request and response models live beside it in app/routes/.

A value is a number at a point, or nested lists of numbers: a tensor's elements, over a grid
of points (the grid's axes first, then the node's shape); `null` stands for a value that is
undefined there (a grid point outside the domain). JSON never holds NaN.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

# --- values ----------------------------------------------------------------------------------

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
# fail_fast: a list that is not of this member's kind stops at its first wrong element. Without
# it, pydantic's union would build one error per number for each member it tries: 10 ms of the
# event loop for a grid of 20,000 numbers (1.4 ms with it).
FloatList = Annotated[list[FiniteFloat], Field(fail_fast=True)]
# A tensor (or a grid of numbers): a list of numbers, or a list of such lists, to any depth.
# The union is tried left to right at the level of whole lists, so a row of numbers is checked
# by the fast `list[float]` path (a 64 x 784 array: under 1 ms, as fast as the fixed depths of
# before); an element-level union would take 25 times longer. Raggedness and the shape are
# checked by app/limits.py against the program's declarations.
if TYPE_CHECKING:  # mypy reads recursive aliases of this kind as cycles
    NestedList = list[Any]
else:
    NestedList = TypeAliasType("NestedList", Annotated[
        FloatList | Annotated[list["NestedList"], Field(fail_fast=True)],
        Field(union_mode="left_to_right")])
MAX_AXES = 32  # numpy's broadcasting takes at most 32 axes


def _one_clear_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate as the union says; on failure, one error that says what is wrong and where
    (the union's own errors list every member it tried, with unreadable locations)."""
    try:
        return handler(value)
    except ValidationError:
        where, what = _first_bad_element(value)
        place = "".join(f"[{i}]" for i in where)
        raise PydanticCustomError(
            "tensor_value", "a value must be a finite number or a nested list of finite numbers "
            "(a tensor, or a grid of points); {what}{at}",
            {"what": what, "at": f" at {place}" if place else "",
             "path": place}) from None


def _first_bad_element(value: Any) -> tuple[list[int], str]:
    """The position of the first element that is neither a finite number nor a list, or of
    the first list that mixes numbers and lists (iterative: depth costs no recursion)."""
    stack: list[tuple[list[int], Any]] = [([], value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, list):
            if len(where) >= MAX_AXES:
                return [], f"it is nested more than {MAX_AXES} lists deep"
            kinds = {isinstance(x, list) for x in item}
            if len(kinds) > 1:
                return where, "a list mixes numbers and lists"
            stack.extend((where + [i], x) for i, x in reversed(list(enumerate(item))))
        elif isinstance(item, bool) or not isinstance(item, int | float):
            return where, f"found {_kind(item)}"
        elif not math.isfinite(item):
            return where, "found a number that is not finite"
    return [], "it is nested too deeply"  # the validator's own recursion limit


def _kind(item: Any) -> str:
    names = {str: "a string", bool: "true or false", type(None): "null", dict: "an object"}
    return names.get(type(item), type(item).__name__)


TENSOR_EXAMPLE: dict[str, Any] = {"W": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "x": [1.0, 0.0, -1.0],
                  "b": [0.5, -0.5]}
InputValue = Annotated[FiniteFloat | NestedList, Field(union_mode="left_to_right"),
                       WrapValidator(_one_clear_error)]
Number = float | None
# An answer's value: a number (null where undefined), or nested lists of them to any depth.
if TYPE_CHECKING:
    NumberArray = list[Any]
else:
    NumberArray = TypeAliasType("NumberArray", list["Number | NumberArray"])
Value = Number | NumberArray
Shape = Annotated[list[int], Field(description="The node's shape, e.g. `[2, 3]`; `[]` for a "
                                               "scalar.", examples=[[2, 3]])]

Point = Annotated[dict[str, InputValue], Field(
    description="A value for every input: a number, or a nested list of numbers. A tensor "
                "input declared `W: [2, 3]` takes a 2x3 nested list; extra leading axes (on "
                "any input, scalar or tensor) make a grid of points to evaluate over.",
    examples=[{"w": 1.0}, TENSOR_EXAMPLE])]
Source = Annotated[str, Field(description="The program: statements separated by newlines or "
                                          "`;`, e.g. `x = 3*w; y = 2*x^2 + 4`. A line `W: [2, 3]` "
                                          "declares a tensor input.",
                              examples=["x = 3*w; y = 2*x^2 + 4",
                                        "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"])]
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
    shape: Shape = Field(default_factory=list)


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
    shape: Shape = Field(default_factory=list)


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
    shape: Shape = Field(default_factory=list)


class Pass(BaseModel):
    """One sweep: forward with a seed, or reverse with a cotangent."""

    direction: Literal["forward", "reverse"]
    seed: dict[str, Value] = Field(description="Input tangents (forward) or output "
                                               "cotangents (reverse) of this sweep: a number, "
                                               "or an array of a tensor's shape.")
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
    value: Value = Field(None, description="Constants only: a number, or a tensor constant's "
                                           "elements as nested lists.")
    shape: Shape = Field(default_factory=list)


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
