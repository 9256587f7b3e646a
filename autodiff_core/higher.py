"""Jacobians with their cost, Hessians and Hessian-vector products.

`jacobian` runs forward or reverse accumulation and counts what each mode costs on this very
program: forward mode needs one pass per input, reverse mode one pass per output, and both
share one primal sweep and one evaluation of the local partials. The counts come from the
same op table (a counting math namespace runs each partial rule), so the cost argument is
shown with numbers, not asserted.

`hessian` is forward-over-reverse, as in JAX's `jacfwd(jacrev(f))`: the gradient program
(reverse mode, written as a graph) is differentiated again in forward mode, giving a program
for the Hessian-vector product H·v. It is built once per program and output and reused. The
full Hessian evaluates that program once with v running over all unit vectors at the same
time (a numpy batch), so it costs a small multiple of one gradient, per column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from .builder import GraphBuilder, copy_program
from .derivative import Names, grad_program, gradient_names, single_output, tangents
from .errors import EvaluationError, InputError
from .evaluation import Point, make_point, primal
from .forward import forward
from .ops import OPS
from .program import CONST, INPUT, Program
from .results import jsonable
from .reverse import reverse
from .tensor_cost import tensor_costs
from .tensor_hessian import tensor_hessian, tensor_hvp
from .tensor_ops import scalar_only

# --- counting the work of each mode --------------------------------------------------------------


class _CountingMath:
    """A math namespace that counts the primitive operations a partial rule performs."""

    def __init__(self) -> None:
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        def op(*args: Any) -> float:
            self.count += 1
            return 1.0

        return op


@cache
def rule_cost(op: str, position: int) -> int:
    """How many primitive operations the partial rule of `op` for one argument performs."""
    m = _CountingMath()
    arity = OPS[op].arity
    OPS[op].partials[position](m, 1.0, *([1.0] * arity))
    return m.count


@dataclass
class Cost:
    """The work one mode needs for the full Jacobian, in primitive operations."""

    passes: int
    primal: int  # the function itself, once
    partials: int  # local partial derivatives, evaluated once and shared by all passes
    sweeps: int  # the multiply-adds of all tangent or adjoint passes
    operations: int  # the total


def accumulation_costs(program: Program) -> dict[str, Cost]:
    """The cost of the full Jacobian in forward and in reverse mode, counted as our engine
    does the work (2 operations, a multiply and an add, per active edge per pass)."""
    active = program.active
    nodes = program.nodes
    primal_ops = sum(1 for n in nodes if n.op not in (INPUT, CONST))
    edges = [[(k, a) for k, a in enumerate(n.args) if active[a]] if active[n.id] else []
             for n in nodes]
    partial_cost = [sum(rule_cost(n.op, k) for k, _ in edges[n.id]) for n in nodes]
    forward_pass = 2 * sum(len(e) for e in edges)
    fwd = Cost(len(program.inputs), primal_ops, sum(partial_cost),
               forward_pass * len(program.inputs), 0)
    # Reverse: each pass visits only the nodes its output depends on (a walk over those).
    reached_any = [False] * len(nodes)
    sweeps = 0
    for out in program.outputs.values():
        if not active[out]:
            continue
        seen = {out}
        stack = [out]
        while stack:
            i = stack.pop()
            reached_any[i] = True
            sweeps += 2 * len(edges[i])
            for _, a in edges[i]:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
    rev_partials = sum(c for i, c in enumerate(partial_cost) if reached_any[i])
    rev = Cost(len(program.outputs), primal_ops, rev_partials, sweeps, 0)
    for c in (fwd, rev):
        c.operations = c.primal + c.partials + c.sweeps
    return {"forward": fwd, "reverse": rev}


@dataclass
class JacobianResult:
    """The Jacobian `matrix[output][input]` and what computing it cost in each mode."""

    mode: str
    matrix: dict[str, dict[str, Any]]
    values: dict[str, Any]
    passes: int
    operations: int
    cost: dict[str, Cost]  # both modes, so they can be compared
    cheaper: str  # the mode with fewer operations on this program
    invalid_points: int = 0

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


def jacobian(program: Program, at: Mapping[str, Any] | None = None,
             mode: str = "reverse") -> JacobianResult:
    """The full Jacobian by forward mode (one pass per input) or reverse (one per output).

    >>> from autodiff_core import parse
    >>> p = parse("s = a*b; t = a + b", outputs=["s", "t"])
    >>> j = jacobian(p, {"a": 2.0, "b": 5.0}, mode="forward")
    >>> j.matrix
    {'s': {'a': 5.0, 'b': 2.0}, 't': {'a': 1.0, 'b': 1.0}}
    >>> j.passes, j.cost["reverse"].passes
    (2, 2)
    """
    if mode not in ("forward", "reverse"):
        raise InputError(f"mode must be 'forward' or 'reverse', not {mode!r}")
    result = (forward if mode == "forward" else reverse)(program, at, trace=False)
    costs = tensor_costs(program, Cost) if program.tensor_path else accumulation_costs(program)
    # (a tensor program's blocks have shape output.shape + input.shape, grid axes first)
    matrix = {out: {x: result.derivatives[out].get(x, 0.0) for x in program.inputs}
              for out in program.outputs}
    cheaper = min(costs, key=lambda m: (costs[m].operations, m != mode))
    return JacobianResult(mode, matrix, result.values, costs[mode].passes,
                          costs[mode].operations, costs, cheaper, result.invalid_points)


# --- Hessians: forward over reverse ---------------------------------------------------------------


def hvp_names(program: Program, output: str) -> tuple[dict[str, str], dict[str, str]]:
    """The fresh names of the H·v program: the vector's input `x_dot` and the product's
    output `dy/dx_dot`, per input x (never names the program uses)."""
    grads = gradient_names(program, output)
    names = Names(program)
    names.taken |= set(grads.values())
    vector = {x: names.fresh(f"{x}_dot") for x in program.inputs}
    return vector, {x: names.fresh(f"{grads[x]}_dot") for x in program.inputs}


def hvp_program(program: Program, output: str | None = None,
                max_nodes: int | None = None) -> Program:
    """Forward over reverse: a program with inputs x and x_dot (the vector v) and outputs y,
    its gradient `dy/dx` and the Hessian-vector product `dy/dx_dot` (row x of H·v).

    >>> from autodiff_core import parse, evaluate
    >>> h = hvp_program(parse("y = x^3"))
    >>> evaluate(h, {"x": 2.0, "x_dot": 1.0})["dy/dx_dot"]     # 6x
    12.0
    """
    scalar_only(program, "an H·v program")
    output = single_output(program, output)
    g = grad_program(program, output, max_nodes=max_nodes)
    grads = gradient_names(program, output)
    vector, products = hvp_names(program, output)
    names = Names(g)
    names.taken |= set(vector.values()) | set(products.values())
    b = GraphBuilder(max_nodes=max_nodes)
    primals = copy_program(b, g)
    seed = {x: b.input(vector[x]) for x in program.inputs}
    dots = tangents(b, g, primals, seed, [g.outputs[grads[x]] for x in program.inputs], names)
    outputs = {name: primals[i] for name, i in g.outputs.items()}
    for x in program.inputs:
        outputs[products[x]] = dots[g.outputs[grads[x]]]
    return b.program(outputs)


def _cached_hvp_program(program: Program, output: str) -> Program:
    # Built once per program and output: a Hessian at many points reuses it.
    cache: dict[str, Program] = vars(program).setdefault("_hvp_programs", {})
    if output not in cache:
        cache[output] = hvp_program(program, output)
    return cache[output]


@dataclass
class HessianResult:
    output: str
    value: Any
    gradient: dict[str, Any]
    hessian: dict[str, dict[str, Any]]  # hessian[xi][xj] = d2y / dxi dxj
    invalid_points: int = 0
    # Tensor programs: hessian[x][z] has shape x.shape + z.shape, and the whole matrix over the
    # inputs' elements (flattened in input order, row-major) is `matrix`, its rows and columns
    # named by `labels` (W[0,1]). None and [] for a scalar program.
    matrix: Any = None
    labels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


@dataclass
class HvpResult:
    output: str
    value: Any
    gradient: dict[str, Any]
    hvp: dict[str, Any]  # (H v)[x]
    vector: dict[str, Any] = field(default_factory=dict)
    invalid_points: int = 0

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


def _finish(arr: Any, grid: bool, what: str) -> Any:
    if not grid:
        value = float(arr)
        if not np.isfinite(value):
            raise EvaluationError(f"the second derivative {what} is undefined at this point")
        return value
    out = np.array(arr, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _run_hvp(program: Program, output: str, point: Point, vector: dict[str, Any],
             batch: int | None) -> dict[str, Any]:
    """Evaluate the H·v program; with `batch`, vector entries carry a last axis of that size."""
    h = _cached_hvp_program(program, output)
    names, products = hvp_names(program, output)
    at: dict[str, Any] = {}
    for x in program.inputs:
        v = point.values[x]
        at[x] = np.asarray(v)[..., None] if batch is not None else v
        at[names[x]] = vector.get(x, 0.0)
    vals = primal(h, make_point(h, at))
    shape = point.shape + ((batch,) if batch is not None else ())
    return {x: np.broadcast_to(vals[h.outputs[products[x]]], shape) for x in program.inputs}


def _first_order(program: Program, at: Mapping[str, Any] | None,
                 output: str | None) -> tuple[str, Point, Any, dict[str, Any], int]:
    output = single_output(program, output)
    # Reverse mode first: it checks the point and names the node of any domain error.
    first = reverse(program, at, cotangent=output, trace=False)
    point = make_point(program, at)
    return output, point, first.values[output], first.derivatives[output], first.invalid_points


def hessian(program: Program, at: Mapping[str, Any] | None = None,
            output: str | None = None) -> HessianResult:
    """Value, gradient and Hessian of one output, at a point or over a grid.

    >>> from autodiff_core import parse
    >>> h = hessian(parse("y = x^2 * w"), {"x": 3.0, "w": 2.0})
    >>> h.gradient, h.hessian
    ({'x': 12.0, 'w': 9.0}, {'x': {'x': 4.0, 'w': 6.0}, 'w': {'x': 6.0, 'w': 0.0}})
    """
    output, point, value, gradient, invalid = _first_order(program, at, output)
    if program.tensor_path:
        t = tensor_hessian(program, at, output)
        return HessianResult(output, t.value, t.gradient, t.blocks, 0, t.matrix, t.labels)
    inputs = list(program.inputs)
    n = len(inputs)
    eye = np.eye(n)
    # Seed j of the batch is the unit vector e_j: one evaluation gives every column.
    columns = _run_hvp(program, output, point, {x: eye[j] for j, x in enumerate(inputs)}, n) \
        if n else {}
    matrix: dict[str, dict[str, Any]] = {}
    for xi in inputs:
        matrix[xi] = {xj: _finish(columns[xi][..., j], point.grid, f"d2{output}/d{xi}d{xj}")
                      for j, xj in enumerate(inputs)}
    if point.grid:
        # The sweep policy: where a value on the route is undefined, every derivative swept
        # through it is NaN, the second ones too (the H·v program computes only what it needs).
        bad = np.isnan(value) | np.logical_or.reduce([np.isnan(g) for g in gradient.values()]
                                                     + [np.zeros(point.shape, dtype=bool)])
        for row in matrix.values():
            for xj, v in row.items():
                row[xj] = np.where(bad, np.nan, v)
                bad |= np.isnan(row[xj])
        invalid = max(invalid, int(bad.sum()))
    return HessianResult(output, value, gradient, matrix, invalid)


def hvp(program: Program, at: Mapping[str, Any] | None, vector: Mapping[str, Any],
        output: str | None = None) -> HvpResult:
    """The Hessian-vector product H·v (forward over reverse), without forming H.

    >>> from autodiff_core import parse
    >>> hvp(parse("y = x^2 * w"), {"x": 3.0, "w": 2.0}, {"x": 1.0, "w": 1.0}).hvp
    {'x': 10.0, 'w': 6.0}
    """
    unknown = [k for k in vector if k not in program.inputs]
    if unknown:
        raise InputError(f"the vector names {', '.join(map(repr, unknown))}, which is not an "
                         f"input; the inputs are: {', '.join(program.inputs) or '(none)'}")
    output, point, value, gradient, invalid = _first_order(program, at, output)
    if program.tensor_path:
        value, gradient, product_hv = tensor_hvp(program, at, output, vector)
        return HvpResult(output, value, gradient, product_hv, dict(vector), 0)
    v = {k: np.asarray(val, dtype=np.float64) if np.ndim(val) else float(val)
         for k, val in vector.items()}
    product = _run_hvp(program, output, point, v, None)
    result = {x: _finish(product[x], point.grid, f"(H·v)[{x}]") for x in program.inputs}
    return HvpResult(output, value, gradient, result, dict(vector), invalid)
