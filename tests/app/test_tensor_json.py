"""JSON answers of tensor programs: a 0-d array (a scalar node's value, a scalar output's
seed) is written as a number, never as a one-element list."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from app.responses import to_json

LAYER = "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"
AT = {"W": [[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]], "x": [1, -1, 0.5], "b": [0.1, -0.2]}


def test_a_zero_dimensional_array_is_a_number() -> None:
    assert to_json({"a": np.array(1.5), "b": np.arange(4.0).reshape(2, 2).T}) == \
        b'{"a":1.5,"b":[[0.0,2.0],[1.0,3.0]]}'


def test_a_scalar_outputs_seed_and_value_are_numbers(client: TestClient) -> None:
    r = client.post("/api/v1/differentiate", json={"source": LAYER, "at": AT, "mode": "reverse"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["passes"][0]["seed"] == {"y": 1.0}
    last = answer["primal"][-1]
    assert isinstance(last["value"], float) and last["shape"] == []
