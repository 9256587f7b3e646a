"""POST /api/v1/export: the program as PyTorch or JAX source (the engine's export, checked
against both frameworks' autograd in tests/core/test_export.py)."""

from fastapi.testclient import TestClient

import autodiff_core as ad

SOURCE = "x = 3*w; y = 2*x^2 + 4"


def test_export_gives_the_engines_code(client: TestClient) -> None:
    for framework, expected in (("torch", ad.parse(SOURCE).to_torch()),
                                ("jax", ad.parse(SOURCE).to_jax())):
        answer = client.post("/api/v1/export", json={"source": SOURCE, "framework": framework})
        assert answer.status_code == 200
        assert answer.json() == {"framework": framework, "code": expected}
    default = client.post("/api/v1/export", json={"source": SOURCE, "outputs": ["x", "y"]})
    assert 'return {"x": v2, "y": v8}' in default.json()["code"]


def test_export_refuses_bad_input_with_a_422(client: TestClient) -> None:
    bad = client.post("/api/v1/export", json={"source": "y = x +", "framework": "torch"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["ctx"]["line"] == 1
    unknown = client.post("/api/v1/export", json={"source": SOURCE, "framework": "tensorflow"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == [
        "body", "framework"]
    missing = client.post("/api/v1/export", json={"source": SOURCE, "outputs": ["nope"]})
    assert missing.status_code == 422 and "nope" in missing.json()["detail"][0]["msg"]
