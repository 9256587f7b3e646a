"""Every tensor op, in both modes and traced or not, against central finite differences; and
forward mode agreeing with reverse mode on a grid of points."""

import numpy as np
import pytest
from tensor_programs import SMALL_MLP as MLP

import autodiff_core as ad
from autodiff_core.tensor_ops import TENSOR_OPS
from autodiff_core.testing import check_grads

RNG = np.random.default_rng(13)


def normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


# One or more programs per op; every input a random point (declared shapes).
CASES = {
    "matmul": [
        "A: [2, 3]\nB: [3, 4]\ny = A @ B",
        "A: [2, 3]\nx: [3]\ny = A @ x",
        "x: [3]\nB: [3, 2]\ny = x @ B",
        "x: [3]\nz: [3]\ny = x @ z",
        "A: [4, 2, 3]\nB: [3, 2]\ny = A @ B",  # batch dimensions broadcast
        "A: [2, 1, 2, 3]\nB: [5, 3, 2]\ny = A @ B",
    ],
    "broadcast": [
        "b: [3]\nx: [2, 3]\ny = x + b",
        "a: [5, 1, 3, 1]\nb: [1, 2, 1, 2]\ny = a * b",
        "a\nx: [2, 2]\ny = a * x",
        "c: [2, 1]\nx: [2, 3]\ny = x - c",
    ],
    "sum": ["x: [2, 3]\ny = sum(x)", "x: [2, 3]\ny = sum(x, 0)", "x: [2, 3, 2]\ny = sum(x, -2)"],
    "mean": ["x: [2, 3]\ny = mean(x)", "x: [2, 3]\ny = mean(x, 1)"],
    "transpose": ["x: [2, 3]\ny = transpose(x)", "x: [2, 3, 4]\ny = transpose(x) * 2"],
    "softmax": ["x: [4]\ny = softmax(x)", "x: [2, 3]\ny = softmax(x, 0)"],
    "logsumexp": ["x: [4]\ny = logsumexp(x)", "x: [3, 2]\ny = logsumexp(x, 0)",
                  "x: [2, 3]\ny = logsumexp(x, -1)"],
}


def point_for(program: ad.Program) -> dict[str, np.ndarray]:
    return {name: normal(*shape) for name, shape in program.input_shapes.items()}


def test_every_tensor_op_has_a_case() -> None:
    # reshape: made by derivative programs only (tests/core/test_tensor_derivative.py)
    assert set(CASES) == set(TENSOR_OPS) - {"reshape"}


@pytest.mark.parametrize("source", [s for cases in CASES.values() for s in cases])
def test_tensor_op_matches_finite_differences(source: str) -> None:
    program = ad.parse(source.replace("a\n", "a: []\n"))
    check_grads(program, point_for(program))


def test_check_grads_catches_a_wrong_tensor_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # The helper must be able to fail: matmul's VJP for A without the transpose of B.
    from autodiff_core import tensor_ops

    rule = tensor_ops.TENSOR_RULES["matmul"]
    wrong = (lambda m, c, o, x, y, g: m.matmul(g, y, c.shape, c.shapes[1]), rule.vjp[1])
    monkeypatch.setitem(tensor_ops.TENSOR_RULES, "matmul",
                        tensor_ops.TensorRule(rule.value, rule.jvp, wrong, rule.jvp_text,
                                              rule.vjp_text))
    program = ad.parse("A: [2, 2]\nB: [2, 2]\ny = sum(A @ B * [[1, 2], [3, 4]])")
    with pytest.raises(AssertionError, match="reverse mode"):
        check_grads(program, point_for(program))


LAYER = "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"


SOFTMAX = "x: [3]\nA: [2, 3]\ny = softmax(A @ x) / (1 + sum(x * x))"


@pytest.mark.parametrize("source", [LAYER, MLP, SOFTMAX])
def test_whole_programs_match_finite_differences(source: str) -> None:
    program = ad.parse(source)
    check_grads(program, point_for(program))


def test_forward_and_reverse_agree_on_a_grid() -> None:
    program = ad.parse("W: [2, 3]\nx: [3]\nb: [2]\nh = tanh(W @ x + b)\ny = softmax(h)")
    at = {"W": normal(2, 3), "x": normal(7, 3), "b": normal(2)}  # a grid of 7 points
    rev = ad.reverse(program, at, trace=False).derivatives["y"]
    fwd = ad.forward(program, at, trace=False).derivatives["y"]
    for name, shape in program.input_shapes.items():
        assert rev[name].shape == (7, 2) + shape
        np.testing.assert_allclose(rev[name], fwd[name], atol=1e-12)
        for p in range(7):  # each grid point is that point alone
            alone = ad.reverse(program, {"W": at["W"], "x": at["x"][p], "b": at["b"]},
                               trace=False).derivatives["y"][name]
            np.testing.assert_allclose(rev[name][p], alone, atol=1e-12)


def test_passes_count_elements() -> None:
    program = ad.parse(LAYER)
    at = point_for(program)
    assert len(ad.reverse(program, at).passes) == 1  # a scalar output: one pass
    assert len(ad.forward(program, at).passes) == 6 + 3 + 2  # one per input element
    vector = ad.parse("W: [2, 3]\nx: [3]\ny = W @ x")
    assert len(ad.reverse(vector, point_for(vector)).passes) == 2


def test_directional_seed_and_cotangent() -> None:
    program = ad.parse("W: [2, 3]\nx: [3]\ny = tanh(W @ x)")
    at = point_for(program)
    jac = ad.reverse(program, at).derivatives["y"]  # blocks 2×(2×3) and 2×3
    u = normal(2)
    vjp = ad.reverse(program, at, cotangent={"y": u}).directional
    assert vjp is not None
    np.testing.assert_allclose(vjp["W"], np.einsum("i,ijk->jk", u, jac["W"]))
    np.testing.assert_allclose(vjp["x"], u @ jac["x"])
    v = {"W": normal(2, 3), "x": normal(3)}
    jvp = ad.forward(program, at, seed=v).directional
    assert jvp is not None
    np.testing.assert_allclose(jvp["y"], np.einsum("ijk,jk->i", jac["W"], v["W"])
                               + jac["x"] @ v["x"])


def test_wrt_leaves_the_data_alone() -> None:
    program = ad.parse(MLP)
    at = point_for(program)
    full = ad.reverse(program, at, trace=False).derivatives["loss"]
    some = ad.reverse(program, at, trace=False, wrt=["W1", "b2"]).derivatives["loss"]
    assert set(some) == {"W1", "b2"}
    np.testing.assert_allclose(some["W1"], full["W1"])
    fwd = ad.forward(program, at, trace=False, wrt="b2")
    assert len(fwd.passes) == 3
    np.testing.assert_allclose(fwd.derivatives["loss"]["b2"], full["b2"])
    scalar = ad.reverse(ad.parse("y = x * w"), {"x": 2.0, "w": 3.0}, wrt=["w"])
    assert scalar.derivatives == {"y": {"w": 2.0}}


ELEMENTWISE = {
    "add": "x + z", "sub": "x - z", "mul": "x * z", "div": "x / z", "neg": "-x",
    "pow": "x ** z", "exp": "exp(x)", "log": "log(x)", "sin": "sin(x)", "cos": "cos(x)",
    "tan": "tan(x)", "tanh": "tanh(x)", "sigmoid": "sigmoid(x)", "relu": "relu(x - 1)",
    "abs": "abs(x - 1)", "sqrt": "sqrt(x)", "max": "max(x, z)", "min": "min(x, z)",
    "sign": "sign(x - 1) * x", "step": "step(x - 1) * x",
}


@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_every_elementwise_op_on_tensors_with_broadcasting(op: str) -> None:
    # x: 2×3 and z: 3 (broadcast to 2×3 by a node of its own), away from kinks and ties
    program = ad.parse(f"x: [2, 3]\nz: [3]\ny = sum(({ELEMENTWISE[op]}) * [1, 2, 3])")
    assert op in {n.op for n in program.nodes}
    at = {"x": np.array([[0.5, 1.7, 0.3], [1.2, 0.8, 2.5]]), "z": np.array([0.9, 1.3, 1.1])}
    check_grads(program, at)
