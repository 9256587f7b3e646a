"""Lesson 9's tensor exercises through the HTTP stack: every variant the page can hand out has
the right answers (checked against the engine on the step written out in scalars, an
independent route), each mistake model is diagnosed by its name, and bad requests are 422s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser

import numpy as np
import pytest
from fastapi.testclient import TestClient

import autodiff_core as ad
from app.lessons import BY_SLUG
from app.main import create_app


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


class _Exercises(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if "data-tensor-quiz" in named:
            self.found.append(named)


def variants(api: TestClient, kind: str, slug: str = "scalars-to-tensors") -> list[dict]:
    parser = _Exercises()
    parser.feed(api.get(BY_SLUG[slug].url).text)
    (element,) = [e for e in parser.found if e["data-kind"] == kind]
    return [{"kind": kind, **v} for v in json.loads(element["data-variants"])]


def check(api: TestClient, body: dict, question: str, answer: str) -> dict:
    r = api.post("/api/v1/quiz/tensor/check", json={**body, "question": question,
                                                     "answer": answer})
    assert r.status_code == 200, r.text
    return r.json()


def typed(a: np.ndarray) -> str:
    a = np.atleast_2d(a) if a.ndim == 2 else a
    if a.ndim == 1:
        return " ".join(f"{v:g}" for v in a)
    return "; ".join(" ".join(f"{v:g}" for v in row) for row in a)


def scalar_vjp(body: dict) -> dict[str, np.ndarray]:
    """The adjoints of the exercise's inputs from the scalar engine, the step written out
    entry by entry with the loss Σ ḡ ⊙ out (so the output's adjoint is the given one)."""
    at, g = body["at"], np.array(body["cotangent"], dtype=float)
    lines, point = [], {}
    for name, value in at.items():
        for index, v in np.ndenumerate(np.array(value, dtype=float)):
            point[f"{name}{''.join(map(str, index))}"] = float(v)
    if body["kind"] == "matmul":
        A = np.array(at["A"])
        inner = A.shape[1]
        for i, j in np.ndindex(g.shape):
            lines.append(f"c{i}{j} = " + " + ".join(f"A{i}{k}*B{k}{j}" for k in range(inner)))
    else:
        for i, j in np.ndindex(g.shape):
            lines.append(f"c{i}{j} = X{i}{j} + b{j}")
    lines.append("y = " + " + ".join(f"({g[i, j]:g})*c{i}{j}" for i, j in np.ndindex(g.shape)))
    grads = ad.reverse(ad.parse("\n".join(lines)), point, trace=False).derivatives["y"]
    out = {}
    for name, value in at.items():
        shape = np.array(value).shape
        out[name] = np.array([grads[f"{name}{''.join(map(str, i))}"] for i in np.ndindex(shape)]
                             ).reshape(shape)
    return out


@pytest.mark.parametrize("kind", ["matmul", "broadcast"])
def test_every_variant_has_the_engines_adjoints_as_its_answers(api: TestClient,
                                                               kind: str) -> None:
    for body in variants(api, kind):
        expected = scalar_vjp(body)
        quiz = api.post("/api/v1/quiz/tensor", json=body).json()
        assert [g["name"] for g in quiz["given"]][:2] == list(body["at"])
        for q in quiz["questions"]:
            name = q["id"].removeprefix("adjoint-")
            verdict = check(api, body, q["id"], typed(expected[name]))
            assert verdict["correct"], (body, q, verdict)


def test_matmul_mistakes_are_diagnosed_in_every_variant(api: TestClient) -> None:
    for body in variants(api, "matmul"):
        A, B = np.array(body["at"]["A"], float), np.array(body["at"]["B"], float)
        C = np.array(body["cotangent"], float)
        # each wrong rule computed here, independently of app/quiz.py
        for question, wrong, kind in [
                ("adjoint-A", C @ B, "transpose"), ("adjoint-A", B.T @ C, "order"),
                ("adjoint-A", C * B, "elementwise"), ("adjoint-B", A @ C, "transpose"),
                ("adjoint-B", C @ A.T, "order"), ("adjoint-B", A * C, "elementwise")]:
            verdict = check(api, body, question, typed(wrong))
            assert verdict["mistake"] == kind, (body, question, verdict)
            assert "looks like" in verdict["feedback"] and verdict["answer"] is None


def test_broadcast_mistakes_are_diagnosed_in_every_variant(api: TestClient) -> None:
    for body in variants(api, "broadcast"):
        Z = np.array(body["cotangent"], float)
        for wrong, kind in [(Z[0], "unsummed"), (Z, "unsummed"), (Z.mean(axis=0), "unsummed"),
                            (Z.sum(axis=1), "shape")]:
            verdict = check(api, body, "adjoint-b", typed(wrong))
            assert verdict["mistake"] == kind, (body, verdict)
        assert check(api, body, "adjoint-X", typed(Z.sum(axis=0)))["mistake"] == "unsummed"
        # a shape no model explains is still named a shape mistake
        assert check(api, body, "adjoint-b", "1 2 3 4 5")["mistake"] == "shape"


def test_shapes_exercise_knows_the_transposed_shape(api: TestClient) -> None:
    for body in variants(api, "shapes"):
        m, n = np.array(body["at"]["W"]).shape
        assert check(api, body, "shape-h", f"{m}")["correct"]
        assert check(api, body, "shape-W", f"{m}×{n}")["correct"]
        assert check(api, body, "shape-W", f"({m}, {n})")["correct"]
        assert check(api, body, "shape-x", f"{n}")["correct"]
        assert check(api, body, "shape-W", f"{n}x{m}")["mistake"] == "transpose"
        assert check(api, body, "shape-W", "scalar")["mistake"] == "shape"
        assert check(api, body, "shape-h", f"{m}x{n}")["mistake"] == "shape"


def test_batch_exercise_sums_the_shared_weights_and_the_broadcast_bias(
        api: TestClient) -> None:
    for body in variants(api, "batch", "train-a-network"):
        k, n = np.array(body["at"]["X"]).shape
        m = np.array(body["at"]["W"]).shape[1]
        assert len({k, n, m}) == 3  # every mistake tells apart from the others
        assert check(api, body, "shape-H", f"{k}x{m}")["correct"]
        assert check(api, body, "shape-H", f"{m}x{k}")["mistake"] == "transpose"
        assert check(api, body, "shape-W", f"{n}×{m}")["correct"]
        assert check(api, body, "shape-W", f"{m}×{n}")["mistake"] == "transpose"
        assert check(api, body, "shape-W", f"{k}×{m}")["mistake"] == "shape"
        assert check(api, body, "shape-b", f"{m}")["correct"]
        verdict = check(api, body, "shape-b", f"{k}×{m}")
        assert verdict["mistake"] == "unsummed" and "broadcast" in verdict["feedback"]


def test_hints_climb_to_the_first_entry_without_giving_the_answer_first(
        api: TestClient) -> None:
    body = variants(api, "matmul")[0]
    answer = typed(np.array(body["cotangent"], float) @ np.array(body["at"]["B"], float).T)
    hints = []
    for level in (1, 2, 3):
        r = api.post("/api/v1/quiz/tensor/hint", json={**body, "question": "adjoint-A",
                                                        "level": level})
        assert r.status_code == 200, r.text
        hints.append(r.json()["hint"])
    assert "Bᵀ" not in hints[0] and "C̄ · Bᵀ" in hints[1] and "Ā[0,0] =" in hints[2]
    assert answer not in " ".join(hints)


@pytest.mark.parametrize("change, where", [
    ({"kind": "conv"}, "kind"),
    ({"at": {"A": [[1, 2], [3, 4]], "B": [[1, 2, 3]]}}, "inner dimensions"),
    ({"cotangent": [[1, 2, 3], [4, 5, 6]]}, "cotangent: expected a 2×2 array"),
    ({"cotangent": None}, "needs the output's adjoint"),
    ({"at": {"A": [[1] * 5] * 2, "B": [[1], [2]]}}, "at most 4"),
])
def test_bad_exercises_are_422s_that_say_what(api: TestClient, change: dict,
                                              where: str) -> None:
    body = {**variants(api, "matmul")[0], **change}
    r = api.post("/api/v1/quiz/tensor", json=body)
    assert r.status_code == 422, r.text
    assert where in json.dumps(r.json(), ensure_ascii=False)


@pytest.mark.parametrize("answer, where", [("1 2; 3", "as many numbers"),
                                           ("one two", "split by spaces"),
                                           ("1e999 1; 1 1", "finite")])
def test_an_unreadable_answer_is_a_422_that_says_how_to_type_it(api: TestClient, answer: str,
                                                                where: str) -> None:
    body = {**variants(api, "matmul")[0], "question": "adjoint-A", "answer": answer}
    r = api.post("/api/v1/quiz/tensor/check", json=body)
    assert r.status_code == 422 and where in r.json()["detail"][0]["msg"]
    r = api.post("/api/v1/quiz/tensor/check", json={**body, "answer": "1 0", "question": "x"})
    assert r.status_code == 422 and "adjoint-A" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize("shape", ["2×¹", "²×3", "①×2"])
def test_a_shape_typed_with_superscripts_is_a_422(api: TestClient, shape: str) -> None:
    """Superscript and circled digits are digits to str.isdigit but not to int(): a shape
    typed with them is a 422 saying how to write one, not a 500."""
    body = {**variants(api, "shapes")[0], "question": "shape-W", "answer": shape}
    r = api.post("/api/v1/quiz/tensor/check", json=body)
    assert r.status_code == 422, r.text
    assert "a shape is written like" in r.json()["detail"][0]["msg"]
