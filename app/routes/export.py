"""POST /api/v1/export: the program as PyTorch or JAX source, to check our derivatives with
another autograd ("check it in PyTorch" beside the playground's graph)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from autodiff_core.export import to_jax, to_torch

from ..jobs import run_job, settings_of
from ..limits import parse_program
from ..problems import ERROR_RESPONSES, problem
from ..responses import json_response, to_json
from ..schemas import Outputs, Source, Strict
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=ERROR_RESPONSES)

EXPORTERS = {"torch": to_torch, "jax": to_jax}


class ExportRequest(Strict):
    source: Source
    framework: Literal["torch", "jax"] = "torch"
    outputs: Outputs = None


class ExportResponse(BaseModel):
    framework: Literal["torch", "jax"]
    code: str = Field(description="Python source defining `def program(**inputs)`, which "
                                  "returns the outputs as a dict by name; its autograd gives "
                                  "the same derivatives as /api/v1/differentiate.")


@router.post("/export", response_model=ExportResponse)
async def export(body: ExportRequest, request: Request) -> JSONResponse:
    """The program as PyTorch or JAX source whose autograd gives our derivatives."""
    return json_response(await run_job(request, _export, body, settings_of(request),
                                       inline=True))


def _export(body: ExportRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, body.outputs, settings)
    try:
        code = EXPORTERS[body.framework](program)
    except NotImplementedError as exc:  # an operation the framework's code lacks
        raise problem(str(exc), ("body", "source"), "not_exportable") from None
    return to_json({"framework": body.framework, "code": code})
