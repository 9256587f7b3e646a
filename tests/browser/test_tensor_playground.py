"""Tensor programs in the playground, in headless Chromium against the real server: the layer
example from the menu draws with its shapes, the reverse trace steps through matrices and
heatmaps (the outer product v̄W = v̄·xᵀ), the scalar graph expands from the keyboard, tensor
inputs are edited as nested lists with inline errors, and a shape error is shown where it is.
Screenshots at 1280×800 and 390×844 go to build/screenshots/tensor-*.png.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, quote, urlparse

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import photograph
from tests.browser.test_playground import api, frame_count, open_ready, rerun, seek, wait_rerun

pytestmark = pytest.mark.browser

LAYER_TITLE = "A layer"
NETWORK_TITLE = "A small network"


def open_example(page: Page, title: str) -> None:
    """Open the playground, then the example from its menu (a link: a new page load)."""
    open_ready(page, "/playground")
    page.locator(".examples summary").click()
    page.get_by_role("link", name=title).click()
    page.wait_for_url("**/playground?source=*")
    page.wait_for_function("() => document.body.dataset.status === 'ready'")


def state_request(page: Page) -> dict:
    """The request the page's URL describes (the point as the page holds it)."""
    source = page.locator("#source").input_value()
    at = {name: json.loads(page.locator(f"#in-{name}").input_value())
          for name in page.locator(".tensor-row textarea").evaluate_all(
              "(fields) => fields.map((f) => f.dataset.input)")}
    return {"source": source, "at": at, "mode": "reverse"}


def test_the_layer_draws_with_shapes_and_steps_through_arrays(page: Page) -> None:
    open_example(page, LAYER_TITLE)
    drawn = page.evaluate("performance.getEntriesByName('graph-drawn')[0].startTime")
    graph = page.locator("#graph svg")
    expect(graph).to_be_visible()
    # nodes and edges show their shapes; the input W is 2×3
    w = page.locator('#graph g.node.input:has(text:text-is("W"))')
    expect(w.locator("text")).to_contain_text(["W", "2×3"])
    assert page.locator("#graph g.edge.tensor").count() >= 3
    # W's point field shows its shape
    expect(page.locator('label[for="in-W"] .shape-tag')).to_have_text("2×3")

    result = api(page, state_request(page))
    gradient = np.array(result["derivatives"]["y"]["W"])
    # the result shows the gradient in W's shape, as a matrix
    cell = page.locator('#summary li.tensor-derivative[data-input="W"] table.matrix td')
    expect(cell).to_have_count(6)

    # the reverse pass: step to W's adjoint step; its row shows the outer product
    frames = frame_count(page)
    w_id = result["graph"]["inputs"]["W"]
    last_pass = result["passes"][-1]["steps"]
    index = frames - len(last_pass) + [s["node"] for s in last_pass].index(w_id)
    page.locator("#play").focus()
    seek(page, index)
    row = page.locator(f'#trace tr[data-node="{w_id}"]')
    expect(row).to_have_class(re.compile(r"\bderiv-shown\b.*\bis-current\b"))
    shown = json.loads(row.locator("td.deriv-value").get_attribute("data-value") or "null")
    np.testing.assert_allclose(shown, gradient, rtol=1e-12)
    expect(row.locator("td.deriv-value table.matrix td")).to_have_count(6)

    # the matmul's step: the outer product picture, v̄ (column) · xᵀ (row) = a 2×3 matrix
    matmul = next(n["id"] for n in result["graph"]["nodes"] if n["op"] == "matmul")
    seek(page, frames - len(last_pass) + [s["node"] for s in last_pass].index(matmul))
    picture = page.locator("#step-arrays .product-picture").first
    expect(picture).to_be_visible()
    expect(picture.locator(".array-view")).to_have_count(3)
    expect(picture.locator(".array-view").nth(2).locator("td")).to_have_count(6)
    expect(page.locator("#step-caption")).to_contain_text("Adjoint of")
    photograph(page, "tensor-layer-1280.png")
    print(f"\nlayer example: drawn {drawn:.0f} ms after the link's navigation")


def test_the_network_draws_traces_and_plays_to_the_end(page: Page) -> None:
    open_example(page, NETWORK_TITLE)
    # from the link's navigation to its drawing in the page, and to a finished run
    drawn = page.evaluate("performance.getEntriesByName('graph-drawn')[0].startTime")
    request = state_request(page)
    start = time.perf_counter()
    result = api(page, request)
    traced = time.perf_counter() - start
    page.locator("#end").click()
    expect(page.locator("#step-caption")).to_contain_text("so this is ∂loss/∂")
    # every value and adjoint of the network has at most 12 elements: matrices, in full
    rows = page.locator("#trace table.trace-table > tbody > tr")
    expect(rows).to_have_count(len(result["primal"]))
    assert page.locator("#trace td.deriv-value table.matrix").count() >= 10
    # the two biases are broadcast over the batch by nodes of their own, drawn apart
    expect(page.locator("#graph g.node.op-broadcast")).to_have_count(2)
    # X @ W1's step: W1's adjoint is Xᵀ · v̄, the batch summed
    steps = result["passes"][-1]["steps"]
    first = next(n for n in result["graph"]["nodes"] if n["op"] == "matmul")
    seek(page, frame_count(page) - len(steps) + [s["node"] for s in steps].index(first["id"]))
    picture = page.locator("#step-arrays .product-picture").nth(1)
    expect(picture.locator(".array-caption")).to_have_text(
        [f"{first['args'][0]}ᵀ (2×4)", f"v̄{first['id'][1:]} (4×3)", f"to {first['args'][1]} (2×3)"])
    photograph(page, "tensor-network-1280.png")
    print(f"\nnetwork example: drawn {drawn:.0f} ms after the link's navigation; "
          f"traced request {traced * 1000:.0f} ms")


def test_heatmap_for_a_larger_array(page: Page) -> None:
    source = "A: [4, 5]\ny = sum(A * A)"
    values = [[round((i - j) / 4, 2) for j in range(5)] for i in range(4)]
    at = "A=" + json.dumps(values).replace(" ", "")
    page.goto(f"/playground?source={source.replace(chr(10), '%0A')}&at={at}&mode=reverse")
    page.wait_for_function("() => document.body.dataset.status === 'ready'")
    page.locator("#end").click()
    heatmap = page.locator("#trace td.primal-value figure.heatmap").first
    expect(heatmap).to_be_visible()
    label = heatmap.locator("canvas[role=img]").get_attribute("aria-label") or ""
    found = re.fullmatch(r"Heatmap of a 4×5 array: norm (\S+), min (\S+), max (\S+)", label)
    assert found, label
    norm, low, high = map(float, found.groups())
    assert norm == pytest.approx(float(np.linalg.norm(values)), rel=1e-3)
    assert (low, high) == (-1, 0.75)
    expect(heatmap.locator(".heatmap-legend")).to_be_attached()
    photograph(page, "tensor-heatmap-1280.png")
    results = Axe().run(page)  # heatmaps: canvases with a text alternative each
    assert results.violations_count == 0, results.generate_report()


def test_expand_to_scalars_from_the_keyboard(page: Page) -> None:
    open_example(page, LAYER_TITLE)
    button = page.locator("#expand-scalars")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#scalar-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#scalar-status")).to_contain_text("scalar nodes")
    expect(page.locator('#scalar-graph g.node:has(text:text-is("W[0,1]"))')).to_have_count(1)
    assert page.locator("#scalar-graph g.node.op-mul").count() == 6  # W @ x: 2 rows × 3
    page.wait_for_timeout(300)
    photograph(page, "tensor-expanded-1280.png")
    results = Axe().run(page)  # the scalar graph's panel open
    assert results.violations_count == 0, results.generate_report()
    page.locator("#scalar-close").press("Enter")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()


def test_tensor_inputs_are_typed_as_nested_lists(page: Page) -> None:
    open_example(page, LAYER_TITLE)
    field = page.locator("#in-x")
    before = rerun(page)
    field.fill("[1, 2]")
    error = page.locator("#in-x-error")
    expect(error).to_have_text("x: Expected a vector of 3 numbers, got a vector of 2 numbers.")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("[1, 2, oops]")
    expect(error).to_have_text("x: Not a nested list of numbers: write a vector of 3 numbers "
                               "like [0, 0, 0].")
    field.fill("[[1, 2], [3]]")
    expect(error).to_have_text("x: Every row must have the same length, and every entry must "
                               "be a number.")
    field.fill("[0.5, 0, -1]")
    expect(error).to_be_hidden()
    wait_rerun(page, before)
    assert "x=[0.5,0,-1]" in parse_qs(urlparse(page.url).query)["at"][0]
    # Randomise fills every input with a value of its shape
    before = rerun(page)
    page.locator("#randomise").click()
    wait_rerun(page, before)
    w = json.loads(page.locator("#in-W").input_value())
    assert np.array(w).shape == (2, 3)


def test_a_shape_error_is_shown_where_it_is(page: Page) -> None:
    open_example(page, LAYER_TITLE)
    before = rerun(page)
    page.locator("#source").fill("W: [2, 3]\nx: [2]\nb: [2]\ny = sum(tanh(W @ x + b))")
    page.wait_for_function("(n) => Number(document.body.dataset.run) > n && "
                           "document.body.dataset.status === 'error'", arg=before)
    error = page.locator("#source-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Line 4")
    expect(error).to_contain_text("2×3 @ 2")
    photograph(page, "tensor-shape-error-1280.png")


def test_phone_layout_and_accessibility(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_example(page, LAYER_TITLE)
    page.locator("#end").click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    photograph(page, "tensor-layer-390.png", full_page=True)
    page.locator("#expand-scalars").click()
    expect(page.locator("#scalar-status")).to_contain_text("26 scalar nodes")
    photograph(page, "tensor-expanded-390.png")
    page.emulate_media(reduced_motion="reduce")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_forward_mode_makes_one_pass_per_input_element(page: Page) -> None:
    open_example(page, LAYER_TITLE)
    before = rerun(page)
    page.get_by_role("radio", name="Forward (tangents)").check()
    wait_rerun(page, before)
    page.locator("#end").click()
    # W (6) + x (3) + b (2) elements: 11 tangent passes, the last seeding b[1]
    expect(page.locator("#pass-caption")).to_have_text("Tangent pass 11 of 11 · seed b[1] = 1")
    seek(page, page.locator("#trace table.trace-table > tbody > tr").count())  # pass 1 begins
    expect(page.locator("#pass-caption")).to_have_text("Tangent pass 1 of 11 · seed W[0,0] = 1")
    photograph(page, "tensor-forward-1280.png")


def test_a_tensor_program_typed_from_scratch_gets_inputs_of_its_shapes(page: Page) -> None:
    open_ready(page, "/playground")
    before = rerun(page)
    page.locator("#source").fill("A: [2, 2]\nv: [2]\ny = sum(A @ v)")
    wait_rerun(page, before)
    expect(page.locator('label[for="in-A"] .shape-tag')).to_have_text("2×2")
    a = json.loads(page.locator("#in-A").input_value())
    v = json.loads(page.locator("#in-v").input_value())
    assert np.array(a).shape == (2, 2) and np.array(v).shape == (2,)
    # the gradient shown is the API's: ∂y/∂A = 1·vᵀ per row, ∂y/∂v = Aᵀ·1
    shown = page.locator('#summary li[data-input="A"]').get_attribute("data-value") or "null"
    np.testing.assert_allclose(json.loads(shown), [v, v])
    # a declaration edited to another shape gives the input a value of the new shape
    before = rerun(page)
    page.locator("#source").fill("A: [3, 2]\nv: [2]\ny = sum(A @ v)")
    wait_rerun(page, before)
    assert np.array(json.loads(page.locator("#in-A").input_value())).shape == (3, 2)
    expect(page.locator('label[for="in-A"] .shape-tag')).to_have_text("3×2")


def test_inputs_too_big_to_type_are_drawn_not_traced(page: Page) -> None:
    source = "W: [40, 30]\nx: [30]\nb: [40]\ny = sum(tanh(W @ x + b))"
    page.goto(f"/playground?source={quote(source)}&mode=reverse")
    page.wait_for_function("() => document.body.dataset.status === 'error'")
    expect(page.locator("#problem")).to_have_text(
        "W (40×30): more than 1,000 numbers, too many to trace here. The graph is drawn; "
        "smaller shapes can be stepped through.")
    expect(page.locator('#graph g.node:has(text:text-is("40×30"))')).to_have_count(1)
    expect(page.locator("#in-W")).to_have_text("1,200 numbers: too many to type here")
    assert np.array(json.loads(page.locator("#in-x").input_value())).shape == (30,)
    assert len(page.url) < 2000  # the big input is not in the link
    expect(page.locator("#trace")).to_have_text("No trace: the inputs are too big to trace here.")
