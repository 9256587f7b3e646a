"""How a route runs the engine: a small job on the event loop, anything bigger in a pool of
worker processes where it can be stopped, and the engine's errors turned into 422s.

Adding an endpoint (see app/routes/differentiate.py for a complete example):
  1. Write the request/response models beside the route, in its router module under
     app/routes/ (`Strict` requests from app/schemas.py reject unknown keys).
  2. Declare `response_model=...` and `responses=ERROR_RESPONSES` (app/problems.py) so /docs
     shows the error shape.
  3. Write the whole job as one plain top-level function of the request body and the settings
     (it is pickled by reference into a worker process): `program = parse_program(body.source,
     body.outputs, settings)` (app/limits.py) parses with the server's limits, `check_point(
     program, body.at, settings, passes)` bounds the grid and the work before any is done,
     `with engine_errors(program):` (app/problems.py) around the engine's calls makes a
     domain error a 422 that names its node, and the answer is returned as bytes by
     `to_json` (app/responses.py).
  4. `return json_response(await run_job(request, job, body, settings, inline=True))`.
     `inline=True` first tries the job on the event loop: it goes on there only while the
     source is short and `check_point` counts little work; otherwise it moves to a worker.
  5. Include the router in app/main.py; tests/app/test_openapi_fuzz.py then fuzzes it.

Why processes: a thread cannot be stopped. A job past `compute_timeout_seconds` is answered
with a 422 and its worker process is killed (pebble stops it and starts another), so its CPU
and memory end with the answer; its concurrency slot is free only then. Each worker may grow
by at most `max_job_memory_mb` (an address-space limit), and runs at a lower CPU priority so
the event loop, which answers the small requests, keeps its core.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import resource
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import pebble
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError

import autodiff_core as ad

from . import limits, rendering
from .problems import engine_problem, problem
from .settings import Settings

T = TypeVar("T")

# Workers yield the CPU to the server process (nice 0): a heavy job may take longer under
# load, the small requests answered on the event loop do not.
WORKER_NICENESS = 10
# Modules a new worker has loaded before its first job (the forkserver imports them once).
# (`app.` in a checkout, `autodiff_lab.` when installed from the wheel)
PRELOAD = [f"{__package__}.{name}" for name in (
    "jobs", "routes.differentiate", "routes.derivative", "routes.hessian", "routes.jacobian",
    "routes.numeric", "routes.quiz", "routes.render", "routes.symbolic", "routes.descent",
    "routes.export")]


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class JobPool:
    """The app's worker processes (started on first use) and its concurrency slots."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.slots = anyio.CapacityLimiter(settings.max_concurrent_jobs)
        self._pool: pebble.ProcessPool | None = None
        self._drawing_slots: Any = None
        self._lock = threading.Lock()

    def pool(self) -> pebble.ProcessPool:
        with self._lock:
            return self._pool_locked()

    def _pool_locked(self) -> pebble.ProcessPool:
        if self._pool is None or not self._pool.active:
            # forkserver: a new worker is a fork of a clean process that imported the app
            # once (quick, and nothing of the server's threads or sockets comes along).
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            self._drawing_slots = context.BoundedSemaphore(self.settings.max_concurrent_drawings)
            self._pool = pebble.ProcessPool(
                max_workers=self.settings.max_concurrent_jobs,
                max_tasks=self.settings.jobs_per_worker,
                initializer=_start_worker,
                initargs=(self.settings.max_job_memory_mb, self._drawing_slots),
                context=context)
        return self._pool

    def start(self) -> None:
        """Start the worker processes in the background (pebble starts them on the first
        job: a no-op one here)."""
        threading.Thread(target=lambda: self.pool().schedule(os.getpid), daemon=True).start()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None

    def _schedule(self, work: Callable[..., Any], args: tuple[Any, ...]) -> Future[Any]:
        return self.pool().schedule(_execute, (work, args, self.settings.max_response_bytes),
                                    timeout=self.settings.compute_timeout_seconds)

    async def run(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        """`work(*args)` in a worker process, holding a slot until the work has ended."""
        settings = self.settings
        # A slot whose job has just begun frees within one compute_timeout_seconds (and the
        # kill); waiting twice that long means the queue itself is long.
        wait = 2 * settings.compute_timeout_seconds
        try:
            with anyio.fail_after(wait):
                await self.slots.acquire()
        except TimeoutError:
            busy = {"loc": ["server"], "type": "busy", "ctx": {"limit": "max_concurrent_jobs"},
                    "msg": f"the server is busy: no computation slot came free within "
                           f"{wait:g} s (max_concurrent_jobs); try again"}
            raise HTTPException(503, [busy], headers={"Retry-After": "5"}) from None
        try:
            # From a thread: while the workers start (the first job, or the server's start),
            # pebble holds a lock that would stall the event loop.
            future: Future[Any] = await anyio.to_thread.run_sync(self._schedule, work, args)
            # Shielded: a client that goes away does not free the slot while its job runs on
            # (the job ends by itself or at its timeout, killed).
            with anyio.CancelScope(shield=True):
                outcome = await asyncio.wrap_future(future)
        except TimeoutError:
            raise problem(f"the computation took longer than {settings.compute_timeout_seconds}"
                          " s and was stopped (compute_timeout_seconds)", ("body",),
                          "limit_exceeded", {"limit": "compute_timeout_seconds"}) from None
        except pebble.ProcessExpired:
            raise problem(f"the computation's process ended before it finished: it needed more"
                          f" than {settings.max_job_memory_mb} MB (max_job_memory_mb) or failed",
                          ("body",), "limit_exceeded", {"limit": "max_job_memory_mb"}) from None
        finally:
            self.slots.release()
        return _unwrap(outcome)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the workers as the server starts, without waiting for them (the server answers
    at once; a job that comes first waits for its worker); stop them, and any job still
    running, when it stops."""
    jobs: JobPool = app.state.jobs
    jobs.start()
    # Everything loaded so far lives as long as the server: out of the garbage collector's
    # sight, a request that allocates much (a large grid's JSON and validation) no longer
    # makes it walk the whole app again and again (a 178 kB body: 135 -> 45 ms measured).
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(jobs.close)


async def run_job(request: Request, work: Callable[..., T], *args: Any,
                  inline: bool = False) -> T:
    """Run CPU-heavy `work(*args)` so that the event loop keeps serving and it can be stopped.

    With `inline`, the job is first tried right here, under the inline budget: a short
    source (`inline_source_chars`) whose `check_point` counts at most `inline_max_work`
    node evaluations finishes here (cheaper than any hand-off); a bigger one is stopped at
    that check, before any evaluation, and runs in a worker process instead.
    """
    jobs: JobPool = request.app.state.jobs
    if inline:
        with limits.inline_budget(jobs.settings):
            try:
                return _unwrap(_execute(work, args, jobs.settings.max_response_bytes))
            except limits.TooBigForInline:
                pass
    return await jobs.run(work, args)


# --- in the worker (or inline) ---------------------------------------------------------------

Outcome = tuple[str, Any]  # ("done", value) or ("refused", FastAPI error entries)


def _execute(work: Callable[..., Any], args: tuple[Any, ...], max_response_bytes: int
             ) -> Outcome:
    """Run the job and turn what it raised on purpose into the entries of a 422 (plain data:
    they cross the process boundary as they are). A job names the node of an engine error
    itself (`engine_errors(program)`); one that did not still gets a 422."""
    try:
        value = work(*args)
    except limits.TooBigForInline:
        raise
    except ad.AutodiffError as exc:
        return "refused", engine_problem(exc).errors()
    except MemoryError:
        return "refused", problem("the computation needed more memory than one job may use "
                                  "(max_job_memory_mb)", ("body",), "limit_exceeded",
                                  {"limit": "max_job_memory_mb"}).errors()
    except RequestValidationError as exc:
        return "refused", list(exc.errors())
    if isinstance(value, bytes) and len(value) > max_response_bytes:
        return "refused", problem(
            f"the answer would be {len(value):,} bytes; the limit is {max_response_bytes:,}"
            " (max_response_bytes); ask for less (no trace, fewer points or outputs)",
            ("body",), "limit_exceeded", {"limit": "max_response_bytes"}).errors()
    return "done", value


def _unwrap(outcome: Outcome) -> Any:
    kind, value = outcome
    if kind == "refused":
        raise RequestValidationError(value)
    return value


def _start_worker(max_job_memory_mb: int, drawing_slots: Any) -> None:
    """A new worker: lower priority, an address-space limit above what it uses now, and the
    drawing slots it shares with the other workers."""
    os.nice(WORKER_NICENESS)
    if max_job_memory_mb > 0:
        with open("/proc/self/statm") as statm:  # Linux: the first field is the size in pages
            used = int(statm.read().split()[0]) * resource.getpagesize()
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = used + max_job_memory_mb * 2**20
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    rendering.share_drawing_slots(drawing_slots)
    rendering.warm_up()
