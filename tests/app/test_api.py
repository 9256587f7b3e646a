"""The REST API through the real HTTP stack: the seed example end to end, traces, grids,
Hessians checked against sympy, and the error shape."""

from __future__ import annotations

import json
import math
import re

import pytest
import sympy
from fastapi.testclient import TestClient

from tests.app.conftest import ROOT, SEED


def differentiate(client: TestClient, **body: object) -> dict:
    r = client.post("/api/v1/differentiate", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_seed_example_reverse(client: TestClient) -> None:
    data = differentiate(client, source=SEED, at={"w": 1.0}, mode="reverse")
    assert data["derivatives"] == {"y": {"w": 36.0}}
    assert data["values"] == {"w": 1.0, "x": 3.0, "y": 22.0}
    [sweep] = data["passes"]
    assert sweep["direction"] == "reverse" and sweep["seed"] == {"y": 1.0}
    # The adjoint of the input, read off the last reverse step, is the derivative.
    assert sweep["steps"][-1]["node"] == "v0" and sweep["steps"][-1]["adjoint"] == 36.0
    # Every edge a step names is an edge of the returned graph (the page animates them).
    edges = {e["id"] for e in data["graph"]["edges"]}
    named = {c["edge"] for step in sweep["steps"] for c in step["contributions"]}
    assert named and named <= edges
    assert [s["node"] for s in data["primal"]] == [n["id"] for n in data["graph"]["nodes"]]


def test_seed_example_forward_agrees(client: TestClient) -> None:
    data = differentiate(client, source=SEED, at={"w": 2.5}, mode="forward")
    assert data["derivatives"]["y"]["w"] == pytest.approx(36 * 2.5)
    step = data["passes"][0]["steps"][-1]
    assert step["tangent"] == pytest.approx(90.0) and step["partials"]


def test_forward_mode_skips_a_branch_that_feeds_no_output(client: TestClient) -> None:
    # issue 10: the traced forward pass used to answer 422 (sqrt'(0)) where every other mode
    # gave 2; z feeds no output, so no pass visits it
    for mode in ("forward", "reverse"):
        data = differentiate(client, source="z = sqrt(w - 1); y = 2*w", at={"w": 1},
                             mode=mode, outputs=["y"])
        assert data["derivatives"] == {"y": {"w": 2.0}}, mode


def test_seed_and_cotangent_give_directional_products(client: TestClient) -> None:
    source = "f = x*y; g = x + y"
    jvp = differentiate(client, source=source, at={"x": 2, "y": 3}, mode="forward",
                        seed={"x": 1, "y": 2}, outputs=["f", "g"])
    assert jvp["directional"] == {"f": 3 + 2 * 2, "g": 3}
    vjp = differentiate(client, source=source, at={"x": 2, "y": 3}, mode="reverse",
                        cotangent={"f": 1, "g": 10}, outputs=["f", "g"], trace=False)
    assert vjp["directional"] == {"x": 3 + 10, "y": 2 + 10}
    assert vjp["passes"][0]["steps"] == [] and vjp["primal"] == []


def test_grid_marks_undefined_points_null(client: TestClient) -> None:
    r = client.post("/api/v1/differentiate",
                    json={"source": "y = log(w)", "at": {"w": [1, -1, 4]}, "mode": "forward"})
    assert r.status_code == 200
    assert "NaN" not in r.text and "Infinity" not in r.text
    data = r.json()
    assert data["derivatives"]["y"]["w"] == [1.0, None, 0.25]
    assert data["invalid_points"] == 1


def test_hessian_matches_sympy(client: TestClient) -> None:
    source = "u = sin(x)*y^2; f = u + exp(x*y)/(1 + y^2)"
    at = {"x": 0.3, "y": -1.2}
    r = client.post("/api/v1/hessian", json={"source": source, "at": at})
    assert r.status_code == 200, r.text
    data = r.json()
    x, y = sympy.symbols("x y")
    f = sympy.sin(x) * y**2 + sympy.exp(x * y) / (1 + y**2)
    subs = {x: at["x"], y: at["y"]}
    assert data["value"] == pytest.approx(float(f.subs(subs)))
    for a, sa in (("x", x), ("y", y)):
        assert data["gradient"][a] == pytest.approx(float(sympy.diff(f, sa).subs(subs)))
        for b, sb in (("x", x), ("y", y)):
            exact = float(sympy.diff(f, sa, sb).subs(subs))
            assert data["hessian"][a][b] == pytest.approx(exact, rel=1e-6, abs=1e-6)


def test_program_error_names_line_and_column(client: TestClient) -> None:
    r = client.post("/api/v1/differentiate", json={"source": "x = 3*w\ny = x.real", "at": {}})
    assert r.status_code == 422
    [entry] = r.json()["detail"]
    assert entry["loc"] == ["body", "source"] and entry["type"] == "program_error"
    assert entry["ctx"]["line"] == 2 and entry["ctx"]["column"] >= 5


def test_domain_error_names_the_node(client: TestClient) -> None:
    r = client.post("/api/v1/differentiate",
                    json={"source": "a = w - 2\nb = log(a)", "at": {"w": 1}})
    assert r.status_code == 422
    [entry] = r.json()["detail"]
    assert entry["type"] == "evaluation_error"
    assert entry["ctx"]["node"] == "v3" and entry["ctx"]["name"] == "b"
    assert entry["ctx"]["line"] == 2 and "log" in entry["msg"]


@pytest.mark.parametrize("body, where", [
    ({"source": SEED, "at": {"q": 1}}, "q"),
    ({"source": SEED, "at": {"w": 1}, "mode": "sideways"}, "mode"),
    ({"source": SEED, "at": {"w": 1}, "unknown": 1}, "unknown"),
    ({"source": SEED, "at": {"w": 1}, "outputs": ["nope"]}, "nope"),
    ({"source": SEED, "at": {"w": "1e999"}}, "w"),
])
def test_bad_requests_are_422_in_fastapi_shape(client: TestClient, body: dict,
                                               where: str) -> None:
    r = client.post("/api/v1/differentiate", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail
    assert all({"loc", "msg", "type"} <= set(entry) for entry in detail)
    assert where in json.dumps(detail)


@pytest.mark.parametrize("endpoint", ["/api/v1/differentiate", "/api/v1/render"])
def test_unknown_output_is_named_in_outputs(client: TestClient, endpoint: str) -> None:
    # The playground drops only the unknown names of a hand-edited link, so it needs them.
    r = client.post(endpoint, json={"source": "x = r*cos(t)\ny = r*sin(t)",
                                    "at": {"r": 2, "t": 0.5}, "outputs": ["x", "nope", "y"]})
    assert r.status_code == 422
    [entry] = r.json()["detail"]
    assert entry["loc"] == ["body", "outputs"]
    assert entry["type"] == "input_error"
    assert entry["ctx"] == {"unknown": "nope"}
    assert "nope" in entry["msg"]


def test_grid_and_work_limits(client: TestClient) -> None:
    many = [float(i) for i in range(20_001)]
    r = client.post("/api/v1/differentiate", json={"source": "y = w", "at": {"w": many}})
    assert r.status_code in (413, 422)
    source = "\n".join(f"y{i} = w*{i}" for i in range(400))
    outputs = [f"y{i}" for i in range(400)]
    r = client.post("/api/v1/differentiate",
                    json={"source": source, "at": {"w": [0.5] * 5000}, "outputs": outputs})
    assert r.status_code == 422
    assert r.json()["detail"][0]["ctx"]["limit"] in ("max_work", "max_grid_points")


def test_security_headers_on_every_response(client: TestClient) -> None:
    for r in (client.get("/healthz"), client.get("/missing"),
              client.post("/api/v1/differentiate", json={})):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_docs_are_self_hosted_without_inline_script(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower() and "http" not in page.replace("http-equiv", "")
    scripts = page.split("<script")[1:]
    assert scripts and all(s.split(">", 1)[0].strip().startswith("src=") for s in scripts)
    assert all(s.split(">", 1)[1].startswith("</script") for s in scripts)
    for asset in ("/vendor/swagger-ui-dist/swagger-ui-bundle.js",
                  "/vendor/swagger-ui-dist/swagger-ui.css", "/static/docs/swagger-init.js"):
        assert client.get(asset).status_code == 200, asset
    schema = client.get("/openapi.json").json()
    assert "/api/v1/differentiate" in schema["paths"]
    assert "ReverseStep" in schema["components"]["schemas"]
    assert client.get("/redoc").status_code == 404


def test_json_never_holds_nan(client: TestClient) -> None:
    r = client.post("/api/v1/differentiate",
                    json={"source": "y = sqrt(w)", "at": {"w": [0.0, 1.0]}, "mode": "reverse"})
    assert r.status_code == 200
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert r.json()["derivatives"]["y"]["w"][0] is None
    assert not math.isnan(r.json()["derivatives"]["y"]["w"][1])


def test_compute_time_limit_answers_422_and_server_keeps_serving() -> None:
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(compute_timeout_seconds=0.01, max_concurrent_jobs=1)
    source = "\n".join(f"b{i}=sin(b{i - 1})*w+{i}" if i else "b0=w" for i in range(900))
    with TestClient(create_app(settings)) as slow:
        r = slow.post("/api/v1/differentiate", json={"source": source, "at": {"w": 0.5}})
        assert r.status_code == 422
        assert r.json()["detail"][0]["ctx"]["limit"] == "compute_timeout_seconds"
        assert slow.get("/healthz").status_code == 200
        # A short program at a point runs inline and is unaffected.
        ok = slow.post("/api/v1/differentiate", json={"source": SEED, "at": {"w": 1}})
        assert ok.status_code == 200


def test_docs_list_every_endpoint_of_the_schema(client: TestClient) -> None:
    listed = set(re.findall(r"^\| `(?:GET|POST) (/[^`]*)`", (ROOT / "docs/api.md").read_text(),
                            re.MULTILINE))
    assert listed == set(client.get("/openapi.json").json()["paths"])
