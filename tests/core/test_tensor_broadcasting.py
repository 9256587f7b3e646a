"""Broadcasting, batched matmul and reductions: the cases minitorch's and CMU needle's tests use.

Each case runs in our engine (values, reverse and forward gradients of a scalar made from the
result) and in PyTorch (float64) and must agree. Shapes that do not fit are refused when the
program is parsed, at the line and column of the expression, with both shapes in the message;
a value of the wrong shape in `at` is refused naming the input.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_core as ad

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

RTOL, ATOL = 1e-9, 1e-11


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"


def declare(shapes: dict[str, tuple[int, ...]]) -> str:
    return "\n".join(f"{name}: {list(shape)}" for name, shape in shapes.items())


def agree_with_torch(source: str, shapes: dict[str, tuple[int, ...]], torch_fn,
                     seed: int = 0) -> ad.Result:
    """`y` (a scalar) and its gradient wrt every input, in both modes, against torch."""
    rng = np.random.default_rng(seed)
    at = {name: rng.uniform(-1.0, 1.0, shape) for name, shape in shapes.items()}
    program = ad.parse(declare(shapes) + "\n" + source)
    env = {n: torch.tensor(v, requires_grad=True) for n, v in at.items()}
    y = torch_fn(**env)
    grads = torch.autograd.grad(y, list(env.values()))
    results = [ad.reverse(program, at, trace=t) for t in (False, True)]
    results += [ad.forward(program, at, trace=t) for t in (False, True)]
    for result in results:
        np.testing.assert_allclose(result.values["y"], y.item(), rtol=RTOL, atol=ATOL)
        for name, grad in zip(env, grads, strict=True):
            ours = np.asarray(result.derivatives["y"][name])
            assert ours.shape == shapes[name], (result.mode, name, ours.shape)
            np.testing.assert_allclose(ours, grad.numpy(), rtol=RTOL, atol=ATOL,
                                       err_msg=f"{result.mode}: dy/d{name}")
    return results[1]  # the traced reverse result


def refusal(source: str) -> ad.ExpressionError:
    with pytest.raises(ad.ExpressionError) as caught:
        ad.parse(source)
    return caught.value


# --- broadcasting -------------------------------------------------------------------------------


def test_one_element_plus_a_matrix() -> None:
    """(1,) + (5, 5): the adjoint of a is the sum of all 25 entries' adjoints, shape (1,)."""
    result = agree_with_torch("y = sum(tanh(a + b) * b)", {"a": (1,), "b": (5, 5)},
                              lambda a, b: torch.sum(torch.tanh(a + b) * b))
    program = ad.parse("a: [1]\nb: [5, 5]\ny = sum(tanh(a + b) * b)")
    broadcasts = [n for n in program.nodes if n.op == "broadcast"]
    assert [n.shape for n in broadcasts] == [(5, 5)]
    # broadcasting's adjoint (a sum over the broadcast axes) is a step of its own
    steps = [s for p in result.passes for s in p.steps if s.node == broadcasts[0].ref]
    assert [s.op for s in steps] == ["broadcast"]
    assert "sum" in " ".join([steps[0].formula] + [c.formula for c in steps[0].contributions])


def test_two_shapes_that_both_broadcast() -> None:
    """(5, 1, 5, 1) + (1, 5, 1, 5): each operand grows along the other's axes."""
    agree_with_torch("y = sum(sin(a + b) * (a - b))", {"a": (5, 1, 5, 1), "b": (1, 5, 1, 5)},
                     lambda a, b: torch.sum(torch.sin(a + b) * (a - b)))


@pytest.mark.parametrize("small", [(), (4,), (1, 4), (3, 1), (2, 1, 4), (2, 3, 4)])
def test_every_partner_of_a_3_by_4(small: tuple[int, ...]) -> None:
    agree_with_torch("y = sum(exp(a * b) / (1 + b^2))", {"a": (3, 4), "b": small},
                     lambda a, b: torch.sum(torch.exp(a * b) / (1 + b ** 2)))


def test_shapes_that_do_not_broadcast_are_refused_at_line_and_column() -> None:
    """(5, 2) with (5,): the trailing axes 2 and 5 differ."""
    error = refusal("a: [5, 2]\nb: [5]\ny = a + b")
    assert (error.line, error.column) == (3, 5)
    assert "5×2" in error.message and "do not broadcast" in error.message
    assert "shapes 5×2 and 5 " in error.message, error.message


@pytest.mark.parametrize("source", ["y = a * b", "y = max(a, b)", "y = a - b + 1"])
def test_every_elementwise_operation_checks_shapes(source: str) -> None:
    error = refusal("a: [5, 2]\nb: [5]\n" + source)
    assert error.line == 3 and "5×2" in error.message


# --- matmul -------------------------------------------------------------------------------------


MATMULS = [
    ((3,), (3,)),  # a dot product: a scalar
    ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
    ((2, 3, 4), (4, 5)),  # batched left, one matrix right
    ((3, 4), (2, 4, 5)),  # one matrix left, batched right
    ((1, 3, 4), (2, 4, 5)),  # batch axes broadcast: 1 with 2
    ((2, 1, 3, 4), (1, 3, 4, 2)),  # two batch axes, each broadcast from one side
    ((4,), (2, 4, 5)), ((2, 3, 4), (4,)),  # 1-D operands promoted, batched partner
    ((6, 6, 5, 4), (4, 3)), ((5, 4), (6, 6, 4, 3)), ((6, 6, 5, 4), (6, 6, 4, 3)),  # needle's
]


@pytest.mark.parametrize(("left", "right"), MATMULS, ids=lambda s: shape_text(s))
def test_matmul(left: tuple[int, ...], right: tuple[int, ...]) -> None:
    expected = np.matmul(np.zeros(left), np.zeros(right)).shape
    program = ad.parse(f"A: {list(left)}\nB: {list(right)}\nC = A @ B\ny = sum(C)")
    assert program.shape("C") == expected
    agree_with_torch("C = A @ B\ny = sum(tanh(C) * C)", {"A": left, "B": right},
                     lambda A, B: torch.sum(torch.tanh(A @ B) * (A @ B)))


def test_matmul_refuses_inner_dimensions_that_differ() -> None:
    error = refusal("W: [2, 3]\nx: [2]\nh = W @ x")
    assert (error.line, error.column) == (3, 5)
    assert "2×3 @ 2" in error.message and "3 and 2 differ" in error.message, error.message


@pytest.mark.parametrize(("left", "right"), [((2, 3, 4), (3, 4, 5)), ((), (2, 3))])
def test_matmul_refuses_batches_that_do_not_broadcast_and_scalars(left, right) -> None:
    error = refusal(f"A: {list(left)}\nB: {list(right)}\nC = A @ B")
    assert error.line == 3
    assert shape_text(left) in error.message and shape_text(right) in error.message, \
        error.message


# --- reductions ---------------------------------------------------------------------------------


AXES = [None, 0, 1, 2, -1, -2, -3]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("fn", ["sum", "mean", "softmax", "logsumexp"])
def test_reduction_over_each_axis(fn: str, axis: int | None) -> None:
    call = f"{fn}(x)" if axis is None else f"{fn}(x, {axis})"
    default = {"sum": None, "mean": None, "softmax": -1, "logsumexp": -1}[fn]
    dim = default if axis is None else axis

    def theirs(x, w):
        r = getattr(torch, fn)(x) if dim is None else getattr(torch, fn)(x, dim=dim)
        return torch.sum(torch.sin(r) * w)

    shape = (2, 3, 4)
    reduced = np.zeros(shape).sum(axis=dim).shape if fn != "softmax" else shape
    program = ad.parse(f"x: {list(shape)}\nr = {call}")
    assert program.shape("r") == reduced
    agree_with_torch(f"r = {call}\ny = sum(sin(r) * w)", {"x": shape, "w": reduced}, theirs)


@pytest.mark.parametrize("fn", ["sum", "mean", "softmax", "logsumexp"])
def test_an_axis_out_of_range_is_refused(fn: str) -> None:
    error = refusal(f"x: [2, 3]\ny = {fn}(x, 2)")
    assert error.line == 2 and "2×3" in error.message, error.message


def test_transpose_reverses_the_axes() -> None:
    assert ad.parse("x: [2, 3, 4]\ny = transpose(x)").shape("y") == (4, 3, 2)
    agree_with_torch("y = sum(transpose(x) * w)", {"x": (2, 3, 4), "w": (4, 3, 2)},
                     lambda x, w: torch.sum(x.permute(2, 1, 0) * w))


# --- values in `at` -----------------------------------------------------------------------------


PROGRAM = "W: [2, 3]\nx: [3]\ny = sum(tanh(W @ x))"


@pytest.mark.parametrize(("value", "got"), [
    (np.zeros((3, 2)), "3×2"), (np.zeros(3), "3"), (np.zeros((2, 4)), "2×4"),
    (1.0, "a scalar"), (np.zeros((5, 3, 2)), "5×3×2"),
])
def test_a_value_of_the_wrong_shape_is_refused_naming_the_input(value, got: str) -> None:
    with pytest.raises(ad.InputError) as caught:
        ad.reverse(ad.parse(PROGRAM), {"W": value, "x": np.ones(3)})
    message = str(caught.value)
    assert message.startswith("W: expected a 2×3 array"), message
    assert f"got {got}" in message, message


def test_extra_leading_axes_make_a_grid_of_points() -> None:
    program = ad.parse(PROGRAM)
    rng = np.random.default_rng(5)
    W, x = rng.normal(size=(4, 2, 3)), rng.normal(size=3)
    result = ad.reverse(program, {"W": W, "x": x}, trace=False)
    assert np.shape(result.values["y"]) == (4,)
    assert np.shape(result.derivatives["y"]["W"]) == (4, 2, 3)
    assert np.shape(result.derivatives["y"]["x"]) == (4, 3)
    for k in range(4):
        one = ad.reverse(program, {"W": W[k], "x": x}, trace=False)
        np.testing.assert_allclose(result.derivatives["y"]["W"][k], one.derivatives["y"]["W"])
        np.testing.assert_allclose(result.derivatives["y"]["x"][k], one.derivatives["y"]["x"])
