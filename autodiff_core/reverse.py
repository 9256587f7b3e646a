"""Reverse accumulation (backpropagation): adjoints flow from the outputs back to the inputs.

After a primal sweep has computed every value, start from one output with adjoint 1 (a
cotangent) and visit the nodes in reverse order. Each node's adjoint is complete by the time
it is visited, because every node that uses it comes later in the program; it then adds
`adjoint * local partial` into the adjoint of each argument. Adding, never overwriting, is what
makes a value used twice (fan-out) correct. One pass gives the derivatives of that output with
respect to every input, so the full Jacobian takes one pass per output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .evaluation import (
    Point,
    Value,
    count_invalid,
    factor_text,
    finish,
    make_point,
    named_values,
    partial_formulas,
    primal,
    primal_steps,
    unit_directions,
)
from .ops import ScalarMath
from .plan import adjoint_sweep, plan_of
from .program import Program, edge_id
from .results import Contribution, Pass, Result, ReverseStep
from .sweep import Partials, derivative_overflow, pull_adjoints, route

ADJOINT = "v\u0304"  # v̄: the textbook's bar for an adjoint


def reverse(program: Program, at: Mapping[str, Any] | None = None,
            cotangent: str | Mapping[str, Any] | None = None, trace: bool = True,
            wrt: str | list[str] | None = None) -> Result:
    """Reverse-mode derivatives: one pass per output cotangent (per output element for a
    tensor output). `wrt`: the inputs to differentiate (default all; the others are data).

    >>> from autodiff_core import parse
    >>> reverse(parse("x = 3*w; y = 2*x^2 + 4"), {"w": 1.0}).derivatives
    {'y': {'w': 36.0}}
    """
    if program.tensor_path:
        from .tensor_sweep import tensor_reverse

        return tensor_reverse(program, at, cotangent, trace, wrt)
    point = make_point(program, at)
    vals = primal(program, point)
    partials = Partials(program, vals, point.math, point.grid)
    outputs = list(program.outputs)
    derivatives: dict[str, dict[str, Value]] = {name: {} for name in outputs}
    directional: dict[str, Value] | None = None
    passes = []
    for direction, unit in unit_directions(outputs, cotangent, "cotangent"):
        if trace or point.grid:
            adjoints, steps = _adjoint_pass(program, point, vals, partials, direction, trace)
        else:
            adjoints, steps = _compiled_pass(program, vals, partials, direction), []
        passes.append(Pass("reverse", {n: direction.get(n, 0.0) for n in outputs}, steps))
        for in_name, i in program.inputs.items():
            value = finish(adjoints[i], point)
            if unit is not None:
                derivatives[unit][in_name] = value
            else:
                directional = directional or {}
                directional[in_name] = value
    if cotangent is not None:  # only the swept outputs have derivatives (even with no inputs)
        swept = {unit for _, unit in unit_directions(outputs, cotangent, "cotangent")}
        derivatives = {k: v for k, v in derivatives.items() if k in swept}
    if wrt is not None:
        derivatives, directional = _only(program, wrt, derivatives, directional)
    values = named_values(program, vals, point)
    return Result("reverse", values, derivatives, passes,
                  primal_steps(program, vals) if trace else [], directional,
                  count_invalid(point, values, derivatives, directional or {}),
                  {"passes": len(passes), "nodes": len(program.nodes)})


def _only(program: Program, wrt: str | list[str], derivatives: dict[str, dict[str, Value]],
          directional: dict[str, Value] | None) -> tuple[dict[str, dict[str, Value]],
                                                         dict[str, Value] | None]:
    """The derivatives with respect to the `wrt` inputs only."""
    from .tensor_results import check_wrt

    names = check_wrt(program, wrt)
    derivatives = {out: {x: d[x] for x in names if x in d} for out, d in derivatives.items()}
    if directional is not None:
        directional = {x: directional[x] for x in names if x in directional}
    return derivatives, directional


def swept_outputs(program: Program, direction: Mapping[str, float]) -> frozenset[int]:
    """The output nodes a reverse pass starts from: nonzero cotangents (policy 1)."""
    return frozenset(program.outputs[name] for name, v in direction.items() if v != 0.0)


def _start(program: Program, direction: Mapping[str, float], empty: Any = 0.0) -> list[Any]:
    """The adjoints before a pass: the cotangents of the swept outputs, `empty` elsewhere."""
    adjoints: list[Any] = [empty] * len(program.nodes)
    for name, value in direction.items():
        if value != 0.0:
            i = program.outputs[name]
            adjoints[i] = value if adjoints[i] is empty else adjoints[i] + value
    return adjoints


def _compiled_pass(program: Program, vals: list[Value], partials: Partials,
                   direction: dict[str, float]) -> list[Any]:
    """The adjoints alone, by the compiled sweep of plan.py. If a derivative is undefined at
    the point, the general sweep runs again to find the node and raise the error naming it."""
    plan = plan_of(program)
    edges = plan.edges(swept_outputs(program, direction))
    adjoints = _start(program, direction)
    try:
        adjoint_sweep(edges, edges.local_partials(vals, ScalarMath), adjoints)
        if all(math.isfinite(adjoints[i]) for i in program.inputs.values()):
            return adjoints
    except (ValueError, ZeroDivisionError, OverflowError):
        pass
    adjoints, _ = _adjoint_pass(program, Point({}, False), vals, partials, direction, False)
    raise derivative_overflow(program, next(  # the general sweep raised, or this:
        i for i in reversed(range(plan.size)) if not math.isfinite(adjoints[i])))


def _adjoint_pass(program: Program, point: Point, vals: list[Value], partials: Partials,
                  direction: dict[str, float], trace: bool) -> tuple[list[Any], list[Any]]:
    """The general sweep (sweep.py), with an observer recording the steps if `trace`."""
    swept = route(program, program.inputs.values(), swept_outputs(program, direction))
    adjoints = _start(program, direction, None)
    # What an input's finished adjoint is the derivative of: one output, or a weighted sum.
    of = next(iter(direction)) if list(direction.values()) == [1.0] else "(cotangent · outputs)"
    observer = _Trace(program, vals, adjoints, swept.edges, of) if trace else None
    if point.grid:
        with np.errstate(all="ignore"):
            pull_adjoints(swept, partials, adjoints, point.math, observer)
    else:
        pull_adjoints(swept, partials, adjoints, point.math, observer)
    adjoints = [0.0 if a is None else a for a in adjoints]  # (not reached: 0, structurally)
    return adjoints, observer.steps if observer is not None else []


class _Trace:
    """The observer that writes the reverse trace: one step per visited node, last first."""

    def __init__(self, program: Program, vals: list[Value], adjoints: list[Any],
                 edges: tuple[tuple[tuple[int, int], ...], ...], of: str):
        self.program = program
        self.vals = vals
        self.adjoints = adjoints
        self.edges = edges
        self.of = of
        self.steps: list[ReverseStep] = []
        self.texts: list[str] = []  # the partials' formulas of the node being visited

    def visit(self, i: int) -> None:
        program = self.program
        node = program.nodes[i]
        label = program.label(i) if node.name else None
        if not node.args:
            formula = f"{ADJOINT}{i} = ∂{self.of}/∂{node.name or node.ref} (complete)"
        else:
            self.texts = partial_formulas(program, i)
            formula = "; ".join(f"{ADJOINT}{a} += {ADJOINT}{i} · {factor_text(self.texts[k])}"
                                for k, a in self.edges[i])
        self.steps.append(ReverseStep(node.ref, node.op, label, self.vals[i], self.adjoints[i],
                                      formula))

    def edge(self, i: int, k: int, a: int, local: Any, product: Any, before: Any) -> None:
        self.steps[-1].contributions.append(Contribution(
            f"v{a}", edge_id(a, i, k), self.texts[k], local, product, before, self.adjoints[a]))
