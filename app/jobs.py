"""How a route runs the engine: a thread off the event loop, a bounded number at once, a time
limit, and the engine's errors turned into 422s.

Adding an endpoint (see app/routes/differentiate.py for a complete example):
  1. Write the request/response models beside the route, in its router module under
     app/routes/ (`Strict` requests from app/schemas.py reject unknown keys).
  2. Declare `response_model=...` and `responses=ERROR_RESPONSES` (app/problems.py) so /docs
     shows the error shape.
  3. `settings = settings_of(request)`; `program = parse_program(body.source, body.outputs,
     settings)` (app/limits.py) parses with the server's limits (422 with line/column).
  4. `check_point(program, body.at, settings)` bounds grid size and total work.
  5. Do the CPU work in a plain function and `await run_job(request, work, args...)`: it runs
     in a thread, at most `max_concurrent_jobs` at once, within `compute_timeout_seconds`,
     and turns any engine error (ad.AutodiffError) into a 422 that names the node
     (`small=is_small(...)` runs a short single-point job inline, cheaper than a thread).
  6. Return `json_response(data)` (app/responses.py: orjson, NaN and Infinity as null);
     `to_json` in the worker thread keeps even that off the event loop.
  7. Include the router in app/main.py; tests/app/test_openapi_fuzz.py then fuzzes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import anyio
from fastapi import Request

import autodiff_core as ad
from app.problems import engine_errors, problem
from app.settings import Settings

T = TypeVar("T")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


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
