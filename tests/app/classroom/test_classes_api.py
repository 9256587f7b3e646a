"""The classroom API on SQLite and on PostgreSQL: both flows, the authorization matrix (every
endpoint x every kind of key), CSRF, limits, join throttling, retention, hostile nicknames."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from app.classroom import hash_key
from tests.app.classroom.conftest import FANOUT, bearer, classroom_app, join, new_class


def answer(api: TestClient, code: str, key: str, value: float, **extra: Any) -> Any:
    return api.post(f"/api/v1/classes/{code}/answers", headers=bearer(key),
                    json={**FANOUT, "answer": value, **extra})


def test_a_class_from_creation_to_progress(api: TestClient) -> None:
    code, teacher = new_class(api)
    assert len(code) == 6 and teacher.startswith("t.") and len(teacher) >= 2 + 32
    ada, bob, cy = (join(api, code, n) for n in ("ada", "bob", "cy"))
    assert answer(api, code, ada, 4.0, exercise="Fan-out").json()["correct"] is True
    wrong = answer(api, code, bob, 2.0, exercise="Fan-out").json()
    assert wrong["correct"] is False and wrong["mistake"] == "fork" and wrong["answer"] is None
    assert answer(api, code, cy, 2.0, exercise="Fan-out").json()["mistake"] == "fork"
    r = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher))
    assert r.status_code == 200
    progress = r.json()
    assert progress["answers"] == 3 and progress["mistakes"] == {"fork": 2}
    assert progress["exercises"] == [{"name": "Fan-out", "tried": 3, "right": 1,
                                      "mistakes": {"fork": 2}}]
    rows = {s["nickname"]: s for s in progress["students"]}
    assert rows["ada"]["exercises"]["Fan-out"]["correct"] is True
    assert rows["bob"]["exercises"]["Fan-out"] == {"answers": 1, "right": 0, "correct": False,
                                                   "mistake": "fork"}
    assert rows["bob"]["place"] == "Fan-out"
    # the latest answer decides the cell: bob corrects himself
    answer(api, code, bob, 4.0, exercise="Fan-out")
    rows = {s["nickname"]: s for s in api.get(f"/api/v1/classes/{code}/progress",
                                              headers=bearer(teacher)).json()["students"]}
    assert rows["bob"]["exercises"]["Fan-out"]["correct"] is True
    table = list(csv.reader(io.StringIO(
        api.get(f"/api/v1/classes/{code}/answers.csv", headers=bearer(teacher)).text)))
    assert table[0][:3] == ["nickname", "exercise", "question"] and len(table) == 5
    assert [row[0] for row in table[1:]] == ["ada", "bob", "cy", "bob"]


def test_the_verdict_is_the_quiz_checkers(api: TestClient) -> None:
    code, _ = new_class(api)
    key = join(api, code, "ada")
    body = {**FANOUT, "answer": 2.0}
    checked = api.post("/api/v1/quiz/check", json=body).json()
    recorded = answer(api, code, key, 2.0).json()
    assert {k: recorded[k] for k in checked} == checked
    assert recorded["exercise"].startswith("reverse: b = a + a")


def test_a_bad_program_is_a_422_and_nothing_is_recorded(api: TestClient) -> None:
    code, teacher = new_class(api)
    key = join(api, code, "ada")
    r = api.post(f"/api/v1/classes/{code}/answers", headers=bearer(key),
                 json={**FANOUT, "source": "b = a +", "answer": 1.0})
    assert r.status_code == 422 and r.json()["detail"][0]["ctx"]["line"] == 1
    r = answer(api, code, key, 1.0, question="adjoint-v99")
    assert r.status_code == 422 and "adjoint-v99" in r.json()["detail"][0]["msg"]
    assert api.get(f"/api/v1/classes/{code}/progress",
                   headers=bearer(teacher)).json()["answers"] == 0


# --- retries: Idempotency-Key -----------------------------------------------------------------


def test_a_retried_answer_is_recorded_once_with_the_first_verdict(api: TestClient) -> None:
    code, teacher = new_class(api)
    ada, bob = join(api, code, "ada"), join(api, code, "bob")
    retry = {**bearer(ada), "Idempotency-Key": "3f1c-attempt-1"}
    body = {**FANOUT, "answer": 2.0, "exercise": "Fan-out"}
    first = api.post(f"/api/v1/classes/{code}/answers", headers=retry, json=body)
    again = api.post(f"/api/v1/classes/{code}/answers", headers=retry, json=body)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json() and first.json()["mistake"] == "fork"
    # the same key with another answer is refused, naming the header; nothing is recorded
    other = api.post(f"/api/v1/classes/{code}/answers", headers=retry,
                     json={**body, "answer": 4.0})
    assert other.status_code == 422, other.text
    [entry] = other.json()["detail"]
    assert entry["loc"] == ["header", "idempotency-key"]
    assert entry["type"] == "idempotency_key_reused"
    # a key is the student's own: bob may use the same one; without a key every POST counts
    bobs = api.post(f"/api/v1/classes/{code}/answers", headers={
        **bearer(bob), "Idempotency-Key": "3f1c-attempt-1"}, json={**body, "answer": 4.0})
    assert bobs.status_code == 200 and bobs.json()["correct"] is True
    assert answer(api, code, ada, 2.0).status_code == answer(api, code, ada, 2.0).status_code
    progress = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher)).json()
    rows = {s["nickname"]: s["exercises"] for s in progress["students"]}
    assert rows["ada"]["Fan-out"]["answers"] == 1 and rows["bob"]["Fan-out"]["answers"] == 1
    assert progress["answers"] == 4


@pytest.mark.parametrize("key", [b"", b"x" * 101, b"two words", "café".encode()])
def test_a_malformed_idempotency_key_is_a_422(api: TestClient, key: bytes) -> None:
    code, _ = new_class(api)
    ada = join(api, code, "ada")
    r = api.post(f"/api/v1/classes/{code}/answers", json={**FANOUT, "answer": 4.0},
                 headers={"Authorization": f"Bearer {ada}".encode(), "Idempotency-Key": key})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["header", "idempotency-key"]


def test_a_key_another_replica_deleted_opens_nothing(database_url: str) -> None:
    """A student's key is remembered a few seconds per process; a class deleted meanwhile by
    another replica (another app on the same database) still takes no answer: a 401."""
    with classroom_app(database_url) as here, classroom_app(database_url) as there:
        code, teacher = new_class(here)
        ada = join(here, code, "ada")
        assert answer(here, code, ada, 4.0).status_code == 200  # the key is now remembered
        ended = there.post(f"/api/v1/classes/{code}/end", headers=bearer(teacher),
                           json={"retention_days": 0})
        assert ended.status_code == 200
        r = answer(here, code, ada, 4.0)
        assert r.status_code == 401 and r.json()["detail"][0]["type"] == "invalid_key"


# --- the authorization matrix ------------------------------------------------------------------

TEACHER_ONLY = [("GET", "", None), ("GET", "/progress", None), ("GET", "/answers.csv", None),
                ("POST", "/exercises", {"title": "E", "source": "y = 3*x", "at": {"x": 1.0}}),
                ("POST", "/shared", {"title": "Fan-out", "url": "/playground?source=b%3Da%2Ba"}),
                ("POST", "/end", {"retention_days": 5})]
STUDENT_ONLY = [("GET", "/me", None), ("POST", "/presence", {"place": "Lesson 5"}),
                ("POST", "/answers", {**FANOUT, "answer": 4.0}),
                ("POST", "/answers/tensor", {"kind": "shapes", "question": "shape-x",
                                             "at": {"W": [[1, 2]], "x": [1, 2], "b": [0]},
                                             "answer": "2"})]
KINDS = ["none", "unknown", "malformed", "teacher", "other teacher", "student",
         "other student", "student as teacher scheme"]


@pytest.fixture
def two_classes(api: TestClient) -> dict[str, Any]:
    code, teacher = new_class(api, "A")
    other_code, other_teacher = new_class(api, "B")
    return {"code": code, "teacher": teacher, "student": join(api, code, "ada-secret-A"),
            "other teacher": other_teacher, "other student": join(api, other_code, "zed-B")}


def headers_for(kind: str, keys: dict[str, Any]) -> dict[str, str]:
    special = {
        "none": {},
        "unknown": bearer("s.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "malformed": {"Authorization": "Basic dXNlcjpwYXNz"},
        "student as teacher scheme": bearer("t." + keys["student"][2:]),
    }
    return special[kind] if kind in special else bearer(keys[kind])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("method", "path", "body"), TEACHER_ONLY + STUDENT_ONLY)
def test_authorization_matrix(api: TestClient, two_classes: dict[str, Any], kind: str,
                              method: str, path: str, body: Any) -> None:
    """Every endpoint that needs a key, with every kind of key: only the right one opens it,
    and a refusal carries nothing of the class."""
    keys = two_classes
    wanted = "teacher" if (method, path, body) in TEACHER_ONLY else "student"
    r = api.request(method, f"/api/v1/classes/{keys['code']}{path}", json=body,
                    headers=headers_for(kind, keys))
    if kind == wanted:
        assert r.status_code == (201 if path == "/exercises" and method == "POST" else 200), \
            r.text
    elif kind in ("none", "unknown", "malformed", "student as teacher scheme"):
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
    else:
        assert r.status_code == 403, r.text
    if r.status_code >= 400:
        assert "ada-secret-A" not in r.text and "zed-B" not in r.text


def test_a_student_reads_nothing_of_others(api: TestClient,
                                           two_classes: dict[str, Any]) -> None:
    keys = two_classes
    code = keys["code"]
    other = join(api, code, "bob-private")
    answer(api, code, other, 2.0, exercise="bob's exercise")
    seen = [answer(api, code, keys["student"], 4.0),
            api.get(f"/api/v1/classes/{code}/me", headers=bearer(keys["student"])),
            api.post(f"/api/v1/classes/{code}/presence", headers=bearer(keys["student"]),
                     json={})]
    for r in seen:
        assert r.status_code == 200
        assert "bob" not in r.text and "zed-B" not in r.text
    assert seen[1].json()["nickname"] == "ada-secret-A" and seen[1].json()["answers"] == 1


def test_the_student_cookie_is_strict_and_scoped(api: TestClient) -> None:
    code, _ = new_class(api)
    r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": "ada"})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert f"Path=/api/v1/classes/{code}" in cookie
    # the cookie alone opens the student's own endpoints, from the same origin
    me = api.get(f"/api/v1/classes/{code}/me")
    assert me.status_code == 200 and me.json()["nickname"] == "ada"
    same = api.post(f"/api/v1/classes/{code}/presence", json={},
                    headers={"Origin": "http://testserver"})
    assert same.status_code == 200
    # a cookie never opens teacher endpoints
    assert api.get(f"/api/v1/classes/{code}/progress").status_code == 401


@pytest.mark.parametrize(("method", "path", "body"),
                         [("POST", "", {"name": "X"}),
                          ("POST", "/students", {"nickname": "mallory"})]
                         + TEACHER_ONLY[3:] + STUDENT_ONLY[1:])
def test_cross_site_requests_change_nothing(api: TestClient, two_classes: dict[str, Any],
                                            method: str, path: str, body: Any) -> None:
    keys = two_classes
    base = "/api/v1/classes" + ("" if path == "" else f"/{keys['code']}{path}")
    key = keys["teacher"] if (method, path, body) in TEACHER_ONLY else keys["student"]
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}):
        r = api.request(method, base, json=body, headers={**bearer(key), **headers})
        assert r.status_code == 403 and r.json()["detail"][0]["type"] == "cross_origin"


def test_a_cookie_without_origin_is_refused(api: TestClient) -> None:
    code, _ = new_class(api)
    api.post(f"/api/v1/classes/{code}/students", json={"nickname": "ada"})  # sets the cookie
    r = api.post(f"/api/v1/classes/{code}/answers", json={**FANOUT, "answer": 4.0})
    assert r.status_code == 403


# --- limits, throttling, retention -------------------------------------------------------------


def test_limits_are_settings(database_url: str) -> None:
    with classroom_app(database_url, max_class_students=2, max_nickname_chars=5,
                       max_answers_per_minute=3) as api:
        code, _ = new_class(api)
        r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": "abcdef"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "nickname"]
        for bad in ("", "   ", "a\u0000b", "a\u202eb"):
            r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": bad})
            assert r.status_code == 422, bad
        ada = join(api, code, "ada")
        r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": "ada"})
        assert r.status_code == 409 and r.json()["detail"][0]["type"] == "nickname_taken"
        join(api, code, "bob")
        r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": "cy"})
        assert r.status_code == 409 and "max_class_students" in r.json()["detail"][0]["msg"]
        sent = [api.post(f"/api/v1/classes/{code}/answers", json={**FANOUT, "answer": 4.0},
                         headers={**bearer(ada), "Idempotency-Key": f"k-{n}"}).status_code
                for n in range(4)]
        assert sent == [200] * 3 + [429]
        # a retry of an answer that was recorded is answered again, even at the limit
        assert api.post(f"/api/v1/classes/{code}/answers", json={**FANOUT, "answer": 4.0},
                        headers={**bearer(ada), "Idempotency-Key": "k-2"}).status_code == 200


def test_guessing_join_codes_is_throttled_per_client(database_url: str) -> None:
    with classroom_app(database_url, max_join_failures_per_minute=5,
                       trust_forwarded_for=True) as api:
        code, _ = new_class(api)
        guesser = {"X-Forwarded-For": f"10.9.{time.time_ns() % 250}.7"}
        for _ in range(5):
            r = api.post("/api/v1/classes/ZZZZZZ/students", json={"nickname": "g"},
                         headers=guesser)
            assert r.status_code == 404
        r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": "g"},
                     headers=guesser)
        assert r.status_code == 429 and r.headers["retry-after"] == "60"
        # another student (another address) still joins
        r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": "h"},
                     headers={"X-Forwarded-For": "10.8.0.1"})
        assert r.status_code == 201


def test_an_ended_class_takes_nothing_and_is_deleted_after_retention(api: TestClient) -> None:
    code, teacher = new_class(api)
    ada = join(api, code, "ada")
    answer(api, code, ada, 4.0)
    r = api.post(f"/api/v1/classes/{code}/end", headers=bearer(teacher), json={})
    info = r.json()
    assert r.status_code == 200 and info["ended"] and info["retention_days"] == 30
    assert 29.9 * 86400 < info["purge_at"] - time.time() < 30.1 * 86400
    assert answer(api, code, ada, 4.0).status_code == 409
    assert api.post(f"/api/v1/classes/{code}/students",
                    json={"nickname": "late"}).status_code == 409
    # still readable until the retention period is over; retention 0 deletes it now
    assert api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher)).json()[
        "answers"] == 1
    api.post(f"/api/v1/classes/{code}/end", headers=bearer(teacher), json={"retention_days": 0})
    for key in (teacher, ada):
        assert api.get(f"/api/v1/classes/{code}/me", headers=bearer(key)).status_code == 401


def test_retention_is_bounded(api: TestClient) -> None:
    r = api.post("/api/v1/classes", json={"name": "X", "retention_days": 100_000})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "retention_days"]
    assert api.post("/api/v1/classes", json={"name": "X", "retention_days": -1}).status_code == 422


def test_a_shared_example_must_be_a_page_of_this_server(api: TestClient) -> None:
    code, teacher = new_class(api)
    ada = join(api, code, "ada")
    for url in ("javascript:alert(1)", "https://evil.example/playground", "//evil.example/x",
                "/api/v1/classes"):
        r = api.post(f"/api/v1/classes/{code}/shared", headers=bearer(teacher),
                     json={"title": "x", "url": url})
        assert r.status_code == 422, url
    url = "/playground?source=b%20%3D%20a%20%2B%20a&at=a%3D2&mode=reverse"
    r = api.post(f"/api/v1/classes/{code}/shared", headers=bearer(teacher),
                 json={"title": "Fan-out", "url": url})
    assert r.status_code == 200
    shared = api.post(f"/api/v1/classes/{code}/presence", headers=bearer(ada),
                      json={"place": "Lesson 5"}).json()["shared"]
    assert shared["url"] == url and shared["title"] == "Fan-out"


# each within the default nickname limit (24 characters)
XSS = ["<script>x()</script>", '"><img src=x onerror=x>', '=HYPERLINK("evil")', "{{7*7}}",
       "<svg/onload=alert(1)>"]


def test_hostile_nicknames_are_data_everywhere(api: TestClient) -> None:
    code, teacher = new_class(api, XSS[0])
    for nickname in XSS:
        key = join(api, code, nickname)
        answer(api, code, key, 2.0, exercise=XSS[1])
    progress = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher))
    assert progress.headers["content-type"] == "application/json"
    assert progress.headers["x-content-type-options"] == "nosniff"
    assert [s["nickname"] for s in progress.json()["students"]] == XSS
    exported = api.get(f"/api/v1/classes/{code}/answers.csv", headers=bearer(teacher))
    rows = list(csv.reader(io.StringIO(exported.text)))[1:]
    assert rows[2][0] == "'" + XSS[2]  # a spreadsheet would run it as a formula
    assert rows[0][0] == XSS[0]
    # the dashboard's HTML carries no nickname at all (the page fills them in as text)
    page = api.get(f"/teach/{code}")
    assert page.status_code == 200 and "onerror" not in page.text and "x()" not in page.text


def test_a_handed_out_exercise_has_a_short_link_and_counts_under_its_title(
        api: TestClient) -> None:
    code, teacher = new_class(api)
    r = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher),
                 json={"title": "Fan-out <b>", "source": FANOUT["source"], "at": FANOUT["at"],
                       "mode": "reverse"})
    assert r.status_code == 201, r.text
    link = r.json()["link"]
    assert link.startswith("/x/") and len(link) == 3 + 8
    page = api.get(link)
    assert page.status_code == 200
    assert 'data-exercise="Fan-out &lt;b&gt;"' in page.text  # escaped
    assert api.get(f"{link}/qr.svg").headers["content-type"] == "image/svg+xml"
    assert api.get("/x/zzzzzzzz").status_code == 404
    # a program with no question, or a bad one, is refused before anything is stored
    bad = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher),
                   json={"title": "x", "source": "y = 2 +", "mode": "reverse"})
    assert bad.status_code == 422
    # students and other teachers cannot hand out exercises
    ada = join(api, code, "ada")
    other_code, other_teacher = new_class(api)
    for key in (ada, other_teacher):
        r = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(key),
                     json={"title": "x", "source": FANOUT["source"], "at": FANOUT["at"]})
        assert r.status_code == 403



def test_an_exercise_may_ask_some_nodes_and_offer_no_hints(api: TestClient) -> None:
    code, teacher = new_class(api)
    base = {"title": "Only the fork", "source": FANOUT["source"], "at": FANOUT["at"],
            "mode": "reverse"}
    r = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher),
                 json={**base, "asked": ["v0"], "hints": False})
    assert r.status_code == 201, r.text
    assert r.json()["asked"] == ["v0"] and r.json()["hints"] is False
    page = api.get(r.json()["link"]).text
    assert "data-asked='[\"v0\"]'" in page and 'data-hints="off"' in page
    # by default every node is asked, with hints
    r = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher), json=base)
    assert r.json()["asked"] is None and r.json()["hints"] is True
    page = api.get(r.json()["link"]).text
    assert "data-asked" not in page and "data-hints" not in page
    # a node the quiz does not ask about (the seeded output, or no such node) is a 422
    for asked in (["v2"], ["v9", "v0"], []):
        bad = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher),
                       json={**base, "asked": asked})
        assert bad.status_code == 422, bad.text
        [entry] = bad.json()["detail"]
        assert entry["loc"] == ["body", "asked"]
        assert "v0" in entry["msg"] and "v1" in entry["msg"]  # the nodes it may name


def test_no_route_gives_hints_for_an_exercise_handed_out_without_them(api: TestClient) -> None:
    """Hints off is enforced by the server, not only by a hidden button: while the class
    runs, neither the hint ladder nor the worked rules answer for that program at that point
    in that mode, however the program is spaced; another point, or an exercise with hints,
    still gets them; ending the class lifts it."""
    code, teacher = new_class(api)
    exercise = {"source": "p = q * q; r = p + q", "at": {"q": 3.0}, "mode": "reverse"}
    hint = {**exercise, "question": "adjoint-v1", "level": 1}
    assert api.post("/api/v1/quiz/hint", json=hint).status_code == 200
    made = api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher),
                    json={"title": "No hints", **exercise, "hints": False})
    assert made.status_code == 201, made.text
    respaced = {**hint, "source": "p=q*q\nr = p+q"}
    for path, body in (("/api/v1/quiz/hint", hint), ("/api/v1/quiz/hint", respaced),
                       ("/api/v1/quiz/hint", {**hint, "level": 3, "wrt": "r"}),
                       ("/api/v1/quiz/rules", exercise)):
        r = api.post(path, json=body)
        assert r.status_code == 403, (path, r.text)
        [entry] = r.json()["detail"]
        assert entry["type"] == "hints_off" and "without hints" in entry["msg"]
        # why, until when, and what is left to do
        assert "until that class ends" in entry["msg"] and "check your answers" in entry["msg"]
        assert code not in r.text  # a join code is a secret of the class
    # the same program at another point, or in another mode, is another exercise
    assert api.post("/api/v1/quiz/hint", json={**hint, "at": {"q": 4.0}}).status_code == 200
    assert api.post("/api/v1/quiz/rules", json={**exercise, "mode": "forward"}
                    ).status_code == 200
    # an exercise handed out with hints keeps them
    with_hints = {"source": "u = 2 * t; w = u * t", "at": {"t": 1.0}, "mode": "reverse"}
    api.post(f"/api/v1/classes/{code}/exercises", headers=bearer(teacher),
             json={"title": "Hints", **with_hints})
    first = api.post("/api/v1/quiz", json=with_hints).json()["questions"][0]["id"]
    assert api.post("/api/v1/quiz/hint", json={**with_hints, "question": first,
                                                "level": 1}).status_code == 200
    # a bad program is still the usual 422, not a 403
    assert api.post("/api/v1/quiz/hint", json={**hint, "source": "p = q *"}).status_code == 422
    api.post(f"/api/v1/classes/{code}/end", headers=bearer(teacher), json={})
    assert api.post("/api/v1/quiz/hint", json=hint).status_code == 200


def test_the_class_size_holds_when_students_join_at_once(database_url: str) -> None:
    """Joins at the same moment take turns on the class's row: never more than the limit."""
    from concurrent.futures import ThreadPoolExecutor

    with classroom_app(database_url, max_class_students=5) as api:
        code, teacher = new_class(api)

        def try_join(n: int) -> int:
            return api.post(f"/api/v1/classes/{code}/students", json={"nickname": f"s{n}"},
                            headers={"X-Forwarded-For": f"10.1.0.{n}"}).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = sorted(pool.map(try_join, range(12)))
        assert statuses == [201] * 5 + [409] * 7
        info = api.get(f"/api/v1/classes/{code}", headers=bearer(teacher)).json()
        assert info["students"] == 5


def test_the_answer_limit_holds_when_one_student_answers_at_once(database_url: str) -> None:
    """A student's answers sent at the same moment take turns on the student's own row:
    exactly `max_answers_per_minute` are recorded, the rest get a 429; a minute later (the
    answers made older in the database), exactly as many again. On PostgreSQL the student's
    row is held locked while the answers arrive, so that every statement starts before any
    ends (statements that counted the same recent answers once let all through)."""
    from concurrent.futures import ThreadPoolExecutor

    limit, sent = 3, 12
    with classroom_app(database_url, max_answers_per_minute=limit) as api:
        code, teacher = new_class(api)
        ada = join(api, code, "ada")
        for burst in (1, 2):
            with ThreadPoolExecutor(sent) as pool, overlapping(database_url, ada, sent):
                replies = [pool.submit(answer, api, code, ada, 4.0) for _ in range(sent)]
            statuses = sorted(r.result().status_code for r in replies)
            assert statuses == [200] * limit + [429] * (sent - limit), burst
            progress = api.get(f"/api/v1/classes/{code}/progress", headers=bearer(teacher))
            assert progress.json()["answers"] == limit * burst
            with database(database_url) as engine, engine.begin() as connection:
                connection.execute(text("UPDATE answers SET created_at = created_at - 61 "
                                        "WHERE student_id = (SELECT id FROM students "
                                        "WHERE key_hash = :key)"), {"key": hash_key(ada)})


@contextlib.contextmanager
def database(database_url: str) -> Iterator[Engine]:
    """A connection pool of the test's own to the app's database."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def overlapping(database_url: str, key: str, statements: int) -> Iterator[None]:
    """On PostgreSQL, hold the student's row locked (FOR UPDATE: an answer's statement waits
    for it, whether it updates the row or only checks its foreign key) until `statements`
    statements wait for a lock, then let them all go. On SQLite (one writer at a time) it
    does nothing."""
    if database_url.startswith("sqlite"):
        yield
        return
    waiting = text("SELECT count(*) FROM pg_stat_activity "
                   "WHERE wait_event_type = 'Lock' AND datname = current_database()")
    with database(database_url) as engine, engine.connect() as holder, \
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        holder.execute(text("SELECT id FROM students WHERE key_hash = :key FOR UPDATE"),
                       {"key": hash_key(key)})
        yield
        deadline = time.monotonic() + 60
        while (watcher.execute(waiting).scalar() or 0) < statements:
            assert time.monotonic() < deadline, "the answers never reached the database"
            time.sleep(0.05)
        holder.commit()
