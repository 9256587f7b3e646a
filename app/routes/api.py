"""The differentiation endpoints: derivatives with their step-by-step trace, and Hessians."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import autodiff_core as ad
from app.engine import (
    ERROR_RESPONSES,
    check_point,
    json_response,
    parse_program,
    problem,
    run_job,
    settings_of,
)
from app.schemas import (
    DifferentiateRequest,
    DifferentiateResponse,
    HessianRequest,
    HessianResponse,
)

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)


@router.post("/differentiate", response_model=DifferentiateResponse)
async def differentiate(body: DifferentiateRequest, request: Request) -> JSONResponse:
    """Values, derivatives and the forward or reverse trace of a program at a point or grid."""
    settings = settings_of(request)
    program = await run_job(request, parse_program, body.source, body.outputs, settings)
    if body.mode == "forward":
        passes = 1 if body.seed is not None else len(program.inputs)
    else:
        passes = 1 if body.cotangent is not None else len(program.outputs)
    check_point(program, body.at, settings, passes)
    data = await run_job(request, _differentiate, program, body, program=program)
    return json_response(data)


def _differentiate(program: ad.Program, body: DifferentiateRequest) -> dict[str, Any]:
    if body.mode == "forward":
        result = ad.forward(program, body.at, seed=body.seed, trace=body.trace)
    else:
        result = ad.reverse(program, body.at, cotangent=body.cotangent, trace=body.trace)
    data = result.to_dict()
    data["graph"] = program.to_dict()
    return data


@router.post("/hessian", response_model=HessianResponse)
async def hessian(body: HessianRequest, request: Request) -> JSONResponse:
    """Value, gradient and Hessian of one output (forward-over-reverse), at a point or grid."""
    settings = settings_of(request)
    outputs = [body.output] if body.output is not None else None
    program = await run_job(request, parse_program, body.source, outputs, settings)
    if len(program.outputs) != 1:
        raise problem(f"the program has {len(program.outputs)} outputs; name one in `output`",
                      ("body", "output"), "input_error")
    # Forward-over-reverse: one batched sweep carries a column per input.
    check_point(program, body.at, settings, passes=2 * len(program.inputs) + 2)
    data = await run_job(request, _hessian, program, body.at, program=program)
    return json_response(data)


def _hessian(program: ad.Program, at: dict[str, Any]) -> dict[str, Any]:
    return ad.hessian(program, at).to_dict()
