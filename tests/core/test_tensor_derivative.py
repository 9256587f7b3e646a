"""Derivative programs of tensor programs: the gradient, jvp and vjp written as tensor graphs
(matmul, transpose, reshape, sum over axes, broadcast) with the same rules as the passes, then
evaluated at points and on grids, and differentiated again."""

import numpy as np
import pytest
from tensor_programs import SMALL_MLP as MLP

import autodiff_core as ad

RNG = np.random.default_rng(5)


SOURCES = [
    MLP,
    "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))",
    "x: [3]\nB: [3, 2]\ny = sum(softmax(x @ B) * [1, 2]) + x @ x",
    "x: [2, 3]\nc: []\ny = mean(transpose(x) * c, 0) @ [1, 2] + sum(sqrt(1 + x * x))",
    "a: [5, 1, 3]\nb: [1, 2, 1]\ny = sum(logsumexp(a * b + a, 0) / mean(exp(b)))",
    "A: [2, 1, 2, 3]\nB: [4, 3, 2]\ny = sum(tanh(A @ B))",  # batch axes broadcast
    "A: [3, 2, 3]\nx: [3]\nz: [2]\ny = sum(sin(A @ x)) + sum(exp(z @ A / 3))",  # 1-D, batched
]


def point(program: ad.Program, grid: tuple[int, ...] = ()) -> dict:
    return {name: RNG.normal(size=grid + shape) for name, shape in program.input_shapes.items()}


@pytest.mark.parametrize("source", SOURCES)
def test_gradient_program_gives_the_passes_gradient(source: str) -> None:
    program = ad.parse(source)
    out = next(iter(program.outputs))
    g = ad.grad_program(program)
    assert g.is_tensor
    for at in (point(program), point(program, (3,))):
        values = ad.evaluate(g, at)
        passes = ad.reverse(program, at, trace=False).derivatives[out]
        for name in program.inputs:
            np.testing.assert_allclose(values[f"d{out}/d{name}"], passes[name], atol=1e-12)


def test_jvp_and_vjp_programs() -> None:
    program = ad.parse("W: [2, 3]\nx: [3]\ny = tanh(W @ x)")
    at = point(program)
    direction = {"W_dot": RNG.normal(size=(2, 3)), "x_dot": RNG.normal(size=3)}
    jvp = ad.evaluate(ad.jvp_program(program), {**at, **direction})["y_dot"]
    forward = ad.forward(program, at, seed={"W": direction["W_dot"], "x": direction["x_dot"]})
    assert forward.directional is not None
    np.testing.assert_allclose(jvp, forward.directional["y"])
    u = RNG.normal(size=2)
    vjp = ad.evaluate(ad.vjp_program(program), {**at, "y_bar": u})
    reverse = ad.reverse(program, at, cotangent={"y": u}).directional
    assert reverse is not None
    np.testing.assert_allclose(vjp["W_bar"], reverse["W"])
    np.testing.assert_allclose(vjp["x_bar"], reverse["x"])


def test_the_gradient_program_is_differentiated_again() -> None:
    # d/dx of (dy/dx · v) is H v: the gradient program's own reverse pass gives the Hessian
    program = ad.parse("x: [3]\nA: [3, 3]\ny = sum(tanh(A @ x)) + x @ x")
    g = ad.grad_program(program)
    at = point(program)
    v = RNG.normal(size=3)
    source_g = ad.reverse(g, at, cotangent={"dy/dx": v}).directional
    assert source_g is not None
    hessian = ad.hessian(program, at).hessian["x"]["x"]
    np.testing.assert_allclose(source_g["x"], hessian @ v, atol=1e-12)


def test_undefined_on_a_grid_is_nan_as_the_passes_give() -> None:
    program = ad.parse("x: [2]\ny = sum(log(x))")
    g = ad.grad_program(program)
    at = {"x": np.array([[1.0, 2.0], [-1.0, 2.0]])}
    values = ad.evaluate(g, at)["dy/dx"]
    passes = ad.reverse(program, at).derivatives["y"]["x"]
    np.testing.assert_allclose(values[0], [1.0, 0.5])
    assert np.isnan(values[1]).all() and np.isnan(passes[1]).all()


def test_what_is_refused() -> None:
    vector = ad.parse("W: [2, 3]\nx: [3]\ny = W @ x")
    with pytest.raises(ad.ExpressionError, match="scalar output"):
        ad.grad_program(vector)
    with pytest.raises(ad.ExpressionError, match="new inputs"):
        ad.jvp_program(vector, seed="x")
    with pytest.raises(ad.ExpressionError, match="not yet supported for tensor programs"):
        ad.derivative(ad.parse("x: [2]\ny = sum(x * x)"), "x")


def test_nth_derivative_in_a_scalar_input_of_a_tensor_program() -> None:
    program = ad.parse("a: []\nW: [2, 3]\ny = sum(tanh(a * W) @ [1, 2, 3]) + a ^ 3")
    W = np.arange(6.0).reshape(2, 3) / 10

    def f(a: float) -> float:
        return float(np.sum(np.tanh(a * W) @ np.array([1.0, 2.0, 3.0])) + a**3)

    h, a = 1e-4, 0.7
    first = ad.evaluate(ad.derivative(program, "a"), {"a": a, "W": W})["dy/da"]
    second = ad.evaluate(ad.derivative(program, "a", order=2), {"a": a, "W": W})["d2y/da2"]
    assert first == pytest.approx((f(a + h) - f(a - h)) / (2 * h), rel=1e-7)
    assert second == pytest.approx((f(a + h) - 2 * f(a) + f(a - h)) / h**2, rel=1e-5)
    with pytest.raises(ad.ExpressionError, match="tensor input"):
        ad.derivative(program, "W")
