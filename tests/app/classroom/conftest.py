"""Classroom fixtures: the app on a fresh SQLite file AND on a real PostgreSQL (Debian's
`postgresql`, a throwaway cluster made with initdb in a temporary folder and started with
pg_ctl on a free loopback port: benchmarks/pg_cluster.py), so every API test runs against
both databases."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from pg_cluster import throwaway_postgres  # noqa: E402


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for this test session (benchmarks/pg_cluster.py)."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per test module and kind (tests make classes of their own in it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'classroom.db'}"
    url: str = request.getfixturevalue("postgres_server")
    return url


def classroom_app(database_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, **settings)))


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[TestClient]:
    """The app through TestClient, on an SQLite file or the shared PostgreSQL."""
    with classroom_app(database_url) as client:
        yield client
        client.cookies.clear()


@pytest.fixture(autouse=True)
def no_cookies(request: pytest.FixtureRequest) -> None:
    """Each test starts as a browser without the class cookie."""
    if "api" in request.fixturenames:
        request.getfixturevalue("api").cookies.clear()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


FANOUT = {"source": "b = a + a; c = b + b", "at": {"a": 2.0}, "mode": "reverse",
          "question": "adjoint-v0"}  # right: 4; forgetting the fork: 2


def new_class(api: TestClient, name: str = "Calculus") -> tuple[str, str]:
    r = api.post("/api/v1/classes", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["code"], r.json()["teacher_key"]


def join(api: TestClient, code: str, nickname: str) -> str:
    r = api.post(f"/api/v1/classes/{code}/students", json={"nickname": nickname})
    assert r.status_code == 201, r.text
    api.cookies.clear()  # each student is a separate browser: keys only by header here
    key: str = r.json()["student_key"]
    return key
