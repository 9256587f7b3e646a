"""`ad.show`: the widget's Python side (its page side is tests/browser/test_widget_page.py).

The state that anywidget syncs with the page is checked here: the trace is the REST API's
JSON for the same program and point, and changing `at` or `mode` recomputes it.
"""

import subprocess
import sys

import pytest

import autodiff_core as ad
from autodiff_core.widget import MODULES, differentiate_json


def test_source_program_and_function_give_the_same_trace() -> None:
    text = "y = x * w + sin(x)"
    widgets = [ad.show(text, at={"x": 2.0, "w": 3.0}),
               ad.show(ad.parse(text), at={"x": 2.0, "w": 3.0}),
               ad.show(lambda x, w: {"y": x * w + ad.sin(x)}, at={"x": 2.0, "w": 3.0})]
    derivatives = [w.result["derivatives"] for w in widgets]
    assert derivatives[0] == derivatives[1] == derivatives[2]
    assert derivatives[0]["y"]["w"] == 2.0
    assert widgets[0].svg.lstrip().startswith(("<?xml", "<svg", "<!--"))
    assert set(widgets[0].modules) == set(MODULES)
    assert "export default" in widgets[0]._esm and ".graph-svg" in widgets[0]._css


def test_setting_at_or_mode_recomputes() -> None:
    widget = ad.show("x = 3*w; y = 2*x^2 + 4", at={"w": 1.0})
    assert widget.result["derivatives"] == {"y": {"w": 36.0}}
    widget.at = {"w": 2.0}
    assert widget.result["derivatives"] == {"y": {"w": 72.0}}
    widget.mode = "forward"
    assert [p["direction"] for p in widget.result["passes"]] == ["forward"]
    assert widget.result == differentiate_json(ad.parse("x = 3*w; y = 2*x^2 + 4"),
                                               {"w": 2.0}, "forward")


def test_a_partial_point_keeps_the_other_inputs() -> None:
    widget = ad.show("f = a * b", at={"a": 2.0})
    assert widget.at == {"a": 2.0, "b": 1.0}
    widget.at = {"b": 5.0}
    assert widget.at == {"a": 1.0, "b": 5.0}
    assert widget.result["derivatives"] == {"f": {"a": 5.0, "b": 1.0}}


def test_errors_are_shown_not_raised() -> None:
    widget = ad.show("y = log(x)", at={"x": 1.0})
    widget.at = {"x": -1.0}
    assert "log(-1)" in widget.error and widget.result == {}
    widget.at = {"x": 4.0}
    assert widget.error == "" and widget.result["derivatives"] == {"y": {"x": 0.25}}
    with pytest.raises(ad.ExpressionError):
        ad.show("y = x +")
    with pytest.raises(TypeError, match="show"):
        ad.show(42)


def test_the_engine_does_not_import_anywidget() -> None:
    """numpy is the engine's only runtime dependency: anywidget waits for the first widget."""
    code = ("import sys, autodiff_core as ad; ad.parse('y = x'); "
            "print(any(m.split('.')[0] in ('anywidget', 'ipywidgets', 'traitlets') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
