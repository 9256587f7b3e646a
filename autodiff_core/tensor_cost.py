"""What the full Jacobian of a tensor program costs in each mode, counted in element operations.

The scalar count (`higher.accumulation_costs`) charges two operations (a multiply and an add)
per edge per pass. A tensor edge carries many elements, and a matmul edge is a matrix product,
so here each edge is charged what numpy does for it: an elementwise edge one multiply and one
add per element of the argument; a matmul edge (m×k @ k×n) 2·m·k·n; a broadcast's or a
reduction's edge one add per element of the larger side. Forward mode makes one pass per input
ELEMENT, reverse mode one per output ELEMENT: on a network with a scalar loss and a hundred
thousand weights that is the whole argument for reverse mode, in numbers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .ops import CONST, INPUT

if TYPE_CHECKING:
    from .program import Program


def _matmul_work(program: Program, i: int) -> int:
    node = program.nodes[i]
    sa = program.nodes[node.args[0]].shape
    inner = sa[-1]
    return 2 * math.prod(node.shape) * inner


def _node_work(program: Program, i: int) -> int:
    """The element operations of node i's value (and, roughly, of one pass over one edge)."""
    node = program.nodes[i]
    if node.op == "matmul":
        return _matmul_work(program, i)
    if node.op in ("sum", "mean", "logsumexp", "softmax"):
        return math.prod(program.nodes[node.args[0]].shape) * (3 if node.op in ("logsumexp",
                                                                                "softmax") else 1)
    return math.prod(node.shape)


def tensor_costs(program: Program, cost_type: Any) -> dict[str, Any]:
    """{"forward": Cost, "reverse": Cost} for a tensor program (see the module docstring)."""
    nodes = program.nodes
    active = program.active
    ops = [n for n in nodes if n.op not in (INPUT, CONST)]
    primal = sum(_node_work(program, n.id) for n in ops)
    edges = [(n.id, a) for n in ops if active[n.id] for a in n.args if active[a]]
    # elementwise partials: one array per active edge, evaluated once and shared by all passes
    partials = sum(math.prod(nodes[i].shape) for i, _ in edges if nodes[i].op not in _LINEAR)
    per_pass = sum(_node_work(program, i) if nodes[i].op in _LINEAR
                   else 2 * math.prod(nodes[a].shape) for i, a in edges)
    inputs = sum(math.prod(nodes[i].shape) for i in program.inputs.values())
    outputs = sum(math.prod(nodes[i].shape) for i in program.outputs.values())
    costs = {"forward": cost_type(inputs, primal, partials, per_pass * inputs, 0),
             "reverse": cost_type(outputs, primal, partials, per_pass * outputs, 0)}
    for c in costs.values():
        c.operations = c.primal + c.partials + c.sweeps
    return costs


_LINEAR = ("matmul", "broadcast", "sum", "mean", "transpose", "softmax", "logsumexp",
           "reshape")
