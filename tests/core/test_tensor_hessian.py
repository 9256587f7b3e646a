"""Hessians of tensor programs (forward over reverse with dual values) against central
differences of the gradient, with the flattened matrix's labels and the refusals."""

import numpy as np
import pytest

import autodiff_core as ad

RNG = np.random.default_rng(7)

SOURCES = [
    "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))",
    "W: [2, 3]\nx: [3]\nb: [2]\na: []\n"
    "y = sum(softmax(tanh(W @ x + b) * a)) + logsumexp(W @ x) + mean(transpose(W) @ b) ^ 2",
    "A: [2, 2, 3]\nB: [3, 2]\ny = sum(exp(A @ B / 4)) + sum(sum(sqrt(1 + A * A), 1) @ [1, 2, 3])",
    "x: [4]\nc: [2, 1]\ny = logsumexp(sum(c * sin(x), 0)) + sum(relu(x) * x)",
]


def gradient_differences(program: ad.Program, at: dict, h: float = 1e-5) -> np.ndarray:
    def flat(point: dict) -> np.ndarray:
        g = ad.reverse(program, point, trace=False).derivatives[next(iter(program.outputs))]
        return np.concatenate([np.ravel(g[k]) for k in program.inputs])

    rows = []
    for name, shape in program.input_shapes.items():
        x = np.asarray(at[name], dtype=float)
        for index in np.ndindex(*shape):
            up, down = x.copy(), x.copy()
            up[index] += h
            down[index] -= h
            rows.append((flat({**at, name: up}) - flat({**at, name: down})) / (2 * h))
    return np.array(rows)


@pytest.mark.parametrize("source", SOURCES)
def test_hessian_matches_differences_of_the_gradient(source: str) -> None:
    program = ad.parse(source)
    at = {name: RNG.normal(size=shape) + (0.5 if name == "x" else 0.0)
          for name, shape in program.input_shapes.items()}
    result = ad.hessian(program, at)
    n = sum(int(np.prod(s)) for s in program.input_shapes.values())
    assert result.matrix.shape == (n, n)
    np.testing.assert_allclose(result.matrix, result.matrix.T, atol=1e-10)
    np.testing.assert_allclose(result.matrix, gradient_differences(program, at), atol=1e-6)
    reverse = ad.reverse(program, at).derivatives["y"]
    for name in program.inputs:
        np.testing.assert_allclose(result.gradient[name], reverse[name])


def test_blocks_and_labels() -> None:
    program = ad.parse("W: [2, 3]\nx: [3]\na: []\ny = a * sum(W @ x)")
    at = {"W": RNG.normal(size=(2, 3)), "x": RNG.normal(size=3), "a": 2.0}
    result = ad.hessian(program, at)
    assert result.labels[:3] == ["W[0,0]", "W[0,1]", "W[0,2]"] and result.labels[-1] == "a"
    assert result.hessian["W"]["x"].shape == (2, 3, 3)
    # d2y/dW[i,j] dx[k] = a if j == k
    np.testing.assert_allclose(result.hessian["W"]["x"], 2.0 * np.broadcast_to(np.eye(3),
                                                                            (2, 3, 3)))
    assert isinstance(result.hessian["a"]["a"], float) and result.hessian["a"]["a"] == 0.0
    assert result.to_dict()["labels"] == result.labels  # JSON-ready


def test_refusals() -> None:
    program = ad.parse("W: [2, 3]\nx: [3]\ny = W @ x")
    at = {"W": np.ones((2, 3)), "x": np.ones(3)}
    with pytest.raises(ad.InputError, match="scalar output"):
        ad.hessian(program, at)
    scalar = ad.parse("x: [3]\ny = sum(x * x)")
    with pytest.raises(ad.InputError, match="one point"):
        ad.hessian(scalar, {"x": np.ones((4, 3))})
    big = ad.parse("x: [3000]\ny = sum(x * x)")
    with pytest.raises(ad.InputError, match="at most"):
        ad.hessian(big, {"x": np.ones(3000)})
    with pytest.raises(ad.ExpressionError, match="not yet supported for tensor programs"):
        ad.hvp_program(scalar)


def test_hvp_is_the_hessian_times_the_vector() -> None:
    program = ad.parse(SOURCES[1])
    at = {name: RNG.normal(size=shape) for name, shape in program.input_shapes.items()}
    vector = {name: RNG.normal(size=shape) for name, shape in program.input_shapes.items()
              if name != "b"}  # a missing input's entry is 0
    result = ad.hvp(program, at, vector)
    h = ad.hessian(program, at)
    flat = np.concatenate([np.ravel(vector.get(n, np.zeros(s)))
                           for n, s in program.input_shapes.items()])
    expected = h.matrix @ flat
    got = np.concatenate([np.ravel(result.hvp[n]) for n in program.inputs])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert result.hvp["W"].shape == (2, 3) and isinstance(result.hvp["a"], float)
