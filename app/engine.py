"""How a route runs the engine: server limits, a thread off the event loop, errors as 422s.

Adding an endpoint (see app/routes/api.py for a complete example):
  1. Write request/response models in app/schemas.py (`Strict` requests reject unknown keys).
  2. In a router under app/routes/, declare `response_model=...` and
     `responses=ERROR_RESPONSES` so /docs shows the error shape.
  3. `settings = settings_of(request)`; `program = parse_program(body.source, body.outputs,
     settings)` parses with the server's limits (422 with line/column on bad text).
  4. `check_point(program, body.at, settings)` bounds grid size and total work.
  5. Do the CPU work in a plain function and `await run_job(request, work, args...)`: it runs
     in a thread, at most `max_concurrent_jobs` at once, within `compute_timeout_seconds`,
     and turns any engine error (ad.AutodiffError) into a 422 that names the node
     (`small=is_small(...)` runs a short single-point job inline, cheaper than a thread).
  6. Return `json_response(data)` (orjson: dataclasses and numpy arrays as they are, NaN and
     Infinity as null); `to_json` in the worker thread keeps even that off the event loop.
  7. Include the router in app/main.py; tests/app/test_openapi_fuzz.py then fuzzes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio
import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

import autodiff_core as ad
from app.schemas import ErrorResponse
from app.settings import Settings
from autodiff_core.results import jsonable

T = TypeVar("T")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The request body is too large."},
    422: {"model": ErrorResponse,
          "description": "The request or the program is invalid, exceeds a limit, or is "
                         "undefined at the point; `ctx` says where (line, column or node)."},
}


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- errors in FastAPI's own shape -----------------------------------------------------------


def problem(msg: str, loc: tuple[str | int, ...], kind: str,
            ctx: Mapping[str, Any] | None = None) -> RequestValidationError:
    """A 422 with one entry: FastAPI renders it as {"detail": [{"loc", "msg", "type", ...}]}."""
    entry: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": kind}
    if ctx:
        entry["ctx"] = {k: v for k, v in ctx.items() if v is not None}
    return RequestValidationError([entry])


def engine_problem(exc: ad.AutodiffError, program: ad.Program | None = None,
                   loc: tuple[str | int, ...] = ("body", "source")) -> RequestValidationError:
    """The 422 for an error the engine raised on purpose."""
    if isinstance(exc, ad.ExpressionError):
        kind = "limit_exceeded" if exc.limit else "program_error"
        return problem(str(exc), loc, kind, {"line": exc.line, "column": exc.column,
                                             "text": exc.text, "limit": exc.limit})
    if isinstance(exc, ad.EvaluationError):
        line = None
        if program is not None and exc.node and exc.node[1:].isdigit():
            index = int(exc.node[1:])
            if index < len(program.nodes):
                line = program.nodes[index].line
        return problem(exc.message, loc, "evaluation_error",
                       {"node": exc.node, "op": exc.op, "name": exc.name, "line": line})
    if isinstance(exc, ad.InputError):
        return problem(str(exc), ("body",), "input_error")
    return problem(str(exc), loc, "engine_error")


@contextmanager
def engine_errors(program: ad.Program | None = None) -> Iterator[None]:
    """Turn engine errors raised inside the block into 422s."""
    try:
        yield
    except ad.AutodiffError as exc:
        raise engine_problem(exc, program) from None


# --- limits ----------------------------------------------------------------------------------


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


# --- running the work ------------------------------------------------------------------------


async def run_job(request: Request, work: Callable[..., T], *args: Any,
                  program: ad.Program | None = None, small: bool = False) -> T:
    """Run CPU-heavy `work(*args)` in a worker thread, so the event loop keeps serving.

    At most `max_concurrent_jobs` run at once (one student cannot take every thread); a job
    that runs past `compute_timeout_seconds` is answered with a 422 (the thread finishes on
    its own: the limits above bound how long that can be). A `small` job (the caller knows
    it takes well under a millisecond, see `is_small`) runs right here: handing it to a
    thread would cost more than the work.
    """
    if small:
        return _guarded(work, args, program)
    settings = settings_of(request)
    limiter = request.app.state.jobs
    try:
        with anyio.fail_after(settings.compute_timeout_seconds):
            return await anyio.to_thread.run_sync(_guarded, work, args, program,
                                                  limiter=limiter, abandon_on_cancel=True)
    except TimeoutError:
        raise problem(f"the computation took longer than {settings.compute_timeout_seconds} s "
                      "(compute_timeout_seconds)", ("body",), "limit_exceeded",
                      {"limit": "compute_timeout_seconds"}) from None


def is_small(source: str, at: Mapping[str, Any] | None, settings: Settings) -> bool:
    """A short program at a single point: its whole job is bounded to about a millisecond."""
    return len(source) <= settings.inline_source_chars and not any(
        isinstance(v, list) for v in (at or {}).values())


def _guarded(work: Callable[..., T], args: tuple[Any, ...], program: ad.Program | None) -> T:
    with engine_errors(program):
        return work(*args)


# --- JSON ------------------------------------------------------------------------------------


class FastJSONResponse(JSONResponse):
    """JSON by orjson: the engine's dataclasses and numpy arrays serialize directly (no
    to_dict pass), and a non-finite number becomes null, so NaN never reaches the client."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):  # made by `to_json` already
            return content
        return to_json(content)


def to_json(data: Any) -> bytes:
    """JSON bytes of results, dataclasses, dicts and numpy arrays (non-finite -> null)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:  # integers beyond 64 bits (symbolic sizes): the slower, general path
        return json.dumps(jsonable(data), allow_nan=False, separators=(",", ":")).encode()


def json_response(data: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer; `data` may hold the engine's dataclasses and numpy arrays, or be bytes
    already made by `to_json` (in the worker thread, off the event loop)."""
    return FastJSONResponse(data, status_code=status_code)
