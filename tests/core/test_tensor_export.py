"""`to_torch()` and `to_jax()` of tensor programs: the exported code's autograd gives the
engine's gradients (an independent check of the rules, and what a notebook user runs)."""

import numpy as np
import pytest
from tensor_programs import SMALL_MLP

import autodiff_core as ad

SOURCES = [
    SMALL_MLP,
    "W: [2, 3]\nx: [3]\nb: [2]\nc: []\n"
    "y = sum(tanh(W @ x + b) * c) + sum(softmax(x, 0) * [1, 2, 3])",
    "A: [2, 2, 3]\nB: [3, 2]\ny = mean(transpose(A @ B) ^ 2) + sum(logsumexp(sum(A, 1)))",
]


def point(program: ad.Program) -> dict:
    rng = np.random.default_rng(3)
    return {name: rng.normal(size=shape) for name, shape in program.input_shapes.items()}


def load(code: str) -> object:
    namespace: dict = {}
    exec(compile(code, "<export>", "exec"), namespace)  # code we generated, not user input
    return namespace["program"]


@pytest.mark.parametrize("source", SOURCES)
def test_torch_autograd_gives_our_gradient(source: str) -> None:
    torch = pytest.importorskip("torch")
    program = ad.parse(source)
    at = point(program)
    out = next(iter(program.outputs))
    fn = load(program.to_torch())
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in at.items()}
    value = fn(**tensors)[out]
    value.backward()
    ours = ad.reverse(program, at, trace=False)
    assert float(value.detach()) == pytest.approx(ours.values[out], rel=1e-12)
    for name in program.inputs:
        np.testing.assert_allclose(tensors[name].grad.numpy(), ours.derivatives[out][name],
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("source", SOURCES)
def test_jax_autograd_gives_our_gradient(source: str) -> None:
    jax = pytest.importorskip("jax")
    program = ad.parse(source)
    at = point(program)
    out = next(iter(program.outputs))
    fn = load(program.to_jax())
    grads = jax.grad(lambda inputs: fn(**inputs)[out])({k: np.asarray(v) for k, v in at.items()})
    ours = ad.reverse(program, at, trace=False).derivatives[out]
    for name in program.inputs:
        np.testing.assert_allclose(np.asarray(grads[name]), ours[name], rtol=1e-10, atol=1e-12)


def test_micrograd_has_no_tensors() -> None:
    from autodiff_core.export import to_micrograd

    with pytest.raises(ad.ExpressionError, match="export to micrograd"):
        to_micrograd(ad.parse("x: [2]\ny = sum(x)"))
