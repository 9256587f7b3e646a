"""Numeric differentiation, for comparison: finite differences and their error against AD.

The forward difference (f(x+h) - f(x)) / h has a truncation error of about |f''| h / 2, which
shrinks with h, and a round-off error of about eps |f| / h (eps = 2.2e-16, the float64
spacing), which grows as h shrinks. Their sum is smallest near h = sqrt(eps) ~ 1e-8, where
only about half of the 16 digits are left. The central difference (f(x+h) - f(x-h)) / 2h has
truncation ~ |f'''| h^2 / 6, so its best h is near eps^(1/3) ~ 1e-5 and it keeps ~10 digits.
AD has neither error: it is exact up to rounding in every operation.

The whole curve is one vectorized evaluation: the program runs once on the array of all
x + h (a grid), not once per h.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .derivative import single_output
from .errors import InputError
from .evaluation import make_point, primal
from .program import Program
from .results import jsonable
from .reverse import reverse
from .tensor_ops import scalar_only

SCHEMES = ("forward", "central")


def default_steps(per_decade: int = 4) -> np.ndarray:
    """h from 1e-1 down to 1e-15, `per_decade` steps per factor of ten."""
    return np.logspace(-1, -15, 14 * per_decade + 1)


@dataclass
class Branch:
    """One side of the error curve: its h range and the measured slope of log error vs log h."""

    h_from: float
    h_to: float
    slope: float | None  # ~ +1 (forward) or +2 (central) for truncation, ~ -1 for round-off


@dataclass
class SchemeCurve:
    scheme: str
    estimates: list[float | None]  # the finite-difference value at each h
    errors: list[float | None]  # |estimate - AD value| at each h
    best_h: float
    best_error: float
    truncation: Branch  # h above the best: error falls as h falls
    roundoff: Branch  # h below the best: error grows as h falls


@dataclass
class FiniteDifferences:
    """Finite differences over a range of steps h, against the AD derivative."""

    output: str
    wrt: str
    at: dict[str, float]
    exact: float  # the AD value (reverse mode)
    steps: list[float]
    forward: SchemeCurve
    central: SchemeCurve

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


def finite_differences(program: Program, at: Mapping[str, Any], wrt: str,
                       output: str | None = None, steps: Any = None) -> FiniteDifferences:
    """Forward and central differences at a point for many h at once, with their errors.

    >>> from autodiff_core import parse
    >>> fd = finite_differences(parse("y = exp(x)"), {"x": 1.0}, "x")
    >>> 1e-10 <= fd.forward.best_h <= 1e-6, 1e-7 <= fd.central.best_h <= 1e-3
    (True, True)
    """
    scalar_only(program, "the finite-difference curve")
    output = single_output(program, output)
    if wrt not in program.inputs:
        raise InputError(f"{wrt!r} is not an input of the program; its inputs are: "
                         f"{', '.join(program.inputs) or '(none)'}")
    base = make_point(program, at)
    if base.grid:
        raise InputError("finite differences are computed at one point: give numbers, "
                         "not arrays")
    h = np.asarray(default_steps() if steps is None else steps, dtype=np.float64).ravel()
    if h.size == 0 or not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise InputError("the steps h must be positive finite numbers")
    exact = reverse(program, base.values, cotangent=output, trace=False) \
        .derivatives[output][wrt]
    x0 = base.values[wrt]
    # One grid evaluation: f at x0 + h, x0 - h for every h, and f at x0.
    shifted = np.concatenate([x0 + h, x0 - h, [x0]])
    grid = make_point(program, {**base.values, wrt: shifted})
    f = np.broadcast_to(primal(program, grid)[program.outputs[output]], shifted.shape)
    n = h.size
    with np.errstate(all="ignore"):
        estimates = {"forward": (f[:n] - f[-1]) / h, "central": (f[:n] - f[n:2 * n]) / (2 * h)}
    curves = {scheme: _curve(scheme, h, estimates[scheme], exact) for scheme in SCHEMES}
    return FiniteDifferences(output, wrt, dict(base.values), exact, h.tolist(),
                             curves["forward"], curves["central"])


def _curve(scheme: str, h: np.ndarray, estimate: np.ndarray, exact: float) -> SchemeCurve:
    error = np.abs(estimate - exact)
    finite = np.isfinite(error)
    if not finite.any():
        raise InputError("the function is undefined at every step h near this point")
    # The smallest error; exact zeros (lucky cancellations) are floored at the float spacing.
    floored = np.where(finite, np.maximum(error, np.finfo(float).tiny), np.inf)
    best = int(np.argmin(floored))
    return SchemeCurve(scheme, _list(estimate), _list(error), float(h[best]), float(error[best]),
                       _branch(h[:best + 1], floored[:best + 1]),
                       _branch(h[best:], floored[best:]))


def _branch(h: np.ndarray, error: np.ndarray) -> Branch:
    ok = np.isfinite(error) & (error > np.finfo(float).tiny)
    slope = None
    if ok.sum() >= 3:
        slope = float(np.polyfit(np.log10(h[ok]), np.log10(error[ok]), 1)[0])
    return Branch(float(h.max()), float(h.min()), slope)


def _list(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]
