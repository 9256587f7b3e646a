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
    Point,
    Value,
    count_invalid,
    finish,
    make_point,
    named_values,
    primal,
    primal_steps,
    unit_directions,
)
from .forward_trace import ForwardTrace
from .ops import ScalarMath
from .plan import plan_of, tangent_sweep
from .program import Program
from .results import Pass, Result
from .sweep import Partials, derivative_overflow, push_tangents, route


def forward(program: Program, at: Mapping[str, Any] | None = None,
            seed: str | Mapping[str, Any] | None = None, trace: bool = True,
            wrt: str | list[str] | None = None) -> Result:
    """Forward-mode derivatives of every output, one pass per seed direction (per input
    element for a tensor input). `wrt`: the inputs to seed (default all; the others are data).

    >>> from autodiff_core import parse
    >>> forward(parse("x = 3*w; y = 2*x^2 + 4"), {"w": 1.0}).derivatives
    {'y': {'w': 36.0}}
    """
    if program.tensor_path:
        from .tensor_sweep import tensor_forward

        return tensor_forward(program, at, seed, trace, wrt)
    point = make_point(program, at)
    vals = primal(program, point)
    partials = Partials(program, vals, point.math, point.grid)
    if wrt is not None:
        from .tensor_results import check_wrt

        inputs = check_wrt(program, wrt)
    else:
        inputs = list(program.inputs)
    derivatives: dict[str, dict[str, Value]] = {name: {} for name in program.outputs}
    directional: dict[str, Value] | None = None
    passes = []
    # At a point without a trace, the compiled sweep (plan.py), its local partials computed
    # once for every pass; None when one is undefined (the general sweep then names it).
    local = None if trace or point.grid else _compiled_partials(program, vals)
    for direction, unit in unit_directions(inputs, seed, "seed"):
        steps: list[Any] = []
        if local is not None:
            tangents = _compiled_pass(program, vals, partials, local, direction)
        else:
            tangents, steps = _tangent_pass(program, point, vals, partials, direction, trace)
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


def seeded(program: Program, direction: Mapping[str, float]) -> frozenset[int]:
    """The input nodes a forward pass starts from: those with a nonzero seed (policy 1)."""
    return frozenset(program.inputs[name] for name, v in direction.items() if v != 0.0)


def _compiled_partials(program: Program, vals: list[Value]) -> list[Value] | None:
    edges = plan_of(program).edges(program.outputs.values())
    try:
        return edges.local_partials(vals, ScalarMath)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _compiled_pass(program: Program, vals: list[Value], partials: Partials, local: list[Value],
                   direction: dict[str, float]) -> list[Value]:
    """The tangents alone, by the compiled sweep. If one is not finite at an output, the
    general sweep runs again to find the node and raise the error that names it."""
    plan = plan_of(program)
    edges = plan.edges(program.outputs.values())
    tangents: list[Value] = [0.0] * plan.size
    for name, value in direction.items():
        tangents[program.inputs[name]] = value
    tangent_sweep(edges.links_from(seeded(program, direction)), local, tangents)
    if all(math.isfinite(tangents[i]) for i in program.outputs.values()):
        return tangents
    point = Point({}, False)
    tangents, _ = _tangent_pass(program, point, vals, partials, direction, False)  # raises, or:
    raise derivative_overflow(program, next(
        i for i in range(plan.size) if not math.isfinite(tangents[i])))


def _tangent_pass(program: Program, point: Point, vals: list[Value], partials: Partials,
                  direction: dict[str, float], trace: bool) -> tuple[list[Value], list[Any]]:
    """The general sweep (sweep.py), with an observer recording the steps if `trace`."""
    seeds = seeded(program, direction)
    swept = route(program, seeds, program.outputs.values())
    tangents: list[Value] = [0.0] * len(program.nodes)
    for i in seeds:
        tangents[i] = direction[program.nodes[i].name or ""]
    observer = ForwardTrace(program, vals, tangents) if trace else None
    if point.grid:
        with np.errstate(all="ignore"):
            push_tangents(swept, partials, tangents, point.math, observer)
    else:
        push_tangents(swept, partials, tangents, point.math, observer)
    if observer is None:
        return tangents, []
    return tangents, observer.steps(seeds)
