"""Forward accumulation: tangents flow with the values, from the inputs to the outputs.

Fix one direction in input space (a seed: usually one input set to 1, the rest to 0). Each
node's tangent is the sum, over its arguments, of its local partial derivative times the
argument's tangent: the chain rule applied from the inputs outwards. One pass gives the
derivatives of every output along that direction, so the full Jacobian takes one pass per input.
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
from .plan import tangent_sweep
from .program import CONST, INPUT, Program, edge_id
from .results import ForwardStep, Partial, Pass, Result

TANGENT = "v\u0307"  # v̇: the textbook's dot for a tangent


def forward(program: Program, at: Mapping[str, Any] | None = None,
            seed: str | Mapping[str, float] | None = None, trace: bool = True) -> Result:
    """Forward-mode derivatives of every output, one pass per seed direction.

    >>> from autodiff_core import parse
    >>> forward(parse("x = 3*w; y = 2*x^2 + 4"), {"w": 1.0}).derivatives
    {'y': {'w': 36.0}}
    """
    point = make_point(program, at)
    vals = primal(program, point)
    partials = LocalPartials(program, point, vals)
    inputs = list(program.inputs)
    derivatives: dict[str, dict[str, Value]] = {name: {} for name in program.outputs}
    directional: dict[str, Value] | None = None
    passes = []
    # Every pass multiplies by the same local partials: without a trace they are computed once.
    local = None if trace else _sweep_partials(program, point, vals, partials)
    for direction, unit in unit_directions(inputs, seed, "seed"):
        if local is None:
            tangents, steps = _tangent_pass(program, vals, partials, direction, trace)
        else:
            tangents, steps = _untraced_pass(program, point, vals, partials, local, direction), []
        passes.append(Pass("forward", {n: direction.get(n, 0.0) for n in inputs}, steps))
        for out_name, i in program.outputs.items():
            value = finish(tangents[i], point)
            if unit is not None:
                derivatives[out_name][unit] = value
            else:
                directional = directional or {}
                directional[out_name] = value
    values = named_values(program, vals, point)
    return Result("forward", values, derivatives, passes,
                  primal_steps(program, vals) if trace else [], directional,
                  count_invalid(point, values, derivatives, directional or {}),
                  {"passes": len(passes), "nodes": len(program.nodes)})


def _sweep_partials(program: Program, point: Point, vals: list[Value],
                    partials: LocalPartials) -> list[Value]:
    """The local partials of the flat sweep (plan.py), shared by every pass. If one is
    undefined at the point, the traced rules find the node and raise the error naming it."""
    edges = program.plan.edges(program.outputs.values())
    if point.grid:
        with np.errstate(all="ignore"):
            return edges.local_partials(vals, point.math)
    try:
        return edges.local_partials(vals, point.math)
    except (ValueError, ZeroDivisionError, OverflowError):
        for node in program.nodes:  # in the order the traced pass would meet them
            if node.args and program.active[node.id]:
                partials.of(node.id)
        raise


def _untraced_pass(program: Program, point: Point, vals: list[Value], partials: LocalPartials,
                   local: list[Value], direction: dict[str, float]) -> list[Value]:
    """The tangents alone, by the flat sweep of plan.py. If a derivative overflows at the
    point, the traced pass runs again to find the node and raise the error that names it."""
    plan = program.plan
    edges = plan.edges(program.outputs.values())
    tangents: list[Value] = [0.0] * plan.size
    for name, value in direction.items():
        tangents[program.inputs[name]] = value
    if point.grid:
        with np.errstate(all="ignore"):
            tangent_sweep(edges, local, tangents)
        return tangents
    tangent_sweep(edges, local, tangents)
    if all(math.isfinite(tangents[i]) for i in program.outputs.values()):
        return tangents
    tangents, _ = _tangent_pass(program, vals, partials, direction, False)  # raises, or:
    raise derivative_overflow(program, next(
        i for i in range(plan.size) if not math.isfinite(tangents[i])))


def _tangent_pass(program: Program, vals: list[Value], partials: LocalPartials,
                  direction: dict[str, float], trace: bool) -> tuple[list[Value], list[Any]]:
    active = program.active
    tangents: list[Value] = [0.0] * len(program.nodes)
    steps: list[Any] = []
    for node in program.nodes:
        i = node.id
        if node.op == INPUT:
            tangents[i] = direction.get(node.name or "", 0.0)
        elif node.op != CONST and active[i]:
            total: Value = 0.0
            for _, a, local in partials.of(i):
                total = total + local * tangents[a]
            tangents[i] = total
        if trace:
            steps.append(_step(program, vals, tangents, partials, i))
    return tangents, steps


def _step(program: Program, vals: list[Value], tangents: list[Value],
          partials: LocalPartials, i: int) -> ForwardStep:
    node = program.nodes[i]
    label = program.label(i) if node.name else None
    if node.op == INPUT:
        formula = f"{TANGENT}{i} = seed for {node.name}"
        return ForwardStep(node.ref, node.op, label, vals[i], tangents[i], formula)
    if node.op == CONST or not program.active[i]:
        formula = f"{TANGENT}{i} = 0 (does not depend on an input)"
        return ForwardStep(node.ref, node.op, label, vals[i], 0.0, formula)
    texts = partial_formulas(program, i)
    terms, parts = [], []
    for position, a, local in partials.of(i):
        terms.append(f"{factor_text(texts[position])} · {TANGENT}{a}")
        parts.append(Partial(f"v{a}", edge_id(a, i, position), texts[position], local,
                             tangents[a], local * tangents[a]))
    formula = f"{TANGENT}{i} = {' + '.join(terms)}"
    return ForwardStep(node.ref, node.op, label, vals[i], tangents[i], formula, parts)
