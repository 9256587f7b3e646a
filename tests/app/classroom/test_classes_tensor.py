"""Lessons 9 and 10's array exercises recorded for a class (POST .../answers/tensor), on
SQLite and PostgreSQL: the server's verdict is /api/v1/quiz/tensor/check's, each known mistake
is recorded by its name and shows in the progress and the CSV, with the guarantees of the
scalar answers (keys, Idempotency-Key, the limit per minute, an ended class), and the
migration that made room for an array keeps the answers already stored."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from app.db import MIGRATIONS, Database
from tests.app.classroom.conftest import FANOUT, bearer, classroom_app, join, new_class

# lesson 9's exercises, with their numbers: C = A @ B with C̄ given; Z = X + b with Z̄ given;
# the shapes of a layer h = tanh(W @ x + b) with W 3×2
A, B, C_BAR = np.array([[1, 2], [0, -1]]), np.array([[2, 0], [1, 3]]), np.array([[1, -1], [2, 0]])
MATMUL = {"kind": "matmul", "at": {"A": A.tolist(), "B": B.tolist()},
          "cotangent": C_BAR.tolist(), "question": "adjoint-A"}
Z_BAR = np.array([[1, 2], [-1, 0], [3, 1]])
BROADCAST = {"kind": "broadcast", "at": {"X": [[1, 0], [2, 1], [0, 3]], "b": [1, -1]},
             "cotangent": Z_BAR.tolist(), "question": "adjoint-b"}
# lesson 10's: the shapes of a layer over a batch, H = tanh(X @ W + b), X 3×2, W 2×4
BATCH = {"kind": "batch", "at": {"X": [[1, 0], [0, 1], [1, 1]], "W": [[1, 0, 2, 1], [0, 1, 1, 0]],
                                 "b": [0, 1, 0, 1]}, "question": "shape-b"}
SHAPES = {"kind": "shapes", "at": {"W": [[1, -2], [0, 1], [2, 1]], "x": [1, 2], "b": [0, 1, -1]},
          "question": "shape-W"}


def typed(array: Any) -> str:
    """An array as a student types it: rows split by ";"."""
    a = np.asarray(array)
    rows = a if a.ndim == 2 else [a]
    return "; ".join(" ".join(f"{v:g}" for v in row) for row in rows)


# each answer worked out here with numpy, from the rule (Ā = C̄ Bᵀ, b̄ = Σ_rows Z̄, W̄: 3×2)
# or the rule with the one slip each mistake names
ANSWERS = [
    (MATMUL, typed(C_BAR @ B.T), True, None),
    (MATMUL, typed(C_BAR @ B), False, "transpose"),
    (MATMUL, typed(B.T @ C_BAR), False, "order"),
    (MATMUL, typed(C_BAR * B), False, "elementwise"),
    (BROADCAST, typed(Z_BAR.sum(axis=0)), True, None),
    (BROADCAST, typed(Z_BAR), False, "unsummed"),
    (BROADCAST, typed(Z_BAR.sum(axis=1)), False, "shape"),
    (SHAPES, "3×2", True, None),
    (SHAPES, "2x3", False, "transpose"),
    (MATMUL, "9 9; 9 9", False, None),  # wrong, like no known mistake
    (BATCH, "4", True, None),
    (BATCH, "3×4", False, "unsummed"),
]


def send(api: TestClient, code: str, key: str, task: dict[str, Any], answer: str,
         headers: dict[str, str] | None = None, **extra: Any) -> Any:
    return api.post(f"/api/v1/classes/{code}/answers/tensor",
                    headers={**bearer(key), **(headers or {})},
                    json={**task, "answer": answer, **extra})


@pytest.mark.parametrize(("exercise", "answer", "correct", "mistake"), ANSWERS)
def test_the_verdict_is_the_tensor_checkers(api: TestClient, exercise: dict[str, Any],
                                            answer: str, correct: bool,
                                            mistake: str | None) -> None:
    code, _ = new_class(api)
    key = join(api, code, "ada")
    checked = api.post("/api/v1/quiz/tensor/check", json={**exercise, "answer": answer})
    assert checked.status_code == 200, checked.text
    r = send(api, code, key, exercise, answer, exercise="Lesson 9 — the adjoint of a product")
    assert r.status_code == 200, r.text
    recorded = r.json()
    assert recorded["correct"] is correct and recorded["mistake"] == mistake
    assert {k: recorded[k] for k in checked.json()} == checked.json()
    assert recorded["exercise"] == "Lesson 9 — the adjoint of a product"


def test_every_mistake_is_recorded_by_its_name(api: TestClient) -> None:
    code, teacher = new_class(api)
    students = [join(api, code, f"s{n}") for n in range(len(ANSWERS))]
    for key, (exercise, answer, _, _) in zip(students, ANSWERS, strict=True):
        r = send(api, code, key, exercise, answer, exercise=f"Exercise: {exercise['kind']}")
        assert r.status_code == 200, r.text
    progress = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher)).json()
    assert progress["answers"] == len(ANSWERS)
    assert progress["mistakes"] == {"transpose": 2, "order": 1, "elementwise": 1,
                                    "unsummed": 2, "shape": 1, "other": 1}
    assert {e["name"]: e["mistakes"] for e in progress["exercises"]}[
        "Exercise: batch"] == {"unsummed": 1}
    exercises = {e["name"]: e for e in progress["exercises"]}
    assert exercises["Exercise: matmul"] == {
        "name": "Exercise: matmul", "tried": 5, "right": 1,
        "mistakes": {"transpose": 1, "order": 1, "elementwise": 1, "other": 1}}
    assert exercises["Exercise: broadcast"]["mistakes"] == {"unsummed": 1, "shape": 1}
    cells = {s["nickname"]: s["exercises"] for s in progress["students"]}
    assert cells["s1"]["Exercise: matmul"] == {"answers": 1, "right": 0, "correct": False,
                                                "mistake": "transpose"}
    assert cells["s7"]["Exercise: shapes"]["correct"] is True
    # the CSV: the exercise's title, the question, the array or shape as the server read it,
    # right or wrong, the mistake by name
    table = list(csv.DictReader(io.StringIO(api.get(
        f"/api/v1/classes/{code}/answers.csv", headers=bearer(teacher)).text)))
    assert [(row["exercise"], row["question"], row["mode"], row["answer"], row["correct"],
             row["mistake"]) for row in table[:3]] == [
        ("Exercise: matmul", "adjoint-A", "tensor", "2 -2; 4 2", "yes", ""),
        ("Exercise: matmul", "adjoint-A", "tensor", "1 -3; 4 0", "no", "transpose"),
        ("Exercise: matmul", "adjoint-A", "tensor", "4 -2; 6 0", "no", "order")]
    assert [(row["answer"], row["mistake"]) for row in table[7:9]] == [
        ("3×2", ""), ("2×3", "transpose")]


def test_scalar_and_tensor_answers_share_the_class(api: TestClient) -> None:
    """A number and an array in the same class: both count, and the CSV shows each as it is."""
    code, teacher = new_class(api)
    key = join(api, code, "ada")
    assert api.post(f"/api/v1/classes/{code}/answers", headers=bearer(key),
                    json={**FANOUT, "answer": 2.0}).json()["mistake"] == "fork"
    assert send(api, code, key, BROADCAST, "1 2; -1 0; 3 1").json()["mistake"] == "unsummed"
    assert send(api, code, key, BROADCAST, "-3,  -1").json()["mistake"] is None
    rows = list(csv.DictReader(io.StringIO(api.get(
        f"/api/v1/classes/{code}/answers.csv", headers=bearer(teacher)).text)))
    # a spreadsheet would run a cell starting with "-" as a formula: quoted, like nicknames
    assert [(r["exercise"], r["answer"], r["mistake"]) for r in rows] == [
        ("reverse: b = a + a; c = b + b", "2.0", "fork"),
        ("tensor exercise: broadcast", "1 2; -1 0; 3 1", "unsummed"),
        ("tensor exercise: broadcast", "'-3 -1", "")]
    progress = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher)).json()
    assert progress["mistakes"] == {"fork": 1, "unsummed": 1, "other": 1}


@pytest.mark.parametrize(("change", "loc", "words"), [
    ({"answer": "1 2; 3"}, ["body", "answer"], "as many numbers"),
    ({"answer": "one two"}, ["body", "answer"], "rows split"),
    ({"question": "adjoint-Z"}, ["body", "question"], "adjoint-A, adjoint-B"),
    ({**SHAPES, "answer": "3 by 2"}, ["body", "answer"], "3×2"),
    ({"at": {"A": [1, 2], "B": B.tolist()}}, ["body"], "A: expected a matrix"),
    ({"cotangent": None}, ["body"], "cotangent"),
    ({"kind": "conv"}, ["body", "kind"], "matmul"),
    ({"answer": "1" * 201}, ["body", "answer"], "200"),
    ({"reveal": True}, ["body", "reveal"], "xtra"),
])
def test_a_bad_answer_is_a_422_that_names_the_field(api: TestClient, change: dict[str, Any],
                                                    loc: list[str], words: str) -> None:
    code, teacher = new_class(api)
    key = join(api, code, "ada")
    r = api.post(f"/api/v1/classes/{code}/answers/tensor", headers=bearer(key),
                 json={**MATMUL, "answer": "1 2; 3 4", **change})
    assert r.status_code == 422, r.text
    [entry] = r.json()["detail"]
    assert entry["loc"][:len(loc)] == loc and words in entry["msg"], entry
    assert api.get(f"/api/v1/classes/{code}/progress",
                   headers=bearer(teacher)).json()["answers"] == 0


# what a student might type, and worse: numbers, shapes, separators, brackets, words
TYPED = st.lists(st.sampled_from(["1", "-2", "0.5", "1e400", "nan", "×", "x", ";", ",", " ",
                                  "[", "]", "(", ")", "scalar", "−3", "٣", "\u0000"]),
                 max_size=12).map("".join) | st.text(max_size=40)
EXERCISES = [(MATMUL, ["adjoint-A", "adjoint-B"]), (BROADCAST, ["adjoint-b", "adjoint-X"]),
             (SHAPES, ["shape-h", "shape-W", "shape-x"]),
             (BATCH, ["shape-H", "shape-W", "shape-b"])]


def test_no_typed_answer_makes_a_500(database_url: str) -> None:
    """Whatever is typed, for whichever question: a verdict or a 422, and the server serves
    on."""
    with classroom_app(database_url, max_answers_per_minute=100_000) as api:
        code, _ = new_class(api)
        key = join(api, code, "ada")

        @settings(max_examples=120, deadline=None)
        @given(typed_answer=TYPED, which=st.sampled_from(EXERCISES), pick=st.integers(0, 2))
        def one(typed_answer: str, which: tuple[dict[str, Any], list[str]], pick: int) -> None:
            task, questions = which
            task = {**task, "question": questions[pick % len(questions)]}
            r = send(api, code, key, task, typed_answer)
            assert r.status_code in (200, 422), (typed_answer, r.text)
            if r.status_code == 422:
                assert r.json()["detail"][0]["loc"][:2] == ["body", "answer"], r.text

        one()
        assert send(api, code, key, MATMUL, "2 -2; 4 2").json()["correct"] is True


def test_the_scalar_endpoint_points_a_tensor_program_to_this_one(api: TestClient) -> None:
    code, _ = new_class(api)
    key = join(api, code, "ada")
    r = api.post(f"/api/v1/classes/{code}/answers", headers=bearer(key),
                 json={"source": "W: [2, 2]\ny = sum(W)", "at": {}, "question": "adjoint-v0",
                       "answer": 1.0})
    assert r.status_code == 422
    assert "/answers/tensor" in r.json()["detail"][0]["msg"]


def test_only_the_classes_own_student_records(api: TestClient) -> None:
    code, teacher = new_class(api)
    other_code, other_teacher = new_class(api)
    stranger = join(api, other_code, "zed")
    for headers, status in (({}, 401), (bearer(teacher), 403), (bearer(other_teacher), 403),
                            (bearer(stranger), 403), (bearer("s." + "A" * 32), 401)):
        r = api.post(f"/api/v1/classes/{code}/answers/tensor", headers=headers,
                     json={**MATMUL, "answer": "2 -2; 4 2"})
        assert r.status_code == status, r.text
        assert "zed" not in r.text
    # the student's cookie opens it only with the page's Origin (CSRF)
    api.post(f"/api/v1/classes/{code}/students", json={"nickname": "ada"})
    path = f"/api/v1/classes/{code}/answers/tensor"
    assert api.post(path, json={**MATMUL, "answer": "2 -2; 4 2"}).status_code == 403
    assert api.post(path, json={**MATMUL, "answer": "2 -2; 4 2"},
                    headers={"Origin": "http://evil.example"}).status_code == 403
    assert api.post(path, json={**MATMUL, "answer": "2 -2; 4 2"},
                    headers={"Origin": "http://testserver"}).status_code == 200
    assert api.get(f"/api/v1/classes/{code}/progress",
                   headers=bearer(teacher)).json()["answers"] == 1


def test_a_retried_tensor_answer_is_recorded_once(api: TestClient) -> None:
    code, teacher = new_class(api)
    key = join(api, code, "ada")
    retry = {"Idempotency-Key": uuid.uuid4().hex}
    first = send(api, code, key, MATMUL, typed(C_BAR @ B), retry)
    again = send(api, code, key, MATMUL, typed(C_BAR @ B), retry)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["mistake"] == "transpose"
    # the same key with another answer, or with a scalar answer, is refused by name
    for other in (send(api, code, key, MATMUL, typed(C_BAR @ B.T), retry),
                  api.post(f"/api/v1/classes/{code}/answers", headers={**bearer(key), **retry},
                           json={**FANOUT, "answer": 4.0})):
        assert other.status_code == 422, other.text
        assert other.json()["detail"][0]["type"] == "idempotency_key_reused"
    progress = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher)).json()
    assert progress["answers"] == 1


def test_the_limit_per_minute_and_an_ended_class(database_url: str) -> None:
    """Scalar and tensor answers share the limit per minute; an ended class takes none."""
    with classroom_app(database_url, max_answers_per_minute=3) as api:
        code, teacher = new_class(api)
        key = join(api, code, "ada")
        assert api.post(f"/api/v1/classes/{code}/answers", headers=bearer(key),
                        json={**FANOUT, "answer": 4.0}).status_code == 200
        sent = [send(api, code, key, MATMUL, "2 -2; 4 2",
                     {"Idempotency-Key": f"k-{n}"}).status_code for n in range(3)]
        assert sent == [200, 200, 429]
        # a retry of a recorded answer is still answered at the limit
        assert send(api, code, key, MATMUL, "2 -2; 4 2",
                    {"Idempotency-Key": "k-1"}).status_code == 200
        api.post(f"/api/v1/classes/{code}/end", headers=bearer(teacher), json={})
        r = send(api, code, key, MATMUL, "2 -2; 4 2", {"Idempotency-Key": "k-9"})
        assert r.status_code == 409 and r.json()["detail"][0]["type"] == "class_ended"


# --- the migration -----------------------------------------------------------------------------


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> str:
    """A database of its own, empty: a new SQLite file, or a new database on the PostgreSQL
    server."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'upgrade.db'}"
    name = f"upgrade_{uuid.uuid4().hex[:12]}"
    server = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    server.dispose()
    return database_url.rsplit("/", 1)[0] + f"/{name}"


def test_the_upgrade_keeps_the_answers_stored_before(empty_database: str) -> None:
    """A database made before tensor answers (revision 0004) with a scalar answer in it:
    migrated at start, the answer is still there, and an array answer fits beside it."""
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.execute(text(
            "INSERT INTO classes (id, code, name, teacher_key_hash, created_at, retention_days)"
            " VALUES (1, 'OLDCLS', 'Old', :h, 0, 30)"), {"h": "t" * 64})
        connection.execute(text(
            "INSERT INTO students (id, class_id, nickname, key_hash, joined_at, seen_at, "
            "answer_count) VALUES (1, 1, 'ada', :h, 0, 0, 1)"), {"h": "s" * 64})
        connection.execute(text(
            "INSERT INTO answers (class_id, student_id, number, exercise, question, mode, "
            "source, at, answer, correct, mistake, created_at, idempotency_key) VALUES (1, 1, "
            "1, 'Fan-out', 'adjoint-v0', 'reverse', 'b = a + a', '{}', 2.0, false, 'fork', 0, "
            "'k1')"))
    engine.dispose()
    with classroom_app(empty_database) as api:  # the app migrates at start
        assert api.get("/healthz").status_code == 200
    db = Database(empty_database)
    with db.read() as s:
        rows = s.execute(text("SELECT answer, answer_text, mistake FROM answers")).all()
        assert [tuple(r) for r in rows] == [(2.0, None, "fork")]
        s.execute(text("SELECT idempotency_key FROM answers WHERE student_id = 1")).one()
    with db.write() as s:
        s.execute(text(
            "INSERT INTO answers (class_id, student_id, number, exercise, question, mode, "
            "source, at, answer, answer_text, correct, created_at) VALUES (1, 1, 2, 'Matmul', "
            "'adjoint-A', 'tensor', 'C = A @ B', '{}', NULL, '2 -2; 4 2', true, 1)"))
    with pytest.raises(Exception, match="(?i)unique"), db.write() as s:
        # the Idempotency-Key stays unique per student through the table's rebuild
        s.execute(text(
            "INSERT INTO answers (class_id, student_id, number, exercise, question, mode, "
            "source, at, answer, correct, created_at, idempotency_key) VALUES (1, 1, 3, 'x', "
            "'q', 'reverse', 's', '{}', 1.0, true, 2, 'k1')"))
    with pytest.raises(Exception, match="(?i)unique"), db.write() as s:
        # and so does the answer's number
        s.execute(text(
            "INSERT INTO answers (class_id, student_id, number, exercise, question, mode, "
            "source, at, answer, correct, created_at) VALUES (1, 1, 2, 'x', 'q', 'reverse', "
            "'s', '{}', 1.0, true, 2)"))
    db.dispose()
