"""Random programs: forward mode == reverse mode == sympy, on the same text.

The strategy writes program text and, beside it, the same computation as a sympy expression,
built directly from the choices (not from our parser or rules): sympy then differentiates it
by its own rules, an oracle independent of the engine.
"""

import math

import numpy as np
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autodiff_core as ad

INPUTS = ("a", "b", "c")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in INPUTS}

# Unary functions as (text template, sympy builder); the domain-limited ones are given
# arguments that are always inside their domain.
UNARY = [
    ("sin({})", sympy.sin),
    ("cos({})", sympy.cos),
    ("tanh({})", sympy.tanh),
    ("sigmoid({})", lambda x: 1 / (1 + sympy.exp(-x))),
    ("exp(sin({}))", lambda x: sympy.exp(sympy.sin(x))),
    ("log(1 + {}^2)", lambda x: sympy.log(1 + x**2)),
    ("sqrt(2 + cos({}))", lambda x: sympy.sqrt(2 + sympy.cos(x))),
    ("-{}", lambda x: -x),
    ("({})**2", lambda x: x**2),
]
BINARY = [
    ("{} + {}", lambda x, y: x + y),
    ("{} - {}", lambda x, y: x - y),
    ("{} * {}", lambda x, y: x * y),
    ("{} / (2 + sin({}))", lambda x, y: x / (2 + sympy.sin(y))),
]


@st.composite
def expressions(draw: st.DrawFn, env: dict, depth: int) -> tuple[str, sympy.Expr]:
    """(text, sympy expression) over the names in env (name -> its sympy value)."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(["name", "name", "number"]))
        if kind == "number":
            k = draw(st.integers(1, 9))
            return f"{k / 4}", sympy.Rational(k, 4)
        name = draw(st.sampled_from(sorted(env)))
        return name, env[name]
    if draw(st.booleans()):
        template, build = draw(st.sampled_from(UNARY))
        text, expr = draw(expressions(env, depth - 1))
        return template.format(f"({text})"), build(expr)
    template, build = draw(st.sampled_from(BINARY))
    left, left_expr = draw(expressions(env, depth - 1))
    right, right_expr = draw(expressions(env, depth - 1))
    return template.format(f"({left})", f"({right})"), build(left_expr, right_expr)


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, list[str], dict, dict]:
    """Program text with several inputs, shared names, reassignment and both separators;
    its outputs; their sympy expressions; and a point."""
    env: dict = dict(SYMBOLS)
    lines, assigned = [], []
    for _ in range(draw(st.integers(1, 5))):
        # Reassigning an earlier name (as in `c = c + 1`) is a new node with the same name.
        target = draw(st.sampled_from(assigned + ["p", "q", "r"])) if assigned else "p"
        text, expr = draw(expressions(env, draw(st.integers(1, 3))))
        lines.append(f"{target} = {text}")
        env[target] = expr
        if target not in assigned:
            assigned.append(target)
    outputs = draw(st.lists(st.sampled_from(assigned), min_size=1, max_size=3, unique=True))
    separator = draw(st.sampled_from(["\n", "; "]))
    point = {name: draw(st.floats(-2, 2).map(lambda v: round(v, 3))) for name in INPUTS}
    return separator.join(lines), outputs, {o: env[o] for o in outputs}, point


def close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-8, abs_tol=1e-10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_forward_equals_reverse_equals_sympy(case: tuple[str, list[str], dict, dict]) -> None:
    text, outputs, exprs, point = case
    program = ad.parse(text, outputs=outputs)
    at = {name: point[name] for name in program.inputs}
    try:
        fwd = ad.forward(program, at)
    except ad.EvaluationError:
        assume(False)
    for out, expr in exprs.items():
        value = float(expr.evalf(subs={SYMBOLS[n]: v for n, v in point.items()}))
        assert close(fwd.values[out], value), (text, out)
        for name in program.inputs:
            oracle = float(sympy.diff(expr, SYMBOLS[name]).evalf(
                subs={SYMBOLS[n]: v for n, v in point.items()}))
            assert close(fwd.derivatives[out][name], oracle), (text, out, name)
    # Every sweep agrees with forward mode: reverse, and both without a trace.
    for result in (ad.reverse(program, at), ad.reverse(program, at, trace=False),
                   ad.forward(program, at, trace=False)):
        for out in outputs:
            for name in program.inputs:
                assert close(result.derivatives[out][name], fwd.derivatives[out][name])
    # Inputs the outputs do not use have no derivative entry only if absent from the program.
    assert set(fwd.derivatives) == set(outputs)


@settings(max_examples=25, deadline=None)
@given(programs())
def test_grid_equals_pointwise(case: tuple[str, list[str], dict, dict]) -> None:
    """On a grid every mode works element-wise: each point matches a scalar evaluation."""
    text, outputs, _, point = case
    program = ad.parse(text, outputs=outputs)
    shift = np.array([0.0, 0.25, -0.5])
    grid = {name: point[name] + shift for name in program.inputs}
    try:
        scalar = [ad.reverse(program, {n: float(v[k]) for n, v in grid.items()}, trace=False)
                  for k in range(len(shift))]
    except ad.EvaluationError:
        assume(False)
    for result in (ad.forward(program, grid, trace=False), ad.reverse(program, grid)):
        for out in outputs:
            for name in program.inputs:
                got = result.derivatives[out][name]
                want = [s.derivatives[out][name] for s in scalar]
                assert np.allclose(got, want, rtol=1e-10, atol=1e-12)
