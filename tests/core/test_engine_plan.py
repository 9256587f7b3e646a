"""The flat sweeps of plan.py: links that only copy an adjoint are skipped, and the untraced
results still equal the traced passes (whose steps follow every edge)."""

import math

import numpy as np
import pytest

import autodiff_core as ad
from autodiff_core.plan import plan_of

# u is used once, as a term of y (its links read y's adjoint); so is s, a difference; v is an
# output and also used once as a term of y; c is an input used once as a term; a fans out.
SOURCE = "a = w*x; u = a*a + sin(x); v = a*x; s = 3*a - x; y = u + v + c + s; z = a + 1"
OUTPUTS = ["y", "z", "v"]


def test_terms_share_their_sums_adjoint() -> None:
    program = ad.parse(SOURCE, outputs=OUTPUTS)
    edges = plan_of(program).edges(program.outputs.values())
    assert len(edges.backward) < len(edges.links)
    one = -1 - edges.constants.index(1.0)
    kept_terms = {a for _, a, k in edges.backward if k == one}
    # Inputs and outputs keep their own adjoint links; the sum `a*a + sin(x)` (u) does not.
    assert program.inputs["c"] in kept_terms
    assert program.outputs["v"] in kept_terms
    u = next(n.id for n in program.nodes if n.name == "u")
    s = next(n.id for n in program.nodes if n.name == "s")
    assert all(a not in (u, s) for _, a, _ in edges.backward)
    assert any(a == u for _, a, _ in edges.links)  # forward mode still walks every link


@pytest.mark.parametrize("cotangent", [None, "y", {"y": 2.0, "z": -1.0},
                                       {"y": 2.0, "v": -1.0}])
def test_untraced_reverse_equals_traced_and_forward(cotangent: object) -> None:
    program = ad.parse(SOURCE, outputs=OUTPUTS)
    at = {"w": 0.7, "x": -1.3, "c": 2.0}
    fast = ad.reverse(program, at, cotangent=cotangent, trace=False)  # type: ignore[arg-type]
    slow = ad.reverse(program, at, cotangent=cotangent)  # type: ignore[arg-type]
    assert fast.derivatives == slow.derivatives and fast.directional == slow.directional
    jacobian = ad.forward(program, at, trace=False).derivatives
    for out, row in fast.derivatives.items():
        for name, value in row.items():
            assert math.isclose(value, jacobian[out][name], rel_tol=1e-12)


def test_untraced_reverse_on_a_grid_equals_points() -> None:
    program = ad.parse(SOURCE, outputs=OUTPUTS)
    xs = np.linspace(-2.0, 2.0, 7)
    grid = ad.reverse(program, {"w": 0.5, "x": xs, "c": 1.0}, trace=False).derivatives
    for k, x in enumerate(xs):
        point = ad.reverse(program, {"w": 0.5, "x": float(x), "c": 1.0}, trace=False).derivatives
        for out, row in point.items():
            for name, value in row.items():
                assert math.isclose(grid[out][name][k], value, rel_tol=1e-12, abs_tol=1e-15)
