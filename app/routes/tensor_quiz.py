"""The tensor exercises of lessons 9 and 10: `POST /api/v1/quiz/tensor` makes one (the
shapes of a layer's arrays, for one example or a batch; the adjoints of a matmul; the adjoint
of a broadcast), `.../check` judges a typed answer ("1 2; 3 4", or a shape "3×2") and names
the known mistake it matches, `.../hint` gives the hint ladder one rung at a time.

Stateless, like the scalar exercises (app/routes/quiz.py): every call carries the exercise's
numbers and re-derives it. An exercise is at most 4×4, so each call is a few microseconds of
numpy and runs right here. The math is in `app/quiz.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .. import quiz
from ..problems import ERROR_RESPONSES, engine_errors
from ..schemas import FiniteFloat, Strict

router = APIRouter(prefix="/api/v1/quiz/tensor", tags=["exercises"], responses=ERROR_RESPONSES)

Row = Annotated[list[FiniteFloat], Field(max_length=4)]
Array = Row | Annotated[list[Row], Field(max_length=4)]


class TensorQuizRequest(Strict):
    kind: Literal["shapes", "batch", "matmul", "broadcast"] = Field(description=(
        "shapes: W, x, b of a layer h = tanh(W @ x + b); batch: X (a batch), W, b of "
        "H = tanh(X @ W + b); matmul: A, B of C = A @ B; broadcast: X (a batch) and b of "
        "Z = X + b."))
    at: dict[str, Array] = Field(description="The arrays, by name (at most 4×4 each).",
                                 examples=[{"A": [[1, 2], [3, 4]], "B": [[0, 1], [1, -1]]}])
    cotangent: Array | None = Field(None, description="The output's adjoint (C̄ or Z̄); "
                                                      "not for `shapes`.")


class TensorCheckRequest(TensorQuizRequest):
    question: str = Field(description="A question id, e.g. `adjoint-A` or `shape-W`.")
    answer: str = Field(max_length=200, description="An array typed as rows split by `;` "
                                                    "(`1 2; 3 4`) or a shape (`3×2`).")
    reveal: bool = False


class TensorHintRequest(TensorQuizRequest):
    question: str
    level: int = Field(ge=1, le=quiz.HINT_LEVELS)


class GivenArray(BaseModel):
    name: str
    symbol: str = Field(description="`C̄` for a given adjoint.")
    value: Any
    shape: list[int]


class TensorQuestion(BaseModel):
    id: str
    symbol: str
    asks: Literal["shape", "adjoint"]
    prompt: str


class TensorQuizResponse(BaseModel):
    kind: str
    source: str = Field(description="The step as a program in the tensor language.")
    given: list[GivenArray]
    questions: list[TensorQuestion]


class TensorVerdict(BaseModel):
    correct: bool
    mistake: Literal["transpose", "order", "elementwise", "unsummed", "shape"] | None = Field(
        description="transpose (a factor not transposed, or a shape given transposed), order "
                    "(the factors of a matmul swapped), elementwise (a matmul taken entry by "
                    "entry), unsummed (a broadcast's adjoint not summed over its batch axis), "
                    "shape (another answer of the wrong shape); null if right or unknown.")
    feedback: str
    answer: str | None = Field(description="The right answer as typed, when right or "
                                           "revealed.")


class TensorHint(BaseModel):
    level: int
    levels: int
    hint: str


def _build(body: TensorQuizRequest) -> quiz.TensorQuiz:
    with engine_errors():
        return quiz.make_tensor_quiz(body.kind, body.at, body.cotangent)


@router.post("", response_model=TensorQuizResponse)
def make_tensor_quiz(body: TensorQuizRequest) -> dict[str, Any]:
    """An exercise on one reverse step through arrays: the numbers and the questions."""
    return _build(body).public()


@router.post("/check", response_model=TensorVerdict)
def check_tensor_answer(body: TensorCheckRequest) -> dict[str, Any]:
    """Right, or which known mistake the typed array or shape looks like."""
    built = _build(body)
    with engine_errors():
        return quiz.check_tensor(built, body.question, body.answer, body.reveal)


@router.post("/hint", response_model=TensorHint)
def tensor_hint(body: TensorHintRequest) -> dict[str, Any]:
    """One rung of the hint ladder: which rule, the rule, its first entry worked out."""
    built = _build(body)
    with engine_errors():
        return {"level": body.level, "levels": quiz.HINT_LEVELS,
                "hint": quiz.tensor_hint(built, body.question, body.level)}
