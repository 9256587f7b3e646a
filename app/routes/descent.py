"""POST /api/v1/descent: a whole gradient descent walk in one request.

A lesson's slider (lesson 1) or Train button (lesson 8) used to ask for one gradient per
step, up to 41 requests in sequence per move; with a class moving sliders together those
queued. Here the server takes the steps: w ← w − η·∂L/∂w and returns the path. The gradient
is reverse mode written as a program (`ad.grad_program`, made once per program and kept)
and evaluated at each step: the same sweep as a reverse pass, without rebuilding it. It
stops early when the loss or a parameter leaves the finite numbers or the landscape (the walk
diverged), and says so.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..cache import app_cache
from ..jobs import run_job, settings_of
from ..limits import check_point, parse_program
from ..problems import ERROR_RESPONSES, engine_errors, problem, scalar_only
from ..responses import json_response, to_json
from ..schemas import FiniteFloat, Source, Strict
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["differentiation"], responses=ERROR_RESPONSES)

MAX_STEPS = 200
KEPT_PROGRAMS = 64

_programs: OrderedDict[tuple[str, str | None, int], tuple[ad.Program, ad.Program]] = \
    OrderedDict()
_lock = threading.Lock()


def _loss_and_gradient(source: str, output: str | None,
                       settings: Settings) -> tuple[ad.Program, ad.Program]:
    """The parsed program and its gradient program, made once (a class shares one lesson)."""
    key = (source, output, id(settings))
    with _lock:
        found = _programs.get(key)
        if found is not None:
            _programs.move_to_end(key)
            return found
    program = parse_program(source, [output] if output is not None else None, settings)
    scalar_only(program, "/descent (a gradient descent walk)",
                "POST /api/v1/train trains a small network of tensors")
    if len(program.outputs) != 1:
        raise problem(f"the program has {len(program.outputs)} outputs; name the loss in "
                      f"`output`", ("body", "output"), "input_error")
    with engine_errors(program):
        made = (program, ad.grad_program(program, next(iter(program.outputs)),
                                         max_nodes=settings.max_nodes))
    with _lock:
        _programs[key] = made
        while len(_programs) > KEPT_PROGRAMS:
            _programs.popitem(last=False)
    return made
DIVERGED = 1e4  # a parameter this large has left any loss landscape a lesson draws


class DescentRequest(Strict):
    source: Source
    at: dict[str, FiniteFloat] = Field(description="The starting point: a number per input.",
                                       examples=[{"w": -1.0}])
    params: list[str] | None = Field(None, description="The inputs that descend (the others "
                                                       "stay fixed); by default every input.")
    rate: FiniteFloat = Field(gt=0, le=100, description="The step size η.")
    steps: int = Field(ge=0, le=MAX_STEPS, description="How many steps to take.")
    output: str | None = Field(None, description="The loss; by default the program's (only) "
                                                 "output.")


class DescentStep(BaseModel):
    at: dict[str, float] = Field(description="The parameters before this step.")
    loss: float
    gradient: dict[str, float]


class DescentResponse(BaseModel):
    output: str
    path: list[DescentStep] = Field(description="The start and each point after a step, with "
                                                "its loss and gradient.")
    diverged: bool = Field(description="The walk stopped early: the loss or a parameter left "
                                       "the finite numbers.")


@router.post("/descent", response_model=DescentResponse)
async def descent(body: DescentRequest, request: Request) -> Response:
    """Gradient descent from a point: every step's parameters, loss and gradient."""
    settings = settings_of(request)
    # a class sharing a lesson's slider positions shares their walks
    cache = app_cache(request.app.state, "answers", settings.answer_cache_entries)
    key = b"descent:" + hashlib.blake2b(await request.body(), digest_size=16).digest()
    answer = cache.get(key)
    if answer is None:  # a short walk runs inline, a long one in a worker (app/jobs.py)
        answer = await run_job(request, _descend, body, settings, inline=True)
        cache.put(key, answer)
    return json_response(answer)


def _descend(body: DescentRequest, settings: Settings) -> bytes:
    program, gradient_program = _loss_and_gradient(body.source, body.output, settings)
    params = body.params if body.params is not None else list(program.inputs)
    for k, name in enumerate(params):
        if name not in program.inputs:
            raise problem(f"{name!r} is not an input of the program; its inputs are: "
                          f"{', '.join(program.inputs)}", ("body", "params", k), "input_error")
    # each step evaluates the gradient program: about twice the program's nodes
    check_point(program, body.at, settings, passes=body.steps + 1, cost=2)
    output = next(iter(program.outputs))
    point = dict(body.at)
    path: list[dict[str, object]] = []
    diverged = False
    with engine_errors(program):
        for k in range(body.steps + 1):
            values = ad.evaluate(gradient_program, point)
            loss = float(values[output])
            gradient = {name: float(values[f"d{output}/d{name}"]) for name in params}
            if not (math.isfinite(loss) and all(map(math.isfinite, gradient.values()))):
                diverged = True
                break
            path.append({"at": {name: point[name] for name in params}, "loss": loss,
                         "gradient": gradient})
            if k == body.steps:
                break
            point.update({name: point[name] - body.rate * gradient[name] for name in params})
            if any(abs(point[name]) > DIVERGED for name in params):
                diverged = True
                break
    return to_json({"output": output, "path": path, "diverged": diverged})
