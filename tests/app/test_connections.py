"""Idle, trickling and too many connections against a real uvicorn (app/connections.py): each
is closed in bounded time, the worker's file handles stay bounded, and /healthz answers. And an
answer leaves a worker in one system call, head and body together."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.connections import GuardedH11Protocol
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import start_server, stop_server
from tests.health import answers_health

REQUEST_TIMEOUT = 1.0
MAX_CONNECTIONS = 40


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """One worker (in the server process itself, so its handles are the process's) with a short
    request deadline and a small connection cap."""
    process, url = start_server({"AUTODIFF_WORKERS": "1",
                                 "AUTODIFF_REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT),
                                 "AUTODIFF_MAX_CONNECTIONS": str(MAX_CONNECTIONS)})
    try:
        yield process, url
    finally:
        stop_server(process)


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def closed_within(conn: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closes `conn` (None if it did not within `seconds`); sends one
    byte of `trickle` every 0.2 s meanwhile."""
    start = time.monotonic()
    conn.settimeout(0.2)
    sent = 0
    while time.monotonic() - start < seconds:
        if sent < len(trickle):
            try:
                conn.sendall(trickle[sent:sent + 1])
            except OSError:
                return time.monotonic() - start
            sent += 1
        try:
            if conn.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    return None


HEAD = (b"POST /api/v1/differentiate HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 60\r\n\r\n")


@pytest.mark.parametrize("name, trickle", [
    ("idle, never sends a byte", b""),
    ("trickles its request head", HEAD * 4),
    ("trickles its body", HEAD + b'{"source": "y = 2*w", "at": {"w": 1}}' + b" " * 200),
])
def test_slow_client_is_closed(guarded: tuple[subprocess.Popen[bytes], str], name: str,
                               trickle: bytes) -> None:
    _, url = guarded
    with connect(url) as conn:
        # Generous bound: the deadline is 1 s; a loaded machine may add a few seconds.
        elapsed = closed_within(conn, 10 * REQUEST_TIMEOUT, trickle)
    assert elapsed is not None, f"{name}: still open after {10 * REQUEST_TIMEOUT:.0f} s"
    assert elapsed >= REQUEST_TIMEOUT * 0.9, f"{name}: closed too early ({elapsed:.2f} s)"
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200


def test_a_prompt_client_keeps_its_connection(guarded: tuple[subprocess.Popen[bytes], str]
                                              ) -> None:
    _, url = guarded
    with httpx.Client(base_url=url, timeout=5) as client:
        for _ in range(3):  # several requests on one keep-alive connection, spaced out
            r = client.post("/api/v1/differentiate",
                            json={"source": "y = 2*w", "at": {"w": 1}, "mode": "reverse"})
            assert r.status_code == 200
            time.sleep(REQUEST_TIMEOUT * 0.5)


def open_handles(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_flood_of_idle_connections_is_bounded(guarded: tuple[subprocess.Popen[bytes], str]
                                                ) -> None:
    process, url = guarded
    before = open_handles(process.pid)
    flood = [connect(url) for _ in range(3 * MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        during = open_handles(process.pid)
        assert during <= before + MAX_CONNECTIONS + 5, (before, during)
        # Once the idle ones are past their deadline, a new client gets in.
        assert answers_health(url, 10 * REQUEST_TIMEOUT), "no new client got in after the flood"
    finally:
        for conn in flood:
            conn.close()


class CountedSocket(socket.socket):
    """A connected socket that records the size of each send, i.e. each system call by which
    the worker hands bytes to the kernel."""

    sends: list[int]

    def send(self, data: Any, flags: int = 0) -> int:
        sent = super().send(data, flags)
        self.sends.append(sent)
        return sent


def test_an_answer_leaves_the_worker_in_one_system_call() -> None:
    """The protocol of `python -m app` serving the real app over a real socket: each answer
    (head and body) reaches the kernel in one send. A worker killed between a head and its
    body, as uvicorn alone sends them, leaves nginx a head it has already passed on to the
    client, and the request can no longer be sent to another worker (tests/app/test_nginx.py)."""

    async def exchange() -> tuple[list[bytes], list[int]]:
        loop = asyncio.get_running_loop()
        with socket.create_server(("127.0.0.1", 0)) as listener, \
                socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            worker_side = CountedSocket(fileno=accepted.detach())
            worker_side.sends = []
            worker_side.setblocking(False)
            config = Config(app=create_app(Settings()), lifespan="off", log_level="warning")
            config.load()
            await loop.connect_accepted_socket(
                lambda: GuardedH11Protocol(config, ServerState(), {}, loop), worker_side)
            client.setblocking(False)
            answers = []
            for close in (False, True):  # two answers on one keep-alive connection
                request = (b"GET /healthz HTTP/1.1\r\nHost: test\r\n"
                           + (b"Connection: close\r\n" if close else b"") + b"\r\n")
                await loop.sock_sendall(client, request)
                answer = b""
                while not answer.endswith(b'{"status":"ok"}'):
                    chunk = await asyncio.wait_for(loop.sock_recv(client, 65536), 10)
                    assert chunk, f"closed after {answer!r}"
                    answer += chunk
                answers.append(answer)
            return answers, worker_side.sends

    answers, sends = asyncio.run(exchange())
    assert all(a.startswith(b"HTTP/1.1 200 OK\r\n") for a in answers)
    assert sends == [len(a) for a in answers]
