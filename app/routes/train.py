"""POST /api/v1/train: train a small network on 2-D points, a chunk of steps per request.

Lesson 10 trains a two-class MLP (2 → hidden → 2) by gradient descent. The network is a
program in the tensor language (`network_source`), the loss the contract's softmax
cross-entropy; each step is one reverse pass of OUR engine (`ad.reverse(trace=False)`, the
compiled path) for the gradients of the loss with respect to the weights and biases, the
points and labels being data (`wrt`). A request takes up to MAX_STEPS steps (the page asks
for a chunk, never one request per step) and answers the loss before each step, the updated
parameters, the gradient's size per parameter at the last step, and the probability of class
1 on a coarse grid (the decision boundary). Work is capped before any is done: a request past
a limit is a 422 that names it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

import autodiff_core as ad

from ..jobs import run_job, settings_of
from ..problems import ERROR_RESPONSES, engine_errors, problem
from ..responses import json_response, to_json
from ..schemas import FiniteFloat, Strict
from ..settings import Settings

router = APIRouter(prefix="/api/v1", tags=["training"], responses=ERROR_RESPONSES)

MAX_STEPS = 200
MAX_POINTS = 400
MAX_WIDTH = 32
MAX_GRID = 61
# steps × points × weights: about 8·10⁷ multiply-adds forward and back, ~1 s of numpy here
MAX_TRAIN_WORK = 40_000_000
DIVERGED = 1e6

Point2 = Annotated[list[FiniteFloat], Field(min_length=2, max_length=2)]
Matrix = list[list[FiniteFloat]]


class TrainRequest(Strict):
    hidden: list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]] = Field(
        [8], min_length=1, max_length=2, description="The hidden layers' widths: 2 → "
        "hidden... → 2.")
    activation: Literal["tanh", "relu"] = "tanh"
    points: list[Point2] = Field(min_length=2, max_length=MAX_POINTS,
                                 description="The data: one (x, y) pair per example.")
    labels: list[Annotated[int, Field(ge=0, le=1)]] = Field(
        max_length=MAX_POINTS, description="The class of each point: 0 or 1.")
    params: dict[str, Matrix | list[FiniteFloat]] | None = Field(
        None, description="The weights to start from (W1, b1, W2, b2, ...), as a previous "
                          "answer returned them; by default a fresh start from `seed`.")
    seed: int = Field(0, ge=0, le=2**31, description="The random start's seed.")
    learning_rate: FiniteFloat = Field(0.5, gt=0, le=10)
    steps: int = Field(20, ge=0, le=MAX_STEPS, description="Gradient steps in this request.")
    grid: int = Field(25, ge=2, le=MAX_GRID, description="The decision boundary's grid: "
                                                         "grid × grid points.")


class Boundary(BaseModel):
    xs: list[float]
    ys: list[float]
    probability: list[list[float]] = Field(description="P(class 1) at (xs[j], ys[i]): one "
                                                       "row per y.")


class TrainResponse(BaseModel):
    source: str = Field(description="The loss program the engine differentiates.")
    losses: list[float | None] = Field(description="The loss before each step, then after the "
                                               "last (null where it overflowed).")
    params: dict[str, Any]
    gradient_norms: dict[str, float] = Field(description="‖∂loss/∂p‖ per parameter at the "
                                                         "last step taken.")
    accuracy: float = Field(description="The share of points classified right at the end.")
    boundary: Boundary
    diverged: bool


def param_names(layers: int) -> list[str]:
    return [name for k in range(1, layers + 1) for name in (f"W{k}", f"b{k}")]


@lru_cache(maxsize=32)
def network_source(points: int, hidden: tuple[int, ...], activation: str,
                   output: str = "loss") -> str:
    """The network as a program: `loss` (softmax cross-entropy) or `probability` (softmax)."""
    widths = (2, *hidden, 2)
    lines = [f"X: [{points}, 2]"]
    if output == "loss":
        lines.append(f"Y: [{points}, 2]")
    for k, (fan_in, fan_out) in enumerate(zip(widths, widths[1:], strict=False), start=1):
        lines += [f"W{k}: [{fan_in}, {fan_out}]", f"b{k}: [{fan_out}]"]
    layer = "X"
    for k in range(1, len(widths) - 1):
        lines.append(f"h{k} = {activation}({layer} @ W{k} + b{k})")
        layer = f"h{k}"
    last = len(widths) - 1
    lines.append(f"logits = {layer} @ W{last} + b{last}")
    if output == "loss":
        lines.append("loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))")
    else:
        lines.append("probability = softmax(logits, 1)")
    return "\n".join(lines)


@lru_cache(maxsize=32)
def _program(points: int, hidden: tuple[int, ...], activation: str, output: str) -> ad.Program:
    return ad.parse(network_source(points, hidden, activation, output))


def initial_params(hidden: tuple[int, ...], seed: int) -> dict[str, np.ndarray]:
    """Weights drawn with variance 1/fan-in (so tanh starts in its slope), biases zero."""
    rng = np.random.default_rng(seed)
    widths = (2, *hidden, 2)
    params: dict[str, np.ndarray] = {}
    for k, (fan_in, fan_out) in enumerate(zip(widths, widths[1:], strict=False), start=1):
        params[f"W{k}"] = rng.normal(0.0, 1.0 / math.sqrt(fan_in), (fan_in, fan_out))
        params[f"b{k}"] = np.zeros(fan_out)
    return params


@router.post("/train", response_model=TrainResponse)
async def train(body: TrainRequest, request: Request) -> Response:
    """Take `steps` gradient steps on the network's loss; the losses, weights and boundary."""
    settings = settings_of(request)
    return json_response(await run_job(request, _train, body, settings))


def _check(body: TrainRequest) -> dict[str, np.ndarray]:
    """The starting weights, after every limit and shape is checked (a 422 names it)."""
    if len(body.labels) != len(body.points):
        raise problem(f"{len(body.labels)} labels for {len(body.points)} points: give one "
                      f"label per point", ("body", "labels"), "input_error")
    widths = (2, *body.hidden, 2)
    weights = sum(a * b for a, b in zip(widths, widths[1:], strict=False))
    work = max(body.steps, 1) * len(body.points) * weights
    if work > MAX_TRAIN_WORK:
        raise problem(f"{body.steps} steps × {len(body.points)} points × {weights} weights is "
                      f"{work:,} multiply-adds; the limit is {MAX_TRAIN_WORK:,} "
                      f"(max_train_work): take fewer steps per request", ("body", "steps"),
                      "limit_exceeded", {"limit": "max_train_work"})
    start = initial_params(tuple(body.hidden), body.seed)
    if body.params is None:
        return start
    names = param_names(len(body.hidden) + 1)
    if sorted(body.params) != sorted(names):
        raise problem(f"params must hold exactly {', '.join(names)} for this network",
                      ("body", "params"), "input_error")
    out = {}
    for name in names:
        value = np.asarray(body.params[name], dtype=float)
        if value.shape != start[name].shape:
            shape = "×".join(map(str, start[name].shape))
            got = "×".join(map(str, value.shape)) or "a scalar"
            raise problem(f"{name}: expected a {shape} array for this network, got {got}",
                          ("body", "params", name), "input_error")
        out[name] = value
    return out


def _train(body: TrainRequest, settings: Settings) -> bytes:
    params = _check(body)
    hidden = tuple(body.hidden)
    names = param_names(len(hidden) + 1)
    X = np.asarray(body.points, dtype=float)
    Y = np.eye(2)[np.asarray(body.labels)]
    program = _program(len(X), hidden, body.activation, "loss")
    losses: list[float] = []
    norms: dict[str, float] = {}
    diverged = False
    with engine_errors(program):
        for k in range(body.steps + 1):
            if k == body.steps:  # the loss after the last step: a value, no gradient
                losses.append(_loss(program, {"X": X, "Y": Y, **params}))
                break
            loss, gradient = _gradients(program, {"X": X, "Y": Y, **params}, names)
            losses.append(loss)
            norms = {n: float(np.linalg.norm(g)) for n, g in gradient.items()}
            if not math.isfinite(loss) or not all(map(math.isfinite, norms.values())):
                diverged = True
                break
            params = {n: params[n] - body.learning_rate * gradient[n] for n in names}
            if any(np.abs(p).max() > DIVERGED for p in params.values()):
                diverged = True
                break
        boundary, predicted = _boundary(X, params, hidden, body.activation, body.grid)
    accuracy = float(np.mean(predicted == np.asarray(body.labels)))
    return to_json({
        "source": network_source(len(X), hidden, body.activation),
        "losses": [v if math.isfinite(v) else None for v in losses],
        "params": {n: params[n].tolist() for n in names}, "gradient_norms": norms,
        "accuracy": accuracy, "boundary": boundary, "diverged": diverged})


def _gradients(program: ad.Program, at: dict[str, np.ndarray], names: list[str]
               ) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradient with respect to the weights: one reverse pass of the
    engine's compiled path (the points and labels are data, not differentiated)."""
    result = ad.reverse(program, at, trace=False, wrt=names)
    return (float(result.values["loss"]),
            {n: np.asarray(result.derivatives["loss"][n], dtype=float) for n in names})


def _loss(program: ad.Program, at: dict[str, np.ndarray]) -> float:
    return float(ad.evaluate(program, at)["loss"])


def _probabilities(program: ad.Program, at: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(ad.evaluate(program, at)["probability"], dtype=float)


def _boundary(X: np.ndarray, params: dict[str, np.ndarray], hidden: tuple[int, ...],
              activation: str, side: int) -> tuple[dict[str, Any], np.ndarray]:
    """P(class 1) on a side × side grid around the data, and each point's predicted class."""
    centre = (X.min(axis=0) + X.max(axis=0)) / 2
    half = max(float((X.max(axis=0) - X.min(axis=0)).max()) / 2 * 1.25, 1e-3)
    xs = np.linspace(centre[0] - half, centre[0] + half, side)
    ys = np.linspace(centre[1] - half, centre[1] + half, side)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    both = np.concatenate([grid, X])
    program = _program(len(both), hidden, activation, "probability")
    p = _probabilities(program, {"X": both, **params})[:, 1]
    p = np.nan_to_num(p, nan=0.5)
    return ({"xs": xs.tolist(), "ys": ys.tolist(),
             "probability": p[:side * side].reshape(side, side).tolist()},
            (p[side * side:] > 0.5).astype(int))
