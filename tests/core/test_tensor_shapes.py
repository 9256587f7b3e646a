"""Tensor program text: declarations, literals, shapes inferred at parse time, shape errors
with line, column and both shapes, explicit broadcast nodes, limits, and values at a point or
on a grid (with the wrong shapes refused, naming the input)."""

import numpy as np
import pytest

import autodiff_core as ad

LAYER = "W: [2, 3]\nx: [3]\nb: [2]\nh = tanh(W @ x + b)\ny = sum(h * h)"


def test_declarations_and_inferred_shapes() -> None:
    p = ad.parse(LAYER)
    assert p.input_shapes == {"W": (2, 3), "x": (3,), "b": (2,)}
    assert p.is_tensor and p.shape("h") == (2,) and p.shape("y") == ()
    assert [n.shape for n in p.nodes if n.op == "matmul"] == [(2,)]
    graph = p.to_dict()
    assert graph["nodes"][0]["shape"] == [2, 3]
    assert graph["nodes"][-1]["shape"] == []


def test_scalar_programs_are_not_tensor_programs() -> None:
    p = ad.parse("x = 3*w; y = 2*x^2 + 4")
    assert not p.is_tensor and p.input_shapes == {"w": ()}
    assert all(n.shape == () and n.params is None for n in p.nodes)


def test_literals_are_constants() -> None:
    p = ad.parse("x: [2]\ny = [[1, 0], [0, -2]] @ x + [1, pi]")
    consts = [n for n in p.nodes if n.op == "const"]
    assert [c.shape for c in consts] == [(2, 2), (2,)]
    np.testing.assert_array_equal(consts[0].value, [[1, 0], [0, -2]])
    assert p.to_dict()["nodes"][consts[0].id]["value"] == [[1.0, 0.0], [0.0, -2.0]]
    assert ad.evaluate(p, {"x": [1.0, 1.0]})["y"].tolist() == pytest.approx([2, -2 + np.pi])


def test_broadcasting_an_active_operand_is_a_node_of_its_own() -> None:
    p = ad.parse("x: [2, 3]\nb: [3]\ny = x + b; z = 2 * x")
    ops = [n.op for n in p.nodes]
    assert ops.count("broadcast") == 1  # b's; the constant 2 broadcasts implicitly
    node = next(n for n in p.nodes if n.op == "broadcast")
    assert node.params == {"shape": (2, 3)} and node.shape == (2, 3)
    assert p.nodes[node.args[0]].name == "b"


@pytest.mark.parametrize(("source", "line", "column", "message"), [
    ("W: [2, 3]\nx: [2]\ny = W @ x", 3, 5, "W @ x: 2×3 @ 2, the inner dimensions 3 and 2 differ"),
    ("a: [5, 2]\nb: [5]\nc = a + b", 3, 5, "a + b: shapes 5×2 and 5 do not broadcast"),
    ("x: [2, 3]\ny = sum(x, 2)", 2, 5, "axis 2 is out of range for shape 2×3"),
    ("x: [2, 3]\ny = softmax(x, -3)", 2, 5, "axis -3 is out of range"),
    ("a\nx: [3]\ny = a @ x", 3, 5, "the left operand is a scalar"),
    ("A: [2, 2, 3]\nB: [3, 3, 1]\ny = A @ B", 3, 5, "the batch dimensions 2 and 3 do not"),
    ("x: [2]\nx: [2]\ny = x", 2, 1, "declare an input once"),
    ("y = 2 * x\nx: [2]", 2, 1, "before this declaration"),
    ("x: [2]\nx = 3", 1, 1, "declared as an input but assigned on line 2"),
    ("x: [2, 0]\ny = x", 1, 8, "positive whole number"),
    ("x: (2, 3)\ny = x", 1, 4, "a list of sizes"),
    ("x: [2] = 3", 1, 1, "a declaration gives a shape only"),
    ("y = [[1, 2], [3]]", 1, 5, "the same length"),
    ("y = [x, 1]", 1, 6, "numbers only"),
    ("x: [3]\ny = sum(x, 0.5)", 2, 12, "whole number"),
    ("x: [3]\ny = sum(x, 0, 1)", 2, 5, "takes an array and, optionally, an axis"),
])
def test_shape_errors_say_what_and_where(source: str, line: int, column: int,
                                         message: str) -> None:
    with pytest.raises(ad.ExpressionError) as caught:
        ad.parse(source.replace("a\n", "a: []\n"))
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)


@pytest.mark.parametrize("source", ["x: [" + ", ".join(["1"] * 100) + "]\ny = x + 1",
                                    "y = " + "[" * 150 + "1" + "]" * 150])
def test_too_many_axes_are_refused(source: str) -> None:
    with pytest.raises(ad.ExpressionError) as caught:
        ad.parse(source)
    assert caught.value.limit == "max_tensor_axes"
    assert "at most 8 axes" in caught.value.message


def test_too_many_grid_axes_are_refused() -> None:
    p = ad.parse("x: [2, 2]\ny = sum(x)")
    with pytest.raises(ad.InputError, match="grids have 40 axes"):
        ad.evaluate(p, {"x": np.ones((1,) * 40 + (2, 2))})


def test_a_huge_declaration_is_refused_before_any_allocation() -> None:
    with pytest.raises(ad.ExpressionError) as caught:
        ad.parse("W: [100000, 100000]\ny = sum(W)")
    assert caught.value.limit == "max_tensor_elements"
    assert "100000×100000" in caught.value.message
    small = ad.Limits(max_tensor_elements=100, max_total_elements=250)
    with pytest.raises(ad.ExpressionError, match="max_total_elements"):
        ad.parse("x: [100]\ny = x * x\nz = y * y", limits=small)


def test_reductions_and_their_axes() -> None:
    p = ad.parse("x: [2, 3, 4]\na = sum(x, 1); b = mean(x, -1); c = softmax(x); "
                 "d = logsumexp(x, 0); e = transpose(x); f = sum(x)")
    assert [p.shape(n) for n in "abcdef"] == [(2, 4), (2, 3), (2, 3, 4), (3, 4), (4, 3, 2), ()]
    assert p.nodes[p.names["b"]].params == {"axis": 2}  # stored non-negative
    assert p.nodes[p.names["c"]].params == {"axis": 2}  # softmax: the last axis by default
    assert p.nodes[p.names["f"]].params == {"axis": None}  # sum: every axis
    assert p.expression(p.names["a"]) == f"sum(v{p.inputs['x']}, 1)"


def test_values_at_a_point() -> None:
    p = ad.parse(LAYER)
    rng = np.random.default_rng(1)
    at = {"W": rng.normal(size=(2, 3)), "x": rng.normal(size=3).tolist(), "b": [0.5, -0.5]}
    values = ad.evaluate(p, at)
    h = np.tanh(at["W"] @ np.array(at["x"]) + at["b"])
    np.testing.assert_allclose(values["h"], h)
    assert isinstance(values["y"], float) and values["y"] == pytest.approx(float(h @ h))


def test_values_on_a_grid_carry_leading_axes() -> None:
    p = ad.parse(LAYER)
    rng = np.random.default_rng(2)
    W = rng.normal(size=(4, 1, 2, 3))  # grid 4×1 ...
    x = rng.normal(size=(5, 3))  # ... with grid 5: together 4×5
    b = np.zeros(2)
    values = ad.evaluate(p, {"W": W, "x": x, "b": b})
    assert values["h"].shape == (4, 5, 2) and values["y"].shape == (4, 5)
    np.testing.assert_allclose(values["h"][3, 2], np.tanh(W[3, 0] @ x[2]))


@pytest.mark.parametrize(("at", "message"), [
    ({"W": np.zeros((3, 2)), "x": np.zeros(3)}, "W: expected a 2×3 array (or a grid of them), "
                                                "got 3×2"),
    ({"W": np.zeros((2, 3)), "x": 1.0}, "x: expected a vector of 3 (or a grid of them), got a "
                                        "scalar"),
    ({"W": np.zeros((4, 2, 3)), "x": np.zeros((5, 3))}, "do not broadcast"),
    ({"W": [[1, 2, 3], [4, 5]], "x": np.zeros(3)}, "W: the value is not"),
    ({"W": np.full((2, 3), np.inf), "x": np.zeros(3)}, "must be finite"),
])
def test_wrong_values_are_refused_naming_the_input(at: dict, message: str) -> None:
    p = ad.parse("W: [2, 3]\nx: [3]\ny = W @ x")
    with pytest.raises(ad.InputError) as caught:
        ad.evaluate(p, at)
    assert message in str(caught.value)


def test_undefined_value_at_a_point_names_the_node_and_element() -> None:
    p = ad.parse("x: [3]\ny = sum(log(x))")
    with pytest.raises(ad.EvaluationError) as caught:
        ad.evaluate(p, {"x": [1.0, -1.0, 2.0]})
    assert caught.value.node == "v1" and "element [1]" in caught.value.message
    grid = ad.reverse(p, {"x": [[1.0, -1.0, 2.0], [1.0, 2.0, 3.0]]})
    assert np.isnan(grid.values["y"][0]) and grid.values["y"][1] == pytest.approx(np.log(6))
    assert np.isnan(grid.derivatives["y"]["x"][0, 1])
    np.testing.assert_allclose(grid.derivatives["y"]["x"][1], [1, 1 / 2, 1 / 3])
    assert grid.invalid_points == 1


@pytest.mark.parametrize("source", ["X: [2, 3]\nW: [3, 2]\ny = sum(relu(X @ W))",
                                    "X: [2, 3]\nW: [3, 2]\ny = sum(relu(X)) + sum(exp(-W))"])
@pytest.mark.parametrize("bad", ["X", "W"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_a_non_finite_input_is_refused_by_name_however_it_is_used(source: str, bad: str,
                                                                   value: float) -> None:
    # (an input used only by matmul, +, *... is checked through its users' values, which
    # cannot be finite if it is not; one used by relu or exp, which can squash -inf, at once)
    p = ad.parse(source)
    at = {"X": np.ones((2, 3)), "W": np.zeros((3, 2))}
    at[bad] = at[bad].copy()
    at[bad][1, 0] = value
    for run in (ad.evaluate, ad.reverse, ad.forward):
        with pytest.raises(ad.InputError, match=f"the value of '{bad}' must be finite"):
            run(p, at)
