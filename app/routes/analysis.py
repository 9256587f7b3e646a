"""Analysis endpoints: Jacobians with their cost per mode, derivative programs (derivatives as
graphs), and symbolic and numeric differentiation for comparison with AD.

All of the differentiation happens in autodiff_core; these handlers check limits, run the work
in a worker thread (app/engine.py) and shape the JSON.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import autodiff_core as ad
from app.analysis_schemas import (
    DerivativeRequest,
    DerivativeResponse,
    JacobianRequest,
    JacobianResponse,
    NumericRequest,
    NumericResponse,
    SwellingRequest,
    SwellingResponse,
    SymbolicRequest,
    SymbolicResponse,
)
from app.engine import (
    ERROR_RESPONSES,
    check_point,
    json_response,
    parse_program,
    problem,
    run_job,
    settings_of,
)
from app.rendering import RenderError, run_dot, to_dot
from app.settings import Settings
from autodiff_core.numeric import default_steps
from autodiff_core.symbolic import FAMILIES, family_source

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=ERROR_RESPONSES)


def _one_output(program: ad.Program, output: str | None) -> str:
    if output is not None:
        if output not in program.outputs:
            raise problem(f"{output!r} is not an output of the program; its outputs are: "
                          f"{', '.join(program.outputs)}", ("body", "output"), "input_error")
        return output
    if len(program.outputs) != 1:
        raise problem(f"the program has {len(program.outputs)} outputs; name one in `output`",
                      ("body", "output"), "input_error")
    return next(iter(program.outputs))


def _input(program: ad.Program, wrt: str | None) -> str:
    if wrt is None or wrt not in program.inputs:
        problem_text = "`wrt` names no input" if wrt is None else f"{wrt!r} is not an input"
        raise problem(f"{problem_text}; the program's inputs are: "
                      f"{', '.join(program.inputs) or '(none)'}", ("body", "wrt"),
                      "input_error")
    return wrt


# --- Jacobian ------------------------------------------------------------------------------------


@router.post("/jacobian", response_model=JacobianResponse)
async def jacobian(body: JacobianRequest, request: Request) -> JSONResponse:
    """The full Jacobian in one mode, with the passes and operations each mode needs."""
    settings = settings_of(request)
    program = await run_job(request, parse_program, body.source, body.outputs, settings)
    passes = len(program.inputs) if body.mode == "forward" else len(program.outputs)
    check_point(program, body.at, settings, passes)
    result = await run_job(request, ad.jacobian, program, body.at, body.mode, program=program)
    return json_response(result.to_dict())


# --- derivative programs -------------------------------------------------------------------------


@router.post("/derivative", response_model=DerivativeResponse)
async def derivative(body: DerivativeRequest, request: Request) -> JSONResponse:
    """A derivative as a program: its text, LaTeX, graph (and SVG), and values at `at`."""
    settings = settings_of(request)
    program = await run_job(request, parse_program, body.source, body.outputs, settings)
    # jvp and vjp can keep every output (one tangent or cotangent input each); the others
    # differentiate one output.
    output = body.output
    if output is not None or body.transform not in ("jvp", "vjp"):
        output = _one_output(program, output)
    wrt = _input(program, body.wrt) if body.transform == "derivative" else None
    built = await run_job(request, _transform, program, body.transform, wrt, body.order,
                          output, settings.max_nodes, program=program)
    if body.at is not None:
        check_point(built, body.at, settings)
    data = await run_job(request, _describe, built, body, settings, program=built)
    data["original_operations"] = _operations(program)
    return json_response(data)


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
        if len(built.nodes) > settings.max_render_nodes:
            raise problem(f"the derivative program has {len(built.nodes)} nodes; graphs of up "
                          f"to {settings.max_render_nodes} nodes are drawn (max_render_nodes)",
                          ("body", "svg"), "limit_exceeded", {"limit": "max_render_nodes"})
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


# --- symbolic ------------------------------------------------------------------------------------


@router.post("/symbolic", response_model=SymbolicResponse)
async def symbolic(body: SymbolicRequest, request: Request) -> JSONResponse:
    """The derivative written as one expression (text, LaTeX), its size beside AD's."""
    settings = settings_of(request)
    program = await run_job(request, parse_program, body.source, None, settings)
    output = _one_output(program, body.output)
    wrt = _input(program, body.wrt)
    result = await run_job(request, ad.symbolic_derivative, program, wrt, output, body.order,
                           settings.max_nodes, program=program)
    return json_response(result.to_dict())


@router.post("/symbolic/swelling", response_model=SwellingResponse)
async def swelling(body: SwellingRequest, request: Request) -> JSONResponse:
    """Sizes of f and f' for n = 1..n_max in a family whose symbolic derivative swells."""
    rows = await run_job(request, ad.swelling, body.family, body.n_max)
    sources = [family_source(body.family, n) for n in range(1, min(body.n_max, 3) + 1)]
    return json_response({"family": body.family, "description": FAMILIES[body.family],
                          "sources": sources, "rows": [vars(r) for r in rows]})


# --- numeric -------------------------------------------------------------------------------------


@router.post("/numeric", response_model=NumericResponse)
async def numeric(body: NumericRequest, request: Request) -> JSONResponse:
    """Forward and central differences for h from 1e-1 to 1e-15, with their error against AD."""
    settings = settings_of(request)
    program = await run_job(request, parse_program, body.source, None, settings)
    output = _one_output(program, body.output)
    wrt = _input(program, body.wrt)
    check_point(program, body.at, settings, passes=3 * (14 * body.per_decade + 1))
    steps = default_steps(body.per_decade)
    result = await run_job(request, ad.finite_differences, program, body.at, wrt, output, steps,
                           program=program)
    return json_response(result.to_dict())
