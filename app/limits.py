"""The server's limits on one request, checked before any work: the program's size (at parse
time), then what will really be computed at the requested point: the grid's broadcast size,
the node evaluations (nodes x points x passes) and the trace's size.

The same counts decide where a job runs (app/jobs.py): tried on the event loop under an
inline budget, a job stops at the first count above that budget (`TooBigForInline`), before
any evaluation, and moves to a worker process.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

import autodiff_core as ad

from .problems import engine_problem, problem
from .settings import Settings

_INLINE: ContextVar[Settings | None] = ContextVar("inline_budget", default=None)


class TooBigForInline(Exception):  # noqa: N818 (a signal, not an error)
    """The job tried on the event loop counts more than the inline budget allows."""


@contextmanager
def inline_budget(settings: Settings) -> Iterator[None]:
    """Within this block, the checks below stop a job that is too big for the event loop."""
    token = _INLINE.set(settings)
    try:
        yield
    finally:
        _INLINE.reset(token)


def _inline_check(source_chars: int = 0, work: int = 0) -> None:
    settings = _INLINE.get()
    if settings is not None and (source_chars > settings.inline_source_chars
                                 or work > settings.inline_max_work):
        raise TooBigForInline


def parse_program(source: str, outputs: list[str] | None, settings: Settings) -> ad.Program:
    """Parse with the server's limits; a bad program or a wrong output name is a 422."""
    _inline_check(source_chars=len(source))
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


def grid_shape(at: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The shape of the grid a request evaluates on: the broadcast of its inputs' shapes (a
    10,000 x 1 column with a 1 x 10,000 row is 10,000 x 10,000: 10^8 points). () at a point.
    Found from the list lengths alone, before any array is made."""
    shapes = {}
    for name, value in (at or {}).items():
        shapes[name] = _list_shape(name, value)
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        listed = ", ".join(f"{n}: {list(s)}" for n, s in shapes.items() if s)
        raise problem(f"the input grids have shapes that do not broadcast together ({listed})",
                      ("body", "at"), "input_error") from None


def _list_shape(name: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    rows = [len(v) if isinstance(v, list) else None for v in value]
    if not rows or rows[0] is None:
        if any(r is not None for r in rows):
            raise _ragged(name)
        return (len(value),)
    if any(r != rows[0] for r in rows):
        raise _ragged(name)
    return (len(value), rows[0])


def _ragged(name: str) -> Exception:
    return problem(f"the grid of {name!r} is ragged: its rows must all have the same length",
                   ("body", "at", name), "input_error")


# What one counted unit costs on the event loop, in node evaluations of a flat (untraced)
# sweep, measured with the seed example and programs of 10 to 30 inputs: a traced step or
# contribution about 20; a Hessian's pass (batched columns, forward over reverse) about 10; a
# quiz's pass (traced, and re-run for each mistake it models) about 70.
TRACED = 20
HESSIAN = 10
QUIZ = 70


def check_point(program: ad.Program, at: Mapping[str, Any] | None, settings: Settings,
                passes: int = 1, cost: int = 1) -> int:
    """Refuse a grid above `max_grid_points`, or work (nodes x points x passes) above
    `max_work`, before doing any of it; name an unknown or missing input. Returns the number
    of points. `cost` weighs the work for the inline budget: what one unit costs this job."""
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
    shape = grid_shape(at)
    points = math.prod(shape)
    if points > settings.max_grid_points:
        raise problem(f"the inputs make a grid of {' x '.join(map(str, shape))} = {points:,} "
                      f"points; the limit is {settings.max_grid_points:,} (max_grid_points)",
                      ("body", "at"), "limit_exceeded", {"limit": "max_grid_points"})
    work = len(program.nodes) * points * max(passes, 1)
    if work > settings.max_work:
        raise problem(f"this request needs {len(program.nodes)} nodes x {points} points x "
                      f"{passes} passes = {work} node evaluations; the limit is "
                      f"{settings.max_work} (max_work)", ("body",), "limit_exceeded",
                      {"limit": "max_work"})
    _inline_check(work=work * cost)
    return points


def trace_size(program: ad.Program, passes: int, points: int) -> int:
    """Numbers a traced answer holds: the primal trace and every pass, one step per node and
    one entry per edge (a partial or a contribution), each a value at every grid point."""
    per_pass = len(program.nodes) + sum(len(node.args) for node in program.nodes)
    return (passes + 1) * per_pass * points


def check_trace(program: ad.Program, passes: int, points: int, settings: Settings) -> None:
    """Refuse a trace above `max_trace_size` before building it (the answer without the
    trace is still there to ask for)."""
    size = trace_size(program, passes, points)
    if size > settings.max_trace_size:
        raise problem(f"the trace would hold {size:,} steps and contributions ({passes} passes "
                      f"of {len(program.nodes)} nodes at {points} points); the limit is "
                      f"{settings.max_trace_size:,} (max_trace_size). Ask with \"trace\": false "
                      "for the values and derivatives alone, or seed one input",
                      ("body", "trace"), "limit_exceeded", {"limit": "max_trace_size"})
    _inline_check(work=size * TRACED)
