"""Derivatives as graphs: differentiate a Program into a new Program.

Forward and reverse accumulation (`forward.py`, `reverse.py`) run the op table's partial rules
on numbers. Here the same two sweeps run them on a `GraphBuilder`, so instead of numbers they
write nodes: the result is a program that computes the derivative (what JAX shows as the jaxpr
of `jvp` or `vjp`). Such a program is an ordinary Program: print it, draw it, evaluate it on a
point or a grid, or differentiate it again. Higher derivatives come from repeating the
transform; no rule is written twice.

Both sweeps are the ones of `sweep.py`, run with the builder as the math namespace, so they
visit the same nodes as the numeric passes and treat zeros the same way (the sweep policy).

Names follow JAX: a tangent is `x_dot`, an adjoint (cotangent) is `x_bar`. Nested derivatives
of one variable use primes instead: `y'`, `y''`. A generated name is always fresh: if the
program already uses `x_dot`, the tangent of x is `x_dot_2`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .builder import GraphBuilder, Term, copy_program, is_const
from .errors import ExpressionError, InputError
from .evaluation import unit_directions
from .ops import GUARD, OPS
from .program import Program
from .sweep import Local, pull_adjoints, push_tangents, route
from .tensor_ops import TENSOR_RULES, scalar_only
from .tensor_values import calls


class Names:
    """Fresh names: never one the programs use, nor one given out before."""

    def __init__(self, *programs: Program):
        self.taken: set[str] = set()
        for p in programs:
            self.taken |= set(p.inputs) | set(p.outputs)
            self.taken |= {n.name for n in p.nodes if n.name is not None}

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


# --- the two sweeps, on terms of a builder -------------------------------------------------------


class _Labels:
    """An observer of a sweep on a builder: names each visited node's new term after the
    node (`y_dot`, `y_bar`), or as `preset` says."""

    def __init__(self, b: GraphBuilder, program: Program, terms: list[Term], names: Names,
                 suffix: str, preset: Mapping[int, str]):
        self.b, self.program, self.terms = b, program, terms
        self.names, self.suffix, self.preset = names, suffix, preset

    def visit(self, i: int) -> None:
        node = self.program.nodes[i]
        if i in self.preset:
            self.b.name(self.terms[i], self.preset[i])
        elif node.name is not None and node.args:
            self.b.name(self.terms[i], self.names.fresh(node.name + self.suffix))

    def edge(self, i: int, k: int, a: int, local: Any, product: Any, before: Any) -> None:
        pass


def _rules_on(b: GraphBuilder, program: Program, primals: list[Term]) -> Any:
    """The partials of `program`'s nodes as terms of `b` (the op table's rules, run on `b`)."""

    def partials(i: int, edges: tuple[tuple[int, int], ...]) -> Local:
        node = program.nodes[i]
        args = [primals[a] for a in node.args]
        tensor = TENSOR_RULES.get(node.op)
        if tensor is not None:  # a linear map: applied by _Sweeping.mul to what it carries
            c = calls(program)[i]
            return [(k, a, _LinearMap(tensor, c, k, primals[i], args)) for k, a in edges]
        rules = OPS[node.op].partials
        return [(k, a, rules[k](b, primals[i], *args)) for k, a in edges]

    return partials


class _LinearMap:
    """The 'partial' of a tensor op along one edge: its JVP and VJP rules (tensor_ops.py)."""

    def __init__(self, rule: Any, call: Any, k: int, out: Term, args: list[Term]):
        self.rule, self.call, self.k, self.out, self.args = rule, call, k, out, args

    def vjp(self, b: GraphBuilder, bar: Term) -> Term:
        return self.rule.vjp[self.k](b, self.call, self.out, *self.args, bar)

    def jvp(self, b: GraphBuilder, dot: Term) -> Term:
        return self.rule.jvp[self.k](b, self.call, self.out, *self.args, dot)


class _Sweeping:
    """The builder as the sweeps see it: `mul` applies a tensor op's linear map (adjoint ·
    map in reverse mode, map · tangent in forward mode); everything else is the builder's."""

    def __init__(self, b: GraphBuilder):
        self.b = b

    def mul(self, x: Term, y: Term) -> Term:
        if isinstance(y, _LinearMap):
            return y.vjp(self.b, x)
        if isinstance(x, _LinearMap):
            return x.jvp(self.b, y)
        return self.b.mul(x, y)

    def add(self, x: Term, y: Term) -> Term:
        return self.b.add(x, y)


def tangents(b: GraphBuilder, program: Program, primals: list[Term], seed: Mapping[str, Term],
             targets: Iterable[int], names: Names, suffix: str = "_dot",
             preset: Mapping[int, str] | None = None) -> list[Term]:
    """Forward sweep: the tangent term of every node toward `targets`, given the inputs'."""
    seeds = frozenset(program.inputs[x] for x, t in seed.items() if not is_const(t, 0.0))
    terms: list[Term] = [0.0] * len(program.nodes)
    for i in seeds:
        terms[i] = seed[program.nodes[i].name or ""]
    observer = _Labels(b, program, terms, names, suffix, preset or {})
    push_tangents(route(program, seeds, targets), _rules_on(b, program, primals), terms,
                  _Sweeping(b), observer)
    return terms


def adjoints(b: GraphBuilder, program: Program, primals: list[Term],
             cotangent: Mapping[str, Term], names: Names, suffix: str = "_bar") -> list[Term]:
    """Reverse sweep: the adjoint term of every node, given the cotangents of the outputs.

    A node's adjoint is the sum of one contribution per use, so fan-out is added up.
    """
    targets = frozenset(program.outputs[y] for y, t in cotangent.items() if not is_const(t, 0.0))
    terms: list[Term | None] = [None] * len(program.nodes)
    for y, t in cotangent.items():
        if not is_const(t, 0.0):
            before = terms[program.outputs[y]]
            terms[program.outputs[y]] = t if before is None else b.add(before, t)
    observer = _Labels(b, program, terms, names, suffix, {})
    pull_adjoints(route(program, program.inputs.values(), targets),
                  _rules_on(b, program, primals), terms, _Sweeping(b), observer)
    return [0.0 if t is None else t for t in terms]


def guarded(b: GraphBuilder, program: Program, primals: list[Term], seeds: Iterable[int],
            targets: Iterable[int], term: Term) -> Term:
    """`term` wrapped in a guard for every primal value the passes sweep through from `seeds`
    to `targets`: undefined where one of them is (NaN on a grid, the error naming that node at
    a point), as the passes give (sweep.py, policy 3), though the term itself may not need it."""
    visited = route(program, seeds, targets).visited
    todo = [i for i, node in enumerate(program.nodes) if visited[i] and node.args]
    seen: set[int] = set()
    while todo:  # a guard of the program guards by what it guards, not by itself
        i = todo.pop(0)
        node = program.nodes[i]
        if i in seen or not node.args:
            continue
        seen.add(i)
        if node.op == GUARD:
            todo += node.args
        elif not is_const(primals[i]):
            term = b.guard(term, primals[i])
    return term


# --- public transforms ---------------------------------------------------------------------------


def _linearized(program: Program, kind: str, given: str | Mapping[str, float] | None,
                max_nodes: int | None) -> Program:
    """The jvp (kind "seed") or vjp ("cotangent") program: the outputs, then the tangent of
    every output or the adjoint of every input. Without `given`, the direction is new inputs."""
    if program.tensor_path and given is not None:
        raise ExpressionError("a jvp or vjp program of a tensor program takes its direction as "
                              "new inputs (give no seed or cotangent)")
    forward = kind == "seed"
    suffix = "_dot" if forward else "_bar"
    sources, sinks = (program.inputs, program.outputs) if forward \
        else (program.outputs, program.inputs)
    names = Names(program)
    b = GraphBuilder(max_nodes=max_nodes)
    primals = copy_program(b, program)
    if given is None:
        direction: dict[str, Term] = {s: b.input(names.fresh(s + suffix), program.shape(sources[s]))
                                      for s in sources}
    else:
        direction = dict(unit_directions(list(sources), given, kind)[0][0])
    result_names = {s: names.fresh(s + suffix) for s in sinks}
    if forward:
        preset = {i: result_names[y] for y, i in program.outputs.items()}
        terms = tangents(b, program, primals, direction, program.outputs.values(), names,
                         preset=preset)
    else:
        terms = adjoints(b, program, primals, direction, names)
    live = [sources[s] for s, t in direction.items() if not is_const(t, 0.0)]
    outputs = {name: primals[i] for name, i in program.outputs.items()}
    for s, name in result_names.items():
        term = b.name(terms[sinks[s]], name)
        outputs[name] = guarded(b, program, primals, live, [sinks[s]], term) if forward \
            else guarded(b, program, primals, [sinks[s]], live, term)
    return b.program(outputs)


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
    # y_dot is undefined where v2 is, as the passes give
    """
    return _linearized(program, "seed", seed, max_nodes)


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
    return _linearized(program, "cotangent", cotangent, max_nodes)


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


def gradient_names(program: Program, output: str) -> dict[str, str]:
    """The fresh output names `dy/dx` of the gradient of `output`, one per input."""
    names = Names(program)
    return {x: names.fresh(gradient_name(output, x)) for x in program.inputs}


def grad_program(program: Program, output: str | None = None,
                 max_nodes: int | None = None) -> Program:
    """The gradient as a graph: outputs `y` and `dy/dx` for every input x (reverse mode).

    >>> from autodiff_core import parse, evaluate
    >>> g = grad_program(parse("x = 3*w; y = 2*x^2 + 4"))
    >>> list(g.outputs), evaluate(g, {"w": 1.0})["dy/dw"]
    (['y', 'dy/dw'], 36.0)
    """
    output = single_output(program, output)
    if program.shape(program.outputs[output]):
        raise ExpressionError(f"a gradient program is of a scalar output; {output!r} has shape "
                              f"{'×'.join(map(str, program.shape(program.outputs[output])))} "
                              "(use vjp_program)")
    grads = gradient_names(program, output)
    names = Names(program)
    names.taken |= set(grads.values())
    b = GraphBuilder(max_nodes=max_nodes)
    primals = copy_program(b, program)
    bars = adjoints(b, program, primals, {output: 1.0}, names)
    outputs = {output: primals[program.outputs[output]]}
    target = program.outputs[output]
    for x, i in program.inputs.items():
        outputs[grads[x]] = guarded(b, program, primals, [i], [target],
                                    b.name(bars[i], names.fresh(x + "_bar")))
    return b.program(outputs)


def derivative(program: Program, wrt: str, order: int = 1, output: str | None = None,
               max_nodes: int | None = None) -> Program:
    """The program computing the `order`-th derivative of `output` with respect to `wrt`.

    Each order is one forward (tangent) transform of the previous derivative program, with
    dead nodes pruned; its output is named `dy/dx`, `d2y/dx2`, ... Other inputs stay inputs.
    The primal values the passes sweep through are kept, and the output is guarded by them:
    undefined where one of them is, as the passes give (sweep.py), though the formula is not.

    >>> import numpy as np
    >>> from autodiff_core import parse, evaluate
    >>> d = derivative(parse("y = log(x)"), "x")
    >>> print(d.text())
    inputs: x = v0
    v0 = x
    v1 = log(v0)    # y
    v2 = 1
    v3 = v2 / v0    # y'
    outputs: dy/dx = v3
    # dy/dx is undefined where v1 is, as the passes give
    >>> evaluate(d, {"x": np.array([-1.0, 1.0])})["dy/dx"]   # log(-1) is undefined: NaN
    array([nan,  1.])
    >>> d3 = derivative(parse("y = x^4"), "x", order=3)
    >>> evaluate(d3, {"x": 2.0})["d3y/dx3"]
    48.0
    """
    output = single_output(program, output)
    if wrt not in program.inputs:
        raise InputError(f"{wrt!r} is not an input of the program; its inputs are: "
                         f"{', '.join(program.inputs) or '(none)'}")
    if program.shape(program.inputs[wrt]):
        scalar_only(program, "a derivative program in a tensor input (use grad_program or "
                    "jvp_program)")
    if order < 0:
        raise InputError("the order of a derivative must be 0 or more")
    current, name = program, output
    for k in range(order):
        names = Names(current)
        b = GraphBuilder(max_nodes=max_nodes)
        primals = copy_program(b, current)
        target = current.outputs[name]
        dots = tangents(b, current, primals, {wrt: 1.0}, [target], names, suffix="'")
        name = names.fresh(gradient_name(output, wrt, k + 1))
        current = b.program({name: guarded(b, current, primals, [current.inputs[wrt]],
                                           [target], dots[target])})
    if order == 0:
        b = GraphBuilder(max_nodes=max_nodes)
        primals = copy_program(b, program)
        current = b.program({name: primals[program.outputs[output]]})
    return current
