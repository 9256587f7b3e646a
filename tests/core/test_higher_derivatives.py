"""Derivative programs: built from the op table's rules, they agree with the engine's sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from higher_helpers import random_program

import autodiff_core as ad

TOL = 1e-9


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * (1 + abs(a) + abs(b))


def random_point(program: ad.Program, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {x: float(rng.uniform(-1.5, 1.5)) for x in program.inputs}


@pytest.mark.parametrize("seed", range(12))
def test_jvp_and_vjp_programs_equal_forward_and_reverse(seed: int) -> None:
    program = ad.parse(random_program(seed)[0])
    at = random_point(program, seed)
    fwd = ad.forward(program, at, trace=False).derivatives["y"]
    rev = ad.reverse(program, at, trace=False).derivatives["y"]
    jvp = ad.jvp_program(program)
    vjp = ad.vjp_program(program)
    grad = ad.evaluate(ad.grad_program(program), at)
    bars = ad.evaluate(vjp, {**at, "y_bar": 1.0})
    for x in program.inputs:
        seed_at = {**at, **{f"{z}_dot": float(z == x) for z in program.inputs}}
        tangent = ad.evaluate(jvp, seed_at)["y_dot"]
        assert close(tangent, fwd[x]) and close(bars[f"{x}_bar"], rev[x])
        assert close(grad[f"dy/d{x}"], rev[x])


def test_derivative_programs_work_on_a_grid() -> None:
    program = ad.parse("y = sin(x) * exp(-x^2/2) + x*w")
    xs = np.linspace(-2, 2, 9)
    grid = ad.evaluate(ad.derivative(program, "x", 2), {"x": xs, "w": 0.5})["d2y/dx2"]
    for k, x in enumerate(xs):
        at = {"x": float(x), "w": 0.5}
        assert close(grid[k], ad.hessian(program, at).hessian["x"]["x"])


@pytest.mark.parametrize("order", range(1, 6))
def test_nth_derivatives_of_sin_exp_and_powers(order: int) -> None:
    x = 0.7
    name = f"d{order}y/dx{order}" if order > 1 else "dy/dx"
    d_sin = ad.derivative(ad.parse("y = sin(x)"), "x", order)
    assert close(ad.evaluate(d_sin, {"x": x})[name], math.sin(x + order * math.pi / 2))
    d_exp = ad.derivative(ad.parse("y = exp(3*x)"), "x", order)
    assert close(ad.evaluate(d_exp, {"x": x})[name], 3.0 ** order * math.exp(3 * x))
    for k in (2, 3, 5, 7):
        d_pow = ad.derivative(ad.parse(f"y = x^{k}"), "x", order)
        expected = math.perm(k, order) * x ** (k - order) if order <= k else 0.0
        value = ad.evaluate(d_pow, {"x": x})[name]
        assert close(value, expected), (k, order, value, expected)


def test_derivative_names_and_repeated_transform() -> None:
    program = ad.parse("y = x^3 * w")
    d2 = ad.derivative(program, "x", 2)
    assert list(d2.outputs) == ["d2y/dx2"] and list(d2.inputs) == ["x", "w"]
    again = ad.derivative(ad.derivative(program, "x", 1), "x", 1)
    at = {"x": 1.3, "w": -0.4}
    assert close(ad.evaluate(again, at)[next(iter(again.outputs))], 6 * 1.3 * -0.4)
    assert close(ad.evaluate(d2, at)["d2y/dx2"], 6 * 1.3 * -0.4)
    # x**3 * w: the simplifier folds constants, so d3/dx3 is the single product 6 * w
    d3 = ad.derivative(program, "x", 3)
    shown = d3.unguarded(d3.outputs["d3y/dx3"])
    assert d3.nodes[shown].op == "mul" and d3.label(shown) == "y\'\'\'"
    assert [d3.nodes[a].value for a in d3.nodes[shown].args] == [6.0, None]
    assert f"outputs: d3y/dx3 = v{shown}" in d3.text()


def test_fan_out_adds_adjoint_contributions_in_the_graph() -> None:
    vjp = ad.vjp_program(ad.parse("b = a + a; c = b * b"), cotangent="c")
    text = vjp.text()
    assert "# b_bar" in text and "# a_bar" in text
    assert ad.evaluate(vjp, {"a": 1.5})["a_bar"] == 8 * 1.5


def test_simplifier_keeps_derivatives_small() -> None:
    # exp is its own derivative: every order is the same single node
    d5 = ad.derivative(ad.parse("y = exp(x)"), "x", 5)
    assert sum(1 for n in d5.nodes if n.args) == 1
    # the second derivative of a linear function is the constant 0
    d2 = ad.derivative(ad.parse("y = 3*x + w"), "x", 2)
    assert ad.evaluate(d2, {"x": 1.0, "w": 2.0})["d2y/dx2"] == 0.0


def test_bad_requests_say_what_is_wrong() -> None:
    program = ad.parse("s = a*b; t = a + b", outputs=["s", "t"])
    with pytest.raises(ad.InputError, match="2 outputs"):
        ad.derivative(program, "a")
    with pytest.raises(ad.InputError, match="'z' is not an input"):
        ad.derivative(program, "z", output="s")
    with pytest.raises(ad.ExpressionError) as info:
        ad.derivative(ad.parse("h = sin(x)*x; h = sin(h)*h; y = sin(h)*h"), "x", 8, max_nodes=50)
    assert info.value.limit == "max_nodes"
