"""The REST API on tensor programs: a layer and a small MLP through /differentiate (both
modes), /jacobian and /hessian, checked against central differences of the same functions
written here in numpy (independent of the engine); shape errors at line and column; values of
the wrong shape; every limit that counts tensor work refused fast, with the server still
serving; malformed nested lists always a 422, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import start_server, stop_server

Arrays = dict[str, np.ndarray]

LAYER = "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"
LAYER_OUT = "W: [2, 3]\nx: [3]\nb: [2]\nh = tanh(W @ x + b)"  # a vector output
MLP = """X: [4, 3]
Y: [4, 2]
W1: [3, 5]
b1: [5]
W2: [5, 2]
b2: [2]
h = relu(X @ W1 + b1)
logits = h @ W2 + b2
loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))"""
PARAMS = ["W1", "b1", "W2", "b2"]


def layer(a: Arrays) -> np.ndarray:
    return np.tanh(a["W"] @ a["x"] + a["b"])


def mlp(a: Arrays) -> np.ndarray:
    h = np.maximum(a["X"] @ a["W1"] + a["b1"], 0.0)
    logits = h @ a["W2"] + a["b2"]
    top = logits.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return np.asarray(np.mean(logsumexp - np.sum(a["Y"] * logits, axis=1)))


def layer_point() -> Arrays:
    return {"W": np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]]), "x": np.array([1.0, -1.0, 0.5]),
            "b": np.array([0.1, -0.2])}


def mlp_point() -> Arrays:
    rng = np.random.default_rng(13)
    point = {"X": rng.normal(size=(4, 3)), "Y": np.eye(2)[[0, 1, 1, 0]],
             "W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5) * 0.1,
             "W2": rng.normal(size=(5, 2)), "b2": rng.normal(size=2) * 0.1}
    # central differences need every relu away from its kink
    assert np.abs(point["X"] @ point["W1"] + point["b1"]).min() > 1e-3
    return point


def listed(point: Arrays) -> dict[str, Any]:
    return {name: value.tolist() for name, value in point.items()}


def central_jacobian(f: Callable[[Arrays], np.ndarray], point: Arrays, name: str,
                     h: float = 1e-6) -> np.ndarray:
    """d f / d point[name] by central differences: shape f.shape + point[name].shape."""
    base = point[name]
    columns = []
    for index in np.ndindex(base.shape):
        plus, minus = dict(point), dict(point)
        plus[name], minus[name] = base.copy(), base.copy()
        plus[name][index] += h
        minus[name][index] -= h
        columns.append((f(plus) - f(minus)) / (2 * h))
    out_shape = np.shape(f(point))
    return np.moveaxis(np.array(columns), 0, -1).reshape(out_shape + base.shape)


def close(got: Any, want: np.ndarray, tol: float = 1e-6) -> None:
    got = np.asarray(got, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.allclose(got, want, rtol=tol * 10, atol=tol), (got, want)


@pytest.fixture(scope="module")
def http() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as client:
        yield client


def post(client: TestClient | httpx.Client, path: str, **body: Any) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text[:600]
    data: dict[str, Any] = r.json()
    return data


def refused(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 422, r.text[:600]
    [entry] = r.json()["detail"]
    assert isinstance(entry, dict)
    return entry


# --- derivatives against central differences ------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_layer_gradient_has_each_input_shape(http: TestClient, mode: str) -> None:
    point = layer_point()
    data = post(http, "/api/v1/differentiate", source=LAYER, at=listed(point), mode=mode)
    assert data["values"]["y"] == pytest.approx(float(np.sum(layer(point))))
    for name in point:
        close(data["derivatives"]["y"][name],
              central_jacobian(lambda a: np.sum(layer(a)), point, name))
    # forward mode: one pass per input element (6 + 3 + 2); reverse: one per output element
    assert len(data["passes"]) == (11 if mode == "forward" else 1)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_mlp_gradient_of_its_parameters(http: TestClient, mode: str) -> None:
    point = mlp_point()
    data = post(http, "/api/v1/differentiate", source=MLP, at=listed(point), mode=mode,
                wrt=PARAMS, trace=False)
    assert data["values"]["loss"] == pytest.approx(float(mlp(point)))
    assert set(data["derivatives"]["loss"]) == set(PARAMS)  # X and Y are data
    for name in PARAMS:
        close(data["derivatives"]["loss"][name], central_jacobian(mlp, point, name))


def test_array_seeds_and_cotangents_give_directional_derivatives(http: TestClient) -> None:
    point = layer_point()
    jacobians = {name: central_jacobian(layer, point, name) for name in point}  # h: 2 x ...
    # forward: J·v for a direction on W alone (one pass)
    v = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
    data = post(http, "/api/v1/differentiate", source=LAYER_OUT, at=listed(point),
                mode="forward", seed={"W": v.tolist()})
    assert len(data["passes"]) == 1
    close(data["directional"]["h"], np.tensordot(jacobians["W"], v, axes=2))
    # reverse: uᵀJ for a weighting of the outputs (one pass)
    u = np.array([2.0, -1.0])
    data = post(http, "/api/v1/differentiate", source=LAYER_OUT, at=listed(point),
                cotangent={"h": u.tolist()})
    for name in point:
        close(data["directional"][name], np.tensordot(u, jacobians[name], axes=1))
    entry = refused(http.post("/api/v1/differentiate", json={
        "source": LAYER_OUT, "at": listed(point), "wrt": ["W", "z"]}))
    assert entry["loc"] == ["body", "wrt", 1] and "'z' is not an input" in entry["msg"]


def test_the_mlp_traced_step_by_step(http: TestClient) -> None:
    point = mlp_point()
    data = post(http, "/api/v1/differentiate", source=MLP, at=listed(point), wrt=PARAMS)
    [sweep] = data["passes"]
    assert sweep["seed"] == {"loss": 1.0}  # a 0-d array is written as its number, not [1.0]
    steps = {step["node"]: step for step in sweep["steps"]}
    nodes = {node["id"]: node for node in data["graph"]["nodes"]}
    for node_id, step in steps.items():
        assert step["shape"] == nodes[node_id]["shape"]
        assert np.shape(step["adjoint"]) == tuple(step["shape"])
    w1 = data["graph"]["inputs"]["W1"]
    assert nodes[w1]["shape"] == [3, 5]
    close(steps[w1]["adjoint"], central_jacobian(mlp, point, "W1"))
    # broadcasting's adjoint is a step of its own
    assert any(node["op"] == "broadcast" for node in nodes.values())
    primal = {step["node"]: step for step in data["primal"]}
    assert np.shape(primal[w1]["value"]) == (3, 5)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_jacobian_of_a_vector_output(http: TestClient, mode: str) -> None:
    point = layer_point()
    data = post(http, "/api/v1/jacobian", source=LAYER_OUT, at=listed(point), mode=mode)
    for name in point:
        close(data["matrix"]["h"][name], central_jacobian(layer, point, name))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_jacobian_counts_a_pass_per_element(http: TestClient, mode: str) -> None:
    data = post(http, "/api/v1/jacobian", source=LAYER_OUT, at=listed(layer_point()), mode=mode)
    assert data["passes"] == (11 if mode == "forward" else 2)


def second_differences(f: Callable[[Arrays], float], point: Arrays, names: list[str],
                       h: float = 1e-4) -> np.ndarray:
    """The Hessian of f over the elements of point[names] (flattened in that order, row-major)
    by central second differences."""
    flat = np.concatenate([point[name].ravel() for name in names])

    def g(v: np.ndarray) -> float:
        parts, k = {}, 0
        for name in names:
            size = point[name].size
            parts[name] = v[k:k + size].reshape(point[name].shape)
            k += size
        return f({**point, **parts})

    n = flat.size
    e = np.eye(n) * h
    return np.array([[(g(flat + e[i] + e[j]) - g(flat + e[i] - e[j]) - g(flat - e[i] + e[j])
                       + g(flat - e[i] - e[j])) / (4 * h * h) for j in range(n)]
                     for i in range(n)])


def test_the_hessian_of_a_layer(http: TestClient) -> None:
    point = layer_point()
    data = post(http, "/api/v1/hessian", source=LAYER, at=listed(point))
    want = second_differences(lambda a: float(np.sum(layer(a))), point, ["W", "x", "b"])
    close(data["matrix"], want, tol=1e-5)
    assert data["labels"][:3] == ["W[0,0]", "W[0,1]", "W[0,2]"] and data["labels"][-1] == "b[1]"
    # the blocks: hessian[W][x] has the shape W.shape + x.shape
    close(data["hessian"]["W"]["x"], want[:6, 6:9].reshape(2, 3, 3), tol=1e-5)
    close(data["gradient"]["W"], central_jacobian(lambda a: np.sum(layer(a)), point, "W"))
    grid = {**listed(point), "x": [point["x"].tolist()] * 2}
    assert "at one point" in refused(http.post("/api/v1/hessian",
                                               json={"source": LAYER, "at": grid}))["msg"]


def test_scalar_answers_keep_their_shape(http: TestClient) -> None:
    data = post(http, "/api/v1/hessian", source="x = 3*w; y = 2*x^2 + 4", at={"w": 1.0})
    assert data == {"output": "y", "value": 22.0, "gradient": {"w": 36.0},
                    "hessian": {"w": {"w": 36.0}}, "invalid_points": 0}
    data = post(http, "/api/v1/differentiate", source="x = 3*w; y = 2*x^2 + 4", at={"w": 1.0})
    assert data["derivatives"] == {"y": {"w": 36.0}} and data["values"]["y"] == 22.0
    assert data["passes"][0]["seed"] == {"y": 1.0}


def test_derivative_programs_of_a_layer(http: TestClient) -> None:
    point = layer_point()
    at = listed(point)
    data = post(http, "/api/v1/derivative", source=LAYER, transform="grad", at=at)
    assert "@" in data["program"]["text"]  # matmuls, not scalar multiply-adds
    for name in point:
        close(data["values"][f"dy/d{name}"],
              central_jacobian(lambda a: np.sum(layer(a)), point, name))
    # the tangent program: y_dot = the gradient · the direction
    direction = {f"{name}_dot": np.ones_like(value) for name, value in point.items()}
    data = post(http, "/api/v1/derivative", source=LAYER, transform="jvp",
                at={**at, **listed(direction)})
    gradient = sum(np.sum(central_jacobian(lambda a: np.sum(layer(a)), point, name))
                   for name in point)
    assert data["values"]["y_dot"] == pytest.approx(gradient, rel=1e-6)
    # the adjoint program of one output: its adjoint is an input of the output's shape
    data = post(http, "/api/v1/derivative", source=LAYER_OUT, transform="vjp", output="h",
                at={**at, "h_bar": [1.0, 0.0]})
    close(data["values"]["x_bar"], central_jacobian(layer, point, "x")[0])
    # a tensor constant in a derivative program's LaTeX (was a 500: `value or 0.0` of an array)
    data = post(http, "/api/v1/derivative", source="X: [3, 2]\ny = sum(X * 2 + [1, 2])",
                transform="grad")
    assert "[1, 2]" in data["program"]["latex"]
    # the second derivative in a scalar input, through tensors: d²/da² sum(W a²) = 2 sum(W)
    data = post(http, "/api/v1/derivative", source="W: [2]\ny = sum(W * a * a)",
                transform="derivative", wrt="a", order=2, at={"W": [1.0, 2.0], "a": 3.0})
    assert data["values"]["d2y/da2"] == pytest.approx(6.0)
    for transform in ("derivative", "hvp"):
        entry = refused(http.post("/api/v1/derivative",
                                  json={"source": LAYER, "transform": transform, "wrt": "x"}))
        assert "not yet supported for tensor programs" in entry["msg"]


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_a_tensor_program_exported(http: TestClient, framework: str) -> None:
    code = post(http, "/api/v1/export", source=LAYER, framework=framework)["code"]
    assert "@" in code and "def program(**inputs)" in code


def test_a_grid_of_tensor_points(http: TestClient) -> None:
    point = layer_point()
    grid = {**listed(point), "W": [point["W"].tolist(), (2 * point["W"]).tolist()]}
    data = post(http, "/api/v1/differentiate", source=LAYER, at=grid, trace=False)
    assert np.shape(data["derivatives"]["y"]["W"]) == (2, 2, 3)
    doubled = {**point, "W": 2 * point["W"]}
    close(data["derivatives"]["y"]["W"][1],
          central_jacobian(lambda a: np.sum(layer(a)), doubled, "W"))


# --- errors that say what and where -------------------------------------------------------


@pytest.mark.parametrize(("source", "shown", "line"), [
    ("W: [2, 3]\nx: [2]\ny = sum(W @ x)", "2×3 @ 2", 3),
    ("a: [5, 2]\nb: [5]\n\nc = a + b", "5×2 and 5", 4),
])
def test_a_shape_error_is_a_422_at_line_and_column(http: TestClient, source: str, shown: str,
                                                   line: int) -> None:
    for path in ("/api/v1/differentiate", "/api/v1/render", "/api/v1/jacobian"):
        entry = refused(http.post(path, json={"source": source}))
        assert shown in entry["msg"] and entry["loc"] == ["body", "source"]
        assert entry["ctx"]["line"] == line and entry["ctx"]["column"] >= 1


@pytest.mark.parametrize(("value", "got"), [
    ([[0.5, 0.2], [-0.3, 0.7], [0.8, -0.6]], "3×2"),
    (1.0, "a number"),
    ([0.5, -0.3, 0.8], "3"),
    ([[[0.5, -0.3], [0.8, 0.2]]], "1×2×2"),
])
def test_a_value_of_the_wrong_shape_names_the_input_and_both_shapes(
        http: TestClient, value: Any, got: str) -> None:
    at = {**listed(layer_point()), "W": value}
    for path in ("/api/v1/differentiate", "/api/v1/jacobian", "/api/v1/hessian"):
        entry = refused(http.post(path, json={"source": LAYER, "at": at}))
        assert entry["loc"] == ["body", "at", "W"]
        assert entry["msg"] == f"W: expected a 2×3 array (or a grid of them), got {got}"
        assert entry["ctx"] == {"input": "W", "expected": "2×3", "got": got}


DEEP = 1.0
for _ in range(50):
    DEEP = [DEEP]  # type: ignore[assignment]
MALFORMED: dict[str, Any] = {
    "ragged rows": [[1.0, 2.0, 3.0], [4.0, 5.0]],
    "a number among rows": [[1.0, 2.0, 3.0], 4.0],
    "lists at different depths": [[1.0, 2.0, 3.0], [[4.0], [5.0], [6.0]]],
    "a string": [[1.0, "2", 3.0], [4.0, 5.0, 6.0]],
    "true": [[1.0, True, 3.0], [4.0, 5.0, 6.0]],
    "null": [[1.0, None, 3.0], [4.0, 5.0, 6.0]],
    "an object": {"rows": [[1.0]]},
    "empty": [],
    "depth 50": DEEP,
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_nested_lists_are_422s(http: TestClient, name: str) -> None:
    at = {**listed(layer_point()), "W": MALFORMED[name]}
    for path in ("/api/v1/differentiate", "/api/v1/jacobian", "/api/v1/hessian"):
        entry = refused(http.post(path, json={"source": LAYER, "at": at}))
        assert entry["loc"][:3] == ["body", "at", "W"], entry


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_an_array_are_422s(http: TestClient, text: str) -> None:
    body = f'{{"source": "W: [2]\\ny = sum(W)", "at": {{"W": [1.0, {text}]}}}}'
    r = http.post("/api/v1/differentiate", content=body,
                  headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


json_leaf = st.one_of(st.floats(-1e3, 1e3), st.integers(-5, 5), st.text(max_size=2),
                      st.none(), st.booleans())
nested = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4), max_leaves=30)
FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(value=st.one_of(nested, st.lists(st.lists(st.floats(-10, 10), min_size=3, max_size=3),
                                        min_size=2, max_size=2)),
       path=st.sampled_from(["/api/v1/differentiate", "/api/v1/jacobian", "/api/v1/hessian"]))
def test_any_nested_value_gets_an_answer_or_a_422(http: TestClient, value: Any,
                                                  path: str) -> None:
    r = http.post(path, json={"source": LAYER, "at": {**listed(layer_point()), "W": value}})
    assert r.status_code in (200, 422), r.text[:400]
    if r.status_code == 200:  # only an array ending in the declared shape
        assert np.shape(value)[-2:] == (2, 3)
    else:  # (the Hessian of a tensor program is at one point only: a grid is refused too)
        assert r.json()["detail"][0]["loc"][:2] == ["body", "at"]


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/numeric", {"wrt": "x", "at": {"W": 1.0, "x": 1.0, "b": 1.0}}),
    ("/api/v1/symbolic", {"wrt": "x"}),
    ("/api/v1/quiz", {"at": {"W": 1.0, "x": 1.0, "b": 1.0}}),
    ("/api/v1/descent", {"at": {"W": 1.0, "x": 1.0, "b": 1.0}, "rate": 0.1, "steps": 1}),
])
def test_scalar_only_endpoints_say_so_for_tensor_programs(http: TestClient, path: str,
                                                          body: dict[str, Any]) -> None:
    entry = refused(http.post(path, json={"source": LAYER, **body}))
    assert entry["type"] == "not_supported_for_tensors"
    assert "not yet on tensor programs" in entry["msg"] and "W: 2×3" in entry["msg"]


# --- limits that count tensor work, before doing it -----------------------------------------


def limited(r: httpx.Response, limit: str) -> str:
    entry = refused(r)
    assert entry["type"] == "limit_exceeded" and entry["ctx"]["limit"] == limit, entry
    assert f"({limit})" in entry["msg"]
    return str(entry["msg"])


def zeros(*shape: int) -> list[Any]:
    return np.zeros(shape).tolist()  # type: ignore[no-any-return]


HUGE = "W: [100000, 100000]\nx: [100000]\ny = sum(W @ x)"
# forward mode over a 300 x 100 input: 30,100 passes of a 30,000-multiply-add product
WIDE_LAYER = "W: [300, 100]\nx: [100]\ny = sum(tanh(W @ x))"
WIDE_AT = {"W": zeros(300, 100), "x": zeros(100)}
CHAIN = "A: [150, 150]\nB0 = A\n" + "\n".join(f"B{i} = B{i - 1} @ A" for i in range(1, 111)) \
    + "\ny = sum(B110)"
# 6,400 elements in every step of the trace
BIG_TRACE = "X: [64, 100]\ny = sum(tanh(X))"
# a 100-element vector at each of 10,000 grid points
GRID = "v: [100]\ny = sum(v * s)"
GRID_AT = {"v": zeros(100), "s": [[float(i)] for i in range(10_000)]}

ATTACKS: dict[str, tuple[str, dict[str, Any], str]] = {
    "W: [100000, 100000] (parse)": ("/api/v1/render", {"source": HUGE}, "max_elements"),
    "W: [100000, 100000] (values)": ("/api/v1/differentiate",
                                     {"source": HUGE, "at": {"W": 1.0, "x": 1.0}},
                                     "max_elements"),
    # each of its 30,100 passes would keep a seed of 30,100 numbers
    "forward mode over a 300x100 input": (
        "/api/v1/differentiate", {"source": WIDE_LAYER, "at": WIDE_AT, "mode": "forward",
                                  "trace": False}, "max_elements"),
    "a forward Jacobian over a 300x100 input": (
        "/api/v1/jacobian", {"source": WIDE_LAYER, "at": WIDE_AT, "mode": "forward"},
        "max_elements"),
    # 110 chained 150x150 products: 3.4 million multiply-adds each, 111 arrays of 22,500
    "a chain of matrix products": (
        "/api/v1/differentiate", {"source": CHAIN, "at": {"A": zeros(150, 150)},
                                  "trace": False}, "max_element_ops"),
    "the Hessian over 30,100 input elements": (
        "/api/v1/hessian", {"source": WIDE_LAYER, "at": WIDE_AT}, "max_elements"),
    "a trace of 64x100 arrays": ("/api/v1/differentiate",
                                 {"source": BIG_TRACE, "at": {"X": zeros(64, 100)}},
                                 "max_trace_size"),
    "a vector at 10,000 grid points": ("/api/v1/differentiate",
                                       {"source": GRID, "at": GRID_AT, "trace": False},
                                       "max_elements"),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_each_tensor_limit_is_named(http: TestClient, name: str) -> None:
    path, body, limit = ATTACKS[name]
    limited(http.post(path, json=body), limit)


def test_what_the_limits_suggest_works(http: TestClient) -> None:
    # the trace refused: the untraced answer is there
    msg = limited(http.post("/api/v1/differentiate", json=ATTACKS["a trace of 64x100 arrays"][1]),
                  "max_trace_size")
    assert '"trace": false' in msg
    data = post(http, "/api/v1/differentiate", source=BIG_TRACE, at={"X": zeros(64, 100)},
                trace=False)
    assert np.shape(data["derivatives"]["y"]["X"]) == (64, 100)
    # forward mode refused: reverse mode is one pass
    msg = limited(http.post("/api/v1/differentiate",
                            json=ATTACKS["forward mode over a 300x100 input"][1]),
                  "max_elements")
    assert "reverse mode" in msg
    data = post(http, "/api/v1/differentiate", source=WIDE_LAYER, at=WIDE_AT, trace=False)
    assert np.shape(data["derivatives"]["y"]["W"]) == (300, 100)


def test_small_limits_count_elements_multiply_adds_and_the_trace() -> None:
    """Each count at its edge, with settings small enough to make each case cheap."""
    at = listed(layer_point())
    # the layer's nodes hold 2*3 + 3 + 2 + 2 + 2 + 2 + 2 + 1 = 20 numbers (a broadcast of b
    # may add 2); at 3 grid points 60
    grid = {**at, "W": [at["W"]] * 3}
    with TestClient(create_app(Settings(max_elements=40))) as client:
        post(client, "/api/v1/differentiate", source=LAYER, at=at, trace=False)
        msg = limited(client.post("/api/v1/differentiate",
                                  json={"source": LAYER, "at": grid, "trace": False}),
                      "max_elements")
        assert "at 3 points" in msg
    # a 2x3 @ 3 product: 6 multiply-adds; forward mode: 11 passes
    with TestClient(create_app(Settings(max_element_ops=500))) as client:
        post(client, "/api/v1/differentiate", source=LAYER, at=at, trace=False)
        limited(client.post("/api/v1/differentiate",
                            json={"source": LAYER, "at": at, "mode": "forward"}),
                "max_element_ops")
    with TestClient(create_app(Settings(max_trace_size=300))) as client:
        post(client, "/api/v1/differentiate", source=LAYER, at=at)  # one reverse pass
        limited(client.post("/api/v1/differentiate",
                            json={"source": LAYER, "at": at, "mode": "forward"}),
                "max_trace_size")
        post(client, "/api/v1/differentiate", source=LAYER, at=at, mode="forward", trace=False)


def test_limits_on_a_real_server_are_fast_and_it_keeps_serving() -> None:
    process, url = start_server()
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            ok = {"source": LAYER, "at": listed(layer_point())}
            assert client.post("/api/v1/differentiate", json=ok).status_code == 200
            # a job for a worker process, once they have started
            assert client.post("/api/v1/render", json={"source": LAYER}).status_code == 200
            for name, (path, body, limit) in ATTACKS.items():
                elapsed = float("inf")
                for _ in range(2):  # the best of two: one pause of a loaded machine is no fault
                    started = time.monotonic()
                    limited(client.post(path, json=body), limit)
                    elapsed = min(elapsed, time.monotonic() - started)
                # refused before the work: far below the 10 s the work would be stopped at
                assert elapsed < 5, (name, elapsed)
                assert client.post("/api/v1/differentiate", json=ok).status_code == 200
    finally:
        stop_server(process)


def test_openapi_shows_a_tensor_example(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    at = schema["components"]["schemas"]["DifferentiateRequest"]["properties"]["at"]
    assert any("W" in example for example in at["examples"])
    nested = schema["components"]["schemas"]["NestedList"]
    assert json.dumps(nested).count("NestedList") == 1  # recursive: lists of lists, any depth
