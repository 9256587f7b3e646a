"""Lesson 9's array exercises in a class, in real browsers: a teacher makes a class, a student
joins and forgets a transpose in the matmul exercise; the teacher's dashboard shows that
mistake by name within 2 s, under the exercise's title. A dropped request is sent once more
with the same Idempotency-Key and counted once. The dashboard's screenshot goes to
build/screenshots/classroom-dashboard-tensor.png."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from playwright.sync_api import Locator, Request, Route, expect

from app.lessons import BY_SLUG

# `people`: browser contexts that fail the test on any page or console error (a fixture)
from tests.browser.test_classroom import SHOTS, People, join, make_class, people  # noqa: F401

pytestmark = pytest.mark.browser

LAYER = BY_SLUG["scalars-to-tensors"].url
TIMEOUT = 15_000
# the lesson's title before its colon, and the exercise's heading
MATMUL_TITLE = "From scalars to tensors — the adjoint of a matrix product"
BROADCAST_TITLE = "From scalars to tensors — a bias over a batch"


def typed(a: np.ndarray) -> str:
    return "; ".join(" ".join(f"{v:g}" for v in row) for row in a)


def check(quiz: Locator, text: str) -> str:
    quiz.locator("input").fill(text)
    quiz.get_by_role("button", name="Check").click()
    feedback = quiz.locator(".quiz-feedback")
    expect(feedback).to_have_attribute("data-verdict", re.compile(".+"), timeout=TIMEOUT)
    return feedback.get_attribute("data-verdict") or ""


def test_a_forgotten_transpose_in_lesson_9_shows_on_the_dashboard(
        people: People) -> None:  # noqa: F811 (the fixture imported above)
    teacher = people.open()
    code = make_class(teacher)
    teacher.locator("#open-dashboard").click()
    expect(teacher.locator("#live")).to_contain_text("live", timeout=10_000)
    student = people.open(390, 844)
    join(student, code, "ada")
    expect(teacher.locator("#student-count")).to_have_text("1 student", timeout=5_000)

    student.goto(LAYER)
    quiz = student.locator("[data-tensor-quiz][data-kind=matmul]")
    expect(quiz).to_have_attribute("data-ready", "true", timeout=TIMEOUT)
    assert quiz.get_attribute("data-question") == "adjoint-A"
    at = json.loads(quiz.get_attribute("data-at") or "{}")
    B = np.array(at["B"], float)
    C_bar = np.array(json.loads(quiz.get_attribute("data-cotangent") or "[]"), float)

    # Ā = C̄ Bᵀ; the student multiplies by B itself. The first attempt to record it is
    # dropped on the way; the page sends it once more, with the same Idempotency-Key.
    sent: list[Request] = []

    def drop_the_first(route: Route) -> None:
        sent.append(route.request)
        if len(sent) == 1:
            route.abort("failed")
        else:
            route.continue_()

    student.route("**/answers/tensor", drop_the_first)
    assert check(quiz, typed(C_bar @ B)) == "transpose"
    answered = time.monotonic()
    row = teacher.locator('tr[data-student="ada"]')
    cell = row.locator('td[data-mistake="transpose"]')
    expect(cell).to_have_count(1, timeout=2_000 + 2_500)  # + the page's wait before its retry
    assert time.monotonic() - answered < 4.5
    assert len(sent) == 2
    keys = {r.headers.get("idempotency-key") for r in sent}
    assert len(keys) == 1 and re.fullmatch(r"[0-9a-f]{32}", keys.pop() or "")
    assert json.loads(sent[1].post_data or "{}")["question"] == "adjoint-A"
    people.errors[:] = [e for e in people.errors if "net::ERR_FAILED" not in e]
    student.unroute("**/answers/tensor")

    expect(cell).to_have_text("✗ transpose")
    expect(teacher.locator("#grid thead th").last).to_have_text(MATMUL_TITLE)
    expect(teacher.locator("#mistakes li[data-exercise]", has_text=MATMUL_TITLE).locator(
        '[data-mistake="transpose"]')).to_have_text(
        "1 of 1 forgot a transpose (or gave a shape transposed)")
    expect(teacher.locator("#answer-count")).to_have_text("1 answer")
    expect(row.locator(".cell-place")).to_contain_text("From scalars to tensors")

    # an unreadable answer is not an answer (the page says how to type it); a right one is
    with student.expect_request("**/answers/tensor") as right:
        assert check(quiz, "1 2; 3") == "invalid"
        assert check(quiz, typed(C_bar @ B.T)) == "correct"
    assert json.loads(right.value.post_data or "{}")["answer"] == typed(C_bar @ B.T)
    expect(row.locator('td[data-state="right"]')).to_have_count(1, timeout=3_000)
    expect(teacher.locator("#answer-count")).to_have_text("2 answers")

    # the bias exercise: Z̄ itself for b̄, not summed over the batch
    bias = student.locator("[data-tensor-quiz][data-kind=broadcast]")
    expect(bias).to_have_attribute("data-ready", "true", timeout=TIMEOUT)
    assert bias.get_attribute("data-question") == "adjoint-b"
    Z_bar = np.array(json.loads(bias.get_attribute("data-cotangent") or "[]"), float)
    assert check(bias, typed(Z_bar)) == "unsummed"
    expect(row.locator('td[data-mistake="unsummed"]')).to_have_text("✗ unsummed",
                                                                   timeout=3_000)
    expect(teacher.locator("#grid thead th", has_text=BROADCAST_TITLE)).to_have_count(1)
    expect(teacher.locator('#mistakes [data-mistake="unsummed"]')).to_have_text(
        "1 of 1 did not sum a broadcast's adjoint over the batch")
    teacher.screenshot(path=SHOTS / "classroom-dashboard-tensor.png", full_page=True)
