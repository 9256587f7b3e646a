"""Every primitive of the op table, in both modes, against central finite differences."""

import pytest

import autodiff_core as ad
from autodiff_core.tensor_ops import TENSOR_OPS
from autodiff_core.testing import check_grads

# One program per op and a few points away from its kinks and outside its domain edges.
CASES = {
    "add": ("y = x + z", [{"x": 0.3, "z": -1.2}, {"x": 2.0, "z": 5.0}]),
    "sub": ("y = x - z", [{"x": 0.3, "z": -1.2}, {"x": -2.0, "z": 5.0}]),
    "mul": ("y = x * z", [{"x": 0.3, "z": -1.2}, {"x": 2.0, "z": 5.0}]),
    "div": ("y = x / z", [{"x": 0.3, "z": -1.2}, {"x": 2.0, "z": 0.5}]),
    "neg": ("y = -x", [{"x": 0.3}, {"x": -4.0}]),
    "pow": ("y = x ** z", [{"x": 0.7, "z": 2.5}, {"x": 3.0, "z": -1.5}]),
    "exp": ("y = exp(x)", [{"x": 0.3}, {"x": -2.0}, {"x": 3.0}]),
    "log": ("y = log(x)", [{"x": 0.3}, {"x": 7.0}]),
    "sin": ("y = sin(x)", [{"x": 0.3}, {"x": -2.0}, {"x": 10.0}]),
    "cos": ("y = cos(x)", [{"x": 0.3}, {"x": -2.0}, {"x": 10.0}]),
    "tan": ("y = tan(x)", [{"x": 0.3}, {"x": -1.0}, {"x": 4.0}]),
    "tanh": ("y = tanh(x)", [{"x": 0.3}, {"x": -2.0}]),
    "sigmoid": ("y = sigmoid(x)", [{"x": 0.3}, {"x": -4.0}, {"x": 30.0}]),
    "relu": ("y = relu(x)", [{"x": 0.3}, {"x": -2.0}]),
    "abs": ("y = abs(x)", [{"x": 0.3}, {"x": -2.0}]),
    "sqrt": ("y = sqrt(x)", [{"x": 0.3}, {"x": 9.0}]),
    "max": ("y = max(x, z)", [{"x": 0.3, "z": -1.0}, {"x": -2.0, "z": 1.0}]),
    "min": ("y = min(x, z)", [{"x": 0.3, "z": -1.0}, {"x": -2.0, "z": 1.0}]),
    "sign": ("y = sign(x) * x", [{"x": 0.3}, {"x": -2.0}]),
    "step": ("y = step(x) * x", [{"x": 0.3}, {"x": -2.0}]),
}


def test_every_op_has_a_case() -> None:
    # guard: derivative programs only; the tensor ops: tests/core/test_tensor_ops.py
    assert set(CASES) | {"guard"} | set(TENSOR_OPS) == set(ad.OPS)


@pytest.mark.parametrize("op", sorted(CASES))
def test_op_matches_finite_differences(op: str) -> None:
    source, points = CASES[op]
    program = ad.parse(source)
    assert op in {node.op for node in program.nodes}
    for at in points:
        check_grads(program, at)


def test_check_grads_catches_a_wrong_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # The helper must be able to fail: break sin's rule (cos -> sin) and it notices.
    sin = ad.OPS["sin"]
    broken = type(sin)(**{**{f: getattr(sin, f) for f in sin.__dataclass_fields__},
                          "partials": (lambda m, o, x: m.sin(x),)})
    monkeypatch.setitem(ad.OPS, "sin", broken)
    with pytest.raises(AssertionError, match="forward mode"):
        check_grads("y = sin(x)", {"x": 0.3})
