"""Property tests: random and mutated programs sent to the API never cause a 5xx, and when a
program is valid, forward and reverse mode agree through the API."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff_core as ad

SEEDS = ["x = 3*w; y = 2*x^2 + 4", "b = a + a; c = b + b", "u = sin(x)*y; f = u / (1 + y^2)",
         "c = 1; c = c + w; c = c*c", "y = max(w, 2) - relu(-w) + sqrt(abs(w) + 1)"]
TOKENS = ["w", "x", "y", "a", "1", "2.5", "0", "+", "-", "*", "/", "**", "^", "(", ")", "=",
          ";", "\n", "sin(", "log(", "exp(", "sqrt(", "max(", ",", ".", "'", "_", "__", "e",
          "pi", "1e308", "9**9**9", "lambda", "[", "]", "#", " "]

leaf = st.sampled_from(["w", "x", "1", "2", "0.5", "pi"])
expression = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["sin", "cos", "exp", "log", "tanh", "sqrt", "sigmoid"]),
                  inner).map(lambda t: f"{t[0]}({t[1]})")),
    max_leaves=12)
mutated = st.tuples(st.sampled_from(SEEDS), st.lists(
    st.tuples(st.integers(0, 60), st.sampled_from(TOKENS), st.booleans()), max_size=4)
).map(lambda t: _mutate(*t))


def _mutate(source: str, edits: list[tuple[int, str, bool]]) -> str:
    for position, token, delete in edits:
        i = position % (len(source) + 1)
        source = source[:i] + source[i + 1:] if delete else source[:i] + token + source[i:]
    return source


def _no_nan(text: str) -> None:
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(source=st.one_of(mutated, st.text(max_size=80), expression.map(lambda e: f"y = {e}")),
       mode=st.sampled_from(["forward", "reverse"]),
       w=st.floats(-5, 5, allow_nan=False), x=st.floats(-5, 5, allow_nan=False))
def test_random_programs_never_5xx(client: TestClient, source: str, mode: str, w: float,
                                   x: float) -> None:
    values = {"w": w, "x": x, "a": 1.0, "y": 0.5, "b": -1.0, "u": 2.0}
    try:  # give exactly the program's inputs, so valid programs get past the point check
        at = {name: values.get(name, 1.0) for name in ad.parse(source).inputs}
    except ad.AutodiffError:
        at = {}
    r = client.post("/api/v1/differentiate", json={"source": source, "at": at, "mode": mode})
    assert r.status_code in (200, 422), r.text[:300]
    _no_nan(r.text)
    r = client.post("/api/v1/render", json={"source": source, "format": "dot"})
    assert r.status_code in (200, 422)


@FUZZ
@given(body=expression, w=st.floats(0.1, 3), x=st.floats(0.1, 3))
def test_forward_and_reverse_agree_through_the_api(client: TestClient, body: str, w: float,
                                                   x: float) -> None:
    source = f"y = {body} + w + x"  # both inputs always present
    answers = []
    for mode in ("forward", "reverse"):
        r = client.post("/api/v1/differentiate",
                        json={"source": source, "at": {"w": w, "x": x}, "mode": mode,
                              "trace": False})
        assert r.status_code in (200, 422), r.text[:300]
        if r.status_code == 422:
            assert r.json()["detail"][0]["type"] == "evaluation_error"
            return
        answers.append(r.json()["derivatives"]["y"])
    forward, reverse = answers
    for name in ("w", "x"):
        a, b = forward[name], reverse[name]
        assert (a is None) == (b is None)
        if a is not None:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (name, a, b)
