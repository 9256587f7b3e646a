"""The server's limits on one request, checked before any work: the program's size (at parse
time) and the grid and total work at the requested point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import autodiff_core as ad
from app.problems import engine_problem, problem
from app.settings import Settings


def parse_program(source: str, outputs: list[str] | None, settings: Settings) -> ad.Program:
    """Parse with the server's limits; a bad program or a wrong output name is a 422."""
    try:
        return ad.parse(source, outputs=outputs, limits=settings.limits())
    except ad.ExpressionError as exc:
        if outputs and exc.line is None and exc.limit is None:
            unknown = _unknown_outputs(source, outputs, settings)
            if unknown:
                raise problem(str(exc), ("body", "outputs"), "input_error",
                              {"unknown": ",".join(unknown)}) from None
        raise engine_problem(exc) from None
    except ad.InputError as exc:
        raise problem(str(exc), ("body", "outputs"), "input_error") from None
    except RecursionError:
        raise problem("the program is nested too deeply", ("body", "source"),
                      "limit_exceeded", {"limit": "max_depth"}) from None


def _unknown_outputs(source: str, outputs: list[str], settings: Settings) -> list[str]:
    """The requested outputs the program does not name (parsed again: only on this error)."""
    try:
        names = ad.parse(source, limits=settings.limits()).names
    except ad.AutodiffError:
        return []
    return [name for name in outputs if name not in names]


def grid_points(at: Mapping[str, Any] | None) -> int:
    """How many points a request evaluates at: the largest input grid (1 at a point)."""
    points = 1
    for value in (at or {}).values():
        count = 1
        if isinstance(value, list):
            count = sum(len(v) if isinstance(v, list) else 1 for v in value)
        points = max(points, count)
    return points


def check_point(program: ad.Program, at: Mapping[str, Any] | None, settings: Settings,
                passes: int = 1) -> int:
    """Refuse a grid above `max_grid_points`, or work (nodes x points x passes) above
    `max_work`, before doing any of it; name an unknown or missing input. Returns the number
    of points."""
    given = dict(at or {})
    for name in given:
        if name not in program.inputs:
            raise problem(f"{name!r} is not an input of the program; its inputs are: "
                          f"{', '.join(program.inputs) or '(none)'}", ("body", "at", name),
                          "input_error", {"program_inputs": ",".join(program.inputs)})
    missing = [name for name in program.inputs if name not in given]
    if missing:
        # program_inputs lets the playground fit its point to a program just typed
        raise problem(f"no value given for input {', '.join(map(repr, missing))}",
                      ("body", "at"), "missing", {"inputs": ", ".join(missing),
                                                  "program_inputs": ",".join(program.inputs)})
    points = grid_points(at)
    if points > settings.max_grid_points:
        raise problem(f"the grid has {points} points; the limit is {settings.max_grid_points} "
                      "(max_grid_points)", ("body", "at"), "limit_exceeded",
                      {"limit": "max_grid_points"})
    work = len(program.nodes) * points * max(passes, 1)
    if work > settings.max_work:
        raise problem(f"this request needs {len(program.nodes)} nodes x {points} points x "
                      f"{passes} passes = {work} node evaluations; the limit is "
                      f"{settings.max_work} (max_work)", ("body",), "limit_exceeded",
                      {"limit": "max_work"})
    return points
