"""The forward trace: one step per node, in node order, for scalar and tensor programs alike.

A pass calls `edge` for each argument it multiplies in and `visit` when a node's tangent is
complete; `steps` then fills in the nodes the pass did not visit (inputs, constants, nodes that
feed no output), each with the reason. Tensor passes write their edges differently (a matmul's
tangent is not a local derivative times a tangent), so `tensor_sweep.py` overrides `edge` only.
"""

from __future__ import annotations

from typing import Any

from .evaluation import factor_text, partial_formulas
from .ops import CONST, INPUT
from .program import Program, edge_id
from .results import ForwardStep, Partial
from .sweep import route

TANGENT = "v\u0307"  # v̇: the textbook's dot for a tangent


class ForwardTrace:
    """The observer that writes the forward trace."""

    def __init__(self, program: Program, vals: list[Any], tangents: list[Any]):
        self.program, self.vals, self.tangents = program, vals, tangents
        self.recorded: dict[int, ForwardStep] = {}
        self.parts: list[Partial] = []
        self.terms: list[str] = []
        self.texts: list[str] = []  # the partials' formulas of the node being visited

    def edge(self, i: int, k: int, a: int, local: Any, product: Any, *before: Any) -> None:
        if not self.parts:
            self.texts = partial_formulas(self.program, i)
        self.terms.append(f"{factor_text(self.texts[k])} · {TANGENT}{a}")
        self.parts.append(Partial(f"v{a}", edge_id(a, i, k), self.texts[k], local,
                                  self.tangents[a], product))

    def visit(self, i: int) -> None:
        node = self.program.nodes[i]
        if node.op == INPUT:
            return
        label = self.program.label(i) if node.name else None
        self.recorded[i] = ForwardStep(node.ref, node.op, label, self.vals[i], self.tangents[i],
                                       f"{TANGENT}{i} = {' + '.join(self.terms)}", self.parts,
                                       list(node.shape))
        self.parts, self.terms = [], []

    def steps(self, seeds: frozenset[int]) -> list[ForwardStep]:
        program, vals = self.program, self.vals
        reached = route(program, seeds, range(len(program.nodes))).visited
        out = []
        for node in program.nodes:
            i = node.id
            if i in self.recorded:
                out.append(self.recorded[i])
                continue
            label = program.label(i) if node.name else None
            tangent: Any = 0.0
            if node.op == INPUT:
                formula = f"{TANGENT}{i} = seed for {node.name}"
                tangent = self.tangents[i]
            elif node.op != CONST and reached[i]:
                formula, tangent = f"{TANGENT}{i} not needed: feeds no output", None
            elif node.op != CONST and program.active[i]:
                formula = f"{TANGENT}{i} = 0 (does not depend on the seeded input)"
            else:
                formula = f"{TANGENT}{i} = 0 (does not depend on an input)"
            out.append(ForwardStep(node.ref, node.op, label, vals[i], tangent, formula,
                                   shape=list(node.shape)))
        return out
