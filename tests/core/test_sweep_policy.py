"""One sweep policy (issue 10): each defect found by review, as a regression test.

Which nodes a pass visits, how undefined values spread and what a structural zero times an
infinite partial gives are decided in `autodiff_core/sweep.py`; the traced passes, the flat
plan and the derivative programs follow it. Each test below failed before that.
"""

import math
import re

import numpy as np
import pytest

import autodiff_core as ad

GRID = {"x": np.array([-1.0, 1.0])}


def every_mode(program: ad.Program, at: dict) -> dict[str, dict]:
    """The Jacobian by each sweep: forward and reverse, traced and untraced."""
    return {f"{mode.__name__} trace={trace}": mode(program, at, trace=trace).derivatives
            for mode in (ad.forward, ad.reverse) for trace in (True, False)}


# --- derivative programs -------------------------------------------------------------------------


def test_derivative_differentiates_the_named_output() -> None:
    program = ad.parse("y = x^2; z = x^3", outputs=["y", "z"])
    for order, expected in ((1, 12.0), (2, 12.0), (3, 6.0)):
        d = ad.derivative(program, "x", order, output="z")
        assert list(d.outputs) == [f"d{order}z/dx{order}" if order > 1 else "dz/dx"]
        assert ad.evaluate(d, {"x": 2.0})[next(iter(d.outputs))] == expected
    assert ad.symbolic_derivative(program, "x", output="z").derivative.text == "3 * x ** 2"


def test_generated_names_never_collide_with_the_programs_own() -> None:
    # The Hessian of y = x * x_dot^2 at (2, 3): [[0, 2 x_dot], [2 x_dot, 2 x]] = [[0, 6], [6, 4]]
    h = ad.hessian(ad.parse("y = x * x_dot^2"), {"x": 2.0, "x_dot": 3.0}).hessian
    assert h == {"x": {"x": 0.0, "x_dot": 6.0}, "x_dot": {"x": 6.0, "x_dot": 4.0}}
    v = ad.hvp(ad.parse("y = x * x_dot^2"), {"x": 2.0, "x_dot": 3.0}, {"x": 1.0}).hvp
    assert v == {"x": 0.0, "x_dot": 6.0}


def test_jvp_and_vjp_programs_keep_the_users_inputs_and_outputs() -> None:
    program = ad.parse("y = x * x_dot; y_dot = y + 1", outputs=["y", "y_dot"])
    jvp = ad.jvp_program(program)
    # the user's two inputs and two outputs are there, unchanged, beside fresh tangent names
    assert {"x", "x_dot"} <= set(jvp.inputs) and len(jvp.inputs) == 4
    assert {"y", "y_dot"} <= set(jvp.outputs) and len(jvp.outputs) == 4
    names = [n.name for n in jvp.nodes if n.name is not None]
    assert all(names.count(n) == 1 or n in ("y_dot",) for n in names)
    tangent_of = {x: name for x, name in zip(program.inputs, list(jvp.inputs)[2:], strict=True)}
    at = {"x": 2.0, "x_dot": 3.0, tangent_of["x"]: 1.0, tangent_of["x_dot"]: 0.0}
    values = ad.evaluate(jvp, at)
    assert values["y"] == 6.0 and values["y_dot"] == 7.0  # the user's outputs
    new_outputs = list(jvp.outputs)[2:]
    assert [values[o] for o in new_outputs] == [3.0, 3.0]  # d/dx of both: x_dot
    vjp = ad.vjp_program(program)
    assert {"y", "y_dot"} <= set(vjp.outputs) and {"x", "x_dot"} <= set(vjp.inputs)
    assert len(vjp.inputs) == 4 and len(vjp.outputs) == 4
    bars = [name for name in vjp.inputs if name not in program.inputs]
    values = ad.evaluate(vjp, {"x": 2.0, "x_dot": 3.0, bars[0]: 1.0, bars[1]: 0.0})
    assert values["y"] == 6.0 and values["y_dot"] == 7.0
    assert [values[o] for o in list(vjp.outputs)[2:]] == [3.0, 2.0]


def test_grad_program_names_are_fresh() -> None:
    # the adjoint of x would be labelled x_bar, a name the program already uses: the user's
    # x_bar must not get a second version it never wrote
    g = ad.grad_program(ad.parse("x_bar = x * 2; y = x_bar * x"))
    values = ad.evaluate(g, {"x": 2.0})
    assert values["dy/dx"] == 8.0 and values["x_bar"] == 4.0
    assert not any(label.startswith("x_bar#") for label in values)


# --- the nodes a pass visits ---------------------------------------------------------------------


def test_a_branch_that_feeds_no_output_is_not_swept() -> None:
    program = ad.parse("z = sqrt(w - 1); y = 2*w", outputs=["y"])
    for name, derivatives in every_mode(program, {"w": 1.0}).items():
        assert derivatives == {"y": {"w": 2.0}}, name
    assert ad.hessian(program, {"w": 1.0}).gradient == {"w": 2.0}
    # the traced forward pass says why it has no tangent for z
    steps = ad.forward(program, {"w": 1.0}).passes[0].steps
    assert "feeds no output" in steps[program.names["z"]].formula


def test_a_structural_zero_tangent_contributes_nothing() -> None:
    # z = x^y at (0, 2): dz/dx = 2·0 = 0; y is not seeded when x is, so its undefined partial
    # (0 · log 0) is never multiplied in. dz/dy is undefined: NaN on a grid.
    program = ad.parse("z = x^y")
    at = {"x": np.array([0.0, 1.0]), "y": np.array([2.0, 2.0])}
    for name, derivatives in every_mode(program, at).items():
        np.testing.assert_array_equal(derivatives["z"]["x"], [0.0, 2.0], err_msg=name)
        np.testing.assert_array_equal(derivatives["z"]["y"], [np.nan, 0.0], err_msg=name)
    assert ad.forward(program, {"x": 0.0, "y": 2.0}, seed="x").derivatives["z"]["x"] == 0.0
    # sign(x) and step(x) have a zero derivative by rule: what follows them is not swept
    program = ad.parse("y = sqrt(step(x)) + x")
    for name, derivatives in every_mode(program, {"x": 0.0}).items():
        assert derivatives == {"y": {"x": 1.0}}, name
    d = ad.derivative(program, "x")
    assert ad.evaluate(d, {"x": 0.0})["dy/dx"] == 1.0


# --- undefined values ----------------------------------------------------------------------------


def test_on_a_grid_every_sweep_gives_nan_where_the_value_is_undefined() -> None:
    program = ad.parse("y = log(x)")
    for name, derivatives in every_mode(program, GRID).items():
        np.testing.assert_array_equal(derivatives["y"]["x"], [np.nan, 1.0], err_msg=name)
    h = ad.hessian(program, GRID)
    np.testing.assert_array_equal(h.hessian["x"]["x"], [np.nan, -1.0])
    np.testing.assert_array_equal(h.gradient["x"], [np.nan, 1.0])
    # A derivative program's formula (1/x) is defined at -1, but its output is guarded by the
    # primal values the passes sweep through (log x), so it is NaN there too.
    np.testing.assert_array_equal(ad.evaluate(ad.derivative(program, "x"), GRID)["dy/dx"],
                                  [np.nan, 1.0])
    np.testing.assert_array_equal(ad.evaluate(ad.grad_program(program), GRID)["dy/dx"],
                                  [np.nan, 1.0])
    for built in (ad.jvp_program(program, seed="x"), ad.vjp_program(program, cotangent="y")):
        np.testing.assert_array_equal(ad.evaluate(built, GRID)[list(built.outputs)[1]],
                                      [np.nan, 1.0])
    # differentiating again keeps the guard: d2/dx2 log x = -1/x^2, NaN at -1 as the Hessian
    np.testing.assert_array_equal(ad.evaluate(ad.derivative(program, "x", 2), GRID)["d2y/dx2"],
                                  [np.nan, -1.0])


def test_a_derivative_program_raises_at_a_point_where_the_passes_raise() -> None:
    # d/dx sqrt(x) = 0.5 / sqrt(x) computes sqrt itself; d/dx (x + 0*log(x)) = 1 + 0/x does
    # not compute log, and is defined at -1: its guard raises, naming log(-1).
    for source, node in (("y = sqrt(x)", "sqrt(-1) at node v1 (y)"),
                         ("u = log(x); y = x + 0*u", "log(-1) at node v1 (u)")):
        program = ad.parse(source)
        with pytest.raises(ad.EvaluationError, match=re.escape(node)):
            ad.reverse(program, {"x": -1.0})
        for built in (ad.derivative(program, "x"), ad.grad_program(program)):
            with pytest.raises(ad.EvaluationError, match=re.escape(node)):
                ad.evaluate(built, {"x": -1.0})


def test_undefined_value_deep_in_a_chain_spreads_to_the_outputs() -> None:
    program = ad.parse("u = log(x); v = 0*u + x; y = v * 2")
    for name, derivatives in every_mode(program, GRID).items():
        np.testing.assert_array_equal(derivatives["y"]["x"], [np.nan, 2.0], err_msg=name)


def test_zero_to_the_zero_is_consistent_between_passes_and_derivative_programs() -> None:
    program = ad.parse("y = x^0")
    with pytest.raises(ad.EvaluationError, match="no finite derivative"):
        ad.forward(program, {"x": 0.0})
    with pytest.raises(ad.EvaluationError):
        ad.evaluate(ad.derivative(program, "x"), {"x": 0.0})
    grid = {"x": np.array([0.0, 2.0])}
    expected = [np.nan, 0.0]
    for name, derivatives in every_mode(program, grid).items():
        np.testing.assert_array_equal(derivatives["y"]["x"], expected, err_msg=name)
    np.testing.assert_array_equal(ad.evaluate(ad.derivative(program, "x"), grid)["dy/dx"],
                                  expected)


# --- smaller ones --------------------------------------------------------------------------------


def test_evaluate_keeps_the_first_version_of_a_reassigned_output() -> None:
    program = ad.parse("c = x + 1; d = c*2; c = c * 3", outputs=["c", "d"])
    values = ad.evaluate(program, {"x": 1.0})
    assert values["c"] == 6.0 and values["d"] == 4.0
    assert 2.0 in [v for k, v in values.items() if k.startswith("c#")]


def test_an_overflowing_derivative_is_reported_as_the_derivative() -> None:
    program = ad.parse("y = x^0.001")
    assert math.isfinite(ad.evaluate(program, {"x": 5e-324})["y"])
    for mode in (ad.forward, ad.reverse):
        for trace in (True, False):
            with pytest.raises(ad.EvaluationError, match="derivative") as error:
                mode(program, {"x": 5e-324}, trace=trace)
            assert "v2" in str(error.value)
