"""POST /api/v1/derivative: a derivative as a program (text, LaTeX, graph, SVG, values)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..jobs import run_job, settings_of
from ..limits import check_point, check_program_size, parse_program
from ..problems import ERROR_RESPONSES, engine_errors, problem
from ..rendering import RenderError, drawing_limit, drawing_problem, run_dot, to_dot
from ..responses import json_response, to_json
from ..schemas import Graph, Outputs, Point, Source, Strict, Value
from ..settings import Settings
from .choices import input_named, one_output

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=ERROR_RESPONSES)

InputName = Field(description="The input to differentiate with respect to.", examples=["x"])
OutputName = Field(None, description="The output to differentiate; by default the program's "
                                     "only output.")
MAX_ORDER = 8  # derivative programs grow with the order; beyond this they teach little


class DerivativeRequest(Strict):
    source: Source
    transform: Literal["derivative", "grad", "jvp", "vjp", "hvp"] = Field(
        "derivative", description="`derivative`: the order-th derivative w.r.t. `wrt`; "
        "`grad`: the gradient (reverse mode as a graph); `jvp`: the tangent program (inputs "
        "`x_dot`); `vjp`: the adjoint program (inputs `y_bar`); `hvp`: forward over reverse, "
        "Hessian-vector products (inputs `x_dot`).")
    wrt: str | None = Field(None, description="`derivative` only: the input.", examples=["x"])
    order: int = Field(1, ge=0, le=MAX_ORDER, description="`derivative` only.")
    output: str | None = OutputName
    outputs: Outputs = None
    at: Point | None = Field(None, description="Optional: evaluate the derivative program "
                             "here (its inputs, e.g. `x_dot` for jvp).")
    svg: bool = Field(False, description="Also draw the derivative program with graphviz.")


class ProgramView(BaseModel):
    text: str = Field(description="One line per node, like a jaxpr.")
    latex: str = Field(description="An aligned LaTeX block, one line per node.")
    graph: Graph
    nodes: int
    operations: int = Field(description="Op nodes (not inputs or constants).")
    svg: str | None = None


class DerivativeResponse(BaseModel):
    transform: str
    inputs: list[str]
    outputs: list[str]
    program: ProgramView
    original_operations: int = Field(description="Op nodes of the program differentiated.")
    values: dict[str, Value] | None = Field(
        description="Every named quantity of the derivative program at `at`, if given.")


@router.post("/derivative", response_model=DerivativeResponse)
async def derivative(body: DerivativeRequest, request: Request) -> JSONResponse:
    """A derivative as a program: its text, LaTeX, graph (and SVG), and values at `at`."""
    return json_response(await run_job(request, _derivative, body, settings_of(request)))


def _derivative(body: DerivativeRequest, settings: Settings) -> bytes:
    program = parse_program(body.source, body.outputs, settings)
    # jvp and vjp can keep every output (one tangent or cotangent input each); the others
    # differentiate one output.
    output = body.output
    if output is not None or body.transform not in ("jvp", "vjp"):
        output = one_output(program, output)
    wrt = input_named(program, body.wrt) if body.transform == "derivative" else None
    with engine_errors(program):
        built = _transform(program, body.transform, wrt, body.order, output, settings.max_nodes)
    check_program_size(built, settings)
    if body.at is not None:
        check_point(built, body.at, settings)
    with engine_errors(built):
        data = _describe(built, body, settings)
    data["original_operations"] = _operations(program)
    return to_json(data)


def _transform(program: ad.Program, transform: str, wrt: str | None, order: int,
               output: str | None, max_nodes: int) -> ad.Program:
    if transform == "derivative":
        assert wrt is not None
        return ad.derivative(program, wrt, order, output, max_nodes=max_nodes)
    if transform == "grad":
        return ad.grad_program(program, output, max_nodes=max_nodes)
    if transform == "jvp":
        return ad.jvp_program(_restrict(program, output) if output else program,
                              max_nodes=max_nodes)
    if transform == "vjp":
        if program.is_tensor and output is not None:  # a tensor output's adjoint is an input
            return ad.vjp_program(_restrict(program, output), max_nodes=max_nodes)
        return ad.vjp_program(program, output, max_nodes=max_nodes)
    return ad.hvp_program(program, output, max_nodes=max_nodes)


def _restrict(program: ad.Program, output: str) -> ad.Program:
    return ad.Program(program.nodes, program.inputs, {output: program.outputs[output]},
                      program.names, program.source)


def _operations(program: ad.Program) -> int:
    return sum(1 for n in program.nodes if n.args)


def _describe(built: ad.Program, body: DerivativeRequest, settings: Settings) -> dict[str, Any]:
    svg = None
    if body.svg:
        # the same layout check as every drawing: what dot would pay for, not only the nodes
        too_big = drawing_problem(built, settings.max_render_nodes, settings.max_render_layout)
        if too_big:
            raise problem(f"the derivative program cannot be drawn: {too_big}",
                          ("body", "svg"), "limit_exceeded", {"limit": drawing_limit(too_big)})
        try:
            svg = run_dot(to_dot(built), "svg", settings.dot_timeout_seconds).decode()
        except RenderError as exc:
            raise problem(exc.message, ("body", "svg"), "render_error",
                          {"limit": exc.limit}) from None
    view = {"text": built.text(), "latex": built.latex(), "graph": built.to_dict(),
            "nodes": len(built.nodes), "operations": _operations(built), "svg": svg}
    values = ad.evaluate(built, body.at) if body.at is not None else None
    return {"transform": body.transform, "inputs": list(built.inputs),
            "outputs": list(built.outputs), "program": view, "values": values}
