"""The exercise endpoints.

`POST /api/v1/quiz` turns any program into exercises (predict the next value, tangent or
adjoint; a question carries no rule), `POST /api/v1/quiz/check` says whether an answer is
right or which known mistake it looks like, and `POST /api/v1/quiz/hint` gives the rule one
level at a time. All are stateless: the check re-derives the quiz from the same request, so a
link or a test can ask any question of any program. One exception, from the classroom: an
exercise a teacher handed out without hints gets no hint and no rules while its class runs.
The math is in `app/quiz.py` and the engine; this file only routes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import autodiff_core as ad

from .. import classroom, quiz
from ..jobs import run_job, settings_of
from ..limits import QUIZ, check_point, parse_program
from ..problems import ERROR_RESPONSES, engine_errors, scalar_only
from ..responses import json_response, to_json
from ..schemas import ErrorResponse, FiniteFloat, Outputs, Source, Strict
from ..settings import Settings

router = APIRouter()

QuizPoint = Annotated[dict[str, FiniteFloat], Field(
    description="A number for every input (a quiz is asked at one point).",
    examples=[{"w": 1.0}])]
QuizMode = Annotated[Literal["value", "forward", "reverse"], Field(
    description="What to predict: each node's value, its tangent (forward pass) or its "
                "adjoint (reverse pass).")]
Wrt = Annotated[str | None, Field(
    description="Forward: the input to seed; reverse: the output to start from. By default "
                "the first input or output.")]


class QuizRequest(Strict):
    source: Source
    at: QuizPoint = Field(default_factory=dict)
    mode: QuizMode = "reverse"
    wrt: Wrt = None
    outputs: Outputs = None


class CheckRequest(QuizRequest):
    question: str = Field(description="A question id from the quiz, e.g. `adjoint-v0`.")
    answer: FiniteFloat = Field(description="The learner's prediction.")
    reveal: bool = Field(False, description="Return the right answer even when this one is "
                                            "wrong.")


class HintRequest(QuizRequest):
    question: str = Field(description="A question id from the quiz, e.g. `adjoint-v0`.")
    level: int = Field(ge=1, le=quiz.HINT_LEVELS, description=(
        "1: which edges enter the asked quantity; 2: their local derivatives; 3: the whole "
        "rule."))


class QuizRow(BaseModel):
    node: str
    label: str | None
    formula: str
    expression: str = Field(description="What the node computes, in the program's names "
                                        "(`x²`).")
    value: float | None
    given: float | None = Field(description="The tangent or adjoint when it is given (a seed, "
                                            "a constant) rather than asked.")


class QuizQuestion(BaseModel):
    id: str
    node: str
    label: str | None
    expression: str = Field(description="What the node computes (`2x²`).")
    symbol: str = Field(description="The asked quantity's notation: `v̇5`, `v̄3` or `v5`.")
    asks: Literal["value", "tangent", "adjoint"]
    prompt: str


class QuizResponse(BaseModel):
    mode: str
    wrt: str | None
    rows: list[QuizRow]
    questions: list[QuizQuestion]


class CheckResponse(BaseModel):
    correct: bool
    mistake: Literal["fork", "incoming", "sign", "seed", "value", "local"] | None = Field(
        description="The known mistake the answer matches (a stable name): fork (a "
                    "contribution where paths meet left out), incoming (the local derivative "
                    "alone, not times the incoming tangent or adjoint), sign (the minus of a "
                    "subtraction dropped), seed (the wrong input or output seeded), value (the "
                    "value given for the derivative), local (a wrong local derivative on one "
                    "edge); null if right or unknown.")
    feedback: str
    answer: float | None
    edge: str | None = Field(None, description="The edge a local or sign mistake is on "
                                               "(`v2_v5_0`, as in the graph).")


class HintResponse(BaseModel):
    level: int
    levels: int
    hint: str


class RulesResponse(BaseModel):
    rules: dict[str, str] = Field(description="Each asked node's rule, simplified and typeset: "
                                              "`{\"v5\": \"v̇5 = 2x · v̇2\"}`.")
    locals: dict[str, str] = Field(description="Each edge's local derivative, simplified: "
                                               "`{\"v2_v5_0\": \"2x\"}`.")


def _build(body: QuizRequest, settings: Settings) -> tuple[ad.Program, quiz.Quiz]:
    program = parse_program(body.source, body.outputs, settings)
    scalar_only(program, "/quiz (exercises from a program)",
                "POST /api/v1/quiz/tensor makes exercises on shapes and on the adjoints of "
                "a matmul and a broadcast")
    # one pass for the quiz and one per other input or output for the seed mistakes
    check_point(program, body.at, settings, passes=1 + len(program.inputs) +
                len(program.outputs), cost=QUIZ)
    with engine_errors(program):
        return program, quiz.make_quiz(program, body.at, body.mode, body.wrt)


def _public(body: QuizRequest, settings: Settings) -> bytes:
    return to_json(_build(body, settings)[1].public())


def _verdict(body: CheckRequest, settings: Settings) -> bytes:
    program, built = _build(body, settings)
    with engine_errors(program):
        verdict = quiz.check(built, body.question, body.answer, body.reveal)
    return to_json({"correct": verdict.correct, "mistake": verdict.mistake,
                    "feedback": verdict.feedback, "answer": verdict.answer,
                    "edge": verdict.edge})


def _rules(body: QuizRequest, settings: Settings) -> bytes:
    program, built = _build(body, settings)
    return to_json({"rules": {q.node: q.rule for q in built.questions},
                    "locals": {e.id: e.local_text for q in built.questions for e in q.edges}})


def _hint(body: HintRequest, settings: Settings) -> bytes:
    program, built = _build(body, settings)
    with engine_errors(program):
        text = quiz.hint(built, body.question, body.level)
    return to_json({"level": body.level, "levels": quiz.HINT_LEVELS, "hint": text})


@router.post("/api/v1/quiz", response_model=QuizResponse, tags=["exercises"],
             responses=ERROR_RESPONSES)
async def make_quiz(body: QuizRequest, request: Request) -> JSONResponse:
    """Exercises from any program: predict each value, tangent or adjoint in trace order."""
    return json_response(await run_job(request, _public, body, settings_of(request),
                                       inline=True))


@router.post("/api/v1/quiz/check", response_model=CheckResponse, tags=["exercises"],
             responses=ERROR_RESPONSES)
async def check_answer(body: CheckRequest, request: Request) -> JSONResponse:
    """Right, or which known mistake the answer looks like, with feedback for each."""
    return json_response(await run_job(request, _verdict, body, settings_of(request),
                                       inline=True))


HINTS_OFF_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorResponse, "description": "A teacher handed out this exercise (this "
                                                 "program at this point in this mode) to "
                                                 "a running class without hints: refused "
                                                 "to everyone until the class ends."}}


ASKED = {"value": "values", "forward": "tangents", "reverse": "adjoints"}


async def refuse_hints_off(body: QuizRequest, request: Request) -> None:
    """A 403 if a running class was given this exercise without hints: the hint button is
    not only hidden on its page, no hint route answers for it. For everyone on this server,
    not only the class: these routes take no key, and a student could drop theirs (see
    docs/classroom.md, "Hints off")."""
    db = request.app.state.database
    settings = settings_of(request)
    args = (db, body.source, body.outputs, body.at, body.mode, settings)
    refused = (classroom.hints_refused(*args) if classroom.hints_off_known(db)
               else await anyio.to_thread.run_sync(lambda: classroom.hints_refused(*args)))
    if refused:
        raise HTTPException(403, [{
            "loc": ["body"], "type": "hints_off",
            "msg": f"No hints for this one: a teacher gave this program at this point, asking "
                   f"for its {ASKED[body.mode]}, to a class without hints, so until that class "
                   "ends this server gives no hint or rule for it to anyone. You can still "
                   "check your answers: a wrong one is told which mistake it looks like."}])


@router.post("/api/v1/quiz/hint", response_model=HintResponse, tags=["exercises"],
             responses=HINTS_OFF_RESPONSES)
async def give_hint(body: HintRequest, request: Request) -> JSONResponse:
    """One rung of the hint ladder: the edges that enter, their local derivatives, the rule
    (a 403 for an exercise a running class was given without hints)."""
    await refuse_hints_off(body, request)
    return json_response(await run_job(request, _hint, body, settings_of(request),
                                       inline=True))


@router.post("/api/v1/quiz/rules", response_model=RulesResponse, tags=["exercises"],
             responses=HINTS_OFF_RESPONSES)
async def worked_rules(body: QuizRequest, request: Request) -> JSONResponse:
    """Every rule of a worked example at once, typeset (`v̇5 = 2x · v̇2`), for its table (a
    403, as for hints, for an exercise a running class was given without hints)."""
    await refuse_hints_off(body, request)
    return json_response(await run_job(request, _rules, body, settings_of(request),
                                       inline=True))
