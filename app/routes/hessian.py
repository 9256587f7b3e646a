"""POST /api/v1/hessian: value, gradient and Hessian of one output (forward over reverse)."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..jobs import run_job, settings_of
from ..limits import HESSIAN, check_point, grid_shape, parse_program, sweep_passes
from ..problems import ERROR_RESPONSES, engine_errors, problem
from ..responses import json_response, to_json
from ..schemas import TENSOR_EXAMPLE, Point, Source, Strict, Value
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)


class HessianRequest(Strict):
    source: Source
    at: Point = Field(default_factory=dict)
    output: str | None = Field(None, description="The output to differentiate twice; by "
                                                 "default the program's (only) output.")

    model_config = {"json_schema_extra": {"examples": [
        {"source": "x = 3*w; y = 2*x^2 + 4", "at": {"w": 1.0}},
        {"source": "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))",
         "at": TENSOR_EXAMPLE}]}}


class HessianResponse(BaseModel):
    output: str
    value: Value
    gradient: dict[str, Value]
    hessian: dict[str, dict[str, Value]] = Field(
        description="`hessian[a][b]` = second derivative with respect to inputs a and b; for "
                    "tensor inputs a block of shape a.shape + b.shape.")
    matrix: list[list[float | None]] | None = Field(
        None, description="Tensor programs: the whole Hessian over the inputs' elements, "
                          "flattened in input order, row-major; null for a scalar program.")
    labels: list[str] = Field(default_factory=list, description="The rows and columns of "
                              "`matrix`: `W[0,1]`, `x[2]`, `b`.")
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
    if program.is_tensor and grid_shape(body.at, program):
        raise problem("the Hessian of a tensor program is taken at one point: give each input "
                      "its declared shape, without grid axes", ("body", "at"), "input_error")
    with engine_errors(program):
        result = ad.hessian(program, body.at)
    if not program.is_tensor:  # a scalar program's answer stays as it was: no flattened form
        return to_json({f.name: getattr(result, f.name) for f in dataclasses.fields(result)
                        if f.name not in ("matrix", "labels")})
    return to_json(result)
