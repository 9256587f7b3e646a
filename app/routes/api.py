"""The differentiation endpoints: derivatives with their step-by-step trace, and Hessians."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request, Response

import autodiff_core as ad
from app.cache import app_cache
from app.engine import (
    ERROR_RESPONSES,
    check_point,
    engine_errors,
    is_small,
    json_response,
    parse_program,
    problem,
    run_job,
    settings_of,
    to_json,
)
from app.schemas import (
    DifferentiateRequest,
    DifferentiateResponse,
    HessianRequest,
    HessianResponse,
)
from app.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)


@router.post("/differentiate", response_model=DifferentiateResponse)
async def differentiate(body: DifferentiateRequest, request: Request) -> Response:
    """Values, derivatives and the forward or reverse trace of a program at a point or grid."""
    settings = settings_of(request)
    cache = app_cache(request.app.state, "answers", settings.answer_cache_entries)
    key = body.model_dump_json()  # identical requests (a lesson's example) share one answer
    answer = cache.get(key)
    if answer is None:
        answer = await run_job(request, _differentiate, body, settings,
                               small=is_small(body.source, body.at, settings))
        cache.put(key, answer)
    return json_response(answer)


def _differentiate(body: DifferentiateRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, body.outputs, settings)
    if body.mode == "forward":
        passes = 1 if body.seed is not None else len(program.inputs)
    else:
        passes = 1 if body.cotangent is not None else len(program.outputs)
    check_point(program, body.at, settings, passes)
    with engine_errors(program):
        if body.mode == "forward":
            result = ad.forward(program, body.at, seed=body.seed, trace=body.trace)
        else:
            result = ad.reverse(program, body.at, cotangent=body.cotangent, trace=body.trace)
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return to_json({**fields, "graph": program.to_dict()})


@router.post("/hessian", response_model=HessianResponse)
async def hessian(body: HessianRequest, request: Request) -> Response:
    """Value, gradient and Hessian of one output (forward-over-reverse), at a point or grid."""
    return json_response(await run_job(request, _hessian, body, settings_of(request)))


def _hessian(body: HessianRequest, settings: Settings) -> bytes:
    outputs = [body.output] if body.output is not None else None
    program = parse_program(body.source, outputs, settings)
    if len(program.outputs) != 1:
        raise problem(f"the program has {len(program.outputs)} outputs; name one in `output`",
                      ("body", "output"), "input_error")
    # Forward-over-reverse: one batched sweep carries a column per input.
    check_point(program, body.at, settings, passes=2 * len(program.inputs) + 2)
    with engine_errors(program):
        return to_json(ad.hessian(program, body.at))
