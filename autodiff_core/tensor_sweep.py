"""The sweeps of a tensor program: primal values, forward and reverse accumulation, traced.

A scalar program keeps its own fast paths (evaluation.py, plan.py). A program with a tensor
value or a tensor op runs here. The sweeps are the same as the scalar ones and follow the
same policy (`sweep.py`): the route decides which nodes a pass visits and which edges it
multiplies; at a single point an undefined value or derivative raises `EvaluationError`
naming the node; on a grid it becomes NaN at that point.

What changes is what travels along an edge. An elementwise op multiplies elementwise (⊙) by
its local partial, an array of the output's shape computed by the op's rule in `ops.py`. A
tensor op (matmul, broadcast, a reduction, ...) applies its JVP or VJP rule
(`tensor_ops.py`): a linear map, so its `local` in the trace is None and the formula says
what was done. Values on a grid carry the grid's axes first (shape `grid + node.shape`).

Passes: forward mode makes one pass per input ELEMENT (the Jacobian's columns), reverse mode
one per output ELEMENT (its rows); a scalar loss needs one reverse pass for every gradient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .evaluation import make_point, partial_formulas
from .forward_trace import TANGENT, ForwardTrace
from .ops import OPS
from .program import Program, edge_id
from .results import (
    Contribution,
    Partial,
    Pass,
    PrimalStep,
    Result,
    ReverseStep,
)
from .sweep import Route, derivative_overflow, route
from .tensor_ops import TENSOR_RULES, TensorMath, rule_text
from .tensor_results import check_wrt, count_invalid, directions, finish_blocks, place
from .tensor_values import (
    all_finite,
    calls,
    finish,
    named_tensor_values,
    tensor_primal,
    undefined_value,
)

ADJOINT = "v\u0304"

# --- what both modes share --------------------------------------------------------------------


def _one(p: Any) -> bool:
    return type(p) is float and p == 1.0


class Locals:
    """The local partials of elementwise ops, each edge computed once (passes share them),
    with the sweep policy: NaN where a node's value is undefined on a grid; an error naming the
    node at a point. Also the grid masks of tensor ops (where their value is undefined)."""

    def __init__(self, program: Program, vals: list[Any], grid: bool, check: bool = True,
                 m: Any = TensorMath):
        # check=False: the untraced sweep at a point, which checks its results instead and
        # runs again with checks only if one is not finite (as plan.py does for scalars)
        self.program, self.vals, self.grid, self.check = program, vals, grid, check
        self.m = m
        self._cache: dict[tuple[int, int], Any] = {}
        self._bad: dict[int, Any] = {}

    def partial(self, i: int, k: int) -> Any:
        p = self._cache.get((i, k))
        if p is None:
            p = self._cache[i, k] = self._compute(i, k)
        return p

    def _compute(self, i: int, k: int) -> Any:
        node = self.program.nodes[i]
        vals = self.vals
        args = [vals[a] for a in node.args]
        p = OPS[node.op].partials[k](self.m, vals[i], *args)
        if self.grid:
            bad = self.undefined(i)
            return p if bad is None else np.where(bad, np.nan, p)
        if self.check and not all_finite(p):
            raise undefined_value(self.program, i, args, p, "derivative")
        return p

    def undefined(self, i: int) -> Any:
        """Where node i's value is undefined on the grid (elementwise), or None."""
        if i not in self._bad:
            finite = np.isfinite(self.vals[i])
            self._bad[i] = None if finite.all() else ~finite
        return self._bad[i]

    def masked(self, i: int, contribution: Any, arg_shape: tuple[int, ...]) -> Any:
        """A tensor op's contribution, NaN at the grid points where its value is undefined."""
        bad = self.undefined(i) if self.grid else None
        if bad is None:
            return contribution
        s = self.program.nodes[i].shape
        at_point = bad.any(axis=tuple(range(-len(s), 0))) if s else bad
        at_point = at_point.reshape(at_point.shape + (1,) * len(arg_shape))
        return np.where(at_point, np.nan, contribution)


def primal_steps(program: Program, vals: list[Any]) -> list[PrimalStep]:
    return [PrimalStep(node.ref, node.op, program.label(node.id) if node.name else None,
                       [f"v{a}" for a in node.args],
                       f"v{node.id} = {program.expression(node.id)}", vals[node.id],
                       list(node.shape))
            for node in program.nodes]


def _local_text(program: Program, i: int, k: int) -> str:
    return partial_formulas(program, i)[k]


def _times(program: Program, i: int) -> str:
    """`·` between scalars, `⊙` (elementwise product) where the node is a tensor."""
    return "⊙" if program.nodes[i].shape else "·"


# --- reverse mode -------------------------------------------------------------------------------


def pull(program: Program, swept: Route, vals: list[Any], locals_: Locals,
         adjoints: list[Any], observer: Any = None, m: Any = TensorMath) -> None:
    """Reverse accumulation along the route: each visited node, last first, adds its
    contribution into each argument's adjoint (adding: a value used twice gets both)."""
    with np.errstate(all="ignore"):  # once per sweep: a context per edge costs more than a step
        _pull(program, swept, vals, locals_, adjoints, observer, m)


def _pull(program: Program, swept: Route, vals: list[Any], locals_: Locals,
          adjoints: list[Any], observer: Any, m: Any) -> None:
    nodes = program.nodes
    mul, add = m.mul, m.add
    call_of = calls(program)
    visited, all_edges = swept.visited, swept.edges
    for i in range(len(nodes) - 1, -1, -1):
        if not visited[i]:
            continue
        if observer is not None:
            observer.visit(i)
        edges = all_edges[i]
        if not edges:
            continue
        g = adjoints[i]
        node = nodes[i]
        rule = TENSOR_RULES.get(node.op)
        for k, a in edges:
            if rule is not None:
                local = None
                args = [vals[b] for b in node.args]
                contribution = rule.vjp[k](m, call_of[i], vals[i], *args, g)
                contribution = locals_.masked(i, contribution, nodes[a].shape)
            else:
                local = locals_.partial(i, k)
                contribution = g if _one(local) else mul(g, local)
            before = adjoints[a]
            adjoints[a] = contribution if before is None else add(before, contribution)
            if observer is not None:
                observer.edge(i, k, a, local, contribution, before)


class ReverseTrace:
    """Records the reverse steps: one per visited node, last first, with its contributions."""

    def __init__(self, program: Program, vals: list[Any], adjoints: list[Any], swept: Route,
                 of: str):
        self.program, self.vals, self.adjoints, self.swept, self.of = \
            program, vals, adjoints, swept, of
        self.steps: list[ReverseStep] = []
        self.texts: dict[int, str] = {}

    def visit(self, i: int) -> None:
        program = self.program
        node = program.nodes[i]
        label = program.label(i) if node.name else None
        self.texts = {}
        if not node.args:
            formula = f"{ADJOINT}{i} = ∂{self.of}/∂{node.name or node.ref} (complete)"
        else:
            rule = TENSOR_RULES.get(node.op)
            c = calls(program)[i]
            args = [f"v{a}" for a in node.args]
            for k, _ in self.swept.edges[i]:
                if rule is not None:
                    assert c is not None
                    self.texts[k] = rule_text(rule.vjp_text[k], node.op, c, f"v{i}", args,
                                              bar=f"{ADJOINT}{i}")
                else:
                    local = _local_text(program, i, k)
                    self.texts[k] = f"{ADJOINT}{i}" if local == "1" else \
                        f"{ADJOINT}{i} {_times(program, i)} {_factor(local)}"
            formula = "; ".join(f"{ADJOINT}{a} += {self.texts[k]}"
                                for k, a in self.swept.edges[i])
        self.steps.append(ReverseStep(node.ref, node.op, label, self.vals[i], self.adjoints[i],
                                      formula, shape=list(node.shape)))

    def edge(self, i: int, k: int, a: int, local: Any, contribution: Any, before: Any) -> None:
        self.steps[-1].contributions.append(Contribution(
            f"v{a}", edge_id(a, i, k), self.texts[k], local, contribution,
            0.0 if before is None else before, self.adjoints[a]))


def _factor(text: str) -> str:
    return f"({text})" if " " in text else text


def tensor_reverse(program: Program, at: Mapping[str, Any] | None, cotangent: Any,
                   trace: bool, wrt: Any) -> Result:
    point = make_point(program, at)
    vals = tensor_primal(program, point)
    quick = not trace and not point.grid
    locals_ = Locals(program, vals, point.grid, check=not quick)
    names = check_wrt(program, wrt)
    outputs = list(program.outputs)
    derivatives: dict[str, dict[str, Any]] = {name: {} for name in outputs}
    directional: dict[str, Any] | None = None
    passes = []
    seeds = [program.inputs[n] for n in names]
    found = directions(program, outputs, cotangent, "cotangent", program.outputs)
    for direction, unit in found:
        targets = [program.outputs[n] for n in direction]
        swept = route(program, seeds, targets)
        adjoints: list[Any] = [None] * len(program.nodes)
        for name, start in direction.items():
            i = program.outputs[name]
            adjoints[i] = start if adjoints[i] is None else adjoints[i] + start
        observer = ReverseTrace(program, vals, adjoints, swept, _of(unit)) if trace else None
        pull(program, swept, vals, locals_, adjoints, observer)
        if quick and not all(all_finite(adjoints[i]) for i in seeds if adjoints[i] is not None):
            # an undefined partial or an overflow: the checked sweep finds and names the node
            adjoints = [None] * len(program.nodes)
            for name, start in direction.items():
                adjoints[program.outputs[name]] = start
            pull(program, swept, vals, Locals(program, vals, False), adjoints)
            _check_finite(program, adjoints, seeds)
        elif not point.grid and not quick:
            _check_finite(program, adjoints, seeds)
        passes.append(Pass("reverse", dict(direction), observer.steps if observer else []))
        for in_name in names:
            i = program.inputs[in_name]
            value = adjoints[i] if swept.visited[i] else None
            if unit is not None:
                out_name, index = unit
                place(derivatives, program, point, out_name, in_name, program.outputs[out_name],
                       i, index, value, "output")
            else:
                directional = directional or {}
                directional[in_name] = finish(0.0 if value is None else value,
                                              program.nodes[i].shape, point)
    swept_names = {u[0] for _, u in found if u is not None}
    if cotangent is None:
        swept_names = set(outputs)
    derivatives = {k: v for k, v in derivatives.items() if k in swept_names}
    finish_blocks(derivatives, program, point, {n: program.outputs[n] for n in derivatives},
                   {n: program.inputs[n] for n in names})
    values = named_tensor_values(program, vals, point)
    return Result("reverse", values, derivatives, passes,
                  primal_steps(program, vals) if trace else [], directional,
                  count_invalid(point, program, values, derivatives, directional or {}),
                  {"passes": len(passes), "nodes": len(program.nodes)})


def _of(unit: tuple[str, tuple[int, ...]] | None) -> str:
    """What a pass's finished adjoints are derivatives of: an output (`y`), one element of
    one (`y[1]`), or a weighted sum of outputs (a general cotangent)."""
    if unit is None:
        return "(cotangent · outputs)"
    name, index = unit
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def _check_finite(program: Program, derivs: list[Any], ids: list[int]) -> None:
    """At a point every local partial was finite (Locals checks); a derivative can still
    overflow (a product of many large ones): name the first node where it did."""
    if all(d is None or all_finite(d) for d in (derivs[i] for i in ids)):
        return
    for i in reversed(range(len(derivs))):
        d = derivs[i]
        if d is not None and not np.isfinite(d).all():
            raise derivative_overflow(program, i)


# --- forward mode -------------------------------------------------------------------------------


def push(program: Program, swept: Route, vals: list[Any], locals_: Locals,
         tangents: list[Any], observer: Any = None) -> None:
    """Forward accumulation along the route: a node's tangent is the sum over its swept
    arguments of the local partial ⊙ the argument's tangent (or a tensor op's JVP)."""
    with np.errstate(all="ignore"):
        _push(program, swept, vals, locals_, tangents, observer)


def _push(program: Program, swept: Route, vals: list[Any], locals_: Locals,
          tangents: list[Any], observer: Any) -> None:
    nodes = program.nodes
    call_of = calls(program)
    for i, edges in enumerate(swept.edges):
        if edges:
            node = nodes[i]
            rule = TENSOR_RULES.get(node.op)
            total: Any = None
            for k, a in edges:
                t = tangents[a]
                if rule is not None:
                    local = None
                    args = [vals[b] for b in node.args]
                    product = rule.jvp[k](TensorMath, call_of[i], vals[i], *args, t)
                    product = locals_.masked(i, product, node.shape)
                else:
                    local = locals_.partial(i, k)
                    product = t if _one(local) else np.multiply(local, t)
                if observer is not None:
                    observer.edge(i, k, a, local, product)
                total = product if total is None else total + product
            tangents[i] = total
        if observer is not None and swept.visited[i]:
            observer.visit(i)


class TensorForwardTrace(ForwardTrace):
    """The forward trace of a tensor pass: a tensor op's edge is written as its JVP rule."""

    def edge(self, i: int, k: int, a: int, local: Any, product: Any, *before: Any) -> None:
        program = self.program
        node = program.nodes[i]
        rule = TENSOR_RULES.get(node.op)
        if rule is not None:
            c = calls(program)[i]
            assert c is not None
            args = [f"v{b}" for b in node.args]
            text = rule_text(rule.jvp_text[k], node.op, c, f"v{i}", args, dot=f"{TANGENT}{a}")
            self.terms.append(text)
            formula = text
        else:
            formula = _local_text(program, i, k)
            self.terms.append(f"{TANGENT}{a}" if formula == "1" else
                              f"{_factor(formula)} {_times(program, i)} {TANGENT}{a}")
        self.parts.append(Partial(f"v{a}", edge_id(a, i, k), formula, local, self.tangents[a],
                                  product))


def tensor_forward(program: Program, at: Mapping[str, Any] | None, seed: Any, trace: bool,
                   wrt: Any) -> Result:
    point = make_point(program, at)
    vals = tensor_primal(program, point)
    locals_ = Locals(program, vals, point.grid)
    names = check_wrt(program, wrt)
    derivatives: dict[str, dict[str, Any]] = {name: {} for name in program.outputs}
    directional: dict[str, Any] | None = None
    passes = []
    targets = list(program.outputs.values())
    for direction, unit in directions(program, names, seed, "seed", program.inputs):
        seeds = frozenset(program.inputs[n] for n, v in direction.items() if np.any(v != 0.0))
        swept = route(program, seeds, targets)
        tangents: list[Any] = [0.0] * len(program.nodes)
        for name, start in direction.items():
            tangents[program.inputs[name]] = start
        observer = TensorForwardTrace(program, vals, tangents) if trace else None
        push(program, swept, vals, locals_, tangents, observer)
        if not point.grid:
            _check_finite(program, [t if swept.visited[i] else None
                                    for i, t in enumerate(tangents)], targets)
        passes.append(Pass("forward", {n: direction.get(n, np.zeros(program.input_shapes[n]))
                                       for n in names},
                           observer.steps(seeds) if observer else []))
        for out_name, i in program.outputs.items():
            value = tangents[i] if swept.visited[i] else None
            if unit is not None:
                in_name, index = unit
                place(derivatives, program, point, out_name, in_name, i,
                       program.inputs[in_name], index, value, "input")
            else:
                directional = directional or {}
                directional[out_name] = finish(0.0 if value is None else value,
                                               program.nodes[i].shape, point)
    if seed is None or isinstance(seed, str):
        finish_blocks(derivatives, program, point, dict(program.outputs),
                       {n: program.inputs[n] for n in ([seed] if isinstance(seed, str)
                                                       else names)})
    values = named_tensor_values(program, vals, point)
    return Result("forward", values, derivatives, passes,
                  primal_steps(program, vals) if trace else [], directional,
                  count_invalid(point, program, values, derivatives, directional or {}),
                  {"passes": len(passes), "nodes": len(program.nodes)})
