"""POST /api/v1/symbolic and /symbolic/swelling: the derivative as one expression, and how
symbolic derivatives swell where AD's graphs stay small."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import autodiff_core as ad
from autodiff_core.symbolic import FAMILIES, family_source

from ..jobs import run_job, settings_of
from ..limits import parse_program
from ..problems import ERROR_RESPONSES, engine_errors, scalar_only
from ..responses import json_response, to_json
from ..schemas import Source, Strict
from ..settings import Settings
from .choices import input_named, one_output

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=ERROR_RESPONSES)

InputName = Field(description="The input to differentiate with respect to.", examples=["x"])
OutputName = Field(None, description="The output to differentiate; by default the program's "
                                     "only output.")
MAX_ORDER = 8  # derivative expressions grow with the order; beyond this they teach little
MAX_FAMILY_N = 60


class SymbolicRequest(Strict):
    source: Source
    wrt: str = InputName
    order: int = Field(1, ge=1, le=MAX_ORDER)
    output: str | None = OutputName


class Expression(BaseModel):
    text: str | None = Field(description="The expression; null when it is too long to print.")
    latex: str | None
    operations: int = Field(description="Operators in the written expression (a tree).")
    graph_operations: int = Field(description="Op nodes of the graph computing it (shared).")


class SymbolicResponse(BaseModel):
    output: str
    wrt: str
    order: int
    function: Expression
    derivative: Expression
    ad_operations: int = Field(description="Op nodes of the AD derivative program.")
    swell: float | None = Field(description="derivative.operations / ad_operations.")


class SwellingRequest(Strict):
    family: Literal["product", "sin", "logistic"] = "sin"
    n_max: int = Field(10, ge=1, le=MAX_FAMILY_N)


class SwellRow(BaseModel):
    n: int
    function_symbolic: int
    function_ad: int
    derivative_symbolic: int
    derivative_ad: int


class SwellingResponse(BaseModel):
    family: str
    description: str
    sources: list[str] = Field(description="The program of each n (the first three only).")
    rows: list[SwellRow]


@router.post("/symbolic", response_model=SymbolicResponse)
async def symbolic(body: SymbolicRequest, request: Request) -> JSONResponse:
    """The derivative written as one expression (text, LaTeX), its size beside AD's."""
    return json_response(await run_job(request, _symbolic, body, settings_of(request)))


def _symbolic(body: SymbolicRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, None, settings)
    scalar_only(program, "/symbolic (the derivative as one written expression)",
                "POST /api/v1/derivative gives a derivative as a program")
    output = one_output(program, body.output)
    wrt = input_named(program, body.wrt)
    with engine_errors(program):
        return to_json(ad.symbolic_derivative(program, wrt, output, body.order,
                                              settings.max_nodes).to_dict())


@router.post("/symbolic/swelling", response_model=SwellingResponse)
async def swelling(body: SwellingRequest, request: Request) -> JSONResponse:
    """Sizes of f and f' for n = 1..n_max in a family whose symbolic derivative swells."""
    rows = await run_job(request, ad.swelling, body.family, body.n_max)
    sources = [family_source(body.family, n) for n in range(1, min(body.n_max, 3) + 1)]
    return json_response({"family": body.family, "description": FAMILIES[body.family],
                          "sources": sources, "rows": [vars(r) for r in rows]})
