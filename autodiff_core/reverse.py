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
    LocalPartials,
    Point,
    Value,
    count_invalid,
    derivative_overflow,
    factor_text,
    finish,
    make_point,
    named_values,
    partial_formulas,
    primal,
    primal_steps,
    unit_directions,
)
from .plan import adjoint_sweep
from .program import Program, edge_id
from .results import Contribution, Pass, Result, ReverseStep

ADJOINT = "v\u0304"  # v̄: the textbook's bar for an adjoint


def reverse(program: Program, at: Mapping[str, Any] | None = None,
            cotangent: str | Mapping[str, float] | None = None, trace: bool = True) -> Result:
    """Reverse-mode derivatives: one pass per output cotangent.

    >>> from autodiff_core import parse
    >>> reverse(parse("x = 3*w; y = 2*x^2 + 4"), {"w": 1.0}).derivatives
    {'y': {'w': 36.0}}
    """
    point = make_point(program, at)
    vals = primal(program, point)
    partials = LocalPartials(program, point, vals)
    outputs = list(program.outputs)
    derivatives: dict[str, dict[str, Value]] = {name: {} for name in outputs}
    directional: dict[str, Value] | None = None
    passes = []
    for direction, unit in unit_directions(outputs, cotangent, "cotangent"):
        if trace:
            adjoints, steps = _adjoint_pass(program, vals, partials, direction, trace)
        else:
            adjoints, steps = _untraced_pass(program, point, vals, partials, direction), []
        passes.append(Pass("reverse", {n: direction.get(n, 0.0) for n in outputs}, steps))
        for in_name, i in program.inputs.items():
            value = finish(adjoints[i] if adjoints[i] is not None else 0.0, point)
            if unit is not None:
                derivatives[unit][in_name] = value
            else:
                directional = directional or {}
                directional[in_name] = value
    if cotangent is not None:  # only the swept outputs have derivatives (even with no inputs)
        swept = {unit for _, unit in unit_directions(outputs, cotangent, "cotangent")}
        derivatives = {k: v for k, v in derivatives.items() if k in swept}
    values = named_values(program, vals, point)
    return Result("reverse", values, derivatives, passes,
                  primal_steps(program, vals) if trace else [], directional,
                  count_invalid(point, values, derivatives, directional or {}),
                  {"passes": len(passes), "nodes": len(program.nodes)})


def _untraced_pass(program: Program, point: Point, vals: list[Value], partials: LocalPartials,
                   direction: dict[str, float]) -> list[Any]:
    """The adjoints alone, by the flat sweep of plan.py. If a derivative is undefined at the
    point, the traced pass runs again to find the node and raise the error that names it."""
    plan = program.plan
    edges = plan.edges(program.outputs[name] for name in direction)
    adjoints: list[Any] = [0.0] * plan.size
    for name, value in direction.items():
        adjoints[program.outputs[name]] += value
    if point.grid:
        with np.errstate(all="ignore"):
            adjoint_sweep(edges, edges.local_partials(vals, point.math), adjoints)
        return adjoints
    try:
        adjoint_sweep(edges, edges.local_partials(vals, point.math), adjoints)
        if all(math.isfinite(adjoints[i]) for i in program.inputs.values()):
            return adjoints
    except (ValueError, ZeroDivisionError, OverflowError):
        pass
    adjoints, _ = _adjoint_pass(program, vals, partials, direction, False)  # raises, or:
    raise derivative_overflow(program, next(
        i for i in reversed(range(plan.size)) if not math.isfinite(adjoints[i] or 0.0)))


def _adjoint_pass(program: Program, vals: list[Value], partials: LocalPartials,
                  direction: dict[str, float], trace: bool) -> tuple[list[Any], list[Any]]:
    # None marks "no contribution yet", so untouched nodes cost nothing and are not shown.
    adjoints: list[Any] = [None] * len(program.nodes)
    for name, value in direction.items():
        i = program.outputs[name]
        if program.active[i]:
            adjoints[i] = value if adjoints[i] is None else adjoints[i] + value
    steps: list[Any] = []
    # What an input's finished adjoint is the derivative of: one output, or a weighted sum.
    swept = next(iter(direction)) if list(direction.values()) == [1.0] else "(cotangent · outputs)"
    for i in range(len(program.nodes) - 1, -1, -1):
        adjoint = adjoints[i]
        if adjoint is None:
            continue
        step = _step_head(program, vals, adjoints, i, swept) if trace else None
        texts = partial_formulas(program, i) if trace and program.nodes[i].args else []
        for position, a, local in partials.of(i) if program.nodes[i].args else ():
            contribution = adjoint * local
            before = adjoints[a]
            adjoints[a] = contribution if before is None else before + contribution
            if step is not None:
                step.contributions.append(Contribution(
                    f"v{a}", edge_id(a, i, position), texts[position], local, contribution,
                    0.0 if before is None else before, adjoints[a]))
        if step is not None:
            steps.append(step)
    return adjoints, steps


def _step_head(program: Program, vals: list[Value], adjoints: list[Any], i: int,
               swept: str) -> ReverseStep:
    node = program.nodes[i]
    label = program.label(i) if node.name else None
    if not node.args:
        formula = f"{ADJOINT}{i} = ∂{swept}/∂{node.name or node.ref} (complete)"
    else:
        texts = partial_formulas(program, i)
        terms = [f"{ADJOINT}{a} += {ADJOINT}{i} · {factor_text(texts[k])}"
                 for k, a in enumerate(node.args) if program.active[a]]
        formula = "; ".join(terms)
    return ReverseStep(node.ref, node.op, label, vals[i], adjoints[i], formula)
