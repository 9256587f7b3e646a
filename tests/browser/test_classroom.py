"""The classroom in real browsers: a teacher and three students, each in a separate browser
context (separate cookies and storage), against the real server. An answer shows on the
teacher's dashboard within 2 s; a hostile nickname shows as text; a shared example reaches
the students as a banner."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import is_console_error

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
QUIZ = "/quiz?source=b+%3D+a+%2B+a%3B+c+%3D+b+%2B+b&at=a%3D2&mode=reverse"
# the first question is the adjoint of b (used twice by c): 2; forgetting the fork gives 1
HOSTILE = '<img src=x onerror=x()>'


class People:
    """Browser contexts that fail the test on any page error or console error."""

    def __init__(self, browser: Browser, server: str) -> None:
        self.browser, self.server = browser, server
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(self, width: int = 1280, height: int = 800) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height},
                                           base_url=self.server)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if is_console_error(m) else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        return page


@pytest.fixture
def people(browser: Browser, server: str) -> Iterator[People]:
    crowd = People(browser, server)
    yield crowd
    for context in crowd.contexts:
        context.close()
    assert crowd.errors == [], "a page logged errors"


def make_class(teacher: Page) -> str:
    teacher.goto("/teach")
    teacher.get_by_label("Class name").fill("Calculus B")
    teacher.get_by_role("button", name="Make the class").click()
    code = teacher.locator("#join-code")
    expect(code).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=10_000)
    expect(teacher.locator("#join-qr")).to_have_js_property("complete", True)
    assert teacher.locator("#join-qr").evaluate("img => img.naturalWidth") > 100
    assert "#key=t." in teacher.locator("#teacher-link").input_value()
    SHOTS.mkdir(parents=True, exist_ok=True)
    teacher.screenshot(path=SHOTS / "classroom-teach.png", full_page=True)
    return code.inner_text()


def join(student: Page, code: str, nickname: str) -> None:
    student.goto(f"/join?code={code}")
    student.get_by_label("Nickname").fill(nickname)
    student.get_by_role("button", name="Join").click()
    expect(student.locator("#joined-title")).to_contain_text(nickname, timeout=10_000)


def answer_first_question(student: Page, value: str) -> None:
    student.goto(QUIZ)
    quiz = student.locator("[data-quiz]")
    expect(quiz).to_have_attribute("data-ready", "true", timeout=10_000)
    quiz.get_by_label("Your prediction", exact=False).fill(value)
    with student.expect_request(lambda r: r.url.endswith("/answers")) as sent:
        quiz.get_by_role("button", name="Check").click()
    # recorded with a key of its own, so that a retry would be recorded once
    assert re.fullmatch(r"[0-9a-f]{32}", sent.value.headers.get("idempotency-key", ""))
    expect(quiz.locator(".quiz-feedback")).to_have_attribute(
        "data-verdict", "correct" if value == "2" else "fork", timeout=10_000)


def test_a_teacher_and_three_students(people: People) -> None:
    teacher = people.open()
    code = make_class(teacher)
    teacher.locator("#open-dashboard").click()
    expect(teacher.locator("#live")).to_contain_text("live", timeout=10_000)
    assert "key=" not in teacher.url  # the secret left the address bar
    students = {name: people.open(390, 844) for name in ("ada", "bob", HOSTILE)}
    for name, page in students.items():
        join(page, code, name)
    students["ada"].screenshot(path=SHOTS / "classroom-join-phone.png", full_page=True)
    expect(teacher.locator("#student-count")).to_have_text("3 students", timeout=5_000)

    # each answer reaches the dashboard within 2 s
    for name, value, state in (("ada", "2", "right"), ("bob", "1", "wrong"),
                               (HOSTILE, "1", "wrong")):
        answer_first_question(students[name], value)
        answered = time.monotonic()
        row = teacher.locator(f'tr[data-student="{name}"]')
        expect(row.locator(f'td[data-state="{state}"]')).to_have_count(1, timeout=2_000)
        assert time.monotonic() - answered < 2.5
    expect(teacher.locator('#mistakes [data-mistake="fork"]')).to_have_text(
        "2 of 3 forgot to add the contributions at a fork")
    expect(teacher.locator('tr[data-student="bob"] td[data-mistake="fork"]')).to_have_text(
        "✗ fork")
    # the hostile nickname is text: no element was made from it
    expect(teacher.locator("#grid tbody th").nth(2)).to_have_text(HOSTILE)
    assert teacher.locator("#grid img").count() == 0
    expect(teacher.locator('tr[data-student="ada"] .cell-place')).to_contain_text("Quiz")
    teacher.screenshot(path=SHOTS / "classroom-dashboard.png", full_page=True)

    # the teacher shares an example; a student's banner offers it
    teacher.get_by_label("Share an example", exact=False).fill(
        "/playground?source=b+%3D+a+%2B+a&at=a%3D2&mode=reverse")
    teacher.locator("#share-title").fill("Fan-out")
    teacher.get_by_role("button", name="Share with the class").click()
    expect(teacher.locator("#action-status")).to_contain_text("Shared")
    bob = students["bob"]
    bob.goto("/")
    offer = bob.locator(".class-offer")
    expect(offer).to_contain_text("Fan-out", timeout=10_000)
    bob.screenshot(path=SHOTS / "classroom-banner-phone.png")
    offer.get_by_role("link", name="Open it").click()
    expect(bob).to_have_url(re.compile(r"/playground\?source="))

    # the teacher hands out an exercise from a playground link; its short link records under
    # its title
    teacher.get_by_label("Hand out an exercise", exact=False).fill(
        "/playground?source=x+%3D+3*w%3B+y+%3D+2*x%5E2+%2B+4&at=w%3D1&mode=reverse")
    teacher.get_by_label("Asking for").select_option("reverse")
    teacher.locator("#assign-title").fill("Chain rule")
    teacher.get_by_role("button", name="Make the exercise").click()
    link = teacher.locator("#assigned-link")
    expect(link).to_contain_text("/x/", timeout=10_000)
    expect(teacher.locator("#assigned-qr")).to_have_js_property("complete", True)
    ada = students["ada"]
    ada.goto(link.get_attribute("href") or "")
    expect(ada.locator("h1")).to_have_text("Chain rule")
    quiz = ada.locator("[data-quiz]")
    expect(quiz).to_have_attribute("data-ready", "true", timeout=10_000)
    quiz.get_by_label("Your prediction", exact=False).fill("1")
    quiz.get_by_role("button", name="Check").click()
    expect(quiz.locator(".quiz-feedback")).to_have_attribute("data-verdict", re.compile("."),
                                                             timeout=10_000)
    expect(teacher.locator('#grid thead th', has_text="Chain rule")).to_have_count(
        1, timeout=3_000)
    teacher.screenshot(path=SHOTS / "classroom-dashboard-exercise.png", full_page=True)


@pytest.mark.parametrize("path", ["/teach", "/join?code=ABCDEF", "/teach/ABCDEF"])
def test_classroom_pages_pass_axe_on_a_projector_and_a_phone(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        violations = [v for v in Axe().run(page).response["violations"]
                      if v["impact"] in ("serious", "critical")]
        assert violations == [], [v["id"] for v in violations]
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 2


def test_a_teacher_assigns_the_playground_program_to_the_class(people: People) -> None:
    teacher = people.open()
    code = make_class(teacher)
    # the playground in another browser, without a teacher's key, offers no such thing
    stranger = people.open()
    stranger.goto("/playground")
    expect(stranger.locator("#graph svg")).to_be_visible(timeout=10_000)
    expect(stranger.locator("#assign-panel")).to_be_hidden()

    teacher.goto("/playground?source=b+%3D+a+%2B+a%3B+c+%3D+b+%2B+b&at=a%3D2&mode=reverse")
    panel = teacher.locator("#assign-panel")
    expect(panel).to_be_visible(timeout=10_000)
    panel.locator("summary").click()
    expect(panel.get_by_label("Class")).to_have_value(code)
    nodes = panel.locator("#assign-nodes input[type=checkbox]")
    expect(nodes).to_have_count(2, timeout=10_000)  # the adjoints of a and b
    panel.locator("#assign-nodes input[value=v0]").uncheck()  # ask only b's (v1)
    panel.get_by_label("Offer hints").uncheck()
    panel.get_by_label("Title").fill("The fork")
    panel.get_by_role("button", name="Hand out").click()
    link = panel.locator("#assign-link")
    expect(link).to_have_text(re.compile(r"/x/[a-z0-9]{8}$"), timeout=10_000)
    expect(panel.locator("#assign-qr")).to_have_js_property("complete", True)
    assert panel.locator("#assign-qr").evaluate("img => img.naturalWidth") > 100
    teacher.screenshot(path=SHOTS / "classroom-assign-panel.png", full_page=True)
    violations = [v["id"] for v in Axe().run(teacher).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == []

    # a student opens it: one question (v1), and no hint button
    student = people.open(390, 844)
    student.goto(link.get_attribute("href") or "")
    quiz = student.locator("[data-quiz]")
    expect(quiz).to_have_attribute("data-ready", "true", timeout=10_000)
    expect(quiz.locator(".quiz-progress")).to_have_text("Question 1 of 1")
    expect(quiz).to_have_attribute("data-question", "adjoint-v1")
    expect(quiz.get_by_role("button", name="Check")).to_be_visible()
    expect(quiz.get_by_role("button", name="Hint")).to_be_hidden()
    # anyone else on this server who asks for a hint on it is told why there is none
    stranger.goto(QUIZ)
    elsewhere = stranger.locator("[data-quiz]")
    expect(elsewhere).to_have_attribute("data-ready", "true", timeout=10_000)
    elsewhere.get_by_role("button", name="Hint").click()
    expect(elsewhere.locator(".quiz-feedback")).to_contain_text("until that class ends",
                                                                timeout=10_000)
    expect(elsewhere.get_by_role("button", name="Hint")).to_be_disabled()
    stranger.screenshot(path=SHOTS / "classroom-hints-off.png")
    # the browser logs the refused request itself: that one is expected
    people.errors.remove("Failed to load resource: the server responded with a status of 403 "
                         "(Forbidden)")
