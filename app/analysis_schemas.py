"""Request and response models of the analysis endpoints (app/routes/analysis.py): Jacobians
with their cost, derivative programs, symbolic and numeric differentiation for comparison."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas import FiniteFloat, Graph, Outputs, Point, Source, Strict, Value

InputName = Field(description="The input to differentiate with respect to.", examples=["x"])
OutputName = Field(None, description="The output to differentiate; by default the program's "
                                     "only output.")
MAX_ORDER = 8  # derivative programs grow with the order; beyond this they teach little
MAX_FAMILY_N = 60

# --- Jacobian --------------------------------------------------------------------------------


class JacobianRequest(Strict):
    source: Source
    at: Point = Field(default_factory=dict)
    mode: Literal["reverse", "forward"] = "reverse"
    outputs: Outputs = None


class Cost(BaseModel):
    """What one mode needs for the whole Jacobian, in primitive operations."""

    passes: int = Field(description="Forward: one per input. Reverse: one per output.")
    primal: int = Field(description="Operations of the function itself (once).")
    partials: int = Field(description="Operations of the local partial derivatives (once, "
                                      "shared by all passes).")
    sweeps: int = Field(description="Multiply-adds of all tangent or adjoint passes.")
    operations: int = Field(description="The total.")


class JacobianResponse(BaseModel):
    mode: Literal["reverse", "forward"]
    matrix: dict[str, dict[str, Value]] = Field(description="`matrix[output][input]`.")
    values: dict[str, Value]
    passes: int
    operations: int
    cost: dict[str, Cost] = Field(description="Both modes, `forward` and `reverse`, counted "
                                              "on this program.")
    cheaper: Literal["reverse", "forward"]
    invalid_points: int


# --- derivative programs ---------------------------------------------------------------------


class DerivativeRequest(Strict):
    source: Source
    transform: Literal["derivative", "grad", "jvp", "vjp", "hvp"] = Field(
        "derivative", description="`derivative`: the order-th derivative w.r.t. `wrt`; "
        "`grad`: the gradient (reverse mode as a graph); `jvp`: the tangent program (inputs "
        "`x_dot`); `vjp`: the adjoint program (inputs `y_bar`); `hvp`: forward over reverse, "
        "Hessian-vector products (inputs `x_dot`).")
    wrt: str | None = Field(None, description="`derivative` only: the input.", examples=["x"])
    order: int = Field(1, ge=0, le=MAX_ORDER, description="`derivative` only.")
    output: str | None = OutputName
    outputs: Outputs = None
    at: Point | None = Field(None, description="Optional: evaluate the derivative program "
                             "here (its inputs, e.g. `x_dot` for jvp).")
    svg: bool = Field(False, description="Also draw the derivative program with graphviz.")


class ProgramView(BaseModel):
    text: str = Field(description="One line per node, like a jaxpr.")
    latex: str = Field(description="An aligned LaTeX block, one line per node.")
    graph: Graph
    nodes: int
    operations: int = Field(description="Op nodes (not inputs or constants).")
    svg: str | None = None


class DerivativeResponse(BaseModel):
    transform: str
    inputs: list[str]
    outputs: list[str]
    program: ProgramView
    original_operations: int = Field(description="Op nodes of the program differentiated.")
    values: dict[str, Value] | None = Field(
        description="Every named quantity of the derivative program at `at`, if given.")


# --- symbolic --------------------------------------------------------------------------------


class SymbolicRequest(Strict):
    source: Source
    wrt: str = InputName
    order: int = Field(1, ge=1, le=MAX_ORDER)
    output: str | None = OutputName


class Expression(BaseModel):
    text: str | None = Field(description="The expression; null when it is too long to print.")
    latex: str | None
    operations: int = Field(description="Operators in the written expression (a tree).")
    graph_operations: int = Field(description="Op nodes of the graph computing it (shared).")


class SymbolicResponse(BaseModel):
    output: str
    wrt: str
    order: int
    function: Expression
    derivative: Expression
    ad_operations: int = Field(description="Op nodes of the AD derivative program.")
    swell: float | None = Field(description="derivative.operations / ad_operations.")


class SwellingRequest(Strict):
    family: Literal["product", "sin", "logistic"] = "sin"
    n_max: int = Field(10, ge=1, le=MAX_FAMILY_N)


class SwellRow(BaseModel):
    n: int
    function_symbolic: int
    function_ad: int
    derivative_symbolic: int
    derivative_ad: int


class SwellingResponse(BaseModel):
    family: str
    description: str
    sources: list[str] = Field(description="The program of each n (the first three only).")
    rows: list[SwellRow]


# --- numeric ---------------------------------------------------------------------------------


class NumericRequest(Strict):
    source: Source
    at: dict[str, FiniteFloat] = Field(description="One point (numbers only).",
                                       examples=[{"x": 1.0}])
    wrt: str = InputName
    output: str | None = OutputName
    per_decade: int = Field(4, ge=1, le=20, description="Steps h per factor of ten, from "
                                                        "1e-1 down to 1e-15.")


class Branch(BaseModel):
    h_from: float
    h_to: float
    slope: float | None = Field(description="Of log error against log h: about +1 (forward) "
                                            "or +2 (central) for truncation, -1 for round-off.")


class SchemeCurve(BaseModel):
    scheme: Literal["forward", "central"]
    estimates: list[float | None]
    errors: list[float | None] = Field(description="|estimate - AD value| at each h.")
    best_h: float
    best_error: float
    truncation: Branch
    roundoff: Branch


class NumericResponse(BaseModel):
    output: str
    wrt: str
    at: dict[str, float]
    exact: float = Field(description="The AD derivative (reverse mode).")
    steps: list[float]
    forward: SchemeCurve
    central: SchemeCurve
