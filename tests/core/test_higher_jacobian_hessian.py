"""Jacobians in both modes with their costs; Hessians and H·v against sympy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from higher_helpers import random_program

import autodiff_core as ad

TOL = 1e-8


@pytest.mark.parametrize("seed", range(15))
def test_hessian_matches_sympy_on_generated_programs(seed: int) -> None:
    source, expr, _ = random_program(seed, statements=6)
    program = ad.parse(source)
    rng = np.random.default_rng(100 + seed)
    at = {x: float(rng.uniform(-1.2, 1.2)) for x in program.inputs}
    result = ad.hessian(program, at)
    subs = {sympy.Symbol(x): v for x, v in at.items()}
    for xi in program.inputs:
        gi = float(sympy.diff(expr, xi).evalf(subs=subs))
        assert result.gradient[xi] == pytest.approx(gi, rel=TOL, abs=TOL)
        for xj in program.inputs:
            hij = float(sympy.diff(expr, xi, xj).evalf(subs=subs))
            assert result.hessian[xi][xj] == pytest.approx(hij, rel=TOL, abs=TOL), source


def test_hessian_on_a_grid_equals_the_hessian_at_each_point() -> None:
    program = ad.parse("y = sin(x*w) + x^3 / (1 + w^2)")
    xs, ws = np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4)
    grid = ad.hessian(program, {"x": xs[:, None], "w": ws[None, :]})
    assert grid.hessian["x"]["w"].shape == (4, 4) and grid.invalid_points == 0
    for i, x in enumerate(xs):
        for j, w in enumerate(ws):
            point = ad.hessian(program, {"x": float(x), "w": float(w)})
            for a in ("x", "w"):
                for b in ("x", "w"):
                    assert grid.hessian[a][b][i, j] == pytest.approx(point.hessian[a][b])


def test_hvp_is_the_hessian_times_the_vector() -> None:
    program = ad.parse(random_program(3, statements=7)[0])
    at = {x: 0.3 * (k + 1) for k, x in enumerate(program.inputs)}
    v = {x: (-1.0) ** k * (k + 2) for k, x in enumerate(program.inputs)}
    h = ad.hessian(program, at).hessian
    product = ad.hvp(program, at, v).hvp
    for xi in program.inputs:
        expected = sum(h[xi][xj] * v[xj] for xj in program.inputs)
        assert product[xi] == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_hessian_errors_name_the_problem() -> None:
    with pytest.raises(ad.EvaluationError) as info:
        ad.hessian(ad.parse("y = log(x) * x"), {"x": -1.0})
    assert info.value.node == "v1"
    with pytest.raises(ad.InputError, match="name the one"):
        ad.hessian(ad.parse("s = a*b; t = a + b", outputs=["s", "t"]), {"a": 1.0, "b": 1.0})
    with pytest.raises(ad.InputError, match="'q'"):
        ad.hvp(ad.parse("y = x^2"), {"x": 1.0}, {"q": 1.0})
    grid = ad.hessian(ad.parse("y = sqrt(x)"), {"x": np.array([-1.0, 0.0, 4.0])})
    assert grid.invalid_points == 2 and grid.hessian["x"]["x"][2] == pytest.approx(-1 / 32)


@pytest.mark.parametrize("seed", range(6))
def test_jacobian_is_the_same_in_both_modes(seed: int) -> None:
    source = random_program(seed, statements=6)[0] + "\nz = t1 * t3 - a"
    program = ad.parse(source, outputs=["y", "z", "t2"])
    at = {x: 0.2 + 0.3 * k for k, x in enumerate(program.inputs)}
    fwd = ad.jacobian(program, at, mode="forward")
    rev = ad.jacobian(program, at, mode="reverse")
    for out in program.outputs:
        for x in program.inputs:
            assert fwd.matrix[out][x] == pytest.approx(rev.matrix[out][x], rel=1e-12, abs=1e-12)
    assert fwd.passes == len(program.inputs) and rev.passes == len(program.outputs)
    # Forward mode's sweeps, counted here from the edges: a multiply and an add per edge
    # between two input-dependent nodes, per input. Each mode reports its own figure.
    active = edges_between_active_nodes(program)
    assert fwd.cost["forward"].sweeps == 2 * active * len(program.inputs)
    assert fwd.operations == fwd.cost["forward"].operations
    assert rev.operations == rev.cost["reverse"].operations
    # Reverse: one pass per output, each walking at most every edge once.
    assert 0 < rev.cost["reverse"].sweeps <= 2 * active * len(program.outputs)


def edges_between_active_nodes(program: ad.Program) -> int:
    depends: list[bool] = []
    for node in program.nodes:
        depends.append(node.op == "input" or any(depends[a] for a in node.args))
    return sum(1 for node in program.nodes if depends[node.id]
               for a in node.args if depends[a])


def test_jacobian_cost_counted_by_hand() -> None:
    program = ad.parse("s = a*b; t = sin(a) + b", outputs=["s", "t"])
    result = ad.jacobian(program, {"a": 1.0, "b": 2.0}, mode="forward")
    # 3 primal ops; 1 partial formula (cos; mul's partials are its operands, add's are 1);
    # 5 edges x 2 operations x 2 passes forward; reverse walks s's 2 edges and t's 3.
    f, r = result.cost["forward"], result.cost["reverse"]
    assert (f.passes, f.primal, f.partials, f.sweeps, f.operations) == (2, 3, 1, 20, 24)
    assert (r.passes, r.primal, r.partials, r.sweeps, r.operations) == (2, 3, 1, 10, 14)
    assert result.operations == 24 and result.cheaper == "reverse"


def test_jacobian_costs_show_one_pass_per_input_or_output() -> None:
    many_in = ad.parse("y = " + " + ".join(f"sin(x{i}) * x{i}" for i in range(30)))
    at = {f"x{i}": 0.1 * i for i in range(30)}
    cost = ad.jacobian(many_in, at).cost
    assert cost["forward"].passes == 30 and cost["reverse"].passes == 1
    assert cost["forward"].operations > 10 * cost["reverse"].operations
    # 30 outputs that share a long chain: each reverse pass walks the chain again
    chain = ["h = sin(x)"] + ["h = sin(h) * x"] * 20
    many_out = ad.parse("\n".join(chain + [f"y{i} = h * {i} + x" for i in range(30)]),
                        outputs=[f"y{i}" for i in range(30)])
    result = ad.jacobian(many_out, {"x": 0.5}, mode="reverse")
    assert result.cheaper == "forward"
    assert result.cost["reverse"].operations > 3 * result.cost["forward"].operations
    assert result.to_dict()["cost"]["forward"]["passes"] == 1


def test_jacobian_on_a_grid() -> None:
    program = ad.parse("s = a*b; t = sin(a) + b", outputs=["s", "t"])
    a = np.linspace(0, 1, 5)
    j = ad.jacobian(program, {"a": a, "b": 2.0}, mode="forward")
    assert np.allclose(j.matrix["t"]["a"], np.cos(a)) and np.allclose(j.matrix["s"]["b"], a)
    with pytest.raises(ad.InputError, match="mode"):
        ad.jacobian(program, {"a": 1.0, "b": 1.0}, mode="sideways")
