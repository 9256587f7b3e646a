"""The one sweep policy: which nodes a pass visits, how undefined values spread, and what a
zero tangent times an infinite partial gives. Every derivative sweep follows it: the traced
passes (this sweep with an observer recording steps), the flat plan (plan.py, its compiled
form for points) and the derivative programs (derivative.py, this sweep run on a graph
builder).

1. **The route.** A pass visits the nodes that depend on a seeded input (forward mode: the
   inputs with a nonzero seed; reverse mode: every input) and feed a swept output (forward: every
   output; reverse: the outputs with a nonzero cotangent), and multiplies only along the edges
   between them. An edge whose partial is 0 by its rule (the argument of `sign` or `step`)
   carries nothing, as JAX's symbolic zeros: what follows it is not visited. So a branch that
   feeds no output is never differentiated, and a tangent or adjoint that is zero by the
   program's structure (an input that is not seeded, a constant) is never multiplied in:
   structural zero times anything, infinity included, contributes nothing.
2. **Numeric zeros are numbers.** A partial or tangent that is zero by its value (`x - x`,
   `0 * x`, an exponent that happens to be 0) is multiplied as IEEE does: 0 · ∞ is undefined.
3. **Undefined values.** At a single point, a value or a swept partial that is not a finite
   float raises `EvaluationError` naming the node. On a grid the point becomes NaN: a node whose
   value is undefined there has NaN partials there, so every derivative swept through it is
   NaN at that point, whatever the partials' formulas would give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import EvaluationError
from .ops import OPS, format_number, zero_partial

if TYPE_CHECKING:
    from .program import Program

# --- 1. the route --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """The nodes one pass visits and, per node, the (position, argument) edges it sweeps."""

    visited: tuple[bool, ...]
    edges: tuple[tuple[tuple[int, int], ...], ...]


def route(program: Program, seeds: Iterable[int], targets: Iterable[int]) -> Route:
    """The route from the `seeds` (input node ids) to the `targets` (output node ids), built
    once per program and reused."""
    key = (frozenset(seeds), frozenset(targets))
    cache: dict[tuple[frozenset[int], frozenset[int]], Route] = \
        vars(program).setdefault("_routes", {})
    found = cache.get(key)
    if found is not None:
        return found
    nodes = program.nodes
    size = len(nodes)
    # The edges that can carry a derivative at all: not 0 by the op's rule.
    live = [tuple((k, a) for k, a in enumerate(n.args) if not zero_partial(n.op, k))
            if n.args else () for n in nodes]
    reached = [False] * size
    for s in key[0]:
        reached[s] = True
    for i in range(size):
        if not reached[i]:
            reached[i] = any(reached[a] for _, a in live[i])
    needed = [False] * size
    for t in key[1]:
        needed[t] = reached[t]
    for i in range(size - 1, -1, -1):
        if needed[i]:
            for _, a in live[i]:
                if reached[a]:
                    needed[a] = True
    edges = tuple(tuple((k, a) for k, a in live[i] if reached[a]) if needed[i] else ()
                  for i in range(size))
    cache[key] = Route(tuple(needed), edges)
    return cache[key]


# --- 3. undefined values: named at a point -------------------------------------------------------


def describe(program: Program, i: int, args: tuple[Any, ...]) -> str:
    """`log(-1) at node v3 (y), line 1`: node i applied to the values it got."""
    node = program.nodes[i]
    shown = tuple(format_number(float(a)) if np.ndim(a) == 0 else "[...]" for a in args)
    if len(args) == 2:  # (-2) ** 0.5, not -2 ** 0.5 (which reads as -(2 ** 0.5))
        shown = tuple(f"({s})" if s.startswith("-") else s for s in shown)
    text = OPS[node.op].text.format(*shown)
    where = f"node v{i}"
    if node.name:
        where += f" ({program.label(i)})"
    if node.line:
        where += f", line {node.line}"
    return f"{text} at {where}"


def undefined_error(program: Program, i: int, args: tuple[Any, ...], exc: BaseException | None,
                    what: str = "value") -> EvaluationError:
    """The error for node i, whose value (what="value") or swept partial ("derivative") is not
    a finite float at the point."""
    node = program.nodes[i]
    overflow = isinstance(exc, OverflowError)
    if what == "value":
        if overflow or exc is None:
            problem = "is too large for a float64 (overflow)"
        elif isinstance(exc, ZeroDivisionError) and node.op == "div":
            problem = "divides by zero"
        else:
            problem = "is undefined"
    elif overflow:
        problem = "has a derivative too large for a float64 (overflow)"
    else:
        problem = "has no finite derivative"
    arg_values = tuple(float(a) for a in args if np.ndim(a) == 0)
    return EvaluationError(f"{describe(program, i, args)} {problem}", node=node.ref, op=node.op,
                           args=arg_values, name=program.label(i) if node.name else None)


def derivative_overflow(program: Program, i: int) -> EvaluationError:
    """The derivative at node i is too large for a float64, though every local partial is
    finite (a product of many large partials)."""
    node = program.nodes[i]
    where = f"node {node.ref}" + (f" ({program.label(i)})" if node.name else "")
    return EvaluationError(f"the derivative at {where} is too large for a float64 (overflow)",
                           node=node.ref, op=node.op,
                           name=program.label(i) if node.name else None)


# --- the local partials a sweep multiplies -------------------------------------------------------

Local = list[tuple[int, int, Any]]  # (position, argument node, partial) of one node


class Partials:
    """The numeric local partials of a program at a point or on a grid, each edge computed at
    most once (passes with different seeds share them) and only when a route sweeps it."""

    def __init__(self, program: Program, vals: list[Any], m: Any, grid: bool):
        self.program = program
        self.vals = vals
        self.m = m
        self.grid = grid
        self._cache: dict[tuple[int, int], Any] = {}
        self._bad: dict[int, Any] = {}

    def _undefined(self, i: int) -> Any:
        """Where node i's value is undefined on the grid (None: nowhere), found once."""
        if i not in self._bad:
            finite = np.isfinite(self.vals[i])
            self._bad[i] = None if finite.all() else ~finite
        return self._bad[i]

    def __call__(self, i: int, edges: tuple[tuple[int, int], ...]) -> Local:
        out: Local = []
        cache = self._cache
        for k, a in edges:
            p = cache.get((i, k))
            if p is None:
                p = cache[i, k] = self._compute(i, k)
            out.append((k, a, p))
        return out

    def _compute(self, i: int, k: int) -> Any:
        node = self.program.nodes[i]
        vals = self.vals
        args = tuple(vals[a] for a in node.args)
        rule = OPS[node.op].partials[k]
        if self.grid:
            with np.errstate(all="ignore"):
                p = rule(self.m, vals[i], *args)
            # Where the value is undefined, so is every derivative through it (policy 3).
            bad = self._undefined(i)
            return p if bad is None else np.where(bad, np.nan, p)
        try:
            p = rule(self.m, vals[i], *args)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise undefined_error(self.program, i, args, exc, "derivative") from None
        if not math.isfinite(p):
            raise undefined_error(self.program, i, args, None, "derivative")
        return p


# --- the two sweeps ------------------------------------------------------------------------------

PartialsOf = Callable[[int, tuple[tuple[int, int], ...]], Local]


class Observer(Protocol):
    """Sees a sweep happen (the trace): each edge multiplied, then (forward) or first (reverse)
    each visited node."""

    def visit(self, i: int) -> None: ...

    def edge(self, i: int, k: int, a: int, local: Any, product: Any, before: Any) -> None: ...


def _one(p: Any) -> bool:
    # A partial that is the number 1 (a term of a sum): 1 · t is t exactly, so it is not
    # multiplied (on a grid that saves copying an array per term).
    return type(p) is float and p == 1.0


def push_tangents(route: Route, partials: PartialsOf, tangents: list[Any], m: Any,
                  observer: Observer | None = None) -> None:
    """Forward accumulation along the route: tangent[i] = sum of partial · tangent[argument].

    `tangents` holds the seeds' tangents (and anything, usually 0, elsewhere); `m` is the math
    namespace whose `add` and `mul` combine them (numbers, arrays or graph terms)."""
    for i, edges in enumerate(route.edges):
        if edges:
            total: Any = None  # no term yet (so a grid is not copied by adding 0 first)
            for k, a, p in partials(i, edges):
                product = tangents[a] if _one(p) else m.mul(p, tangents[a])
                if observer is not None:
                    observer.edge(i, k, a, p, product, 0.0 if total is None else total)
                total = product if total is None else m.add(total, product)
            tangents[i] = total
        if observer is not None and route.visited[i]:
            observer.visit(i)


def pull_adjoints(route: Route, partials: PartialsOf, adjoints: list[Any], m: Any,
                  observer: Observer | None = None) -> None:
    """Reverse accumulation along the route: each visited node, last first, adds adjoint ·
    partial into its arguments' adjoints (adding, so a value used twice gets both).

    `adjoints` holds the targets' cotangents and None (no contribution yet) elsewhere; a
    visited node always has its adjoint when it is reached."""
    for i in range(len(route.edges) - 1, -1, -1):
        if not route.visited[i]:
            continue
        if observer is not None:
            observer.visit(i)
        edges = route.edges[i]
        if edges:
            adjoint = adjoints[i]
            for k, a, p in partials(i, edges):
                contribution = adjoint if _one(p) else m.mul(adjoint, p)
                before = adjoints[a]
                adjoints[a] = contribution if before is None else m.add(before, contribution)
                if observer is not None:
                    observer.edge(i, k, a, p, contribution, 0.0 if before is None else before)
