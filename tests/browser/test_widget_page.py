"""The notebook widget's page side in headless Chromium, with no Jupyter and no network.

A blank page gets the widget's CSS and runs its ES module (the very text anywidget would send)
with a model that stands in for the Jupyter comm: it holds the Python widget's state, and a
`save_changes()` is answered, as the kernel would, by the Python widget's new `result`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

import autodiff_core as ad
from tests.browser.conftest import is_console_error

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

# A stand-in for anywidget's model: get/set/on/off/save_changes, with "change:<key>" events.
HARNESS = """
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widget</title></head>
<body><main><div id="cell"></div></main></body></html>
"""
BOOT = """
async ([esm, css, state]) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const listeners = {};
  window.saved = [];
  window.model = {
    get: (key) => state[key],
    set: (key, value) => {
      state[key] = value;
      for (const cb of listeners[`change:${key}`] || []) cb();
    },
    on: (event, cb) => { (listeners[event] ||= []).push(cb); },
    off: (event, cb) => { listeners[event] = (listeners[event] || []).filter((f) => f !== cb); },
    save_changes: () => { window.saved.push({ at: state.at, mode: state.mode }); },
  };
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  await widget.render({ model: window.model, el: document.getElementById("cell") });
}
"""


def state_of(widget: Any) -> dict[str, Any]:
    return {key: getattr(widget, key) for key in
            ("modules", "source", "svg", "at", "mode", "autoplay", "result", "error")}


@pytest.fixture
def widget_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    outside: list[str] = []
    context.route("**/*", lambda route: (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if is_console_error(m) else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(HARNESS)
    yield page
    context.close()
    assert errors == [], "the widget logged errors"
    assert outside == [], "the widget fetched something (it must need no network)"


def boot(page: Page, widget: Any) -> None:
    page.evaluate(BOOT, [widget._esm, widget._css, state_of(widget)])
    page.wait_for_selector(".adl-widget[data-ready=true] svg.graph-svg g.node")


def step(page: Page) -> int:
    return int(page.get_attribute(".adl-widget", "data-step") or -1)


def test_graph_appears_and_play_animates_the_trace(widget_page: Page) -> None:
    widget = ad.show("x = 3*w\ny = 2*x^2 + 4", at={"w": 1.0}, autoplay=False)
    boot(widget_page, widget)
    page = widget_page
    assert page.locator("svg.graph-svg g.node").count() >= 9
    assert page.locator(".trace-table tbody tr").count() == 9
    assert "∂y/∂w = 36" in page.inner_text(".adw-summary")
    assert step(page) == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("Number(document.querySelector('.adl-widget').dataset.step) >= 3")
    assert page.locator("svg.graph-svg g.node.is-current").count() == 1
    page.get_by_role("button", name="Go to the end").click()
    last = page.locator(".trace-table tbody tr[data-node=v0] td.deriv-value")
    assert float(last.get_attribute("data-value") or "nan") == 36.0
    assert page.locator("svg.graph-svg .deriv-label.adjoint").filter(has_text="36").count() >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget.png"), full_page=True)


def test_slider_and_python_stay_in_sync(widget_page: Page) -> None:
    widget = ad.show(lambda x, w: ad.tanh(x * w), at={"x": 0.5, "w": -1.0}, autoplay=False)
    boot(widget_page, widget)
    page = widget_page
    # the page moves a slider: the model is saved with the new point ...
    slider = page.locator("input[type=range][data-input=w]")
    slider.fill("2")
    saved = page.evaluate("window.saved.at(-1)")
    assert saved["at"] == {"x": 0.5, "w": 2.0}
    # ... the kernel recomputes (here: the Python widget itself) and the page replays it
    widget.at = saved["at"]
    assert widget.result["values"]["w"] == 2.0
    page.evaluate("(r) => window.model.set('result', r)", widget.result)
    page.get_by_role("button", name="Go to the end").click()
    expected = ad.reverse(ad.trace(lambda x, w: ad.tanh(x * w)), {"x": 0.5, "w": 2.0})
    shown = page.inner_text(".adw-summary")
    assert f"= {expected.derivatives['f']['w']:.6g}"[:8] in shown
    # Python sets the point: the sliders follow
    widget.at = {"x": 1.5, "w": -3.0}
    page.evaluate("(at) => window.model.set('at', at)", json.loads(json.dumps(widget.at)))
    assert slider.input_value() == "-3"
    assert page.locator("input[type=range][data-input=x]").input_value() == "1.5"


def test_a_point_outside_the_domain_says_where(widget_page: Page) -> None:
    widget = ad.show("y = log(x)", at={"x": 2.0}, autoplay=False)
    boot(widget_page, widget)
    widget.at = {"x": -1.0}
    assert "log(-1)" in widget.error
    widget_page.evaluate("(e) => window.model.set('error', e)", widget.error)
    assert "log(-1)" in widget_page.inner_text(".adw-problem")
