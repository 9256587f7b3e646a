"""The answer cache stays within its entry and byte budgets; the API reuses answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.cache import AnswerCache
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import SEED


def test_bounded_by_entries_and_bytes() -> None:
    cache = AnswerCache(entries=3, max_bytes=1000)
    for i in range(5):
        cache.put(i, b"x" * 10)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == b"x" * 10
    cache.put("big", b"y" * 101)  # over a tenth of the budget: not kept
    assert cache.get("big") is None
    for i in range(20):
        cache.put(("mid", i), b"z" * 90)
    assert sum(len(cache.get(("mid", i)) or b"") for i in range(20)) <= 1000


def test_identical_requests_share_one_answer() -> None:
    app = create_app(Settings())
    with TestClient(app) as client:
        body = {"source": SEED, "at": {"w": 1.0}}
        first = client.post("/api/v1/differentiate", json=body)
        second = client.post("/api/v1/differentiate", json=body)
        assert first.content == second.content and len(app.state.answers) == 1
        other = client.post("/api/v1/differentiate", json={**body, "at": {"w": 2.0}})
        assert other.json()["derivatives"]["y"]["w"] == 72.0 and len(app.state.answers) == 2
