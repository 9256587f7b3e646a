"""POST /api/v1/numeric: forward and central differences against AD, over a range of steps."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import autodiff_core as ad
from autodiff_core.numeric import default_steps

from ..jobs import run_job, settings_of
from ..limits import check_point, parse_program
from ..problems import ERROR_RESPONSES, engine_errors, scalar_only
from ..responses import json_response, to_json
from ..schemas import FiniteFloat, Source, Strict
from ..settings import Settings
from .choices import input_named, one_output

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=ERROR_RESPONSES)

InputName = Field(description="The input to differentiate with respect to.", examples=["x"])
OutputName = Field(None, description="The output to differentiate; by default the program's "
                                     "only output.")


class NumericRequest(Strict):
    source: Source
    at: dict[str, FiniteFloat] = Field(description="One point (numbers only).",
                                       examples=[{"x": 1.0}])
    wrt: str = InputName
    output: str | None = OutputName
    per_decade: int = Field(4, ge=1, le=20, description="Steps h per factor of ten, from "
                                                        "1e-1 down to 1e-15.")


class Branch(BaseModel):
    h_from: float
    h_to: float
    slope: float | None = Field(description="Of log error against log h: about +1 (forward) "
                                            "or +2 (central) for truncation, -1 for round-off.")


class SchemeCurve(BaseModel):
    scheme: Literal["forward", "central"]
    estimates: list[float | None]
    errors: list[float | None] = Field(description="|estimate - AD value| at each h.")
    best_h: float
    best_error: float
    truncation: Branch
    roundoff: Branch


class NumericResponse(BaseModel):
    output: str
    wrt: str
    at: dict[str, float]
    exact: float = Field(description="The AD derivative (reverse mode).")
    steps: list[float]
    forward: SchemeCurve
    central: SchemeCurve


@router.post("/numeric", response_model=NumericResponse)
async def numeric(body: NumericRequest, request: Request) -> JSONResponse:
    """Forward and central differences for h from 1e-1 to 1e-15, with their error against AD."""
    return json_response(await run_job(request, _numeric, body, settings_of(request),
                                       inline=True))


def _numeric(body: NumericRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, None, settings)
    scalar_only(program, "/numeric (finite differences beside AD)",
                "POST /api/v1/differentiate gives a tensor program's derivatives")
    output = one_output(program, body.output)
    wrt = input_named(program, body.wrt)
    check_point(program, body.at, settings, passes=3 * (14 * body.per_decade + 1))
    steps = default_steps(body.per_decade)
    with engine_errors(program):
        return to_json(ad.finite_differences(program, body.at, wrt, output, steps).to_dict())
