"""POST /api/v1/differentiate: values, derivatives and the forward or reverse trace."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Literal, cast

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..cache import app_cache
from ..jobs import run_job, settings_of
from ..limits import (
    check_point,
    check_trace,
    jacobian_elements,
    parse_program,
    seed_elements,
    sweep_passes,
)
from ..problems import ERROR_RESPONSES, engine_errors
from ..responses import json_response, to_json
from ..schemas import (
    TENSOR_EXAMPLE,
    Graph,
    InputValue,
    Outputs,
    Pass,
    Point,
    PrimalStep,
    Source,
    Strict,
    Value,
)
from ..settings import Settings
from .choices import inputs_named

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)


class DifferentiateRequest(Strict):
    source: Source
    at: Point = Field(default_factory=dict)
    mode: Literal["reverse", "forward"] = "reverse"
    seed: str | dict[str, InputValue] | None = Field(
        None, description="Forward mode: an input name (unit tangent) or a direction "
                          "{input: number, or an array of a tensor input's shape}. By default "
                          "one pass per input element.")
    cotangent: str | dict[str, InputValue] | None = Field(
        None, description="Reverse mode: an output name (unit adjoint) or a weighting "
                          "{output: number, or an array of a tensor output's shape}. By "
                          "default one pass per output element.")
    outputs: Outputs = None
    wrt: list[str] | None = Field(
        None, description="The inputs to differentiate with respect to; the others are data "
                          "(like `requires_grad=False`). By default every input.",
        examples=[["W", "b"]])
    trace: bool = Field(True, description="Include the step-by-step passes and primal trace.")

    model_config = {"json_schema_extra": {"examples": [
        {"source": "x = 3*w; y = 2*x^2 + 4", "at": {"w": 1.0}, "mode": "reverse"},
        {"source": "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))",
         "at": TENSOR_EXAMPLE, "mode": "reverse", "wrt": ["W", "b"]}]}}


class DifferentiateResponse(BaseModel):
    mode: Literal["reverse", "forward"]
    values: dict[str, Value] = Field(description="Every named quantity and output.")
    derivatives: dict[str, dict[str, Value]] = Field(
        description="`derivatives[output][input]`: the Jacobian entries the passes computed, "
                    "of shape output.shape + input.shape (after the grid's axes): a scalar "
                    "output's gradient has its input's shape.")
    passes: list[Pass]
    primal: list[PrimalStep]
    graph: Graph
    directional: dict[str, Value] | None = Field(
        description="A Jacobian-vector (forward) or vector-Jacobian (reverse) product, when "
                    "a general seed or cotangent was given.")
    invalid_points: int = Field(description="Grid points where something is undefined.")
    operations: dict[str, int] = Field(description="Cost counts of the computation.")


@router.post("/differentiate", response_model=DifferentiateResponse)
async def differentiate(body: DifferentiateRequest, request: Request) -> Response:
    """Values, derivatives and the forward or reverse trace of a program at a point or grid."""
    settings = settings_of(request)
    cache = app_cache(request.app.state, "answers", settings.answer_cache_entries)
    # Identical requests (a lesson's example) share one answer. The key is the body's bytes
    # as sent (read once already): serializing the model again costs 30 ms for a large grid.
    key = hashlib.blake2b(await request.body(), digest_size=16).digest()
    answer = cache.get(key)
    if answer is None:
        answer = await run_job(request, _differentiate, body, settings, inline=True)
        cache.put(key, answer)
    return json_response(answer)


def _differentiate(body: DifferentiateRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, body.outputs, settings)
    wrt = inputs_named(program, body.wrt)
    seeded = (body.seed if body.mode == "forward" else body.cotangent) is not None
    passes = sweep_passes(program, body.mode, seeded, wrt)
    answer = 0 if seeded else jacobian_elements(program, wrt)
    points = check_point(program, body.at, settings, passes,
                         results=answer + seed_elements(program, body.mode, passes, wrt))
    if body.trace:
        check_trace(program, passes, points, settings)
    # `wrt` goes to the engine only when given: scalar requests stay exactly as they were
    chosen = {"wrt": wrt} if wrt is not None else {}
    with engine_errors(program):
        if body.mode == "forward":
            result = ad.forward(program, body.at, seed=cast(Any, body.seed), trace=body.trace,
                                **chosen)
        else:
            result = ad.reverse(program, body.at, cotangent=cast(Any, body.cotangent),
                                trace=body.trace, **chosen)
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return to_json({**fields, "graph": program.to_dict()})
