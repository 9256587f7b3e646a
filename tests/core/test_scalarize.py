"""scalarize: the scalar graph of a small tensor program computes the same thing.

The independent check: the scalar program, run by the scalar engine (no tensor rule in it),
gives the tensor program's values and gradients element by element, and numpy written by
hand agrees with both.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_core as ad
from autodiff_core.scalarize import MAX_SCALAR_NODES, scalar_point, scalar_size, scalarize

LAYER = "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"
TOLERANCE = dict(rtol=1e-12, atol=1e-12)
rng = np.random.default_rng(13)


def random_point(program: ad.Program) -> dict[str, np.ndarray]:
    return {name: rng.uniform(-1.5, 1.5, program.input_shapes[name])
            for name in program.inputs}


def gathered(program: ad.Program, small: ad.Program, at: dict[str, np.ndarray],
             output: str) -> dict[str, np.ndarray]:
    """The scalar program's gradient of `output`, put back into each input's shape."""
    result = ad.reverse(small, scalar_point(program, at), cotangent=output, trace=False)
    grads = {}
    for name in program.inputs:
        shape = program.input_shapes[name]
        grad = np.zeros(shape)
        for index in np.ndindex(shape):
            label = f"{name}[{','.join(map(str, index))}]" if shape else name
            grad[index] = result.derivatives[output][label]
        grads[name] = grad
    return grads


def test_a_layer_expands_into_labelled_elements() -> None:
    program = ad.parse(LAYER)
    small = scalarize(program)
    assert list(small.inputs) == [f"W[{i},{j}]" for i in range(2) for j in range(3)] + [
        "x[0]", "x[1]", "x[2]", "b[0]", "b[1]"]
    assert list(small.outputs) == ["y"]
    assert all(node.shape == () for node in small.nodes) and not small.is_tensor
    labels = {small.label(n.id) for n in small.nodes if n.name}
    assert {"W[0,1]", "b[1]", "y"} <= labels
    assert len(small.nodes) == scalar_size(program)


def test_the_layers_gradient_is_the_outer_product_element_by_element() -> None:
    program = ad.parse(LAYER)
    small = scalarize(program)
    at = random_point(program)
    grads = gathered(program, small, at, "y")
    tensor = ad.reverse(program, at, trace=False).derivatives["y"]
    # by hand: y = Σ tanh(z), z = W x + b, so v̄z = 1 - tanh(z)², v̄W = v̄z xᵀ, v̄x = Wᵀ v̄z
    z = at["W"] @ at["x"] + at["b"]
    z_bar = 1 - np.tanh(z) ** 2
    expected = {"W": np.outer(z_bar, at["x"]), "x": at["W"].T @ z_bar, "b": z_bar}
    for name in program.inputs:
        np.testing.assert_allclose(grads[name], expected[name], **TOLERANCE)
        np.testing.assert_allclose(tensor[name], expected[name], **TOLERANCE)


def test_a_2x2_matmul_is_its_multiply_adds() -> None:
    program = ad.parse("A: [2, 2]\nB: [2, 2]\nC = A @ B")
    small = scalarize(program)
    ops = [node.op for node in small.nodes]
    assert ops.count("mul") == 8 and ops.count("add") == 4 and len(ops) == 8 + 8 + 4
    assert list(small.outputs) == ["C[0,0]", "C[0,1]", "C[1,0]", "C[1,1]"]
    at = random_point(program)
    values = ad.evaluate(small, scalar_point(program, at))
    product = at["A"] @ at["B"]
    for i, j in np.ndindex(2, 2):
        assert values[f"C[{i},{j}]"] == pytest.approx(product[i, j], abs=1e-14)
    # C[0,1] = A[0,0]·B[0,1] + A[0,1]·B[1,1]: the adds read the products of one row and column
    c01 = small.nodes[small.outputs["C[0,1]"]]
    products = [small.nodes[a] for a in c01.args]
    factors = {tuple(sorted(small.label(f) for f in p.args)) for p in products}
    assert factors == {("A[0,0]", "B[0,1]"), ("A[0,1]", "B[1,1]")}


PROGRAMS = [
    # broadcasting (its adjoint a sum), reductions over each axis, transpose, softmax
    "A: [3, 2]\nb: [2]\ny = sum((A + b) * (A - b))",
    "A: [2, 3]\nc: [2, 1]\ny = mean(sin(A * c), 0)",
    "A: [2, 3]\ny = sum(exp(transpose(A)) @ A, 1)",
    "x: [4]\nt: [4]\ny = sum(softmax(x) * t)",
    "L: [3, 2]\ny = mean(logsumexp(L, 1) - sum(L, 1))",
    "a: [2]\ns = 2\ny = sum(s * a / (1 + a * a))",
    "X: [2, 2, 2]\nW: [2, 3]\ny = sum(tanh(X @ W))",
    "X: [3, 2]\nW1: [2, 3]\nb1: [3]\nw2: [3]\nh = relu(X @ W1 + b1)\ny = mean(sigmoid(h @ w2))",
]


@pytest.mark.parametrize("source", PROGRAMS)
def test_scalar_graph_gives_the_tensor_programs_values_and_gradients(source: str) -> None:
    program = ad.parse(source)
    small = scalarize(program)
    at = random_point(program)
    tensor = ad.reverse(program, at, trace=False)
    scalar_values = ad.evaluate(small, scalar_point(program, at))
    for output, i in program.outputs.items():
        shape = program.shape(i)
        value = np.asarray(tensor.values[output])
        for index in np.ndindex(shape):
            label = f"{output}[{','.join(map(str, index))}]" if shape else output
            assert scalar_values[label] == pytest.approx(float(value[index]), rel=1e-12, abs=1e-12)
        if shape == ():
            grads = gathered(program, small, at, output)
            for name in program.inputs:
                np.testing.assert_allclose(grads[name], tensor.derivatives[output][name],
                                           **TOLERANCE)


def test_forward_mode_on_the_scalar_graph_agrees() -> None:
    program = ad.parse(PROGRAMS[0])
    small = scalarize(program)
    at = random_point(program)
    tensor = ad.reverse(program, at, trace=False).derivatives["y"]
    forward = ad.forward(small, scalar_point(program, at), seed="A[2,1]", trace=False)
    assert forward.derivatives["y"]["A[2,1]"] == pytest.approx(tensor["A"][2, 1], rel=1e-12)


def test_a_scalar_program_is_its_own_scalar_graph() -> None:
    program = ad.parse("x = 3*w; y = 2*x^2 + 4")
    small = scalarize(program)
    assert list(small.inputs) == ["w"] and len(small.nodes) == len(program.nodes)
    assert ad.reverse(small, {"w": 1.0}).derivatives == {"y": {"w": 36.0}}


def test_too_big_is_refused_before_anything_is_built() -> None:
    program = ad.parse("A: [20, 20]\nB: [20, 20]\ny = sum(A @ B)")
    assert scalar_size(program) > MAX_SCALAR_NODES
    with pytest.raises(ad.ExpressionError) as caught:
        scalarize(program)
    assert caught.value.limit == "max_scalar_nodes"
    assert f"{scalar_size(program)} nodes" in caught.value.message
    assert f"up to {MAX_SCALAR_NODES}" in caught.value.message
    scalarize(ad.parse("A: [2, 2]\ny = sum(A)"), max_nodes=7)
    with pytest.raises(ad.ExpressionError):
        scalarize(ad.parse("A: [2, 2]\ny = sum(A)"), max_nodes=6)


def test_a_point_of_the_wrong_shape_names_the_input() -> None:
    program = ad.parse(LAYER)
    at = random_point(program)
    at["W"] = at["W"].T
    with pytest.raises(ad.InputError, match=r"^W: expected a 2×3 array at a single point, got a 3×2"
                       ):
        scalar_point(program, at)
