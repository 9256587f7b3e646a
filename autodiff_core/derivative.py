"""Derivatives as graphs: differentiate a Program into a new Program.

Forward and reverse accumulation (`forward.py`, `reverse.py`) run the op table's partial rules
on numbers. Here the same two sweeps run them on a `GraphBuilder`, so instead of numbers they
write nodes: the result is a program that computes the derivative (what JAX shows as the jaxpr
of `jvp` or `vjp`). Such a program is an ordinary Program: print it, draw it, evaluate it on a
point or a grid, or differentiate it again. Higher derivatives come from repeating the
transform; no rule is written twice.

Names follow JAX: a tangent is `x_dot`, an adjoint (cotangent) is `x_bar`. Nested derivatives
of one variable use primes instead: `y'`, `y''`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .builder import GraphBuilder, Term, copy_program, is_const
from .errors import InputError
from .evaluation import unit_directions
from .ops import OPS
from .program import CONST, INPUT, Program

# --- the two sweeps, on terms of a builder -------------------------------------------------------


def tangents(b: GraphBuilder, program: Program, primals: list[Term],
             seed: Mapping[str, Term], suffix: str = "_dot") -> list[Term]:
    """Forward sweep: the tangent term of every node, given the tangents of the inputs."""
    out: list[Term] = []
    for node in program.nodes:
        if node.op == INPUT:
            out.append(seed.get(node.name or "", 0.0))
            continue
        if node.op == CONST:
            out.append(0.0)
            continue
        rules = OPS[node.op].partials
        args = [primals[a] for a in node.args]
        total: Term = 0.0
        for position, a in enumerate(node.args):
            if is_const(out[a], 0.0):
                continue  # a zero tangent contributes nothing: no node for it
            local = rules[position](b, primals[node.id], *args)
            total = b.add(total, b.mul(local, out[a]))
        if node.name is not None:
            b.name(total, node.name + suffix)
        out.append(total)
    return out


def adjoints(b: GraphBuilder, program: Program, primals: list[Term],
             cotangent: Mapping[str, Term], suffix: str = "_bar") -> dict[str, Term]:
    """Reverse sweep: the adjoint term of every input, given the cotangents of the outputs.

    A node's adjoint is the sum of one contribution per use, so fan-out is added up.
    """
    active = program.active
    adj: list[Term | None] = [None] * len(program.nodes)
    for name, ct in cotangent.items():
        i = program.outputs[name]
        if active[i]:
            before = adj[i]
            adj[i] = ct if before is None else b.add(before, ct)
    for i in range(len(program.nodes) - 1, -1, -1):
        a_i = adj[i]
        node = program.nodes[i]
        if a_i is None or is_const(a_i, 0.0) or not node.args:
            continue
        if node.name is not None:
            b.name(a_i, node.name + suffix)
        rules = OPS[node.op].partials
        args = [primals[a] for a in node.args]
        for position, a in enumerate(node.args):
            if not active[a]:
                continue
            contribution = b.mul(a_i, rules[position](b, primals[i], *args))
            before = adj[a]
            adj[a] = contribution if before is None else b.add(before, contribution)
    result: dict[str, Term] = {}
    for name, i in program.inputs.items():
        result[name] = b.name(adj[i] if adj[i] is not None else 0.0, name + suffix)
    return result


# --- public transforms ---------------------------------------------------------------------------


def jvp_program(program: Program, seed: str | Mapping[str, float] | None = None,
                max_nodes: int | None = None) -> Program:
    """The tangent program: the outputs and their tangents `y_dot` along a seed direction.

    Without a seed, the tangents of the inputs are new inputs `x_dot` (a Jacobian-vector
    product for any direction); with one (an input name or {name: number}) they are constants.

    >>> from autodiff_core import parse
    >>> print(jvp_program(parse("y = sin(x) * x"), seed="x").text())
    inputs: x = v0
    v0 = x
    v1 = sin(v0)
    v2 = v1 * v0    # y
    v3 = cos(v0)
    v4 = v0 * v3
    v5 = v4 + v1    # y_dot
    outputs: y = v2, y_dot = v5
    """
    b = GraphBuilder(max_nodes=max_nodes)
    primals = copy_program(b, program)
    if seed is None:
        direction: dict[str, Term] = {x: b.input(f"{x}_dot") for x in program.inputs}
    else:
        direction = dict(unit_directions(list(program.inputs), seed, "seed")[0][0])
    dots = tangents(b, program, primals, direction)
    outputs = {name: primals[i] for name, i in program.outputs.items()}
    outputs.update({f"{name}_dot": dots[i] for name, i in program.outputs.items()})
    return b.program(outputs)


def vjp_program(program: Program, cotangent: str | Mapping[str, float] | None = None,
                max_nodes: int | None = None) -> Program:
    """The adjoint program: the outputs, and the adjoint `x_bar` of every input.

    The reverse sweep is written out as nodes, contributions added at every fan-out. Without
    a cotangent, the output adjoints are new inputs `y_bar` (a vector-Jacobian product for any
    weights); with one (an output name or {name: number}) they are constants.

    >>> from autodiff_core import parse, evaluate
    >>> g = vjp_program(parse("b = a + a; c = b * b"), cotangent="c")
    >>> evaluate(g, {"a": 3.0})["a_bar"]     # c = 4a^2, dc/da = 8a
    24.0
    """
    b = GraphBuilder(max_nodes=max_nodes)
    primals = copy_program(b, program)
    if cotangent is None:
        weights: dict[str, Term] = {y: b.input(f"{y}_bar") for y in program.outputs}
    else:
        weights = dict(unit_directions(list(program.outputs), cotangent, "cotangent")[0][0])
    bars = adjoints(b, program, primals, weights)
    outputs = {name: primals[i] for name, i in program.outputs.items()}
    outputs.update({f"{x}_bar": bars[x] for x in program.inputs})
    return b.program(outputs)


def single_output(program: Program, output: str | None) -> str:
    """The output to differentiate: the one named, or the program's only one."""
    if output is None:
        if len(program.outputs) != 1:
            raise InputError(f"the program has {len(program.outputs)} outputs "
                             f"({', '.join(program.outputs)}): name the one to differentiate")
        return next(iter(program.outputs))
    if output not in program.outputs:
        raise InputError(f"{output!r} is not an output of the program; its outputs are: "
                         f"{', '.join(program.outputs) or '(none)'}")
    return output


def gradient_name(output: str, wrt: str, order: int = 1) -> str:
    """`dy/dx`, `d2y/dx2`, ..."""
    if order == 1:
        return f"d{output}/d{wrt}"
    return f"d{order}{output}/d{wrt}{order}"


def grad_program(program: Program, output: str | None = None,
                 max_nodes: int | None = None) -> Program:
    """The gradient as a graph: outputs `y` and `dy/dx` for every input x (reverse mode).

    >>> from autodiff_core import parse, evaluate
    >>> g = grad_program(parse("x = 3*w; y = 2*x^2 + 4"))
    >>> list(g.outputs), evaluate(g, {"w": 1.0})["dy/dw"]
    (['y', 'dy/dw'], 36.0)
    """
    output = single_output(program, output)
    b = GraphBuilder(max_nodes=max_nodes)
    primals = copy_program(b, program)
    bars = adjoints(b, program, primals, {output: 1.0})
    outputs = {output: primals[program.outputs[output]]}
    outputs.update({gradient_name(output, x): bars[x] for x in program.inputs})
    return b.program(outputs)


def derivative(program: Program, wrt: str, order: int = 1, output: str | None = None,
               max_nodes: int | None = None) -> Program:
    """The program computing the `order`-th derivative of `output` with respect to `wrt`.

    Each order is one forward (tangent) transform of the previous derivative program, with
    dead nodes pruned; its output is named `dy/dx`, `d2y/dx2`, ... Other inputs stay inputs.

    >>> from autodiff_core import parse, evaluate
    >>> d3 = derivative(parse("y = x^4"), "x", order=3)
    >>> print(d3.text())
    inputs: x = v0
    v0 = x
    v1 = 24
    v2 = v1 * v0    # y'''
    outputs: d3y/dx3 = v2
    >>> evaluate(d3, {"x": 2.0})["d3y/dx3"]
    48.0
    """
    output = single_output(program, output)
    if wrt not in program.inputs:
        raise InputError(f"{wrt!r} is not an input of the program; its inputs are: "
                         f"{', '.join(program.inputs) or '(none)'}")
    if order < 0:
        raise InputError("the order of a derivative must be 0 or more")
    current = program
    name = output
    for k in range(order):
        b = GraphBuilder(max_nodes=max_nodes)
        primals = copy_program(b, current)
        dots = tangents(b, current, primals, {wrt: 1.0}, suffix="'")
        name = gradient_name(output, wrt, k + 1)
        current = b.program({name: dots[current.outputs[next(iter(current.outputs))]]})
    if order == 0:
        b = GraphBuilder(max_nodes=max_nodes)
        primals = copy_program(b, program)
        current = b.program({name: primals[program.outputs[output]]})
    return current
