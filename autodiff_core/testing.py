"""A test helper: check a program's derivatives against central finite differences.

`check_grads` runs forward and/or reverse mode and compares every entry of the Jacobian with
(f(x + h) - f(x - h)) / 2h, which knows nothing of our rules. Use it at points away from kinks
(relu, abs, max, min at 0 or at ties), where finite differences straddle two pieces.

>>> check_grads("x = 3*w; y = 2*x^2 + 4", {"w": 1.0})
{'forward': {'y': {'w': 36.0}}, 'reverse': {'y': {'w': 36.0}}}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .forward import forward
from .parser import parse
from .program import Program
from .reverse import reverse

_MODES = {"forward": forward, "reverse": reverse}


def finite_differences(program: Program, at: Mapping[str, float],
                       eps: float = 1e-6) -> dict[str, dict[str, float]]:
    """The Jacobian {output: {input: value}} by central differences, step eps * max(1, |x|)."""
    from . import evaluate

    jacobian: dict[str, dict[str, float]] = {out: {} for out in program.outputs}
    for name in program.inputs:
        h = eps * max(1.0, abs(at[name]))
        up = evaluate(program, {**at, name: at[name] + h})
        down = evaluate(program, {**at, name: at[name] - h})
        for out in program.outputs:
            jacobian[out][name] = (up[out] - down[out]) / (2 * h)
    return jacobian


def check_grads(program_or_source: Program | str, at: Mapping[str, float],
                modes: Iterable[str] = ("forward", "reverse"), eps: float = 1e-6,
                rtol: float = 1e-5, atol: float = 1e-7) -> dict[str, Any]:
    """Assert that each mode's Jacobian matches central finite differences at the point `at`.

    Every (output, input) entry must satisfy |ours - fd| <= atol + rtol * |fd|. Both the
    traced and the untraced sweeps are checked. Returns {mode: derivatives} (from the traced
    sweep) so a test can check more; raises AssertionError naming the mode and entry otherwise.
    """
    program = parse(program_or_source) if isinstance(program_or_source, str) \
        else program_or_source
    if program.tensor_path:
        expected = tensor_finite_differences(program, at, eps)
        where = ""

        def close(ours: Any, fd: Any) -> bool:
            ours = np.asarray(ours)
            return ours.shape == fd.shape and np.allclose(ours, fd, rtol=rtol, atol=atol)
    else:
        at = {name: float(value) for name, value in at.items()}
        expected = finite_differences(program, at, eps)
        where = f" at {at}"

        def close(ours: Any, fd: Any) -> bool:
            return math.isclose(ours, fd, rel_tol=rtol, abs_tol=atol)
    found: dict[str, Any] = {}
    for mode in modes:
        if mode not in _MODES:
            raise ValueError(f"unknown mode {mode!r}; use 'forward' or 'reverse'")
        for trace in (True, False):
            derivatives = _MODES[mode](program, at, trace=trace).derivatives
            for out, row in expected.items():
                for name, fd in row.items():
                    ours = derivatives[out][name]
                    if not close(ours, fd):
                        raise AssertionError(
                            f"{mode} mode (trace={trace}): d{out}/d{name} = {ours!r}, but "
                            f"finite differences give {fd!r}{where} (rtol={rtol}, atol={atol})")
            if trace:
                found[mode] = derivatives
    return found


def tensor_finite_differences(program: Program, at: Mapping[str, Any],
                              eps: float = 1e-6) -> dict[str, dict[str, Any]]:
    """A tensor program's Jacobian blocks by central differences, one input element at a time:
    block [output][input] has shape output.shape + input.shape."""
    from . import evaluate

    point = {name: np.asarray(value, dtype=np.float64) for name, value in at.items()}
    jacobian: dict[str, dict[str, Any]] = {out: {} for out in program.outputs}
    for name in program.inputs:
        x = point[name]
        blocks = {out: np.zeros(program.shape(program.outputs[out]) + x.shape)
                  for out in program.outputs}
        for index in np.ndindex(*x.shape):
            h = eps * max(1.0, abs(float(x[index])))
            up, down = x.copy(), x.copy()
            up[index] += h
            down[index] -= h
            f_up = evaluate(program, {**point, name: up})
            f_down = evaluate(program, {**point, name: down})
            for out in program.outputs:
                blocks[out][(...,) + index] = (np.asarray(f_up[out]) - f_down[out]) / (2 * h)
        for out in program.outputs:
            jacobian[out][name] = blocks[out]
    return jacobian


__all__ = ["check_grads", "finite_differences", "tensor_finite_differences"]
