"""The seed example end to end against a real uvicorn process (`python -m app`)."""

from __future__ import annotations

import httpx

from tests.app.conftest import SEED


def test_seed_example_over_a_real_socket(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        r = http.post("/api/v1/differentiate",
                      json={"source": SEED, "at": {"w": 1}, "mode": "reverse"})
        assert r.status_code == 200
        assert r.json()["derivatives"] == {"y": {"w": 36.0}}
        assert r.headers["x-content-type-options"] == "nosniff"
        svg = http.post("/api/v1/render", json={"source": SEED})
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
        assert 'id="v0_v2_1"' in svg.text
        hostile = http.post("/api/v1/differentiate", json={"source": "y = 9**9**9"})
        assert hostile.status_code == 422 and hostile.json()["detail"][0]["ctx"]["node"]
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/docs").status_code == 200
