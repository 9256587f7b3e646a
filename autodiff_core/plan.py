"""A Program flattened for fast sweeps: tuples of node ids instead of per-node lookups.

`Program.plan` builds one `Plan` per program, once. It holds nothing new: every entry is read
from the node list and the op table, so the rules in `ops.py` stay the single source of truth.
What it saves is the Python work per node: no dict lookups, no branching on node kinds.

The local partial derivatives are kept per edge (node, argument). Many rules need no call at
all: the partial of `add` is the constant 1, that of `mul` w.r.t. x is the operand y, that of
`exp` is its own output. Calling each rule once with placeholder operands finds these cases;
their partial is then read straight from the value list. Only real formulas (cos for sin, 1/y
for div, ...) are called, all in one loop before a sweep, and their values are appended to the
value list too (then the constants). So every edge is a link (node, argument, slot) and a sweep
is one multiply-add per link, with no branching.

The same links drive both modes, which mirror each other: forward mode walks them in node
order adding `partial * tangent[arg]` into `tangent[node]`; reverse mode walks them backwards
adding `adjoint[node] * partial` into `adjoint[arg]` (adding, so fan-out is right). Reverse
mode skips the links that only copy an adjoint: a node used once, as a term of a sum, has the
sum's adjoint (see `Edges.share_adjoints`).

The edges are those of the sweep policy's route (sweep.py): these sweeps are its compiled form
for single points, where a non-finite result sends the pass to the general sweep to find and
name the node. They record no trace; the general sweep with an observer does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .ops import CONST, INPUT, OPS, OUT, PartialRule, X, Y, rule_kind
from .sweep import route

if TYPE_CHECKING:
    from .program import Program


def plan_of(program: Program) -> Plan:
    """The program flattened for fast sweeps, built once and kept with the program."""
    found: Plan | None = vars(program).get("_plan")
    if found is None:
        found = vars(program)["_plan"] = Plan(program)
    return found


class Plan:
    """Flat tuples for the primal sweep and the derivative sweeps of one program."""

    def __init__(self, program: Program):
        nodes = program.nodes
        self.program = program
        self.size = len(nodes)
        self.arguments = [node.args for node in nodes]
        self.initial: list[Any] = [node.value if node.op == CONST else 0.0 for node in nodes]
        self.inputs = list(program.inputs.items())
        # (label, node) of every named quantity (each version of a reassigned name), then the
        # outputs. A first version whose name is now an output's (reassigned since) is `c#1`.
        self.named = []
        for n in nodes:
            if n.name is not None:
                label = program.label(n.id)
                if label in program.outputs and program.outputs[label] != n.id:
                    label = f"{label}#1"
                self.named.append((label, n.id))
        self.named += list(program.outputs.items())
        # Primal steps (node, function, x, y); y = -1 for a unary op.
        ops = [(node, OPS[node.op]) for node in nodes if node.op not in (INPUT, CONST)]
        self.scalar_steps = [(n.id, op.scalar, n.args[0], n.args[-1] if op.arity == 2 else -1)
                             for n, op in ops]
        self.array_steps = [(n.id, op.array, n.args[0], n.args[-1] if op.arity == 2 else -1)
                            for n, op in ops]
        self.ops = [OPS.get(node.op) for node in nodes]
        self._edges: dict[frozenset[int], Edges] = {}

    def edges(self, targets: Iterable[int]) -> Edges:
        """The edges of the route from every input to the `targets`, in node order."""
        key = frozenset(targets)
        cached = self._edges.get(key)
        if cached is not None:
            return cached
        swept = route(self.program, (i for _, i in self.inputs), key)
        edges = Edges(self.size)
        for i, pairs in enumerate(swept.edges):
            op = self.ops[i]
            for position, a in pairs:
                assert op is not None
                edges.add(i, a, op.partials[position], self.arguments[i])
        edges.share_adjoints(key, [not args for args in self.arguments])
        edges.pack()
        self._edges[key] = edges
        return edges


class Edges:
    """The edges toward some targets, as (node, argument, slot) links for the flat sweeps.

    d node / d argument is `local[slot]`, where `local` (see `local_partials`) holds the node
    values, then the values of the rules that are real formulas, then the constant partials.
    A link to a constant or an operand needs no call; formulas are all called once, up front,
    so the sweeps themselves are a single multiply-add per link with no branching.
    """

    def __init__(self, size: int):
        self.size = size
        self.links: list[tuple[int, int, int]] = []
        self.backward: list[tuple[int, int, int]] = []  # for reverse mode, see share_adjoints
        self.constants: list[float] = []
        # The rules that are real formulas, with the nodes they are called on: (slot, rule,
        # out, x) for a unary op, (slot, rule, out, x, y) for a binary one.
        self.unary: list[tuple[int, PartialRule, int, int]] = []
        self.binary: list[tuple[int, PartialRule, int, int, int]] = []
        self._from: dict[frozenset[int], list[tuple[int, int, int]]] = {}

    def links_from(self, seeds: frozenset[int]) -> list[tuple[int, int, int]]:
        """The links a forward pass seeded at `seeds` walks: those whose argument depends on a
        seed (the route from those seeds; the other tangents are structural zeros)."""
        found = self._from.get(seeds)
        if found is None:
            reached = set(seeds)
            found = []
            for link in self.links:
                if link[1] in reached:
                    found.append(link)
                    reached.add(link[0])
            self._from[seeds] = found
        return found

    def add(self, i: int, a: int, rule: PartialRule, args: tuple[int, ...]) -> None:
        kind = rule_kind(rule, len(args))
        if isinstance(kind, float):
            if kind not in self.constants:
                self.constants.append(kind)
            slot = -1 - self.constants.index(kind)  # counted from the end of `local`
        elif kind is not None:
            slot = {OUT: i, X: args[0], Y: args[-1]}[kind]
        else:
            slot = self.size + len(self.unary) + len(self.binary)
            if len(args) == 1:
                self.unary.append((slot, rule, i, args[0]))
            else:
                self.binary.append((slot, rule, i, args[0], args[1]))
        self.links.append((i, a, slot))

    def share_adjoints(self, targets: frozenset[int], leaves: list[bool]) -> None:
        """The links for reverse mode, walked backwards, with fewer steps: a node whose only
        use is as a term of a sum (a partial of constant 1) has the same adjoint as that sum, so
        its own links read the sum's adjoint and its adjoint is never stored. Only the adjoints
        of leaves (inputs) and targets are read after a sweep; those are always stored."""
        uses = [0] * self.size
        for _, a, _ in self.links:
            uses[a] += 1
        one = -1 - self.constants.index(1.0) if 1.0 in self.constants else None
        owner = list(range(self.size))  # whose stored adjoint is node n's
        for i, a, k in reversed(self.links):
            if k == one and uses[a] == 1 and not leaves[a] and a not in targets:
                owner[a] = owner[i]
            else:
                self.backward.append((owner[i], a, k))

    def pack(self) -> None:
        """Rebuild the tuples from one int object per id, made in order. Node ids above 256
        are separate objects scattered through memory by the parser; on a large program the
        sweeps are bound by memory, not arithmetic, and neighbouring ints make them faster."""
        low = -len(self.constants)
        ids = list(range(low, self.size + len(self.unary) + len(self.binary)))
        self.links = [(ids[i - low], ids[a - low], ids[k - low]) for i, a, k in self.links]
        self.backward = [(ids[i - low], ids[a - low], ids[k - low]) for i, a, k in self.backward]
        self.unary = [(ids[k - low], rule, ids[i - low], ids[x - low])
                      for k, rule, i, x in self.unary]
        self.binary = [(ids[k - low], rule, ids[i - low], ids[x - low], ids[y - low])
                       for k, rule, i, x, y in self.binary]

    def local_partials(self, vals: list[Any], m: Any) -> list[Any]:
        """The values, then every formula's value, then the constants (`m`: ScalarMath or
        ArrayMath). Raises what a rule raises (at a point: ValueError, ZeroDivisionError...)."""
        local = vals + [0.0] * (len(self.unary) + len(self.binary)) + self.constants[::-1]
        for slot, rule, i, x in self.unary:
            local[slot] = rule(m, vals[i], vals[x])
        for slot, rule, i, x, y in self.binary:
            local[slot] = rule(m, vals[i], vals[x], vals[y])
        return local


def tangent_sweep(links: list[tuple[int, int, int]], local: list[Any],
                  tangents: list[Any]) -> None:
    """Forward accumulation (in node order) along `Edges.links_from(seeds)`; tangents of
    inputs are preset."""
    for i, a, k in links:
        tangents[i] = tangents[i] + local[k] * tangents[a]


def adjoint_sweep(edges: Edges, local: list[Any], adjoints: list[Any]) -> None:
    """Reverse accumulation (links walked backwards); output adjoints are preset. Afterwards
    only the adjoints of inputs and targets are meaningful (see `Edges.share_adjoints`)."""
    for i, a, k in edges.backward:
        adjoints[a] = adjoints[a] + adjoints[i] * local[k]
