"""POST /api/v1/hessian: value, gradient and Hessian of one output (forward over reverse)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..jobs import run_job, settings_of
from ..limits import HESSIAN, check_point, parse_program, sweep_passes
from ..problems import ERROR_RESPONSES, engine_errors, problem, scalar_only
from ..responses import json_response, to_json
from ..schemas import Point, Source, Strict, Value
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)


class HessianRequest(Strict):
    source: Source
    at: Point = Field(default_factory=dict)
    output: str | None = Field(None, description="The output to differentiate twice; by "
                                                 "default the program's (only) output.")


class HessianResponse(BaseModel):
    output: str
    value: Value
    gradient: dict[str, Value]
    hessian: dict[str, dict[str, Value]] = Field(
        description="`hessian[a][b]` = second derivative with respect to inputs a and b.")
    invalid_points: int = Field(0, description="Grid points where something is undefined.")


@router.post("/hessian", response_model=HessianResponse)
async def hessian(body: HessianRequest, request: Request) -> Response:
    """Value, gradient and Hessian of one output (forward-over-reverse), at a point or grid."""
    return json_response(await run_job(request, _hessian, body, settings_of(request),
                                       inline=True))


def _hessian(body: HessianRequest, settings: Settings) -> bytes:
    outputs = [body.output] if body.output is not None else None
    program = parse_program(body.source, outputs, settings)
    if len(program.outputs) != 1:
        raise problem(f"the program has {len(program.outputs)} outputs; name one in `output`",
                      ("body", "output"), "input_error")
    # Forward-over-reverse: one batched sweep carries a column per input element; the
    # answer is a matrix over the inputs' elements (and the gradient beside it).
    n = sweep_passes(program, "forward", seeded=False)
    check_point(program, body.at, settings, passes=2 * n + 2, cost=HESSIAN, results=n * n + n)
    # the engine's Hessians (derivative programs) take scalar programs only, so far
    scalar_only(program, "/hessian", "POST /api/v1/jacobian gives the Jacobian of a "
                "tensor program's outputs")
    with engine_errors(program):
        return to_json(ad.hessian(program, body.at))
