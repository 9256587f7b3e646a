"""Lessons 9 and 10 in headless Chromium: the numbers lesson 9 shows are the ones the rules
give (computed here independently), its tensor exercises take right answers and diagnose
wrong ones by name, and lesson 10's training makes the loss fall and the boundary move, from
the keyboard too, and without animation under reduced motion. Screenshots of the trained
page go to build/screenshots/lessons/ (test_lessons.py photographs every lesson as loaded).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app.lessons import BY_SLUG
from tests.browser.conftest import photograph
from tests.browser.test_lessons import serious_violations

pytestmark = pytest.mark.browser

TIMEOUT = 15_000
LAYER = BY_SLUG["scalars-to-tensors"].url
NETWORK = BY_SLUG["train-a-network"].url


def number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def test_layer_lesson_shows_the_outer_product_and_the_column_sums(page: Page) -> None:
    page.goto(LAYER)
    table = page.locator("#outer-table")
    expect(table).to_have_attribute("data-ready", "true", timeout=TIMEOUT)
    # y = Σ tanh(W x + b): ū = 1 − tanh(u)², W̄ = ū xᵀ
    W, x, b = np.array([[0.5, -1], [1, 0.5]]), np.array([1.0, 2.0]), np.array([0.0, -1.0])
    u_bar = 1 - np.tanh(W @ x + b) ** 2
    for i in range(2):
        for j in range(2):
            cell = table.locator(f"td[data-entry='{i}{j}']").inner_text()
            factors = re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", cell.replace("\u2212", "-"))
            assert number(factors[0]) == pytest.approx(u_bar[i], rel=1e-5)
            assert number(factors[1]) == pytest.approx(x[j])
            assert number(factors[-1]) == pytest.approx(u_bar[i] * x[j], rel=1e-5)
    # Z = X + b with L = ½ΣZ²: b̄ = the column sums of Z
    X, bias = np.array([[1, -1], [0.5, 2], [-2, 1]]), np.array([0.5, -1])
    sums = (X + bias).sum(axis=0)
    for j in range(2):
        shown = page.locator(f"#broadcast-table td[data-entry='b{j}']")
        expect(shown).to_be_visible(timeout=TIMEOUT)
        assert number(shown.inner_text()) == pytest.approx(sums[j])
    # the tensor engine's broadcast node: its reverse step sums Z̄ = Z down the rows
    caption = page.locator("#bcast-figure .graph-caption")
    expect(page.locator("#bcast-figure svg g.node").first).to_be_visible(timeout=TIMEOUT)
    for _ in range(8):
        if "sum over axis 0" in caption.inner_text():
            break
        page.locator("#bcast-step").click()
        page.wait_for_timeout(100)
    assert "sum over axis 0" in caption.inner_text()
    assert "[1, -1]" in caption.inner_text().replace("\u2212", "-")
    expect(page.locator("#layer-figure svg g.node").first).to_be_visible(timeout=TIMEOUT)
    before = page.locator("#layer-figure div.graph").get_attribute("data-frame")
    page.locator("#layer-step").click()
    expect(page.locator("#layer-figure div.graph")).not_to_have_attribute("data-frame",
                                                                          before or "")
    # collapsed: the same layer as array nodes, W drawn with its shape
    page.locator("#view-tensor").click()
    expect(page.locator("#view-tensor")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#layer-figure div.graph")).to_have_attribute(
        "data-graph-source", re.compile("W @ x"), timeout=TIMEOUT)
    expect(page.locator("#layer-figure svg g.node", has_text="2×2").first).to_be_visible()
    # the playground link opens the same layer at the same point (tensors as nested lists)
    page.locator("#playground-link").click()
    expect(page.locator("svg g.node", has_text="2×2").first).to_be_visible(timeout=TIMEOUT)
    assert "W%3D%5B%5B0.5" in page.url


def tensor_quiz(page: Page, kind: str) -> Locator:
    quiz = page.locator(f"[data-tensor-quiz][data-kind={kind}]")
    expect(quiz).to_have_attribute("data-ready", "true", timeout=TIMEOUT)
    return quiz


def answer(quiz: Locator, text: str) -> tuple[str, str]:
    quiz.locator("input").fill(text)
    quiz.get_by_role("button", name="Check").click()
    feedback = quiz.locator(".quiz-feedback")
    expect(feedback).to_have_attribute("data-verdict", re.compile(".+"), timeout=TIMEOUT)
    return feedback.get_attribute("data-verdict") or "", feedback.inner_text()


def typed(a: np.ndarray) -> str:
    if a.ndim == 1:
        return " ".join(f"{v:g}" for v in a)
    return "; ".join(" ".join(f"{v:g}" for v in row) for row in a)


def test_matmul_exercise_diagnoses_the_forgotten_transpose_and_the_swapped_factors(
        page: Page) -> None:
    page.goto(f"{LAYER}?variant=tensors-a")
    quiz = tensor_quiz(page, "matmul")
    at = json.loads(quiz.get_attribute("data-at") or "{}")
    A, B = np.array(at["A"], float), np.array(at["B"], float)
    C = np.array(json.loads(quiz.get_attribute("data-cotangent") or "[]"), float)
    assert quiz.get_attribute("data-question") == "adjoint-A"
    verdict, text = answer(quiz, typed(C @ B))
    assert verdict == "transpose" and "looks like" in text and "Transpose B" in text
    verdict, text = answer(quiz, typed(B.T @ C))
    assert verdict == "order" and typed(C @ B.T) not in text
    quiz.get_by_role("button", name="Hint").click()
    expect(quiz.locator(".quiz-hints li")).to_have_count(1, timeout=TIMEOUT)
    assert answer(quiz, typed(C @ B.T))[0] == "correct"
    quiz.get_by_role("button", name="Next question").click()
    expect(quiz).to_have_attribute("data-question", "adjoint-B")
    assert answer(quiz, typed(A @ C))[0] == "transpose"
    assert answer(quiz, "1 2 3")[0] == "shape"
    assert answer(quiz, "1 2; 3")[0] == "invalid"  # unreadable: the page says how to type it
    assert "as many numbers" in quiz.locator(".quiz-feedback").inner_text()
    assert answer(quiz, typed(A.T @ C))[0] == "correct"
    # reproducible from the URL
    page.goto(f"{LAYER}?variant=tensors-a")
    assert json.loads(tensor_quiz(page, "matmul").get_attribute("data-at") or "{}") == at


def test_shape_and_broadcast_exercises_diagnose_their_mistakes(page: Page) -> None:
    page.goto(f"{LAYER}?variant=tensors-b")
    shapes = tensor_quiz(page, "shapes")
    m, n = np.array(json.loads(shapes.get_attribute("data-at") or "{}")["W"]).shape
    assert answer(shapes, f"{m}")[0] == "correct"
    shapes.get_by_role("button", name="Next question").click()
    assert answer(shapes, f"{n}x{m}")[0] == "transpose"
    assert answer(shapes, "scalar")[0] == "shape"
    assert answer(shapes, f"{m}×{n}")[0] == "correct"
    broadcast = tensor_quiz(page, "broadcast")
    Z = np.array(json.loads(broadcast.get_attribute("data-cotangent") or "[]"), float)
    verdict, text = answer(broadcast, typed(Z[1]))
    assert verdict == "unsummed" and "fork" in text
    assert answer(broadcast, typed(Z.sum(axis=1)))[0] == "shape"
    assert answer(broadcast, typed(Z.sum(axis=0)))[0] == "correct"


def losses(page: Page) -> list[float]:
    return json.loads(page.locator("body").get_attribute("data-losses") or "[]")


def wait_for_losses(page: Page, done: Callable[[int], bool], timeout_ms: int) -> None:
    """Poll the losses the page has drawn (the CSP forbids wait_for_function's eval)."""
    for _ in range(timeout_ms // 100):
        if done(len(losses(page))):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the page drew {len(losses(page))} losses")


def test_training_makes_the_loss_fall_and_the_boundary_move(page: Page) -> None:
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if r.url.endswith("/api/v1/train") else None)
    page.goto(NETWORK)
    canvas = page.locator("#net-boundary")
    expect(canvas).to_have_attribute("data-signature", re.compile(".+"), timeout=TIMEOUT)
    untrained = canvas.get_attribute("data-signature")
    assert len(losses(page)) == 1
    expect(page.locator("#network-source")).to_contain_text("W1: [2, 8]")
    # Step from the keyboard: one request for ten steps
    page.locator("#net-step").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#net-status")).to_contain_text("10 steps", timeout=TIMEOUT)
    assert len(calls) == 2
    ten = losses(page)
    assert len(ten) == 11 and ten[-1] < ten[0]
    assert canvas.get_attribute("data-signature") != untrained
    # Play runs chunks until paused (Space on the focused button)
    page.locator("#net-play").focus()
    page.keyboard.press(" ")
    expect(page.locator("#net-play")).to_have_text("Pause")
    wait_for_losses(page, lambda count: count > 60, 30_000)
    page.keyboard.press(" ")
    expect(page.locator("#net-play")).to_have_text("Play", timeout=TIMEOUT)
    played = losses(page)
    assert played[-1] < 0.5 * played[0]
    assert float(page.locator("body").get_attribute("data-accuracy") or 0) >= 0.85
    # one request per chunk of 10 steps, never one per step
    assert len(calls) <= 2 + (len(played) - 11) // 10 + 1
    expect(page.locator("#gradient-table tbody tr")).to_have_count(4)
    assert serious_violations(page) == []
    photograph(page, "lessons/train-a-network-trained-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    photograph(page, "lessons/train-a-network-trained-390.png", full_page=True)
    page.get_by_role("button", name="Reset").click()
    wait_for_losses(page, lambda count: count == 1, TIMEOUT)
    assert losses(page)[0] == pytest.approx(played[0], rel=1e-9)


def test_reduced_motion_trains_in_one_request_without_animating(browser: Browser,
                                                               server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server,
                                  reduced_motion="reduce")
    page = context.new_page()
    try:
        calls: list[str] = []
        page.on("request", lambda r: calls.append(r.url)
                if r.url.endswith("/api/v1/train") else None)
        page.goto(NETWORK)
        expect(page.locator("#net-motion")).to_be_visible()
        expect(page.locator("#net-boundary")).to_have_attribute("data-signature",
                                                                re.compile(".+"), timeout=TIMEOUT)
        page.locator("#net-play").click()
        expect(page.locator("#net-status")).to_contain_text("100 steps", timeout=TIMEOUT)
        assert len(calls) == 2  # the first look, then one request for all 100 steps
        assert len(losses(page)) == 101
    finally:
        context.close()


def test_network_lesson_exercise_asks_a_batchs_shapes(page: Page) -> None:
    page.goto(f"{NETWORK}?variant=batch-a")
    quiz = tensor_quiz(page, "batch")
    at = json.loads(quiz.get_attribute("data-at") or "{}")
    k, m = len(at["X"]), len(at["W"][0])
    assert answer(quiz, f"{k}×{m}")[0] == "correct"
    quiz.get_by_role("button", name="Next question").click()
    quiz.get_by_role("button", name="Show answer").click()
    expect(quiz.locator(".quiz-feedback")).to_have_attribute("data-verdict", "revealed")
    quiz.get_by_role("button", name="Next question").click()
    verdict, text = answer(quiz, f"{k}×{m}")
    assert verdict == "unsummed" and "broadcast" in text
    assert answer(quiz, f"{m}")[0] == "correct"
    quiz.get_by_role("button", name="Next question").click()
    expect(quiz.locator(".quiz-question")).to_have_text(re.compile("Well done"))
