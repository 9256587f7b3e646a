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

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

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
    expect(page.locator("#chain-figure svg")).to_be_visible()
    slider = page.get_by_label("w", exact=True)
    slider.focus()
    for _ in range(10):  # step 0.1: w = 2, so dy/dw = 36 w = 72
        page.keyboard.press("ArrowRight")
    expect(page.locator("#w-out")).to_have_text("2")
    expect(page.locator("#dydw")).to_have_text("72", timeout=TIMEOUT)
    expect(page.locator("#dydx")).to_have_text("24")
    assert "w%3D2" in (page.locator("#playground-link").get_attribute("href") or "")


def test_progress_is_kept_in_the_browser_and_shown_on_the_index(page: Page,
                                                              server: str) -> None:
    page.goto(f"{BY_SLUG['chain-rule'].url}?variant=progress")
    settle(page)
    quiz = page.locator("[data-quiz]")
    first = quiz.get_attribute("data-question") or ""
    right = revealed(server, request_of(quiz), first)
    assert answer(page, 0, f"{right:g}")[0] == "correct"
    page.goto("/")
    item = page.locator("[data-lesson-slug=chain-rule] .lesson-progress")
    expect(item).to_have_text("Opened · 1 exercise answer right")
    expect(page.locator("[data-lesson-slug=forward-accumulation] .lesson-progress")).to_be_hidden()
    expect(page.locator("#course-progress")).to_contain_text("1 of 10 lessons opened")


def test_projector_mode_has_large_type_and_is_kept_in_the_url(page: Page) -> None:
    page.goto(BY_SLUG["reverse-accumulation"].url)
    settle(page)
    body = page.locator(".lesson")
    normal = float(body.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    page.get_by_role("button", name="Projector mode").click()
    expect(page.locator("html")).to_have_class(re.compile("projector"))
    large = float(body.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert large >= 1.3 * normal
    assert "projector=1" in page.url
    assert serious_violations(page) == []
    photograph(page, "lessons/projector-1280.png")
    page.goto(BY_SLUG["chain-rule"].url)  # kept for the next lesson
    expect(page.locator("html")).to_have_class(re.compile("projector"))


GRAPH_LESSONS = {"chain-rule": "chain", "forward-accumulation": "trace",
                 "reverse-accumulation": "trace", "forward-or-reverse": "many-in",
                 "higher-derivatives": "second", "putting-it-together": "neuron",
                 "scalars-to-tensors": "layer", "train-a-network": "flow"}


def graph_labels(page: Page) -> list[str]:
    """Every label graph.js wrote on the lesson's animated graphs, in document order."""
    return page.locator(".lesson-graph svg text").all_text_contents()


@pytest.mark.parametrize("slug", list(GRAPH_LESSONS))
def test_lesson_graph_is_drawn_and_changes_on_next_and_play(page: Page, slug: str) -> None:
    page.goto(BY_SLUG[slug].url)
    figure = page.locator(".lesson-graph").first
    expect(figure.locator("svg g.node").first).to_be_visible(timeout=TIMEOUT)
    expect(figure.locator("div.graph")).to_have_attribute("data-frame", re.compile(r"\d+"),
                                                       timeout=TIMEOUT)
    settle(page)
    before = (figure.locator("div.graph").get_attribute("data-frame"), graph_labels(page))
    page.locator(f"#{GRAPH_LESSONS[slug]}-step").click()
    expect(figure.locator("div.graph")).not_to_have_attribute("data-frame", before[0])
    after_next = graph_labels(page)
    assert after_next != before[1]
    page.locator(f"#{GRAPH_LESSONS[slug]}-play").click()
    page.wait_for_timeout(2500)  # Play advances one frame every 0.9 s
    assert graph_labels(page) != after_next


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


QUIZ_LESSONS = ["chain-rule", "forward-accumulation", "reverse-accumulation",
                "forward-or-reverse", "higher-derivatives", "putting-it-together"]


def revealed(server: str, quiz: dict, question: str) -> float:
    """The right answer, from the API (as the Show answer button gets it)."""
    body = {**quiz, "question": question, "answer": 0, "reveal": True}
    return float(httpx.post(f"{server}/api/v1/quiz/check", json=body).json()["answer"])


def request_of(quiz: Locator) -> dict:
    body = {"source": quiz.get_attribute("data-source"),
            "at": json.loads(quiz.get_attribute("data-at") or "{}"),
            "mode": quiz.get_attribute("data-mode")}
    if quiz.get_attribute("data-wrt"):
        body["wrt"] = quiz.get_attribute("data-wrt")
    if quiz.get_attribute("data-outputs"):
        body["outputs"] = json.loads(quiz.get_attribute("data-outputs") or "[]")
    return body


@pytest.mark.parametrize("slug", QUIZ_LESSONS)
def test_every_exercise_is_a_variant_that_hides_its_answers(page: Page, server: str,
                                                            slug: str) -> None:
    lesson = BY_SLUG[slug]
    page.goto(f"{lesson.url}?variant=class-a")
    settle(page)
    quiz = page.locator("[data-quiz]")
    body = request_of(quiz)
    # another program or point than every worked example on the page
    worked = json.loads(quiz.get_attribute("data-worked") or "[]")
    worked.append({"source": lesson.example.source, "at": lesson.example.at})
    for example in worked:
        assert (body["source"], body["at"]) != (example["source"], example["at"])
        assert body["source"] != example["source"] or body["at"] != example["at"]
    # no graph on the page draws the exercise's program
    for graph in page.locator("[data-graph-source]").all():
        assert graph.get_attribute("data-graph-source") != body["source"]
    # reproducible from the URL: the same link gives the same exercise
    page.goto(f"{lesson.url}?variant=class-a")
    settle(page)
    assert request_of(page.locator("[data-quiz]")) == body
    quiz = page.locator("[data-quiz]")
    questions = httpx.post(f"{server}/api/v1/quiz", json=body).json()["questions"]
    for k, q in enumerate(questions):
        expect(quiz).to_have_attribute("data-question", q["id"])
        cell = quiz.locator(f"tr[data-node={q['node']}] td.derivative")
        assert cell.inner_text() == "?"  # the asked place shows nothing before the answer
        right = revealed(server, body, q["id"])
        prompt = quiz.locator(".quiz-question").inner_text()
        stated = rf"{re.escape(q['symbol'])}\s*=\s*{re.escape(f'{right:g}')}(?![\w.])"
        assert re.search(stated, page.locator("main").inner_text()) is None
        assert not re.search("v[\u0307\u0304]\\d+ =", prompt)  # no rule before a hint
        if k == len(questions) - 1:
            break
        quiz.get_by_role("button", name="Show answer").click()
        next_question(page, 0)


# (quiz page URL query, question, the wrong answer a learner with this mistake gives, kind,
#  notation the feedback names). CHAIN at w = 1: x = 3, v̇5 = 2x · v̇2 = 6 · 3 = 18.
SCRIPTED = [
    ("source=x+%3D+3*w%3B+y+%3D+2*x%5E2+%2B+4&at=w%3D1&mode=forward&wrt=w", 1, "6",
     "incoming", "v̇5"),
    ("source=x+%3D+3*w%3B+y+%3D+2*x%5E2+%2B+4&at=w%3D1&mode=forward&wrt=w", 1, "9",
     "value", "v̇5"),
    ("source=x+%3D+3*w%3B+y+%3D+2*x%5E2+%2B+4&at=w%3D1&mode=forward&wrt=w", 1, "3",
     "local", "v̇5"),
    # a = x*y; b = a + x; f = a*b at (2, 3): v̄0 = 6 + 42, one of them is the fork mistake
    ("source=a+%3D+x*y%3B+b+%3D+a+%2B+x%3B+f+%3D+a*b&at=x%3D2,y%3D3&mode=reverse", 3, "42",
     "fork", "v̄0"),
    # b = a - x: v̄0 = -6 + 30 = 24; the minus dropped gives 36
    ("source=a+%3D+x*y%3B+b+%3D+a+-+x%3B+f+%3D+a*b&at=x%3D2,y%3D3&mode=reverse", 3, "36",
     "sign", "v̄0"),
    # u = x*y at (3, 2) seeded on x: v̇2 = y = 2; the pass seeded on y gives 3
    ("source=u+%3D+x*y%3B+f+%3D+u+%2B+x%5E2&at=x%3D3,y%3D2&mode=forward&wrt=x", 0, "3",
     "seed", "v̇2"),
]


@pytest.mark.parametrize("query, index, wrong, kind, notation", SCRIPTED,
                         ids=[s[3] for s in SCRIPTED])
def test_scripted_learner_gets_the_diagnosis_of_their_mistake(page: Page, query: str,
                                                              index: int, wrong: str,
                                                              kind: str, notation: str) -> None:
    page.goto(f"/quiz?{query}")
    settle(page)
    quiz = page.locator("[data-quiz]")
    for _ in range(index):
        quiz.get_by_role("button", name="Show answer").click()
        next_question(page, 0)
    verdict, text = answer(page, 0, wrong)
    assert verdict == kind, text
    assert notation in text and "looks like you" in text
    assert not re.search(rf"(?<![\w.]){wrong}(?![\w.])", text)  # not quoted back


def test_hints_come_level_by_level(page: Page) -> None:
    page.goto("/quiz?source=x+%3D+3*w%3B+y+%3D+2*x%5E2+%2B+4&at=w%3D1&mode=forward&wrt=w")
    settle(page)
    quiz = page.locator("[data-quiz]")
    quiz.get_by_role("button", name="Show answer").click()
    next_question(page, 0)  # v̇5 = 2x · v̇2
    hints = quiz.locator(".quiz-hints li")
    assert hints.count() == 0
    quiz.get_by_role("button", name="Hint").click()
    expect(hints).to_have_count(1, timeout=TIMEOUT)
    assert "2x" not in hints.nth(0).inner_text()  # level 1: only which edges enter
    quiz.get_by_role("button", name=re.compile("Another hint")).click()
    expect(hints).to_have_count(2, timeout=TIMEOUT)
    assert "2x" in hints.nth(1).inner_text()  # level 2: the local derivative
    quiz.get_by_role("button", name=re.compile("Another hint")).click()
    expect(hints).to_have_count(3, timeout=TIMEOUT)
    expect(hints.nth(2)).to_contain_text("v̇5 = 2x · v̇2")
    expect(quiz.get_by_role("button", name="No more hints")).to_be_disabled()
    assert answer(page, 0, "18")[0] == "correct"
    # the next question starts with no hints
    next_question(page, 0)
    expect(hints).to_have_count(0)


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
    # one request per move, whatever the number of steps (the walk is one descent request)
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/api/" in r.url else None)
    page.locator("#steps").fill("40")
    expect(summary).to_contain_text("After 40 steps", timeout=TIMEOUT)
    assert len(calls) == 1 and calls[0].endswith("/api/v1/descent")
    assert "steps=40" in page.url and "eta=0.3" in page.url  # the state is in the URL
    page.locator("#rate").fill("2.3")  # past η = 2 the walk diverges, and the page says so
    expect(summary).to_contain_text("Diverged", timeout=TIMEOUT)

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
    # a bad function: the error, and no stale derivative beside it; Enter recomputes
    field = page.get_by_label("Your function of x")
    field.fill("y = sin(x")
    field.press("Enter")
    expect(page.locator("#own-error")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#ad-value")).to_have_text("—")
    expect(page.locator("#symbolic-form")).to_have_text("—")
    field.fill("y = x^2")
    page.get_by_label("at x =").fill("3")
    page.get_by_label("at x =").press("Enter")
    expect(page.locator("#ad-value")).to_have_text("6", timeout=TIMEOUT)
    expect(page.locator("#own-error")).to_be_hidden()


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
