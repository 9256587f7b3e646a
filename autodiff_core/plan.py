"""A Program flattened for fast sweeps: tuples of node ids instead of per-node lookups.

`Program.plan` builds one `Plan` per program, once. It holds nothing new: every entry is read
from the node list and the op table, so the rules in `ops.py` stay the single source of truth.
What it saves is the Python work per node: no dict lookups, no branching on node kinds.

The local partial derivatives are kept per edge (node, argument). Many rules need no call at
all: the partial of `add` is the constant 1, that of `mul` w.r.t. x is the operand y, that of
`exp` is its own output. Calling each rule once with placeholder operands finds these cases;
their partial is then read straight from the value list (constants get extra slots after the
nodes). Only real formulas (cos for sin, 1/y for div, ...) are called during a sweep.

The same edge list drives both modes, which mirror each other: forward mode walks the edges
in node order adding `partial * tangent[arg]` into `tangent[node]`; reverse mode walks them
backwards adding `adjoint[node] * partial` into `adjoint[arg]` (adding, so fan-out is right).
These sweeps record no trace; the traced sweeps in forward.py and reverse.py do.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .ops import OPS, PartialRule

if TYPE_CHECKING:
    from .program import Program

# (node, argument, k, rule, x, y): d node / d argument is vals[k] when `rule` is None, else
# rule(m, vals[node], vals[x]) for a unary op and rule(m, vals[node], vals[x], vals[y]) when y >= 0.
Edge = tuple[int, int, int, PartialRule | None, int, int]


class _Placeholder:
    """Stands for an operand when a rule is called to see what it returns."""


_OUT, _X, _Y = _Placeholder(), _Placeholder(), _Placeholder()


class _Probe:
    """A math namespace in which every operation gives None: a rule that calls one is a formula."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


@functools.cache
def classify(rule: PartialRule, arity: int) -> float | _Placeholder | None:
    """A constant partial (a number), one operand (a placeholder), or None for a formula."""
    result = rule(_Probe(), _OUT, _X, _Y) if arity == 2 else rule(_Probe(), _OUT, _X)
    if isinstance(result, int | float) and not isinstance(result, bool):
        return float(result)
    return result if isinstance(result, _Placeholder) else None


class Plan:
    """Flat tuples for the primal sweep and the derivative sweeps of one program."""

    def __init__(self, program: Program):
        from .program import CONST, INPUT

        nodes = program.nodes
        self.size = len(nodes)
        self.active = program.active
        self.arguments = [node.args for node in nodes]
        self.initial: list[Any] = [node.value if node.op == CONST else 0.0 for node in nodes]
        self.inputs = list(program.inputs.items())
        # (label, node) of every named quantity (each version of a reassigned name), then outputs.
        self.named = [(program.label(n.id), n.id) for n in nodes if n.name is not None]
        self.named += list(program.outputs.items())
        # Primal steps (node, function, x, y); y = -1 for a unary op.
        ops = [(node, OPS[node.op]) for node in nodes if node.op not in (INPUT, CONST)]
        self.scalar_steps = [(n.id, op.scalar, n.args[0], n.args[-1] if op.arity == 2 else -1)
                             for n, op in ops]
        self.array_steps = [(n.id, op.array, n.args[0], n.args[-1] if op.arity == 2 else -1)
                            for n, op in ops]
        self.ops = [OPS.get(node.op) for node in nodes]
        self.constants: list[float] = []  # values of constant partials, stored after the nodes
        self._edges: dict[frozenset[int], list[Edge]] = {}

    def edges(self, targets: Iterable[int]) -> list[Edge]:
        """The edges that carry derivatives to one of the `targets`, in node order.

        An edge counts when its argument depends on an input (is active) and its node is an
        ancestor of a target: derivatives along other edges could never reach an output.
        """
        key = frozenset(targets)
        cached = self._edges.get(key)
        if cached is not None:
            return cached
        needed = [False] * self.size
        for t in key:
            needed[t] = True
        for i in range(self.size - 1, -1, -1):
            if needed[i] and self.active[i]:
                for a in self.arguments[i]:
                    needed[a] = True
        edges: list[Edge] = []
        for i, args in enumerate(self.arguments):
            if not (args and needed[i] and self.active[i]):
                continue
            op = self.ops[i]
            assert op is not None
            operands = {_OUT: i, _X: args[0], _Y: args[-1]}
            y = args[1] if op.arity == 2 else -1
            for position, a in enumerate(args):
                if not self.active[a]:
                    continue
                rule = op.partials[position]
                kind = classify(rule, op.arity)
                if isinstance(kind, float):
                    edges.append((i, a, self._constant_slot(kind), None, args[0], y))
                elif kind is not None:
                    edges.append((i, a, operands[kind], None, args[0], y))
                else:
                    edges.append((i, a, -1, rule, args[0], y))
        self._edges[key] = edges
        return edges

    def _constant_slot(self, value: float) -> int:
        if value not in self.constants:
            self.constants.append(value)
        return self.size + self.constants.index(value)

    def with_constants(self, vals: list[Any]) -> list[Any]:
        """The node values followed by the constant partials, for the sweeps below."""
        return vals + self.constants


def tangent_sweep(edges: list[Edge], vals: list[Any], tangents: list[Any], m: Any) -> None:
    """Forward accumulation over `edges` (in node order); tangents of inputs are preset."""
    for i, a, k, rule, x, y in edges:
        if rule is None:
            partial = vals[k]
        elif y < 0:
            partial = rule(m, vals[i], vals[x])
        else:
            partial = rule(m, vals[i], vals[x], vals[y])
        tangents[i] = tangents[i] + partial * tangents[a]


def adjoint_sweep(edges: list[Edge], vals: list[Any], adjoints: list[Any], m: Any) -> None:
    """Reverse accumulation over `edges` (walked backwards); output adjoints are preset."""
    for i, a, k, rule, x, y in reversed(edges):
        if rule is None:
            partial = vals[k]
        elif y < 0:
            partial = rule(m, vals[i], vals[x])
        else:
            partial = rule(m, vals[i], vals[x], vals[y])
        adjoints[a] = adjoints[a] + adjoints[i] * partial
