"""Fixtures for the API tests: the app through httpx (TestClient), and a real uvicorn server
started with `python -m app` on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.health import answers_health

ROOT = Path(__file__).resolve().parents[2]
SEED = "x = 3*w; y = 2*x^2 + 4"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The app with default settings, through the whole ASGI stack."""
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m app` on a free loopback port; returns the process and its base URL once
    /healthz answers."""
    port = free_port()
    environment = {**os.environ, "AUTODIFF_HOST": "127.0.0.1", "AUTODIFF_PORT": str(port),
                   **(env or {})}
    # The log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
    # A session (process group) of its own, so that stop_server ends all of it: uvicorn's
    # workers and their job processes outlive a supervisor that is killed alone.
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=environment,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    # Generous: each worker starts its pool of job processes before it answers, and a loaded
    # machine (other test workers, a browser) can take many seconds over that.
    if answers_health(url, 90, process=process):
        return process, url
    if process.poll() is not None:
        log.seek(0)
        raise RuntimeError(f"the server exited: {log.read().decode(errors='replace')}")
    stop_server(process)
    raise RuntimeError("the server did not answer /healthz within 90 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server from start_server and every process it started: SIGTERM to its process
    group, then SIGKILL to whatever of the group is left after 10 s (or at once, if the
    supervisor has exited and left workers behind)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Base URL of a real uvicorn process serving the app."""
    process, url = start_server()
    try:
        yield url
    finally:
        stop_server(process)
