"""The lesson pages and the exercise endpoints, through the real HTTP stack (TestClient).

Every expected answer is checked against an independent route: the engine's own
/api/v1/differentiate, or a hand calculation written next to the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS, neighbours
from app.main import create_app

CHAIN = "x = 3*w; y = 2*x^2 + 4"
FORK = "a = x*y; b = a + x; f = a*b"  # x feeds both a and b: its adjoint adds two uses
TWO_INPUTS = "u = x*y; f = u + x^2"


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


class _QuizDiv(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div" and any(name == "data-quiz" for name, _ in attrs):
            self.found = dict(attrs)


def quiz_attributes(page: str) -> dict[str, str]:
    """The quiz element's attributes as the browser reads them (entities decoded)."""
    parser = _QuizDiv()
    parser.feed(page)
    assert parser.found is not None, "no [data-quiz] element on the page"
    return {k: v or "" for k, v in parser.found.items()}


def ask(api: TestClient, source: str, at: dict, mode: str, question: str, answer: float,
        **extra: object) -> dict:
    r = api.post("/api/v1/quiz/check", json={"source": source, "at": at, "mode": mode,
                                              "question": question, "answer": answer, **extra})
    assert r.status_code == 200, r.text
    return r.json()


# --- pages ---------------------------------------------------------------------------------


def test_index_lists_every_lesson_in_order(api: TestClient) -> None:
    r = api.get("/")
    assert r.status_code == 200
    positions = [r.text.index(f'href="{lesson.url}"') for lesson in LESSONS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_each_lesson_page_links_its_neighbours_and_the_playground(api: TestClient,
                                                                   lesson: object) -> None:
    from app.lessons import Lesson
    assert isinstance(lesson, Lesson)
    r = api.get(lesson.url)
    assert r.status_code == 200
    assert "<math" in r.text  # typeset mathematics
    previous, following = neighbours(lesson)
    for other in (previous, following):
        if other is not None:
            assert f'href="{other.url}"' in r.text
    assert "/playground?source=" in r.text
    assert "<script>" not in r.text and "style=" not in r.text  # the CSP forbids both


def test_unknown_lesson_is_404(api: TestClient) -> None:
    assert api.get("/lessons/no-such-lesson").status_code == 404


# --- quiz ----------------------------------------------------------------------------------


def test_quiz_follows_the_trace_and_hides_answers(api: TestClient) -> None:
    r = api.post("/api/v1/quiz", json={"source": FORK, "at": {"x": 2, "y": 3}})
    assert r.status_code == 200
    data = r.json()
    assert data["wrt"] == "f"
    assert [q["id"] for q in data["questions"]] == ["adjoint-v3", "adjoint-v2", "adjoint-v1",
                                                   "adjoint-v0"]
    assert all("answer" not in q for q in data["questions"])
    seed_row = next(row for row in data["rows"] if row["node"] == "v4")
    assert seed_row["given"] == 1.0


def test_quiz_answers_equal_the_differentiate_endpoint(api: TestClient) -> None:
    at = {"x": 2.0, "y": 3.0}
    grad = api.post("/api/v1/differentiate", json={"source": FORK, "at": at}).json()
    for name, node in (("x", "v0"), ("y", "v1")):
        verdict = ask(api, FORK, at, "reverse", f"adjoint-{node}",
                      grad["derivatives"]["f"][name])
        assert verdict["correct"], verdict


def test_forward_quiz_skips_a_branch_that_feeds_no_output(api: TestClient) -> None:
    # z feeds no output: the forward pass does not visit it (sweep.py), so there is no tangent
    # of z to ask about, and sqrt'(0) at w = 1 is never needed
    body = {"source": "z = sqrt(w - 1); y = 2*w", "outputs": ["y"], "at": {"w": 1},
            "mode": "forward"}
    r = api.post("/api/v1/quiz", json=body)
    assert r.status_code == 200, r.text
    assert [q["id"] for q in r.json()["questions"]] == ["tangent-v5"]
    assert ask(api, body["source"], {"w": 1}, "forward", "tangent-v5", 2.0,
               outputs=["y"])["correct"]


def test_chain_rule_tangents(api: TestClient) -> None:
    # x = 3w, so dx/dw = 3; y = 2x^2 + 4 gives dy/dw = 4x * 3 = 36 at w = 1
    assert ask(api, CHAIN, {"w": 1}, "forward", "tangent-v2", 3)["correct"]
    assert ask(api, CHAIN, {"w": 1}, "forward", "tangent-v8", 36)["correct"]
    assert ask(api, CHAIN, {"w": 2}, "forward", "tangent-v8", 72)["correct"]


def test_each_known_mistake_has_its_own_feedback(api: TestClient) -> None:
    at = {"x": 2, "y": 3}
    # x's adjoint is 6 (through b) + 42 (through a) = 48; only one of them: forgot the fork
    fork = ask(api, FORK, at, "reverse", "adjoint-v0", 42)
    assert fork["mistake"] == "fork" and "adds" in fork["feedback"]
    # y's adjoint is 14 * x = 28; multiplied by y (3) instead of x: 42, the wrong local
    local = ask(api, FORK, at, "reverse", "adjoint-v1", 42)
    assert local["mistake"] == "local" and "local derivative" in local["feedback"]
    # u = x*y with x = 3, y = 2: seeded on x the tangent is y = 2; seeded on y it is 3
    seed = ask(api, TWO_INPUTS, {"x": 3, "y": 2}, "forward", "tangent-v2", 3, wrt="x")
    assert seed["mistake"] == "seed" and "seed" in seed["feedback"]
    other = ask(api, FORK, at, "reverse", "adjoint-v0", 1234.5)
    assert other["mistake"] is None and not other["correct"]
    feedbacks = {fork["feedback"], local["feedback"], seed["feedback"], other["feedback"]}
    assert len(feedbacks) == 4
    assert fork["answer"] is None  # not revealed unless asked
    assert ask(api, FORK, at, "reverse", "adjoint-v0", 42, reveal=True)["answer"] == 48


def test_value_quiz(api: TestClient) -> None:
    assert ask(api, CHAIN, {"w": 1}, "value", "value-v8", 22)["correct"]


@pytest.mark.parametrize("body, where", [
    ({"source": "y = 2*", "at": {}}, ["body", "source"]),
    ({"source": "y = log(x)", "at": {"x": -1}}, ["body", "source"]),
    ({"source": CHAIN, "at": {"w": 1}, "mode": "sideways"}, ["body", "mode"]),
    ({"source": CHAIN, "at": {"w": [1, 2]}}, ["body", "at", "w"]),
    ({"source": CHAIN, "at": {"v": 1}}, ["body"]),
    ({"source": CHAIN, "at": {"w": 1}, "wrt": "nope"}, ["body"]),
])
def test_bad_quiz_requests_are_422_naming_where(api: TestClient, body: dict,
                                                where: list) -> None:
    r = api.post("/api/v1/quiz", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:len(where)] == where


def test_unknown_question_is_422(api: TestClient) -> None:
    r = api.post("/api/v1/quiz/check", json={"source": CHAIN, "at": {"w": 1}, "mode": "forward",
                                              "question": "tangent-v99", "answer": 1})
    assert r.status_code == 422
    assert "tangent-v2" in r.json()["detail"][0]["msg"]


def test_quiz_page_carries_the_playground_state(api: TestClient) -> None:
    r = api.get("/quiz", params={"source": "b = a + a; c = b + b", "at": "a=2,junk",
                                 "mode": "reverse"})
    assert r.status_code == 200
    assert 'data-source="b = a + a; c = b + b"' in r.text
    quiz = quiz_attributes(r.text)
    assert quiz["data-source"] == "b = a + a; c = b + b"
    assert json.loads(quiz["data-at"]) == {"a": 2.0}
    assert quiz["data-mode"] == "reverse"


def test_quiz_page_skips_points_json_cannot_hold(api: TestClient) -> None:
    # nan and inf parse as floats but are not JSON: the page's JSON.parse would throw
    r = api.get("/quiz", params={"at": "w=nan,x=inf,y=-1e999,2z=1,v=3"})
    assert r.status_code == 200
    assert json.loads(quiz_attributes(r.text)["data-at"]) == {"v": 3.0}


def test_quiz_page_keeps_the_chosen_outputs(api: TestClient) -> None:
    # The playground links here with outputs=x when the learner picked an earlier statement.
    r = api.get("/quiz", params={"source": "x = r*cos(t); y = r*sin(t)", "at": "r=1,t=0",
                                 "mode": "reverse", "wrt": "x", "outputs": "x"})
    assert r.status_code == 200
    assert json.loads(quiz_attributes(r.text)["data-outputs"]) == ["x"]
    assert "outputs=x" in r.text  # the way back to the playground keeps them too
    quiz = api.post("/api/v1/quiz", json={"source": "x = r*cos(t); y = r*sin(t)",
                                          "at": {"r": 1, "t": 0}, "mode": "reverse",
                                          "wrt": "x", "outputs": ["x"]})
    assert quiz.status_code == 200, quiz.text
