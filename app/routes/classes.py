"""The classroom API under /api/v1/classes: a teacher makes a class, students join it with its
code and a nickname, their answers are judged and recorded, and the teacher reads the class's
progress (JSON or CSV), shares an example and ends the class. A scalar exercise's answer
(a number) goes to `/answers`, a tensor exercise's (lessons 9 and 10: an array or a shape) to
`/answers/tensor`; both are judged here by the quiz checkers and recorded alike.

Keys travel as `Authorization: Bearer <key>` (a student's also as an HttpOnly, SameSite=Strict
cookie scoped to the class's URLs). A teacher's key opens one class; a student's key only that
student's own data. Every request that changes state must come from the server's own origin
(CSRF). The rules and the storage are in app/classroom.py; this file routes and validates.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, NoResultFound

import autodiff_core as ad

from .. import classroom, quiz
from ..classroom import STUDENT, TEACHER, ClassroomError, Identity
from ..db import Database
from ..jobs import run_job, settings_of
from ..limits import check_point, parse_program
from ..problems import ERROR_RESPONSES, engine_errors, problem, scalar_only
from ..responses import json_response
from ..schemas import ErrorResponse, FiniteFloat, Outputs, Source, Strict
from ..settings import Settings
from .tensor_quiz import TensorQuizRequest, TensorVerdict

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
COOKIE = "autodiff_student"


def database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def _refuse(status: int, msg: str, loc: tuple[str, ...], kind: str,
            headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status, [{"loc": list(loc), "msg": msg, "type": kind}], headers)


def _http(error: ClassroomError) -> HTTPException:
    if error.status == 422:
        return _refuse(422, error.msg, error.loc, error.kind)
    headers = {"Retry-After": "60"} if error.status == 429 else None
    return _refuse(error.status, error.msg, error.loc, error.kind, headers)


# Joins come in bursts (a whole class at the bell) and take turns on their class's row anyway;
# in threads of their own, a burst of them does not queue ahead of answers for the shared ones.
JOIN_THREADS = 4
_join_limiters: dict[Any, anyio.CapacityLimiter] = {}


def _join_limiter() -> anyio.CapacityLimiter:
    """This event loop's limiter for joins (a limiter belongs to the loop that made it)."""
    from anyio.lowlevel import current_token

    token = current_token()
    limiter = _join_limiters.get(token)
    if limiter is None:
        limiter = _join_limiters[token] = anyio.CapacityLimiter(JOIN_THREADS)
    return limiter


async def _call(work: Any, *args: Any, limiter: anyio.CapacityLimiter | None = None,
                **kwargs: Any) -> Any:
    """Run a database function in a worker thread; its refusals become HTTP errors."""
    try:
        return await anyio.to_thread.run_sync(lambda: work(*args, **kwargs), limiter=limiter)
    except ClassroomError as error:
        raise _http(error) from None
    except IntegrityError:
        # two requests at once: the same nickname joined twice, say; the database kept one
        raise _refuse(409, "this conflicts with a change made at the same moment (a nickname "
                           "just taken?); try again", ("body",), "conflict") from None
    except NoResultFound:
        # the class was deleted (its retention period ended) after the key was checked
        raise _refuse(401, "this key opens nothing (the class was deleted)",
                      ("header", "authorization"), "invalid_key") from None


def same_origin(request: Request) -> None:
    """Refuse a state-changing request sent from another site (CSRF): its Origin must be this
    server (or one of `allowed_origins`). A request without Origin may change state only with
    its key in the Authorization header, which a page on another site cannot set (see
    `_key`)."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise _refuse(403, "cross-site requests may not change a class", ("header", "origin"),
                      "cross_origin")
    origin = request.headers.get("origin")
    if origin is None:
        return  # a script's request; one that only a cookie authenticates is refused in _key
    allowed = {o.strip().rstrip("/") for o in settings_of(request).allowed_origins.split(",")
               if o.strip()}
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    # Host may lack the port when a proxy rewrote it (nginx's $host): then compare names only
    if origin in allowed or parts.netloc == host or (":" not in host and parts.hostname == host
                                                     and bool(host)):
        return
    raise _refuse(403, f"requests from {origin} may not change a class", ("header", "origin"),
                  "cross_origin")


router = APIRouter(prefix="/api/v1/classes", tags=["classroom"],
                   dependencies=[Depends(same_origin)])

Code = Annotated[str, Path(description="The class's join code, e.g. `K7P2QX`.", max_length=16)]
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorResponse, "description": "No key, or a key that opens nothing."},
    403: {"model": ErrorResponse, "description": "The key is not for this class or this "
                                                 "kind of request, or the request came "
                                                 "from another site."},
}


def _key(request: Request, cookie: bool) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return key.strip()
    cookie_key = request.cookies.get(COOKIE) if cookie else None
    if cookie_key and request.method not in SAFE_METHODS and "origin" not in request.headers:
        raise _refuse(403, "a request authenticated by cookie must say its Origin",
                      ("header", "origin"), "cross_origin")
    return cookie_key


async def _identity(request: Request, code: str, kind: str) -> Identity:
    key = _key(request, cookie=kind == STUDENT)
    if not key:
        raise _refuse(401, "this needs a key: Authorization: Bearer <key>",
                      ("header", "authorization"), "missing_key",
                      {"WWW-Authenticate": "Bearer"})
    db = database(request)
    who = classroom.known_student(db, key) or await _call(classroom.authenticate, db, key)
    if who is None:
        raise _refuse(401, "this key opens nothing (wrong, or the class was deleted)",
                      ("header", "authorization"), "invalid_key",
                      {"WWW-Authenticate": "Bearer"})
    if who.kind != kind or who.code != classroom.normalize_code(code):
        raise _refuse(403, f"this needs the {kind} key of class {code}",
                      ("header", "authorization"), "forbidden")
    return who


async def teacher(request: Request, code: Code) -> Identity:
    """The teacher of the class in the path."""
    return await _identity(request, code, TEACHER)


async def student(request: Request, code: Code) -> Identity:
    """A student of the class in the path."""
    return await _identity(request, code, STUDENT)


Teacher = Annotated[Identity, Depends(teacher)]
Student = Annotated[Identity, Depends(student)]


# --- schemas -----------------------------------------------------------------------------------


class NewClass(Strict):
    name: str = Field(description="Shown to the students when they join.", max_length=200,
                      examples=["Calculus 2, group B"])
    retention_days: int | None = Field(
        None, ge=0, description="Days the students' data is kept after the class ends "
                                "(0: deleted when it ends); the server's default if omitted.")


class CreatedClass(BaseModel):
    code: str = Field(description="The join code students type.")
    name: str
    teacher_key: str = Field(description="The teacher's key: shown once, stored hashed.")
    retention_days: int


class Shared(BaseModel):
    title: str
    url: str
    at: float


class ClassPublic(BaseModel):
    code: str
    name: str
    ended: bool
    shared: Shared | None


class ClassInfo(ClassPublic):
    students: int
    retention_days: int
    purge_at: float | None = Field(description="When its data is deleted (seconds since "
                                               "the epoch); null while it runs.")


class NewStudent(Strict):
    nickname: str = Field(description="A nickname, unique in the class (no personal data).",
                          max_length=200, examples=["ada"])


class Joined(BaseModel):
    student_key: str = Field(description="The student's key (also set as a cookie).")
    nickname: str
    # named `class` in JSON
    class_: ClassPublic = Field(alias="class")


class Me(BaseModel):
    nickname: str
    answers: int
    class_: ClassPublic = Field(alias="class")


class Presence(Strict):
    place: str | None = Field(None, max_length=500,
                              description="Where the student is (a page or exercise title).")


class AnswerRequest(Strict):
    source: Source
    at: dict[str, FiniteFloat] = Field(default_factory=dict)
    mode: Literal["value", "forward", "reverse"] = "reverse"
    wrt: str | None = None
    outputs: Outputs = None
    question: str = Field(max_length=100, description="A question id from the quiz.")
    answer: FiniteFloat
    exercise: str | None = Field(None, max_length=500,
                                 description="The exercise's name on the teacher's dashboard "
                                             "(the page and quiz); by default the program.")


class AnswerVerdict(BaseModel):
    correct: bool
    mistake: str | None = Field(description="The known mistake the answer matches (see "
                                            "/api/v1/quiz/check), or null.")
    feedback: str
    answer: float | None
    edge: str | None = Field(None, description="The edge a `local` or `sign` mistake is on "
                                               "(as /api/v1/quiz/check says).")
    exercise: str


class ShareRequest(Strict):
    title: str = Field(max_length=500)
    url: str = Field(max_length=4000, description="A page of this server: /playground?... or "
                                                  "/lessons/...")


class EndRequest(Strict):
    retention_days: int | None = Field(None, ge=0)


class StudentProgress(BaseModel):
    nickname: str
    place: str | None
    seen_seconds_ago: float
    exercises: dict[str, dict[str, Any]] = Field(
        description="exercise -> {answers, right (questions), correct (the latest answer), "
                    "mistake (of the latest answer, if wrong)}")


class ExerciseProgress(BaseModel):
    name: str
    tried: int
    right: int
    mistakes: dict[str, int] = Field(description="mistake -> how many students made it")


class Progress(BaseModel):
    class_: ClassPublic = Field(alias="class")
    students: list[StudentProgress]
    exercises: list[ExerciseProgress]
    mistakes: dict[str, int] = Field(description="mistake -> how many answers made it "
                                                 "(`other`: wrong, no known mistake)")
    answers: int


# --- the teacher -------------------------------------------------------------------------------


def _retention(request: Request, days: int | None, loc: tuple[str, ...]) -> int:
    settings = settings_of(request)
    days = settings.default_retention_days if days is None else days
    if days > settings.max_retention_days:
        raise _refuse(422, f"retention_days is {days}; the limit is "
                           f"{settings.max_retention_days} (max_retention_days)", loc,
                      "limit_exceeded")
    return days


@router.post("", status_code=201, response_model=CreatedClass, responses=AUTH_RESPONSES)
async def create_class(body: NewClass, request: Request) -> JSONResponse:
    """Make a class: its join code and the teacher's key (shown only now)."""
    days = _retention(request, body.retention_days, ("body", "retention_days"))
    name = _clean(body.name, 200, ("body", "name"), "class name")
    code, key = await _call(classroom.create_class, database(request), name, days)
    return json_response({"code": code, "name": name, "teacher_key": key,
                          "retention_days": days}, status_code=201)


@router.get("/{code}", response_model=ClassInfo, responses=AUTH_RESPONSES)
async def read_class(who: Teacher, request: Request) -> JSONResponse:
    """The class: name, students, shared example, retention (teacher key)."""
    return json_response(await _call(classroom.class_info, database(request), who.class_id))


@router.get("/{code}/progress", response_model=Progress, responses=AUTH_RESPONSES)
async def read_progress(who: Teacher, request: Request) -> JSONResponse:
    """Students x exercises, the class's mistakes per exercise, where each student is
    (teacher key)."""
    return json_response(await _call(classroom.progress, database(request), who.class_id))


@router.get("/{code}/answers.csv", responses={**AUTH_RESPONSES, 200: {
    "content": {"text/csv": {}}, "description": "One row per answer."}})
async def export_answers(who: Teacher, request: Request) -> Response:
    """Every answer of the class as CSV (teacher key)."""
    text = await _call(classroom.answers_csv, database(request), who.class_id)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="class-{who.code}.csv"',
        "Cache-Control": "no-store"})


@router.post("/{code}/shared", response_model=ClassPublic, responses=AUTH_RESPONSES)
async def share_example(body: ShareRequest, who: Teacher, request: Request) -> JSONResponse:
    """Offer an example to every student (a banner on their pages) (teacher key)."""
    url = body.url.strip()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not (url.startswith("/playground")
                                            or url.startswith("/lessons/")
                                            or url.startswith("/quiz")):
        raise _refuse(422, "the example must be a page of this server: /playground?..., "
                           "/lessons/... or /quiz?...", ("body", "url"), "value_error")
    title = _clean(body.title, 200, ("body", "title"), "title")
    return json_response(await _call(classroom.share_example, database(request),
                                     who.class_id, title, url))


@router.post("/{code}/end", response_model=ClassInfo, responses=AUTH_RESPONSES)
async def end_class(body: EndRequest, who: Teacher, request: Request) -> JSONResponse:
    """End the class: no more joins or answers; its data is deleted after the retention
    period (teacher key)."""
    days = (None if body.retention_days is None
            else _retention(request, body.retention_days, ("body", "retention_days")))
    db = database(request)
    ended = await _call(classroom.end_class, db, who.class_id, days)
    if days == 0:
        return json_response({**ended, "students": 0, "retention_days": 0})
    return json_response(await _call(classroom.class_info, db, who.class_id))


class NewExercise(Strict):
    title: str = Field(max_length=500, description="Its name on the dashboard.")
    source: Source
    at: dict[str, FiniteFloat] = Field(default_factory=dict)
    mode: Literal["value", "forward", "reverse"] = "reverse"
    wrt: str | None = Field(None, max_length=100)
    asked: list[Annotated[str, Field(max_length=20)]] | None = Field(
        None, max_length=500, description="The nodes whose questions are asked (`v3`, as "
                                          "POST /api/v1/quiz names them); all if omitted.")
    hints: bool = Field(True, description="Whether the exercise's page offers hints.")


class ExerciseLink(BaseModel):
    slug: str
    title: str
    link: str = Field(description="The short link students open: `/x/<slug>`.")
    asked: list[str] | None = Field(description="The nodes asked; null: all.")
    hints: bool


def _question_nodes(body: NewExercise, settings: Settings) -> list[str]:
    """The nodes the program's quiz asks about (a 422 if the program cannot make a quiz)."""
    program = parse_program(body.source, None, settings)
    scalar_only(program, "an exercise from a program")
    check_point(program, body.at, settings,
                passes=1 + len(program.inputs) + len(program.outputs))
    with engine_errors(program):
        return [q.node for q in quiz.make_quiz(program, body.at, body.mode, body.wrt).questions]


def _asked(wanted: list[str] | None, nodes: list[str]) -> list[str] | None:
    """The asked nodes in the trace's order, or None for all; a 422 names any the quiz lacks."""
    if wanted is None:
        return None
    unknown = [n for n in wanted if n not in nodes]
    if unknown or not wanted:
        raise _refuse(422, f"asked must name nodes this quiz asks about ({', '.join(nodes)}); "
                           f"not {', '.join(unknown) or 'none'}", ("body", "asked"),
                      "value_error")
    return [n for n in nodes if n in wanted]


@router.post("/{code}/exercises", status_code=201, response_model=ExerciseLink,
             responses=AUTH_RESPONSES)
async def add_exercise(body: NewExercise, who: Teacher, request: Request) -> JSONResponse:
    """Hand out an exercise on any program: a short link (and its QR code at
    `/x/<slug>/qr.svg`); answers to it show under its title. `asked` picks the nodes asked,
    `hints: false` takes the hint button off its page (teacher key)."""
    settings = settings_of(request)
    nodes = await run_job(request, _question_nodes, body, settings, inline=True)
    if not nodes:
        raise _refuse(422, "this program has no question to ask in this mode",
                      ("body", "source"), "value_error")
    asked = _asked(body.asked, nodes)
    title = _clean(body.title, 200, ("body", "title"), "title")
    made = await _call(classroom.add_exercise, database(request), who.class_id, title=title,
                       source=body.source, at=body.at, mode=body.mode, wrt=body.wrt,
                       asked=asked, hints=body.hints)
    return json_response(made, status_code=201)


# --- the students ------------------------------------------------------------------------------


def client_address(request: Request) -> str:
    """Who is asking, for throttling: the socket's peer, or the proxy's X-Forwarded-For."""
    if settings_of(request).trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"


@router.post("/{code}/students", status_code=201, response_model=Joined,
             responses={**AUTH_RESPONSES, 404: {"model": ErrorResponse},
                        409: {"model": ErrorResponse}, 429: {"model": ErrorResponse}})
async def join_class(code: Code, body: NewStudent, request: Request) -> JSONResponse:
    """Join a class with its code and a nickname; the student's key comes back and as a
    cookie. Wrong codes are throttled per client (429)."""
    settings = settings_of(request)
    nickname = _clean(body.nickname, settings.max_nickname_chars, ("body", "nickname"),
                      "nickname")
    key, public = await _call(classroom.join, database(request), code, nickname,
                              client_address(request), settings, limiter=_join_limiter())
    response = json_response({"student_key": key, "nickname": nickname, "class": public},
                             status_code=201)
    response.set_cookie(COOKIE, key, max_age=7 * 86_400, path=f"/api/v1/classes/{public['code']}",
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/{code}/me", response_model=Me, responses=AUTH_RESPONSES)
async def read_me(who: Student, request: Request) -> JSONResponse:
    """The student's own nickname and answer count, and the class's shared example
    (student key)."""
    return json_response(await _call(classroom.student_view, database(request), who))


@router.post("/{code}/presence", response_model=ClassPublic, responses=AUTH_RESPONSES)
async def report_presence(body: Presence, who: Student, request: Request) -> JSONResponse:
    """Say where the student is; answers with the class and its shared example
    (student key)."""
    place = _clean(body.place, 200, ("body", "place"), "place") if body.place else None
    return json_response(await _call(classroom.presence, database(request), who, place))


IdempotencyKey = Annotated[str | None, Header(
    min_length=1, max_length=100, pattern=r"^[!-~]+$",
    description="A key of the client's own for this answer (printable ASCII, e.g. a random "
                "UUID): a retried request with the same key is recorded once and answered "
                "with the first verdict; the same key with a different answer is a 422.")]


ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    409: {"model": ErrorResponse, "description": "The class has ended (`class_ended`)."},
    429: {"model": ErrorResponse, "description": "More answers in a minute than "
                                                 "max_answers_per_minute (with Retry-After)."},
}


@router.post("/{code}/answers", response_model=AnswerVerdict, responses=ANSWER_RESPONSES)
async def record_answer(body: AnswerRequest, who: Student, request: Request,
                        idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Judge an answer to an exercise (as /api/v1/quiz/check does) and record it for the
    class (student key). Judged before the database is touched; recorded in one statement."""
    settings = settings_of(request)
    verdict = await run_job(request, _judge, body, settings, inline=True)
    exercise = _clean(body.exercise or _default_exercise(body), 200, ("body", "exercise"),
                      "exercise")
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    recorded = await _call(classroom.record_answer, database(request), who, settings,
                           exercise=exercise, question=body.question, mode=body.mode,
                           source=body.source, at=body.at, answer=body.answer,
                           correct=verdict.correct, mistake=verdict.mistake,
                           idempotency_key=idempotency_key, request_hash=digest)
    # a replayed request's body is the same (its hash matched), so is its judging: the verdict
    # recorded first is the one given again
    return json_response({"correct": recorded.correct, "mistake": recorded.mistake,
                          "feedback": verdict.feedback, "answer": verdict.answer,
                          "edge": getattr(verdict, "edge", None), "exercise": exercise})


def _judge(body: AnswerRequest, settings: Settings) -> quiz.Verdict:
    """The quiz checker's verdict on this answer, as /api/v1/quiz/check judges it (one job:
    parse within the limits, make the quiz, check)."""
    program = parse_program(body.source, body.outputs, settings)
    scalar_only(program, "an exercise from a program",
                "an answer to an array exercise of lessons 9 and 10 goes to "
                "POST /api/v1/classes/{code}/answers/tensor")
    check_point(program, body.at, settings,
                passes=1 + len(program.inputs) + len(program.outputs))
    with engine_errors(program):
        built = quiz.make_quiz(program, body.at, body.mode, body.wrt)
        return quiz.check(built, body.question, body.answer)


class TensorAnswerRequest(TensorQuizRequest):
    question: str = Field(max_length=100, description="A question id from the exercise, e.g. "
                                                      "`adjoint-A` or `shape-W`.")
    answer: str = Field(max_length=200, description="The array as typed, rows split by `;` "
                                                    "(`1 2; 3 4`), or a shape (`3×2`): what "
                                                    "/api/v1/quiz/tensor/check reads.")
    exercise: str | None = Field(None, max_length=500,
                                 description="The exercise's name on the teacher's dashboard "
                                             "(the lesson and exercise); by default its kind.")


class TensorAnswerVerdict(TensorVerdict):
    exercise: str


@router.post("/{code}/answers/tensor", response_model=TensorAnswerVerdict,
             responses=ANSWER_RESPONSES)
async def record_tensor_answer(body: TensorAnswerRequest, who: Student, request: Request,
                               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Judge an answer to a tensor exercise of lessons 9 and 10 (as
    /api/v1/quiz/tensor/check does: right, or which known mistake: `transpose`, `order`,
    `elementwise`, `unsummed`, `shape`) and record it for the class (student key), with the
    guarantees of `/answers`: Idempotency-Key, the limit per minute, 409 once the class has
    ended. The array or shape is recorded as the server read it (`1 2; 3 4`, `3×2`)."""
    # a ≤4×4 exercise: microseconds of numpy, judged right here as the quiz route does
    verdict, read, source = _judge_tensor(body)
    exercise = _clean(body.exercise or f"tensor exercise: {body.kind}", 200,
                      ("body", "exercise"), "exercise")
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    recorded = await _call(classroom.record_answer, database(request), who,
                           settings_of(request), exercise=exercise, question=body.question,
                           mode="tensor", source=source,
                           at={"kind": body.kind, "at": body.at, "cotangent": body.cotangent},
                           answer=read, correct=verdict["correct"],
                           mistake=verdict["mistake"], idempotency_key=idempotency_key,
                           request_hash=digest)
    return json_response({**verdict, "correct": recorded.correct, "mistake": recorded.mistake,
                          "exercise": exercise})


def _judge_tensor(body: TensorAnswerRequest) -> tuple[dict[str, Any], str, str]:
    """The tensor checker's verdict (as /api/v1/quiz/tensor/check gives it), the answer as
    the checker read it, and the exercise's program. A 422 names the field at fault: the
    exercise's arrays, the question, or the typed answer."""
    with engine_errors():
        built = quiz.make_tensor_quiz(body.kind, body.at, body.cotangent)
    try:
        asked = built.question(body.question)
    except ad.InputError as error:
        raise problem(str(error), ("body", "question"), "input_error") from None
    try:
        if asked.asks == "shape":
            read = quiz.shape_text(quiz.parse_shape(body.answer))
        else:
            read = quiz.array_text(quiz.parse_array(body.answer))
    except ad.InputError as error:
        raise problem(str(error), ("body", "answer"), "input_error") from None
    with engine_errors():
        verdict = quiz.check_tensor(built, body.question, body.answer)
    return verdict, read, built.source


def _default_exercise(body: AnswerRequest) -> str:
    text = " ".join(body.source.split())
    return f"{body.mode}: {text[:60]}{'…' if len(text) > 60 else ''}"


def _clean(value: str, limit: int, loc: tuple[str, ...], what: str) -> str:
    try:
        return classroom.clean_text(value, limit, loc, what)
    except ClassroomError as error:
        raise _http(error) from None
