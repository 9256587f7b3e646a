"""POST /api/v1/render: the program's computation graph as SVG, DOT or PNG."""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import Field

import autodiff_core as ad
from autodiff_core.scalarize import scalar_point, scalarize

from ..cache import app_cache
from ..jobs import run_job, settings_of
from ..limits import check_point, parse_program
from ..problems import ERROR_RESPONSES, engine_problem, problem
from ..rendering import (
    FORMATS,
    Annotations,
    RenderError,
    annotations_at,
    drawing_limit,
    drawing_problem,
    run_dot,
    shape_of,
    statements,
    to_dot,
)
from ..schemas import Outputs, Point, Source, Strict
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["rendering"], responses=ERROR_RESPONSES)

class RenderRequest(Strict):
    source: Source
    format: Literal["svg", "dot", "png"] = "svg"
    outputs: Outputs = None
    values: bool = Field(False, description="Show each node's value at `at` in its label.")
    at: Point | None = None
    mode: Literal["reverse", "forward"] | None = Field(
        None, description="With `values`: also show each node's tangent (forward, first "
                          "input) or adjoint (reverse, first output).")
    labels: bool = Field(False, description="Keep room for a label on every edge: each edge "
                         "gets an invisible placeholder label (a `<text>` in the edge's SVG "
                         "group, where graphviz kept space free) for a page to replace with "
                         "its own text. The drawing gets wider.")
    clusters: bool = Field(False, description="Frame each statement of two or more nodes "
                           "(SVG group `cluster_v{id}`, `id` its named node).")
    collapse: list[str] | None = Field(
        None, max_length=1000, description="Statements to draw as one node each, by the id "
        "of their named node (`v8`); edges from outside keep their ids and end at it.",
        examples=[["v8"]])
    expand: bool = Field(False, description="Draw the scalar graph of a small tensor program "
                         "instead: one node per element (inputs `W[0,1]`), a matmul as its "
                         "multiply-adds; `collapse` and the values then refer to that graph.")


DRAWING: dict[int | str, dict[str, Any]] = {
    200: {"description": "The drawing: SVG (element ids = node and edge ids), DOT source, "
                         "or PNG.",
          "content": {media: {"schema": {"type": "string"}} for media in FORMATS.values()}}}


@router.post("/render", response_class=Response, responses=DRAWING)
async def render(body: RenderRequest, request: Request) -> Response:
    """Draw the computation graph with graphviz; identical requests come from a cache."""
    settings = settings_of(request)
    cache = app_cache(request.app.state, "drawings", settings.render_cache_entries)
    key = _key(body)
    drawing = cache.get(key)
    if drawing is None:
        drawing = await run_job(request, _draw, body, settings)
        cache.put(key, drawing)
    return Response(drawing, media_type=FORMATS[body.format])


def _key(body: RenderRequest) -> str:
    """The program text and every option that changes the drawing."""
    options: dict[str, Any] = {"source": body.source.strip(), "outputs": body.outputs,
                               "format": body.format, "labels": body.labels,
                               "clusters": body.clusters, "collapse": body.collapse,
                               "expand": body.expand}
    if body.values:
        options.update(at=body.at, mode=body.mode)
    return json.dumps(options, sort_keys=True)


def _collapsed(program: ad.Program, ids: list[str]) -> frozenset[int]:
    """The named node ids of the statements to collapse; a 422 names an id that is none."""
    named = statements(program)
    chosen = set()
    for position, ref in enumerate(ids):
        index = int(ref[1:]) if ref[:1] == "v" and ref[1:].isdigit() else -1
        if index not in named:
            raise problem(f"{ref!r} is not a statement's node: collapse takes the ids of named "
                          "nodes (such as v2 for `x = 3*w`)", ("body", "collapse", position),
                          "input_error")
        chosen.add(index)
    return frozenset(chosen)


def _is_grid(program: ad.Program, name: str, value: Any) -> bool:
    """Whether an input's value has more axes than the input (a grid of points)."""
    node = program.inputs.get(name)
    axes = len(shape_of(program.nodes[node])) if node is not None else 0
    try:
        return bool(np.ndim(value) > axes)
    except ValueError:  # a ragged list: the engine says what is wrong with it
        return False


def _draw(body: RenderRequest, settings: Settings) -> bytes:
    program = drawn = parse_program(body.source, body.outputs, settings)
    if body.expand:
        try:
            drawn = scalarize(program)
        except ad.ExpressionError as exc:
            raise problem(exc.message, ("body", "source"), "limit_exceeded",
                          {"limit": exc.limit}) from None
    too_big = drawing_problem(drawn, settings.max_render_nodes, settings.max_render_layout)
    if too_big:
        raise problem(too_big, ("body", "source"), "limit_exceeded",
                      {"limit": drawing_limit(too_big)})
    annotations: Annotations | None = None
    if body.values:
        if body.at is None:
            raise problem("`values` needs a point `at` to evaluate the program",
                          ("body", "at"), "missing")
        if any(_is_grid(program, name, v) for name, v in body.at.items()):
            raise problem("values can be drawn at a single point, not over a grid",
                          ("body", "at"), "input_error")
        check_point(program, body.at, settings, passes=2)
        try:
            at = scalar_point(program, body.at) if body.expand else body.at
            annotations = annotations_at(drawn, at, body.mode)
        except ad.AutodiffError as exc:
            raise engine_problem(exc, program) from None
    dot = to_dot(drawn, annotations, room_for_labels=body.labels, clusters=body.clusters,
                 collapsed=_collapsed(drawn, body.collapse or []))
    if body.format == "dot":
        return dot.encode()
    try:
        return run_dot(dot, body.format, settings.dot_timeout_seconds, settings.max_png_pixels)
    except RenderError as exc:
        raise problem(exc.message, ("body", "source"), "render_error",
                      {"limit": exc.limit}) from None
