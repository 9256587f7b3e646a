"""The playground's "check it in PyTorch" panel: the program as PyTorch or JAX code, and that
code, run by the real PyTorch, gives the derivative the page shows."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import torch
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SOURCE = "z = w1*x1 + w2*x2 + b\ny = tanh(z)"
POINT = {"w1": 0.5, "x1": 1.0, "w2": -1.0, "x2": 2.0, "b": 0.3}


def open_playground(page: Page) -> None:
    at = ",".join(f"{k}={v}" for k, v in POINT.items())
    page.goto(f"/playground?source={quote(SOURCE)}&at={quote(at)}&mode=reverse")
    page.wait_for_function("() => document.body.dataset.status === 'ready'")


def test_the_shown_code_gives_the_shown_derivative_in_pytorch(page: Page) -> None:
    open_playground(page)
    code = page.locator("#export-code code")
    expect(code).to_have_text("")  # asked for only when the panel is opened
    page.get_by_text("Check it in PyTorch or JAX").click()
    expect(code).to_contain_text("def program(**inputs):")
    expect(code).to_contain_text("torch.tanh(")
    namespace: dict = {}
    exec(code.inner_text(), namespace)  # the code as the learner would copy it
    inputs = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for n, v in POINT.items()}
    namespace["program"](**inputs)["y"].backward()
    shown = page.locator('#summary li[data-input="w1"]').get_attribute("data-value")
    assert inputs["w1"].grad is not None and float(shown or "nan") == pytest.approx(
        inputs["w1"].grad.item(), rel=1e-12)

    page.locator("#export-framework").select_option("jax")
    expect(code).to_contain_text("jax.config.update")
    # a new program: the panel follows the playground's run
    page.locator("#source").fill("y = sin(a) * a")
    expect(code).to_contain_text("jnp.sin(v0)", timeout=10_000)
    # a broken program keeps the last code and says why there is no new one
    page.locator("#source").fill("y = sin(a) *")
    expect(page.locator("#export-status")).to_contain_text("error", timeout=10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#export-panel").screenshot(path=str(SHOTS / "export-panel.png"))


def test_the_panel_is_accessible(page: Page) -> None:
    open_playground(page)
    page.get_by_text("Check it in PyTorch or JAX").click()
    expect(page.locator("#export-code code")).to_contain_text("def program")
    results = Axe().run(page, context="#export-panel")
    assert results.violations_count == 0, results.generate_report()


def test_the_panel_fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_playground(page)
    page.get_by_text("Check it in PyTorch or JAX").click()
    expect(page.locator("#export-code code")).to_contain_text("def program")
    box = page.locator("#export-panel").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.locator("#export-panel").screenshot(path=str(SHOTS / "export-panel-390.png"))
