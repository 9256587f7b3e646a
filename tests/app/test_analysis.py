"""The analysis endpoints: Jacobian costs, derivative programs, symbolic and numeric."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def post(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(API + path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def error(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(API + path, json=body)
    assert response.status_code == 422, response.text
    return response.json()["detail"][0]


def test_jacobian_reports_both_modes(client: TestClient) -> None:
    body = {"source": "s = a*b; t = sin(a) + b", "outputs": ["s", "t"],
            "at": {"a": 1.0, "b": 2.0}}
    fwd = post(client, "/jacobian", {**body, "mode": "forward"})
    rev = post(client, "/jacobian", body)
    for out in ("s", "t"):
        assert fwd["matrix"][out] == pytest.approx(rev["matrix"][out])
    assert fwd["matrix"]["t"]["a"] == pytest.approx(math.cos(1.0))
    assert rev["matrix"]["s"] == {"a": 2.0, "b": 1.0}
    assert fwd["passes"] == 2 and rev["cost"]["reverse"]["passes"] == 2
    # Counted by hand: 3 primal ops (mul, sin, add); 1 partial formula (cos for sin; mul's
    # partials are operands, add's constants); 5 active edges, 2 operations each per pass.
    # Forward: 2 passes x 5 edges x 2 = 20. Reverse: s's pass walks 2 edges, t's 3: 2 x 5 = 10.
    expected = {"forward": {"passes": 2, "primal": 3, "partials": 1, "sweeps": 20,
                            "operations": 24},
                "reverse": {"passes": 2, "primal": 3, "partials": 1, "sweeps": 10,
                            "operations": 14}}
    assert fwd["cost"] == expected and rev["cost"] == expected
    assert fwd["cheaper"] == rev["cheaper"] == "reverse"
    assert fwd["operations"] == 24 and rev["operations"] == 14


def test_jacobian_cost_favours_reverse_for_many_inputs(client: TestClient) -> None:
    names = [f"x{i}" for i in range(20)]
    source = "y = " + " + ".join(f"{n}*{n}" for n in names)
    data = post(client, "/jacobian", {"source": source, "at": dict.fromkeys(names, 1.0)})
    assert data["cheaper"] == "reverse"
    assert data["cost"]["forward"]["operations"] > 5 * data["cost"]["reverse"]["operations"]


def test_derivative_program_text_latex_graph_values_and_svg(client: TestClient) -> None:
    data = post(client, "/derivative", {"source": "y = sin(x) * x", "wrt": "x", "order": 2,
                                        "at": {"x": [0.0, 1.0]}, "svg": True})
    assert data["outputs"] == ["d2y/dx2"] and "y''" in data["program"]["text"]
    assert data["program"]["latex"].startswith(r"\begin{aligned}")
    assert data["program"]["svg"].lstrip().startswith("<svg")
    assert {n["id"] for n in data["program"]["graph"]["nodes"]} >= {"v0", "v1"}
    expected = [2 * math.cos(x) - x * math.sin(x) for x in (0.0, 1.0)]
    assert data["values"]["d2y/dx2"] == pytest.approx(expected)


@pytest.mark.parametrize("transform,at,name,expected", [
    ("grad", {"a": 2.0, "b": 3.0}, "dt/da", 3.0),
    ("jvp", {"a": 2.0, "b": 3.0, "a_dot": 1.0, "b_dot": 1.0}, "t_dot", 5.0),
    ("vjp", {"a": 2.0, "b": 3.0, "t_bar": 2.0}, "b_bar", 4.0),
    ("hvp", {"a": 2.0, "b": 3.0, "a_dot": 0.0, "b_dot": 1.0}, "dt/da_dot", 1.0),
])
def test_each_transform_evaluates(client: TestClient, transform: str, at: dict, name: str,
                                  expected: float) -> None:
    data = post(client, "/derivative", {"source": "t = a*b", "transform": transform, "at": at})
    assert data["values"][name] == pytest.approx(expected)


def test_derivative_errors_name_the_field(client: TestClient) -> None:
    assert error(client, "/derivative", {"source": "y = x^2", "wrt": "q"})["loc"] == \
        ["body", "wrt"]
    assert error(client, "/derivative", {"source": "y = x^2"})["loc"] == ["body", "wrt"]
    assert error(client, "/derivative", {"source": "y = x^2", "transform": "hvp",
                                         "at": {"x": 1.0}})["type"] == "missing"
    assert client.post(f"{API}/derivative", json={"source": "y = x", "wrt": "x",
                                                  "order": 99}).status_code == 422
    root = error(client, "/derivative", {"source": "y = sqrt(x)", "wrt": "x", "at": {"x": -1.0}})
    assert root["type"] == "evaluation_error" and root["ctx"]["op"] == "sqrt"


def test_symbolic_expression_and_sizes(client: TestClient) -> None:
    data = post(client, "/symbolic", {"source": "h = sin(x); h = sin(h); y = sin(h)",
                                      "wrt": "x"})
    assert data["derivative"]["text"] == "cos(sin(sin(x))) * cos(sin(x)) * cos(x)"
    assert r"\cos" in data["derivative"]["latex"]
    assert data["derivative"]["operations"] == 8 and data["ad_operations"] == 7


def test_symbolic_swelling_table(client: TestClient) -> None:
    data = post(client, "/symbolic/swelling", {"family": "logistic", "n_max": 40})
    last = data["rows"][-1]
    assert last["n"] == 40 and last["derivative_symbolic"] > 2 ** 40
    assert last["derivative_ad"] < 400 and len(data["sources"]) == 3
    huge = post(client, "/symbolic", {"source": "\n".join(["y = 4*x*(1-x)"] +
                                                          ["y = 4*y*(1-y)"] * 200), "wrt": "x"})
    assert huge["derivative"]["text"] is None and huge["ad_operations"] < 2000


def test_numeric_error_curve(client: TestClient) -> None:
    data = post(client, "/numeric", {"source": "y = exp(x)", "at": {"x": 1.0}, "wrt": "x"})
    assert 1e-10 <= data["forward"]["best_h"] <= 1e-6
    assert 1e-7 <= data["central"]["best_h"] <= 1e-3
    assert len(data["steps"]) == len(data["central"]["errors"]) == 57
    assert error(client, "/numeric", {"source": "y = exp(x)", "at": {"x": [1.0]},
                                      "wrt": "x"})["loc"][:2] == ["body", "at"]
    assert error(client, "/numeric", {"source": "y = exp(x)", "at": {"x": 1.0},
                                      "wrt": "w"})["loc"] == ["body", "wrt"]
