"""The lessons in headless Chromium: they load cleanly, respond, teach the right numbers,
pass axe-core, and are photographed at projector and phone widths (into build/screenshots/;
into docs/images/ for docs/lessons.md only with AUTODIFF_UPDATE_DOCS_IMAGES=1).

The `page` fixture (tests/browser/conftest.py) fails a test on any console error or any
request that leaves the server's origin.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from app.lessons import BY_SLUG, LESSONS
from tests.browser.conftest import photograph

pytestmark = pytest.mark.browser

AXE = Axe()
TIMEOUT = 10_000


def settle(page: Page) -> None:
    """Wait until every exercise has its questions and the page's requests are done."""
    page.wait_for_load_state("networkidle")
    for quiz in page.locator("[data-quiz]").all():
        expect(quiz).to_have_attribute("data-ready", "true", timeout=TIMEOUT)


def serious_violations(page: Page) -> list[str]:
    results = AXE.run(page).response["violations"]
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results
            if v.get("impact") in ("serious", "critical")]


PAGES = [("index", "/")] + [(lesson.slug, lesson.url) for lesson in LESSONS] + [
    ("quiz", "/quiz?source=b+%3D+a+%2B+a%3B+c+%3D+b+%2B+b&at=a%3D2&mode=reverse")]


@pytest.mark.parametrize("name, path", PAGES, ids=[name for name, _ in PAGES])
def test_page_loads_cleanly_passes_axe_and_is_photographed(page: Page, name: str,
                                                           path: str) -> None:
    page.goto(path)
    settle(page)
    assert serious_violations(page) == []
    photograph(page, f"lessons/{name}-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)  # plots follow the container's new width
    # nothing wider than the phone: no sideways scrolling of the page itself
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    assert serious_violations(page) == []  # e.g. a region that scrolls sideways but takes no focus
    photograph(page, f"lessons/{name}-390.png", full_page=True)
    if name in BY_SLUG:
        lesson = BY_SLUG[name]
        nav = page.get_by_role("navigation", name="Previous and next lesson")
        if lesson.number < len(LESSONS):
            expect(nav.locator("a[rel=next]")).to_have_attribute(
                "href", LESSONS[lesson.number].url)
        assert "/playground?source=" in (page.locator("#playground-link").get_attribute("href")
                                         or "")


def test_playground_trace_table_styles_stay_in_the_playground(page: Page) -> None:
    # Lessons load playground.css for the graph; its side-panel trace table rules (a sticky
    # head, full width, small text) must not restyle a lesson's table.
    page.goto(BY_SLUG["reverse-accumulation"].url)
    head = page.locator("#reverse-table thead th").first
    expect(head).to_be_attached(timeout=TIMEOUT)
    assert head.evaluate("el => getComputedStyle(el).position") == "static"


def test_chain_rule_shows_36_at_w_1_and_follows_the_slider(page: Page) -> None:
    page.goto(BY_SLUG["chain-rule"].url)
    expect(page.locator("#dydw")).to_have_text("36", timeout=TIMEOUT)
    expect(page.locator("#dxdw")).to_have_text("3")
    expect(page.locator("#dydx")).to_have_text("12")
    expect(page.locator("#chain-graph svg")).to_be_visible()
    slider = page.get_by_label("w", exact=True)
    slider.focus()
    for _ in range(10):  # step 0.1: w = 2, so dy/dw = 36 w = 72
        page.keyboard.press("ArrowRight")
    expect(page.locator("#w-out")).to_have_text("2")
    expect(page.locator("#dydw")).to_have_text("72", timeout=TIMEOUT)
    expect(page.locator("#dydx")).to_have_text("24")
    assert "w%3D2" in (page.locator("#playground-link").get_attribute("href") or "")


def test_chain_rule_graph_keeps_its_size_on_a_phone_and_scrolls_in_its_frame(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(BY_SLUG["chain-rule"].url)
    frame = page.locator(".graph-scroll")
    expect(frame.locator("svg")).to_be_visible(timeout=TIMEOUT)
    # drawn at about 1 px per graphviz point (the drawing is ~735 pt wide), not squeezed to 330
    assert (frame.locator("svg").bounding_box() or {"width": 0})["width"] >= 700
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    frame.focus()  # the frame scrolls from the keyboard too
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    for _ in range(40):  # keyboard scrolling may be animated
        if frame.evaluate("el => el.scrollLeft") > 100:
            break
        page.wait_for_timeout(50)
    assert frame.evaluate("el => el.scrollLeft") > 100


def answer(page: Page, quiz_index: int, value: str) -> tuple[str, str]:
    quiz = page.locator("[data-quiz]").nth(quiz_index)
    quiz.locator("input").fill(value)
    quiz.get_by_role("button", name="Check").click()
    feedback = quiz.locator(".quiz-feedback")
    expect(feedback).to_have_attribute("data-verdict", re.compile(".+"), timeout=TIMEOUT)
    verdict = feedback.get_attribute("data-verdict") or ""
    return verdict, feedback.inner_text()


def next_question(page: Page, quiz_index: int) -> None:
    page.locator("[data-quiz]").nth(quiz_index).get_by_role("button", name="Next question").click()


def test_exercise_right_and_wrong_in_each_known_way(page: Page) -> None:
    # Lesson 5: a = x*y; b = a + x; f = a*b at x = 2, y = 3. Questions in sweep order:
    # b̄ = 6, ā = 8 + 6 = 14, ȳ = 14 x = 28, x̄ = 6 + 42 = 48.
    page.goto(BY_SLUG["reverse-accumulation"].url)
    settle(page)
    feedback: dict[str, str] = {}
    assert answer(page, 0, "6")[0] == "correct"
    next_question(page, 0)
    verdict, feedback["fork"] = answer(page, 0, "8")  # kept one of the two contributions
    assert verdict == "fork"
    assert answer(page, 0, "14")[0] == "correct"
    next_question(page, 0)
    verdict, feedback["local"] = answer(page, 0, "42")  # 14 * y instead of 14 * x
    assert verdict == "local"
    verdict, feedback["unknown"] = answer(page, 0, "1000")
    assert verdict == "unknown"
    page.locator("[data-quiz]").get_by_role("button", name="Show answer").click()
    expect(page.locator("[data-quiz] tr[data-node=v1] td.derivative")).to_have_text("28")
    # Lesson 4: u = x*y at x = 3, y = 2 seeded on x has tangent y = 2; 3 is the y-seeded one
    page.goto(BY_SLUG["forward-accumulation"].url)
    settle(page)
    verdict, feedback["seed"] = answer(page, 0, "3")
    assert verdict == "seed"
    assert answer(page, 0, "2")[0] == "correct"
    assert len(set(feedback.values())) == 4, feedback  # each mistake has its own feedback
    assert "adds" in feedback["fork"] and "local derivative" in feedback["local"]


def test_descent_and_trace_controls_respond(page: Page) -> None:
    page.goto(BY_SLUG["why-derivatives"].url)
    summary = page.locator("#descent-summary")
    expect(summary).to_contain_text("After 15 steps", timeout=TIMEOUT)
    before = summary.inner_text()
    page.locator("#rate").fill("0.3")
    expect(summary).not_to_have_text(before, timeout=TIMEOUT)
    expect(summary).to_contain_text("size 0.3")
    page.locator("#steps").fill("5")
    expect(summary).to_contain_text("After 5 steps", timeout=TIMEOUT)

    page.goto(BY_SLUG["forward-accumulation"].url)
    rows = page.locator("#forward-table tbody tr")
    expect(rows).to_have_count(6, timeout=TIMEOUT)  # x, y, u, 2, x^2, f
    page.get_by_role("button", name="Show all").click()
    expect(page.locator("#pass-count")).to_contain_text("∂f/∂x = 8")
    page.get_by_role("button", name="Pass 2: seed y").click()
    page.get_by_role("button", name="Show all").click()
    expect(page.locator("#pass-count")).to_contain_text("∂f/∂y = 3")

    page.goto(BY_SLUG["reverse-accumulation"].url)
    steps = page.locator("#reverse-table tbody tr")
    expect(steps).to_have_count(1, timeout=TIMEOUT)
    page.get_by_role("button", name="Next step").click()
    expect(steps).to_have_count(2)
    page.get_by_role("button", name="Show all").click()
    expect(page.locator("#reverse-status")).to_contain_text("∂f/∂x = 48, ∂f/∂y = 28")
    expect(page.locator("#reverse-table .fork").first).to_be_visible()


def test_neuron_loss_decreases(page: Page) -> None:
    # before training, the plot shows step 0: the loss at w = 0.5, b = 1, computed here too
    examples = [(-3, 0), (-2, 0), (-0.5, 0), (0.5, 1), (2, 1), (3, 1)]
    start = sum((1 / (1 + math.exp(-(0.5 * x + 1))) - t) ** 2 for x, t in examples)
    page.goto(BY_SLUG["putting-it-together"].url)
    settle(page)
    note = page.locator("#loss-note")
    expect(note).to_be_visible()
    shown = re.search(r"Step 0: loss (\d+\.\d+)", note.inner_text())
    assert shown and float(shown.group(1)) == pytest.approx(start, rel=1e-5)
    assert page.locator("body").get_attribute("data-losses") is None  # nothing trained yet
    page.get_by_role("button", name="Train").click()
    expect(page.locator("body")).to_have_attribute("data-losses", re.compile(".+"), timeout=30_000)
    expect(note).to_be_hidden()
    losses = json.loads(page.locator("body").get_attribute("data-losses") or "[]")
    assert len(losses) == 40
    assert losses[0] == pytest.approx(start, rel=1e-12)
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:], strict=False))


def test_numeric_lesson_best_h_is_where_theory_puts_it(page: Page) -> None:
    # round-off ~ eps/h against truncation ~ h (forward) or h^2 (central): best h near
    # sqrt(eps) ~ 1e-8 and cbrt(eps) ~ 6e-6
    page.goto(BY_SLUG["by-hand-symbolic-numeric"].url)
    best = page.locator("#best-h")
    expect(best).to_have_attribute("data-forward", re.compile(".+"), timeout=TIMEOUT)
    assert 1e-10 <= float(best.get_attribute("data-forward") or "nan") <= 1e-6
    assert 1e-7 <= float(best.get_attribute("data-central") or "nan") <= 1e-3
    expect(page.locator("#swelling-table tbody tr")).to_have_count(8)
    # the learner's own function: the plot and numbers follow it
    page.get_by_label("Your function of x").fill("y = exp(x)")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#symbolic-form")).to_contain_text("exp(x)", timeout=TIMEOUT)
    expect(best).to_contain_text("Exact (AD) derivative: 2.71828")


@pytest.mark.parametrize("index, inputs, outputs", [(0, 4, 1), (1, 1, 4)])
def test_forward_or_reverse_pass_counts_match_inputs_and_outputs(page: Page, index: int,
                                                                 inputs: int,
                                                                 outputs: int) -> None:
    page.goto(BY_SLUG["forward-or-reverse"].url)
    case = page.locator("[data-jacobian]").nth(index)
    expect(case).to_have_attribute("data-ready", "true", timeout=TIMEOUT)
    assert case.locator("tr[data-mode=forward] [data-role=passes]").inner_text() == str(inputs)
    assert case.locator("tr[data-mode=reverse] [data-role=passes]").inner_text() == str(outputs)
    for mode, filled in (("forward", inputs), ("reverse", outputs)):
        case.locator(f"[data-build={mode}]").click()
        expect(case).to_have_attribute("data-built", mode, timeout=TIMEOUT)
        passes = "1 pass" if filled == 1 else f"{filled} passes"
        expect(case.locator("[data-role=status]")).to_contain_text(f"mode: {passes} (one per")
        expect(case.locator("td.is-filled")).to_have_count(inputs * outputs)


def test_higher_derivatives_and_hessian(page: Page) -> None:
    page.goto(BY_SLUG["higher-derivatives"].url)
    rows = page.locator("#orders-table tbody tr")
    expect(rows).to_have_count(3, timeout=TIMEOUT)
    # x^3 at x = 1: 3x^2 = 3, 6x = 6, 6
    expect(rows.locator("td:nth-child(3)")).to_have_text(["3", "6", "6"])
    # f = x^2 y + y^3 at (1, 2): [[2y, 2x], [2x, 6y]] = [[4, 2], [2, 12]]
    expect(page.locator("#hessian-table td[data-entry=yy]")).to_have_text("12", timeout=TIMEOUT)
    expect(page.locator("#hessian-table td[data-entry=xy]")).to_have_text("2")
    page.get_by_label("y", exact=True).fill("-1")
    expect(page.locator("#hessian-table td[data-entry=yy]")).to_have_text("-6", timeout=TIMEOUT)
