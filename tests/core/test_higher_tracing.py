"""ad.trace builds the same Programs as the parser; programs show as text, LaTeX and SVG."""

from __future__ import annotations

import doctest
import importlib
import math

import pytest

import autodiff_core as ad


def test_traced_function_equals_parsed_program() -> None:
    def f(w, b):
        x = 3 * w - b / 2
        return 2 * x ** 2 + 4 + ad.sin(x) * ad.exp(-b) + abs(-x) + 2 ** w

    source = "x = 3*w - b/2; f = 2*x^2 + 4 + sin(x)*exp(-b) + abs(-x) + 2^w"
    at = {"w": 0.7, "b": -1.2}
    traced, parsed = ad.trace(f), ad.parse(source)
    assert list(traced.inputs) == ["w", "b"] and list(traced.outputs) == ["f"]
    assert ad.evaluate(traced, at)["f"] == pytest.approx(ad.evaluate(parsed, at)["f"])
    for x in at:
        assert ad.reverse(traced, at).derivatives["f"][x] == \
            pytest.approx(ad.reverse(parsed, at).derivatives["f"][x])


def test_tuple_and_dict_results_give_several_outputs() -> None:
    pair = ad.trace(lambda x, y: (x * y, ad.max(x, y)))
    assert list(pair.outputs) == ["f1", "f2"]
    named = ad.trace(lambda x: {"square": x * x, "const": 2.0})
    assert ad.evaluate(named, {"x": 3.0})["square"] == 9.0
    assert ad.jacobian(named, {"x": 3.0}).matrix == {"square": {"x": 6.0}, "const": {"x": 0.0}}


def test_functions_work_on_numbers_and_tracing_limits_are_explained() -> None:
    assert ad.sin(0.5) == math.sin(0.5) and ad.max(2, 3) == 3.0
    with pytest.raises(TypeError, match="truth value"):
        ad.trace(lambda x: x if x > 0 else -x)
    with pytest.raises(TypeError, match=r"\*args"):
        ad.trace(lambda *args: args[0])
    with pytest.raises(TypeError, match="traced function returns"):
        ad.trace(lambda x: "text")
    with pytest.raises(TypeError, match="takes 1 argument"):
        ad.sin(1.0, 2.0)


def test_program_display_forms() -> None:
    program = ad.grad_program(ad.trace(lambda x, w: ad.tanh(x * w)))
    latex = program.latex()
    assert latex.startswith(r"\begin{aligned}") and r"\tanh" in latex
    svg = program._repr_svg_()
    assert svg is not None and "<svg" in svg and 'id="v0"' in svg
    printed: list[str] = []

    class Printer:
        def text(self, s: str) -> None:
            printed.append(s)

    program._repr_pretty_(Printer(), False)
    assert printed == [program.text()]


@pytest.mark.parametrize("name", ["builder", "derivative", "display", "higher", "numeric",
                                  "symbolic", "tracing"])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"autodiff_core.{name}")
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
