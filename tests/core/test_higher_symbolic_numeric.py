"""Symbolic differentiation (against sympy; swell measured) and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from higher_helpers import random_program

import autodiff_core as ad
from autodiff_core.symbolic import FAMILIES, family_source

SYMPY_NAMES = {"sin": sympy.sin, "cos": sympy.cos, "tanh": sympy.tanh, "exp": sympy.exp,
               "log": sympy.log, "sqrt": sympy.sqrt}


def as_sympy(text: str) -> sympy.Expr:
    return sympy.sympify(text, locals={**SYMPY_NAMES, **{n: sympy.Symbol(n) for n in "abcxw"}})


@pytest.mark.parametrize("seed", range(10))
def test_printed_expressions_have_the_right_parentheses(seed: int) -> None:
    # If precedence were wrong, the printed text would compute something else.
    source, expr, _ = random_program(seed, statements=5)
    program = ad.parse(source)
    at = {x: 0.4 + 0.25 * k for k, x in enumerate(program.inputs)}
    text = ad.expression(program).text
    assert text is not None
    value = eval(text, {"__builtins__": {}, **vars(math)}, dict(at))  # our own text, not input
    assert value == pytest.approx(ad.evaluate(program, at)["y"], rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_symbolic_derivative_agrees_with_sympy(seed: int) -> None:
    source, expr, _ = random_program(seed, statements=4)
    program = ad.parse(source)
    wrt = next(iter(program.inputs))
    result = ad.symbolic_derivative(program, wrt)
    difference = as_sympy(result.derivative.text) - sympy.diff(expr, wrt)
    for k in range(3):
        subs = {sympy.Symbol(x): 0.3 + k / 7 + j / 5 for j, x in enumerate("abc")}
        assert abs(float(difference.evalf(subs=subs))) < 1e-9, result.derivative.text


def test_latex_and_text_forms() -> None:
    result = ad.symbolic_derivative(ad.parse("y = x^3 / (1 + x)"), "x")
    assert result.derivative.latex is not None and r"\frac" in result.derivative.latex
    assert ad.expression(ad.parse("y = (a - (b - c)) * -(a + b) ^ 2")).text == \
        "(a - (b - c)) * -(a + b) ** 2"
    assert ad.expression(ad.parse("y = (a ^ b) ^ c + a ^ (b ^ c)")).text == \
        "(a ** b) ** c + a ** b ** c"


def test_long_expressions_are_counted_not_printed() -> None:
    result = ad.symbolic_derivative(ad.parse(family_source("logistic", 25)), "x")
    assert result.derivative.text is None and result.derivative.operations > 10 ** 7
    assert result.ad_operations < 500


@pytest.mark.parametrize("family", ["product", "sin"])
def test_symbolic_size_grows_quadratically_while_ad_grows_linearly(family: str) -> None:
    rows = {r.n: r for r in ad.swelling(family, 24)}
    sym_ratio = rows[24].derivative_symbolic / rows[12].derivative_symbolic
    ad_ratio = rows[24].derivative_ad / rows[12].derivative_ad
    assert 3.0 < sym_ratio < 5.0, sym_ratio  # doubling n: about 4 times (n^2)
    assert 1.5 < ad_ratio < 2.5, ad_ratio  # doubling n: about 2 times (n)
    assert rows[24].derivative_symbolic > 4 * rows[24].derivative_ad


def test_logistic_family_swells_exponentially() -> None:
    rows = ad.swelling("logistic", 16)
    steps = [rows[k + 1].derivative_symbolic / rows[k].derivative_symbolic for k in range(8, 15)]
    assert all(1.8 < s < 2.6 for s in steps), steps  # doubles with every step
    assert rows[15].derivative_ad - rows[14].derivative_ad == rows[9].derivative_ad - \
        rows[8].derivative_ad  # a constant number of nodes per step
    with pytest.raises(ad.InputError, match="families"):
        family_source("nope", 3)
    assert set(FAMILIES) == {"product", "sin", "logistic"}


@pytest.mark.parametrize("source,x", [("y = exp(x)", 1.0), ("y = sin(x) * x^2", 0.7),
                                      ("y = log(x)", 2.0), ("y = tanh(x) + x^3", 0.3)])
def test_finite_difference_error_is_smallest_where_theory_says(source: str, x: float) -> None:
    fd = ad.finite_differences(ad.parse(source), {"x": x}, "x")
    assert 1e-10 <= fd.forward.best_h <= 1e-6
    assert 1e-7 <= fd.central.best_h <= 1e-3
    assert fd.central.best_error < fd.forward.best_error
    assert fd.forward.truncation.slope == pytest.approx(1, abs=0.3)
    assert fd.central.truncation.slope == pytest.approx(2, abs=0.4)
    assert fd.forward.roundoff.slope == pytest.approx(-1, abs=0.3)
    assert fd.central.roundoff.slope == pytest.approx(-1, abs=0.3)
    assert len(fd.steps) == len(fd.forward.errors) == 57


def test_finite_differences_reject_bad_requests() -> None:
    program = ad.parse("y = x^2 * w")
    with pytest.raises(ad.InputError, match="one point"):
        ad.finite_differences(program, {"x": np.array([1.0, 2.0]), "w": 1.0}, "x")
    with pytest.raises(ad.InputError, match="positive"):
        ad.finite_differences(program, {"x": 1.0, "w": 1.0}, "x", steps=[0.1, -1.0])
    with pytest.raises(ad.InputError, match="not an input"):
        ad.finite_differences(program, {"x": 1.0, "w": 1.0}, "v")
    # near the edge of the domain, steps that leave it give None, not a crash
    fd = ad.finite_differences(ad.parse("y = sqrt(x)"), {"x": 1e-3}, "x")
    assert fd.central.errors[0] is None and fd.to_dict()["central"]["best_h"] > 0
