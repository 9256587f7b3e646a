"""POST /api/v1/jacobian: the full Jacobian in one mode, with the cost of each mode."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..jobs import run_job, settings_of
from ..limits import (
    check_point,
    jacobian_elements,
    parse_program,
    seed_elements,
    sweep_passes,
)
from ..problems import ERROR_RESPONSES, engine_errors
from ..responses import json_response, to_json
from ..schemas import TENSOR_EXAMPLE, Outputs, Point, Source, Strict, Value
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=ERROR_RESPONSES)


class JacobianRequest(Strict):
    source: Source
    at: Point = Field(default_factory=dict)
    mode: Literal["reverse", "forward"] = "reverse"
    outputs: Outputs = None

    model_config = {"json_schema_extra": {"examples": [
        {"source": "x = 3*w; y = 2*x^2 + 4", "at": {"w": 1.0}},
        {"source": "W: [2, 3]\nx: [3]\nb: [2]\nh = tanh(W @ x + b)", "at": TENSOR_EXAMPLE,
         "mode": "reverse"}]}}


class Cost(BaseModel):
    """What one mode needs for the whole Jacobian, in primitive operations."""

    passes: int = Field(description="Forward: one per input element. Reverse: one per output "
                                    "element.")
    primal: int = Field(description="Operations of the function itself (once).")
    partials: int = Field(description="Operations of the local partial derivatives (once, "
                                      "shared by all passes).")
    sweeps: int = Field(description="Multiply-adds of all tangent or adjoint passes.")
    operations: int = Field(description="The total.")


class JacobianResponse(BaseModel):
    mode: Literal["reverse", "forward"]
    matrix: dict[str, dict[str, Value]] = Field(
        description="`matrix[output][input]`, of shape output.shape + input.shape.")
    values: dict[str, Value]
    passes: int
    operations: int
    cost: dict[str, Cost] = Field(description="Both modes, `forward` and `reverse`, counted "
                                              "on this program.")
    cheaper: Literal["reverse", "forward"]
    invalid_points: int


@router.post("/jacobian", response_model=JacobianResponse)
async def jacobian(body: JacobianRequest, request: Request) -> JSONResponse:
    """The full Jacobian in one mode, with the passes and operations each mode needs."""
    return json_response(await run_job(request, _jacobian, body, settings_of(request),
                                       inline=True))


def _jacobian(body: JacobianRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, body.outputs, settings)
    passes = sweep_passes(program, body.mode, seeded=False)
    check_point(program, body.at, settings, passes, results=jacobian_elements(program) +
                seed_elements(program, body.mode, passes))
    with engine_errors(program):
        return to_json(ad.jacobian(program, body.at, body.mode).to_dict())
