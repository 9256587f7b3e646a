"""POST /api/v1/differentiate: values, derivatives and the forward or reverse trace."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..cache import app_cache
from ..jobs import run_job, settings_of
from ..limits import check_point, check_trace, parse_program
from ..problems import ERROR_RESPONSES, engine_errors
from ..responses import json_response, to_json
from ..schemas import (
    FiniteFloat,
    Graph,
    Outputs,
    Pass,
    Point,
    PrimalStep,
    Source,
    Strict,
    Value,
)
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)


class DifferentiateRequest(Strict):
    source: Source
    at: Point = Field(default_factory=dict)
    mode: Literal["reverse", "forward"] = "reverse"
    seed: str | dict[str, FiniteFloat] | None = Field(
        None, description="Forward mode: an input name (unit tangent) or a direction "
                          "{input: number}. By default one pass per input.")
    cotangent: str | dict[str, FiniteFloat] | None = Field(
        None, description="Reverse mode: an output name (unit adjoint) or a weighting "
                          "{output: number}. By default one pass per output.")
    outputs: Outputs = None
    trace: bool = Field(True, description="Include the step-by-step passes and primal trace.")


class DifferentiateResponse(BaseModel):
    mode: Literal["reverse", "forward"]
    values: dict[str, Value] = Field(description="Every named quantity and output.")
    derivatives: dict[str, dict[str, Value]] = Field(
        description="`derivatives[output][input]`: the Jacobian entries the passes computed.")
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
    if body.mode == "forward":
        passes = 1 if body.seed is not None else len(program.inputs)
    else:
        passes = 1 if body.cotangent is not None else len(program.outputs)
    points = check_point(program, body.at, settings, passes)
    if body.trace:
        check_trace(program, passes, points, settings)
    with engine_errors(program):
        if body.mode == "forward":
            result = ad.forward(program, body.at, seed=body.seed, trace=body.trace)
        else:
            result = ad.reverse(program, body.at, cotangent=body.cotangent, trace=body.trace)
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return to_json({**fields, "graph": program.to_dict()})
