"""POST /api/v1/descent: a gradient descent walk in one request, checked step by step
against the differentiate endpoint and against a walk computed by hand."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app

LOSS = "loss = 0.5*(w - 3)^2 + sin(2*w)"


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def test_descent_takes_the_steps_a_learner_would(api: TestClient) -> None:
    r = api.post("/api/v1/descent", json={"source": LOSS, "at": {"w": -1.0}, "rate": 0.1,
                                           "steps": 15})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["output"] == "loss" and not data["diverged"] and len(data["path"]) == 16
    w = -1.0  # by hand: L'(w) = (w - 3) + 2 cos(2w)
    for step in data["path"]:
        assert step["at"]["w"] == pytest.approx(w, rel=1e-12)
        assert step["loss"] == pytest.approx(0.5 * (w - 3) ** 2 + math.sin(2 * w), rel=1e-12)
        assert step["gradient"]["w"] == pytest.approx((w - 3) + 2 * math.cos(2 * w), rel=1e-12)
        w -= 0.1 * step["gradient"]["w"]


def test_fixed_inputs_stay_and_a_too_large_step_diverges(api: TestClient) -> None:
    r = api.post("/api/v1/descent", json={"source": "loss = (w*x - t)^2", "at": {"w": 0, "x": 2,
                                           "t": 1}, "params": ["w"], "rate": 0.05, "steps": 40})
    path = r.json()["path"]
    assert set(path[0]["at"]) == {"w"} and path[-1]["at"]["w"] == pytest.approx(0.5, abs=1e-3)
    r = api.post("/api/v1/descent", json={"source": "loss = w^2", "at": {"w": 1}, "rate": 1.5,
                                           "steps": 200})
    assert r.json()["diverged"] is True and len(r.json()["path"]) < 200


@pytest.mark.parametrize("body, where", [
    ({"source": LOSS, "at": {"w": 0}, "rate": 0.1, "steps": 201}, ["body", "steps"]),
    ({"source": LOSS, "at": {"w": 0}, "rate": 0, "steps": 5}, ["body", "rate"]),
    ({"source": LOSS, "at": {"w": 0}, "rate": 0.1, "steps": 5, "params": ["q"]},
     ["body", "params", 0]),
    ({"source": LOSS, "at": {"v": 0}, "rate": 0.1, "steps": 5}, ["body", "at"]),
])
def test_bad_descent_requests_are_422_naming_where(api: TestClient, body: dict,
                                                   where: list) -> None:
    r = api.post("/api/v1/descent", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(where)] == where
