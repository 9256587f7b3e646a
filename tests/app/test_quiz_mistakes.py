"""The mistake models and the hint ladder of the exercise endpoints, through the HTTP stack.

Each wrong answer below is worked out by hand from the mistake it models (the comment says
how), so the test checks the model against an independent calculation, not against itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app

CHAIN = "x = 3*w; y = 2*x^2 + 4"  # at w = 1: x = 3, x² = 9; v̇2 = 3, v̇5 = 2x·3 = 18
FORK = "a = x*y; b = a + x; f = a*b"  # at x=2, y=3: v̄0 = 6 (via b) + 42 (via a) = 48
MINUS = "a = x*y; b = a - x; f = a*b"  # at x=2, y=3: v̄0 = -6 (via b) + 30 (via a) = 24
TWO_INPUTS = "u = x*y; f = u + x^2"  # at x=3, y=2: seeded on x, v̇2 = y = 2; on y it is 3


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def check(api: TestClient, source: str, at: dict, mode: str, question: str, answer: float,
          **extra: object) -> dict:
    r = api.post("/api/v1/quiz/check", json={"source": source, "at": at, "mode": mode,
                                              "question": question, "answer": answer, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def quotes(feedback: str, number: float) -> bool:
    """Whether the feedback repeats the learner's number (as a whole number token)."""
    text = f"{number:g}"
    return re.search(rf"(?<![\w.]){re.escape(text)}(?![\w.])", feedback) is not None


# (source, point, mode, wrt, question, wrong answer, kind, notation the feedback must use)
CASES = [
    # incoming: the local derivative 2x = 6 alone, not times the incoming tangent 3
    (CHAIN, {"w": 1}, "forward", "w", "tangent-v5", 6, "incoming", "v̇2"),
    # value: x² = 9 given for its tangent
    (CHAIN, {"w": 1}, "forward", "w", "tangent-v5", 9, "value", "v̇5"),
    # local: the power rule half applied, n·xⁿ = 2·9 = 18 on the edge, times 3
    (CHAIN, {"w": 1}, "forward", "w", "tangent-v5", 54, "local", "v̇5"),
    # fork: only the contribution through a (42), not the one through b (6)
    (FORK, {"x": 2, "y": 3}, "reverse", "f", "adjoint-v0", 42, "fork", "v̄0"),
    # sign: b = a - x passes -v̄b = -6 back to x; dropping the minus gives 6 + 30 = 36
    (MINUS, {"x": 2, "y": 3}, "reverse", "f", "adjoint-v0", 36, "sign", "v̄0"),
    # seed: the tangent of u = x*y in the pass seeded on y (x = 3)
    (TWO_INPUTS, {"x": 3, "y": 2}, "forward", "x", "tangent-v2", 3, "seed", "v̇2"),
    # incoming, reverse: v̄1 = v̄a · x = 10 · 2; the local x = 2 alone
    (FORK, {"x": 2, "y": 3}, "reverse", "f", "adjoint-v1", 2, "incoming", "v̄2"),
]


@pytest.mark.parametrize("source, at, mode, wrt, question, wrong, kind, notation", CASES,
                         ids=[f"{c[6]}-{c[4]}-{c[5]}" for c in CASES])
def test_each_mistake_model_names_the_quantity_and_not_the_learners_number(
        api: TestClient, source: str, at: dict, mode: str, wrt: str, question: str,
        wrong: float, kind: str, notation: str) -> None:
    verdict = check(api, source, at, mode, question, wrong, wrt=wrt)
    assert verdict["correct"] is False
    assert verdict["mistake"] == kind, verdict
    assert notation in verdict["feedback"], verdict["feedback"]
    assert "looks like you" in verdict["feedback"]  # what the learner probably did
    assert not quotes(verdict["feedback"], wrong), verdict["feedback"]
    assert verdict["answer"] is None


def test_a_local_mistake_names_its_edge_and_the_simplified_local_derivative(
        api: TestClient) -> None:
    # 1 instead of 2x on the edge x -> x²: 1 · 3 = 3
    verdict = check(api, CHAIN, {"w": 1}, "forward", "tangent-v5", 3, wrt="w")
    assert verdict["mistake"] == "local" and verdict["edge"] == "v2_v5_0"
    assert "2x" in verdict["feedback"] and "x²" in verdict["feedback"]
    assert "**" not in verdict["feedback"]


def test_right_answers_name_the_derivative_not_the_value(api: TestClient) -> None:
    right = check(api, CHAIN, {"w": 1}, "forward", "tangent-v5", 18, wrt="w")
    assert right == {"correct": True, "mistake": None, "feedback": "Right: v̇5 = 18.",
                     "answer": 18, "edge": None}
    right = check(api, FORK, {"x": 2, "y": 3}, "reverse", "adjoint-v3", 6)
    assert right["feedback"] == "Right: v̄3 = 6."


def test_public_questions_carry_no_rule_and_no_answer(api: TestClient) -> None:
    r = api.post("/api/v1/quiz", json={"source": CHAIN, "at": {"w": 1}, "mode": "forward"})
    assert r.status_code == 200
    for q in r.json()["questions"]:
        assert set(q) == {"id", "node", "label", "expression", "symbol", "asks", "prompt"}
        assert not re.search("v[\u0307\u0304]\\d+ =", q["prompt"])  # no rule in it either
    v5 = next(q for q in r.json()["questions"] if q["node"] == "v5")
    assert v5["expression"] == "x²" and v5["symbol"] == "v̇5"
    assert "v5 = x²" in v5["prompt"]


def hint(api: TestClient, level: int, **body: object) -> dict:
    r = api.post("/api/v1/quiz/hint", json={"source": CHAIN, "at": {"w": 1}, "mode": "forward",
                                             "question": "tangent-v5", "level": level, **body})
    return {"status": r.status_code, **r.json()}


def test_hints_come_level_by_level(api: TestClient) -> None:
    first, second, third = (hint(api, level) for level in (1, 2, 3))
    assert all(h["status"] == 200 and h["levels"] == 3 for h in (first, second, third))
    # 1: which edges enter, no local derivative yet; 2: the local derivative; 3: the rule
    assert "v2" in first["hint"] and "2x" not in first["hint"]
    assert "∂v5/∂v2" in second["hint"] and "2x" in second["hint"] and "v̇5 =" not in second["hint"]
    assert "v̇5 = 2x · v̇2" in third["hint"]
    for h in (first, second, third):
        assert not quotes(h["hint"], 18)  # no rung gives the answer away


def test_reverse_hints_list_every_use_at_a_fork(api: TestClient) -> None:
    r = api.post("/api/v1/quiz/hint", json={"source": FORK, "at": {"x": 2, "y": 3},
                                             "question": "adjoint-v0", "level": 3})
    assert r.status_code == 200
    assert r.json()["hint"] == "The whole rule: v̄0 = v̄3 + v̄2 · y."


@pytest.mark.parametrize("level", [0, 4])
def test_a_hint_level_out_of_range_is_a_422_naming_it(api: TestClient, level: int) -> None:
    r = api.post("/api/v1/quiz/hint", json={"source": CHAIN, "at": {"w": 1},
                                             "question": "adjoint-v0", "level": level})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "level"]


def test_worked_rules_are_simplified_and_typeset(api: TestClient) -> None:
    r = api.post("/api/v1/quiz/rules", json={"source": CHAIN, "at": {"w": 1}, "mode": "forward"})
    assert r.status_code == 200
    data = r.json()
    assert data["rules"]["v5"] == "v̇5 = 2x · v̇2"
    assert data["rules"]["v8"] == "v̇8 = v̇6"
    assert data["locals"]["v2_v5_0"] == "2x"
    assert not any("**" in rule for rule in data["rules"].values())
    r = api.post("/api/v1/quiz/rules", json={"source": MINUS, "at": {"x": 2, "y": 3}})
    assert r.json()["rules"]["v0"] == "v̄0 = −v̄3 + v̄2 · y"
