"""The seed example, fan-out, very long programs, conventions at kinks, domain errors, JSON."""

import json

import numpy as np
import pytest

import autodiff_core as ad
from tests.timing import fastest

SEED = "x = 3*w; y = 2*x^2 + 4"
MODES = [ad.forward, ad.reverse]


# --- the seed example --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trace", [True, False])
@pytest.mark.parametrize("w", [1.0, -2.5, 0.0, 0.125, 40.0])
def test_seed_example_is_36w(mode, trace: bool, w: float) -> None:
    result = mode(ad.parse(SEED), {"w": w}, trace=trace)
    assert result.derivatives == {"y": {"w": pytest.approx(36 * w, rel=1e-12, abs=0)}}
    assert result.values["y"] == pytest.approx(2 * (3 * w) ** 2 + 4)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trace", [True, False])
def test_seed_example_on_a_grid(mode, trace: bool) -> None:
    w = np.linspace(-3, 3, 101)
    result = mode(ad.parse(SEED), {"w": w}, trace=trace)
    np.testing.assert_allclose(result.derivatives["y"]["w"], 36 * w, rtol=1e-12)
    np.testing.assert_allclose(result.values["y"], 18 * w**2 + 4, rtol=1e-12)
    assert result.invalid_points == 0


# --- fan-out: one node used twice --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trace", [True, False])
def test_fan_out_adds_contributions(mode, trace: bool) -> None:
    result = mode(ad.parse("b = a + a; c = b + b"), {"a": 1.5}, trace=trace)
    assert result.derivatives == {"c": {"a": 4.0}}


def test_fan_out_trace_shows_two_contributions_added() -> None:
    program = ad.parse("b = a + a; c = b + b")
    (sweep,) = ad.reverse(program, {"a": 1.0}).passes
    b_step = next(step for step in sweep.steps if step.label == "b")
    into_a = [c for c in b_step.contributions if c.to == "v0"]
    # a feeds b twice, through two distinct edges, and both contributions are added.
    assert [c.edge for c in into_a] == ["v0_v1_0", "v0_v1_1"]
    assert [(c.adjoint_before, c.contribution, c.adjoint_after) for c in into_a] == [
        (0.0, 2.0, 2.0), (2.0, 2.0, 4.0)]
    a_step = next(step for step in sweep.steps if step.node == "v0")
    assert a_step.adjoint == 4.0


# --- very long programs: every walk is iterative -----------------------------------------------

N = 100_000


@pytest.fixture(scope="module")
def long_programs() -> dict[str, ad.Program]:
    statements = "\n".join(["s = w"] + ["s = s * 1.00001 + w"] * ((N - 2) // 3))
    expression = "y = " + " + ".join(["x"] * N)
    return {"statements": ad.parse(statements), "expression": ad.parse(expression)}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["statements", "expression"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trace", [False, True])
def test_100k_node_chain(long_programs, kind: str, mode, trace: bool) -> None:
    program = long_programs[kind]
    assert len(program.nodes) >= N - 3
    if kind == "expression":
        result = mode(program, {"x": 0.5}, trace=trace)
        assert result.derivatives == {"y": {"x": float(N)}}
    else:
        result = mode(program, {"w": 1e-3}, trace=trace)
        # s_k = c s_(k-1) + w for k = 1..K, s_0 = w, so ds/dw = 1 + c + ... + c^K
        expected = sum(1.00001 ** k for k in range((N - 2) // 3 + 1))
        assert result.derivatives["s"]["w"] == pytest.approx(expected, rel=1e-9)
    assert bool(result.passes[0].steps) == trace


# --- conventions at kinks and edges ------------------------------------------------------------


def derivative(source: str, at: dict, wrt: str = "x") -> list[float]:
    """d(output)/d(wrt) by forward and reverse mode, traced and not."""
    program = ad.parse(source)
    out = next(iter(program.outputs))
    return [mode(program, at, trace=trace).derivatives[out][wrt]
            for mode in MODES for trace in (True, False)]


@pytest.mark.parametrize(("source", "at", "expected"), [
    ("y = relu(x)", {"x": 0.0}, 0.0),
    ("y = abs(x)", {"x": 0.0}, 0.0),
    ("y = max(x, z)", {"x": 2.0, "z": 2.0}, 0.5),
    ("y = min(x, z)", {"x": 2.0, "z": 2.0}, 0.5),
    ("y = max(x, 3)", {"x": 3.0}, 0.5),
    ("y = x ** 2", {"x": -2.0}, -4.0),  # a constant exponent never takes log of the base
    ("y = x ^ 3", {"x": -2.0}, 12.0),
])
def test_conventions_at_kinks(source: str, at: dict, expected: float) -> None:
    assert derivative(source, at) == [expected] * 4


def test_max_min_ties_split_evenly_between_arguments() -> None:
    assert derivative("y = max(x, z)", {"x": 1.0, "z": 1.0}, "z") == [0.5] * 4
    assert derivative("y = min(x, z)", {"x": 1.0, "z": 1.0}, "z") == [0.5] * 4


def test_zero_to_the_zero_is_one() -> None:
    assert ad.evaluate(ad.parse("y = x ** z"), {"x": 0.0, "z": 0.0})["y"] == 1.0
    grid = ad.evaluate(ad.parse("y = x ** z"), {"x": np.zeros(3), "z": np.zeros(3)})
    assert grid["y"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(("source", "at", "node", "op"), [
    ("y = sqrt(x)", {"x": 0.0}, "v1", "sqrt"),  # sqrt'(0) is infinite
    ("y = x ** z", {"x": -2.0, "z": 2.0}, "v2", "pow"),  # d/dz needs log(x), x < 0
    ("y = log(x) + 1", {"x": 0.0}, "v1", "log"),
])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trace", [True, False])
def test_undefined_derivatives_raise(source, at, node, op, mode, trace) -> None:
    with pytest.raises(ad.EvaluationError) as info:
        mode(ad.parse(source), at, trace=trace)
    assert (info.value.node, info.value.op) == (node, op)


def test_derivative_overflow_is_an_error_too() -> None:
    # Each local partial is finite, their product is not.
    program = ad.parse("z = 1e200 * sqrt(x)")
    for mode in MODES:
        with pytest.raises(ad.EvaluationError, match="too large"):
            mode(program, {"x": 1e-320}, trace=False)


# --- domain errors: named at a point, NaN and counted on a grid --------------------------------


@pytest.mark.parametrize(("source", "at", "text", "node", "op", "args"), [
    ("y = log(x)", {"x": -1.0}, "log(-1)", "v1", "log", (-1.0,)),
    ("q = 2\ny = q / x", {"x": 0.0}, "2 / 0", "v2", "div", (2.0, 0.0)),
    ("y = exp(x)", {"x": 1000.0}, "exp(1000)", "v1", "exp", (1000.0,)),
    ("y = 9**9**9 + x", {"x": 1.0}, "9 ** 387420489", "v5", "pow", (9.0, 387420489.0)),
])
@pytest.mark.parametrize("run", ["evaluate", "forward", "reverse"])
def test_domain_errors_name_the_node_and_values(source, at, text, node, op, args, run) -> None:
    program = ad.parse(source)
    fn = {"evaluate": ad.evaluate, "forward": ad.forward, "reverse": ad.reverse}[run]
    def fail() -> pytest.ExceptionInfo[ad.EvaluationError]:
        with pytest.raises(ad.EvaluationError) as info:
            fn(program, at)
        return info

    elapsed, info = fastest(fail)
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    error = info.value
    assert text in error.message and node in error.message
    assert (error.node, error.op, error.args) == (node, op, args)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trace", [True, False])
def test_grid_points_outside_the_domain_are_nan_and_counted(mode, trace: bool) -> None:
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    result = mode(ad.parse("y = log(x) + sqrt(x)"), {"x": x}, trace=trace)
    value, slope = result.values["y"], result.derivatives["y"]["x"]
    assert np.isnan(value[0]) and np.isnan(slope[0]) and np.isnan(slope[1])
    np.testing.assert_allclose(value[2:], np.log(x[2:]) + np.sqrt(x[2:]))
    np.testing.assert_allclose(slope[2:], 1 / x[2:] + 0.5 / np.sqrt(x[2:]))
    assert result.invalid_points == 2  # x = -1 (both undefined), x = 0 (log(0) = -inf)


def test_grid_overflow_and_division_by_zero_are_counted() -> None:
    result = ad.reverse(ad.parse("y = exp(x) + 1/x"), {"x": np.array([1.0, 0.0, 1000.0])},
                        trace=False)
    assert result.invalid_points == 2
    assert np.isnan(result.values["y"][1:]).all()


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_results_are_strict_json(mode) -> None:
    program = ad.parse("c = a * b; c = c + log(a)\nd = max(c, b)")
    for at in ({"a": 2.0, "b": 3.0}, {"a": np.array([-1.0, 0.0, 2.0]), "b": np.ones(3)}):
        data = mode(program, at).to_dict()
        text = json.dumps(data, allow_nan=False)
        assert json.loads(text)["mode"] == mode.__name__
    assert json.loads(json.dumps(program.to_dict(), allow_nan=False))["nodes"]
    grid = json.loads(json.dumps(mode(program, at).to_dict(), allow_nan=False))
    assert grid["values"]["d"][0] is None  # log(-1): NaN becomes null
