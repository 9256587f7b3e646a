"""Symbolic differentiation, for comparison: the derivative written as one expression.

A computer algebra system (or a hand calculation) differentiates the function's expression
tree and writes the result as one expression. It uses the same rules as AD (here literally the
same op table, through `derivative.py`); the difference is that an expression has no names for
intermediate results, so every shared subexpression is written out again wherever it is used.
That is expression swell: the derivative of sin(sin(sin(x))) repeats the inner sines, the
derivative of a product of n factors has n terms of n factors each. AD keeps each value once,
as a node of a graph, so its size grows linearly.

Here the derivative program (a graph with sharing) is written out as a tree: its `operations`
count every operator of the printed expression, `graph_operations` the nodes of the AD
program. Sizes are counted exactly (Python integers) even when the text would be too long to
print, so the swelling family can go to large n.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .derivative import derivative, single_output
from .errors import InputError
from .ops import OPS
from .parser import parse
from .program import CONST, INPUT, Program, format_number
from .results import jsonable
from .tensor_ops import scalar_only

MAX_PRINTED_OPERATIONS = 2_000  # longer expressions are counted but not printed
ATOM = 100  # the precedence of names, numbers and function calls


@dataclass
class Expression:
    """One output of a program written as a single expression (a tree)."""

    text: str | None  # None when longer than MAX_PRINTED_OPERATIONS
    latex: str | None
    operations: int  # operators in the written expression (the tree)
    graph_operations: int  # op nodes of the program that computes it (the graph, shared)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


def tree_sizes(program: Program) -> list[int]:
    """For every node, how many operators its expression has when written out as a tree."""
    sizes = [0] * len(program.nodes)
    for node in program.nodes:
        if node.args:
            sizes[node.id] = 1 + sum(sizes[a] for a in node.args)
    return sizes


def graph_size(program: Program, root: int) -> int:
    """How many op nodes the value of `root` needs (each counted once)."""
    needed = [False] * len(program.nodes)
    needed[root] = True
    count = 0
    for i in range(root, -1, -1):
        if needed[i] and program.nodes[i].args:
            count += 1
            for a in program.nodes[i].args:
                needed[a] = True
    return count


def _wrap(text: str, latex: bool) -> str:
    return rf"\left({text}\right)" if latex else f"({text})"


def _operands(op: str, parts: list[tuple[str, int]], latex: bool) -> list[str]:
    """The argument texts of `op`, parenthesised only where precedence needs it."""
    p = OPS[op].precedence
    out = []
    for position, (text, q) in enumerate(parts):
        if p == ATOM or (latex and (op == "div" or (op == "pow" and position == 1))):
            needs = False  # a call's parentheses, \frac and ^{} already group
        elif op == "neg":
            needs = q <= p  # -(a * b), and -(-a) rather than --a
        elif op == "pow":
            needs = q <= p if position == 0 else q < p  # powers group to the right
        elif position == 0:
            needs = q < p
        else:
            needs = q < p or (q == p and op in ("sub", "div"))  # a - (b + c), a / (b * c)
        out.append(_wrap(text, latex) if needs else text)
    return out


def expression(program: Program, output: str | None = None,
               max_operations: int = MAX_PRINTED_OPERATIONS) -> Expression:
    """An output of a program as one expression, with the fewest parentheses.

    >>> from autodiff_core import parse
    >>> e = expression(parse("a = x + 1; b = a * a; y = -(b - a) / (a ^ 2)"))
    >>> e.text, e.operations, e.graph_operations
    ('-((x + 1) * (x + 1) - (x + 1)) / (x + 1) ** 2', 9, 6)
    """
    scalar_only(program, "a symbolic expression")
    name = single_output(program, output)
    root = program.unguarded(program.outputs[name])  # a guard changes no formula
    sizes = tree_sizes(program)
    printable = sizes[root] <= max_operations
    texts: dict[bool, str | None] = {False: None, True: None}
    if printable:
        for latex in (False, True):
            texts[latex] = _write(program, root, latex)
    return Expression(texts[False], texts[True], sizes[root], graph_size(program, root))


def _write(program: Program, root: int, latex: bool) -> str:
    # Bottom-up over the nodes (no recursion): each node's text and precedence.
    written: dict[int, tuple[str, int]] = {}
    needed = [False] * len(program.nodes)
    needed[root] = True
    for i in range(root, -1, -1):
        if needed[i]:
            for a in program.nodes[i].args:
                needed[a] = True
    for node in program.nodes[: root + 1]:
        if not needed[node.id]:
            continue
        if node.op == INPUT:
            name = node.name or node.ref
            written[node.id] = (name, ATOM)
        elif node.op == CONST:
            value = node.value or 0.0
            written[node.id] = (format_number(value), 30 if value < 0 else ATOM)
        else:
            op = OPS[node.op]
            parts = _operands(node.op, [written[a] for a in node.args], latex)
            template = op.latex if latex else op.text
            written[node.id] = (template.format(*parts), op.precedence)
    return written[root][0]


@dataclass
class SymbolicResult:
    """A function and its derivative as single expressions, beside the AD program's size."""

    output: str
    wrt: str
    order: int
    function: Expression
    derivative: Expression
    ad_operations: int  # op nodes of the AD derivative program (what AD evaluates)
    swell: float  # derivative.operations / ad_operations
    program: Program = field(repr=False, compare=False)  # the AD derivative program

    def to_dict(self) -> dict[str, Any]:
        data = jsonable({k: getattr(self, k) for k in
                         ("output", "wrt", "order", "function", "derivative", "ad_operations",
                          "swell")})
        return dict(data)


def symbolic_derivative(program: Program, wrt: str, output: str | None = None,
                        order: int = 1, max_nodes: int | None = None) -> SymbolicResult:
    """The `order`-th derivative written as one expression, and how big it is next to AD.

    >>> from autodiff_core import parse
    >>> s = symbolic_derivative(parse("h = sin(x); h = sin(h); y = sin(h)"), "x")
    >>> s.derivative.text
    'cos(sin(sin(x))) * cos(sin(x)) * cos(x)'
    >>> s.derivative.operations, s.ad_operations
    (8, 7)
    """
    name = single_output(program, output)
    d = derivative(program, wrt, order=order, output=name, max_nodes=max_nodes)
    d_expr = expression(d)
    ad_ops = d_expr.graph_operations
    try:
        swell = d_expr.operations / max(ad_ops, 1)
    except OverflowError:  # more operators than a float can count (jsonable writes null)
        swell = float("inf")
    return SymbolicResult(name, wrt, order, expression(program, name), d_expr, ad_ops, swell, d)


# --- a family of functions whose symbolic derivatives swell --------------------------------------

FAMILIES = {
    "product": "x (x+1) (x+2) ... (x+n-1): the product rule gives n terms of n factors",
    "sin": "sin(sin(...sin(x))), n times: the chain rule repeats every inner sine",
    "logistic": "n steps of the logistic map h = 4h(1-h): h is used twice, so the tree doubles",
}


def family_source(family: str, n: int) -> str:
    """The program text of member n (n >= 1) of a swelling family."""
    if family not in FAMILIES:
        raise InputError(f"unknown family {family!r}; the families are: {', '.join(FAMILIES)}")
    if n < 1:
        raise InputError("n must be 1 or more")
    if family == "product":
        return "\n".join(["y = x"] + [f"y = y * (x + {k})" for k in range(1, n)])
    if family == "sin":
        return "\n".join(["y = sin(x)"] + ["y = sin(y)"] * (n - 1))
    return "\n".join(["y = 4*x*(1 - x)"] + ["y = 4*y*(1 - y)"] * (n - 1))


@dataclass
class SwellRow:
    n: int
    function_symbolic: int  # operators of f written as one expression
    function_ad: int  # op nodes of f's graph
    derivative_symbolic: int  # operators of f' written as one expression
    derivative_ad: int  # op nodes of the AD program for f'


def swelling(family: str, n_max: int = 10) -> list[SwellRow]:
    """Sizes of f and f' for n = 1..n_max: symbolic (tree) against AD (graph).

    >>> [(r.n, r.derivative_symbolic, r.derivative_ad) for r in swelling("sin", 4)]
    [(1, 1, 1), (2, 4, 4), (3, 8, 7), (4, 13, 10)]
    """
    rows = []
    for n in range(1, n_max + 1):
        result = symbolic_derivative(parse(family_source(family, n)), "x")
        rows.append(SwellRow(n, result.function.operations, result.function.graph_operations,
                             result.derivative.operations, result.ad_operations))
    return rows
