"""The exercise endpoints.

`POST /api/v1/quiz` turns any program into exercises (predict the next value, tangent or
adjoint) and `POST /api/v1/quiz/check` says whether an answer is right or which known mistake
it looks like. Both are stateless: the check re-derives the quiz from the same request, so a
link or a test can ask any question of any program. The math is in `app/quiz.py` and the
engine; this file only routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import autodiff_core as ad
from app import quiz
from app.jobs import run_job, settings_of
from app.limits import QUIZ, check_point, parse_program
from app.problems import ERROR_RESPONSES, engine_errors
from app.responses import json_response, to_json
from app.schemas import FiniteFloat, Outputs, Source, Strict
from app.settings import Settings

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


class QuizRow(BaseModel):
    node: str
    label: str | None
    formula: str
    value: float | None
    given: float | None = Field(description="The tangent or adjoint when it is given (a seed, "
                                            "a constant) rather than asked.")


class QuizQuestion(BaseModel):
    id: str
    node: str
    label: str | None
    asks: Literal["value", "tangent", "adjoint"]
    prompt: str
    formula: str


class QuizResponse(BaseModel):
    mode: str
    wrt: str | None
    rows: list[QuizRow]
    questions: list[QuizQuestion]


class CheckResponse(BaseModel):
    correct: bool
    mistake: Literal["fork", "seed", "local"] | None = Field(
        description="The known mistake the answer matches: fork (forgot to add the "
                    "contributions where paths meet), seed (seeded the wrong input or output), "
                    "local (multiplied by the wrong local derivative); null if right or unknown.")
    feedback: str
    answer: float | None


def _build(body: QuizRequest, settings: Settings) -> tuple[ad.Program, quiz.Quiz]:
    program = parse_program(body.source, body.outputs, settings)
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
                    "feedback": verdict.feedback, "answer": verdict.answer})


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
