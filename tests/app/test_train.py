"""POST /api/v1/train through the HTTP stack: training lowers the loss on two moons, the
engine's gradients agree with central differences of the loss on a tiny network (an
independent check, numpy only), chunks of steps continue where the last one stopped, and
every limit or malformed request is a 422 that says what."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.routes import train


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def two_moons(count: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, count)
    labels = np.arange(count) % 2
    x = np.where(labels == 0, np.cos(t), 1 - np.cos(t)) + rng.normal(0, noise, count)
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t)) + rng.normal(0, noise, count)
    return np.stack([x, y], axis=1).tolist(), labels.tolist()


POINTS, LABELS = two_moons(80, 0.1, 1)


def test_training_lowers_the_loss_and_the_boundary_parts_the_moons(api: TestClient) -> None:
    r = api.post("/api/v1/train", json={"points": POINTS, "labels": LABELS, "hidden": [8],
                                         "learning_rate": 1.0, "steps": 150})
    assert r.status_code == 200, r.text
    body = r.json()
    losses = body["losses"]
    assert len(losses) == 151 and not body["diverged"]
    assert losses[-1] < 0.5 * losses[0]
    assert body["accuracy"] >= 0.85
    grid = np.array(body["boundary"]["probability"])
    assert grid.shape == (25, 25) and ((grid >= 0) & (grid <= 1)).all()
    assert grid.min() < 0.1 and grid.max() > 0.9  # both classes have their region
    assert "loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))" in body["source"]


def test_chunks_continue_where_the_last_stopped(api: TestClient) -> None:
    base = {"points": POINTS, "labels": LABELS, "hidden": [4, 4], "activation": "relu",
            "learning_rate": 0.5, "seed": 3}
    whole = api.post("/api/v1/train", json={**base, "steps": 20}).json()
    first = api.post("/api/v1/train", json={**base, "steps": 10}).json()
    second = api.post("/api/v1/train", json={**base, "steps": 10,
                                             "params": first["params"]}).json()
    assert second["losses"][0] == pytest.approx(first["losses"][-1], rel=1e-12)
    assert first["losses"][:-1] + second["losses"] == pytest.approx(whole["losses"], rel=1e-9)
    for name, value in whole["params"].items():
        assert np.allclose(second["params"][name], value, rtol=1e-9, atol=1e-12)


def numpy_loss(params: dict[str, np.ndarray], X: np.ndarray, labels: np.ndarray) -> float:
    """The network's loss written directly in numpy: tanh layers, softmax cross-entropy."""
    h = X
    layers = len(params) // 2
    for k in range(1, layers):
        h = np.tanh(h @ params[f"W{k}"] + params[f"b{k}"])
    logits = h @ params[f"W{layers}"] + params[f"b{layers}"]
    top = logits.max(axis=1, keepdims=True)
    lse = (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(lse - logits[np.arange(len(X)), labels]))


def test_one_step_moves_by_the_central_difference_gradient(api: TestClient) -> None:
    # A tiny net (2-3-2, 5 points). One step at rate η moves each weight by −η·∂L/∂w; the
    # gradient is estimated here by central differences of numpy_loss, entry by entry.
    X = np.array(POINTS[:5])
    labels = np.array(LABELS[:5])
    params = {k: np.asarray(v) for k, v in train.initial_params((3,), 7).items()}
    rate, h = 0.1, 1e-6
    r = api.post("/api/v1/train", json={
        "points": X.tolist(), "labels": labels.tolist(), "hidden": [3], "steps": 1,
        "learning_rate": rate, "params": {k: v.tolist() for k, v in params.items()}})
    assert r.status_code == 200, r.text
    after = r.json()["params"]
    assert r.json()["losses"][0] == pytest.approx(numpy_loss(params, X, labels), rel=1e-12)
    for name, value in params.items():
        estimate = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += h
            down[name][index] -= h
            estimate[index] = (numpy_loss(up, X, labels) - numpy_loss(down, X, labels)) / (2 * h)
        moved = (value - np.asarray(after[name])) / rate
        assert np.allclose(moved, estimate, rtol=1e-5, atol=1e-8), name


@pytest.mark.parametrize("change, where", [
    ({"steps": train.MAX_STEPS + 1}, "steps"),
    ({"hidden": [train.MAX_WIDTH + 1]}, "hidden"),
    ({"hidden": [4, 4, 4]}, "hidden"),
    ({"grid": train.MAX_GRID + 1}, "grid"),
    ({"points": [[0.0, 0.0]] * (train.MAX_POINTS + 1)}, "points"),
    ({"labels": [2] * 80}, "labels"),
    ({"labels": [0, 1]}, "2 labels for 80 points"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"hidden": [32, 32], "steps": 200, "points": [[0.0, 1.0]] * 400, "labels": [0] * 400},
     "max_train_work"),
    ({"params": {"W1": [[1.0]]}}, "W1, b1, W2, b2"),
    ({"params": {"W1": [[1.0, 2.0]], "b1": [0.0], "W2": [[1.0]], "b2": [0.0]}},
     "W1: expected a 2×8 array"),
    ({"points": [[0.0, "x"]] * 80}, "points"),
])
def test_limits_and_bad_requests_are_422s_that_say_what(api: TestClient, change: dict,
                                                        where: str) -> None:
    body = {"points": POINTS, "labels": LABELS, "hidden": [8], "steps": 5, **change}
    r = api.post("/api/v1/train", json=body)
    assert r.status_code == 422, r.text[:300]
    assert where in r.text
    assert api.get("/healthz").status_code == 200
