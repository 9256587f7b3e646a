"""A grid of points is each point alone: values, gradients (reverse, traced or not) and
Jacobian blocks (forward) of tensor programs on grids of several ranks, including batched
matmuls and broadcasting, where a grid axis must never meet a tensor axis."""

import numpy as np
import pytest

import autodiff_core as ad

RNG = np.random.default_rng(21)

PROGRAMS = [
    "A: [2, 2, 3]\nB: [3, 2]\ny = sum(tanh(A @ B))",
    "A: [3]\nB: [2, 3, 2]\ny = sum(A @ B * 2)",
    "x: [3]\nW: [2, 3]\nb: [2]\ny = logsumexp(W @ x + b) + mean(softmax(x))",
    "a: [5, 1, 3, 1]\nb: [1, 2, 1, 2]\ny = sum(a * b, 1)",
    "x: [2, 3]\nc: []\ny = (x * c) @ transpose(x) + [[1, 0], [0, 1]]",
    "v: [4]\nw: [4]\ny = v @ w + sum(exp(-v * w))",
]


@pytest.mark.parametrize("source", PROGRAMS)
@pytest.mark.parametrize("grids", [((3,), (3,)), ((2, 1), (4,)), ((), (2, 3))])
def test_a_grid_is_each_point_alone(source: str, grids: tuple) -> None:
    program = ad.parse(source)
    names = list(program.inputs)
    # the first input on one grid, the second on another (they broadcast), the rest points
    at = {}
    for k, (name, shape) in enumerate(program.input_shapes.items()):
        grid = grids[k] if k < 2 else ()
        at[name] = RNG.normal(size=grid + shape)
    grid_shape = np.broadcast_shapes(*grids)
    out = next(iter(program.outputs))
    rev = ad.reverse(program, at, trace=False)
    traced = ad.reverse(program, at)
    fwd = ad.forward(program, at, trace=False)
    for index in np.ndindex(*grid_shape):
        alone_at = {}
        for k, name in enumerate(names):
            grid = grids[k] if k < 2 else ()
            value = np.broadcast_to(at[name], grid_shape + program.input_shapes[name]) \
                if grid else at[name]
            alone_at[name] = value[index] if grid else value
        alone = ad.reverse(program, alone_at, trace=False)
        np.testing.assert_allclose(rev.values[out][index], alone.values[out], atol=1e-12)
        for name in names:
            expected = alone.derivatives[out][name]
            np.testing.assert_allclose(rev.derivatives[out][name][index], expected, atol=1e-12)
            np.testing.assert_allclose(traced.derivatives[out][name][index], expected,
                                       atol=1e-12)
            np.testing.assert_allclose(fwd.derivatives[out][name][index], expected,
                                       atol=1e-12)


def test_an_undefined_grid_point_is_nan_in_both_modes() -> None:
    # transpose's value is undefined at grid point 1 (log(-1)): every derivative there is NaN,
    # the other point is untouched, in forward mode as in reverse
    program = ad.parse("x: [2, 3]\ny = transpose(log(x)) * 2")
    x = np.ones((2, 2, 3))
    x[1, 0, 1] = -1.0
    fwd = ad.forward(program, {"x": x}, trace=False).derivatives["y"]["x"]
    rev = ad.reverse(program, {"x": x}, trace=False).derivatives["y"]["x"]
    assert fwd.shape == rev.shape == (2, 3, 2, 2, 3)
    assert np.isnan(fwd[1]).all() and np.isnan(rev[1]).all()
    np.testing.assert_allclose(fwd[0], rev[0])
    assert not np.isnan(fwd[0]).any()
