"""deploy/nginx/autodiff-lab.conf for real: Debian's nginx on loopback in front of a real uvicorn
with two workers, as compose.yaml runs them (the upstream lists the app twice, as
deploy/nginx/upstream-compose.conf does).

The slow test kills a worker with SIGKILL while clients keep sending requests: nginx retries a
request that was in flight on it, so not one is lost. (nginx can retry only until it has passed
an answer's head on; the app sends head and body in one system call, so a worker dies before
its answer or after all of it: tests/app/test_connections.py.)

An app that dies on every request shows which requests nginx sends twice: the pure API's, never
the classroom's, which store what they are sent.
"""

from __future__ import annotations

import os
import signal
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.app.conftest import free_port, start_server, stop_server
from tests.proxy import Nginx, nginx_in_front, retried_requests

WORKERS = 2


@dataclass
class Proxied:
    url: str  # nginx
    app: subprocess.Popen[bytes]  # uvicorn's supervisor; the workers are its children
    nginx: Nginx


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    app, app_url = start_server({"AUTODIFF_WORKERS": str(WORKERS)})
    app_port = urlsplit(app_url).port
    assert app_port is not None
    try:
        with nginx_in_front(tmp_path_factory.mktemp("nginx"), free_port(), app_port) as nginx:
            yield Proxied(nginx.url, app, nginx)
    finally:
        stop_server(app)


def test_policy_file_passes_nginx_t(proxied: Proxied) -> None:
    assert "emerg" not in proxied.nginx.error_log.read_text()


def test_answers_through_nginx_carry_the_apps_headers(proxied: Proxied) -> None:
    r = httpx.post(f"{proxied.url}/api/v1/differentiate", timeout=10,
                   json={"source": "x = 3*w; y = 2*x^2 + 4", "at": {"w": 1}, "mode": "reverse"})
    assert r.status_code == 200 and r.json()["derivatives"]["y"]["w"] == 36
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "nginx/" not in r.headers.get("server", "")  # server_tokens off
    bad = httpx.post(f"{proxied.url}/api/v1/differentiate", timeout=10,
                     content=b'{"source": "y = 2*w", "at": {"w": NaN}}',
                     headers={"content-type": "application/json"})
    assert bad.status_code == 422 and "content-security-policy" in bad.headers


def test_body_beyond_nginx_limit_is_413(proxied: Proxied) -> None:
    r = httpx.post(f"{proxied.url}/api/v1/differentiate", timeout=10,
                   content=b'{"source": "' + b"1" * 2_000_000 + b'"}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 413
    [entry] = r.json()["detail"]  # the app's error shape, from nginx itself
    assert entry["type"] == "proxy_error" and "1 MB" in entry["msg"]
    assert entry["ctx"] == {"status": 413}
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_redirect_through_nginx_stays_on_the_server(proxied: Proxied) -> None:
    r = httpx.get(f"{proxied.url}/playground/", headers={"host": "evil.example"}, timeout=10)
    assert r.status_code == 307 and r.headers["location"] == "/playground"


def worker_pids(supervisor: int) -> set[int]:
    """uvicorn's live workers: the supervisor's children started by multiprocessing's spawn
    (not its resource tracker), without a killed one that stays listed until it is reaped."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    live = set()
    for pid in children:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if state != "Z" and b"spawn_main" in command:
            live.add(int(pid))
    return live


# A request of some 50-300 ms (a 30-step chain on a 5,000-point grid): with four clients on two
# workers, each worker has a request in flight nearly all the time, so a kill cuts one short.
CHAIN = "\n".join(f"a{i} = sin(a{i - 1}) * {i + 0.5}" if i else "a0 = w" for i in range(30))
HEAVY = {"source": CHAIN, "mode": "forward", "trace": False}
POINTS = 5_000


def hammer(url: str, stop: threading.Event, results: list[tuple[int, float, int | str]],
           client: int) -> None:
    """Send requests until `stop`; record (client, time answered, status or error)."""
    with httpx.Client(base_url=url, timeout=60) as session:
        i = 0
        while not stop.is_set():
            i += 1
            grid = [client + i / 1000 + k / POINTS for k in range(POINTS)]
            try:
                status: int | str = session.post("/api/v1/differentiate",
                                                 json={**HEAVY, "at": {"w": grid}}).status_code
            except httpx.HTTPError as e:  # e.g. a head passed on without its body
                status = f"{type(e).__name__}: {e}"
            results.append((client, time.monotonic(), status))


CLIENTS = 4


@pytest.mark.slow
def test_a_worker_killed_under_load_loses_no_request(proxied: Proxied) -> None:
    probe = httpx.post(f"{proxied.url}/api/v1/differentiate", timeout=60,
                       json={**HEAVY, "at": {"w": [0.5] * POINTS}})
    assert probe.status_code == 200, probe.text[:300]
    results: list[tuple[int, float, int | str]] = []
    stop = threading.Event()
    clients = [threading.Thread(target=hammer, args=(proxied.url, stop, results, i))
               for i in range(CLIENTS)]
    for thread in clients:
        thread.start()
    killed = []
    try:
        time.sleep(2)
        # Up to three kills, until one has cut a request short. Before the next kill every
        # client has had an answer since the last one: a request is retried once, so two kills
        # during the same request (two workers lost in a row) are beyond what is promised.
        for _ in range(3):
            victim = min(worker_pids(proxied.app.pid))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            since = time.monotonic()
            deadline = since + 90
            while len(worker_pids(proxied.app.pid)) < WORKERS or \
                    {c for c, t, _ in list(results) if t > since} != set(range(CLIENTS)):
                assert time.monotonic() < deadline, "no replacement, or clients stuck"
                time.sleep(0.1)
            if retried_requests(proxied.nginx):
                break
    finally:
        stop.set()
        for thread in clients:
            thread.join(60)
    failed = [(t, status) for _, t, status in results if status != 200]
    # nginx logs each request it had to send again: proof that the kills cut requests short.
    retried = retried_requests(proxied.nginx)
    print(f"{len(results)} requests, {len(retried)} cut short by a kill and sent again, "
          f"{len(failed)} failed; killed workers {killed}")
    assert retried, "no request was in flight on a killed worker: the test proved nothing"
    assert failed == [], f"{len(failed)} of {len(results)} requests failed: {failed[:5]}"


class DyingUpstream(socketserver.ThreadingTCPServer):
    """An app whose worker dies on every request but /healthz: it reads the request and closes
    the connection without an answer, as a SIGKILLed worker does. It counts what it was sent."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[str] = []
        super().__init__(("127.0.0.1", 0), self.Handler)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request_line = self.rfile.readline().decode("latin-1")
            length = 0
            while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.rfile.read(length)
            if " /healthz " in request_line:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                 b"Connection: close\r\n\r\nok")
                return
            server = self.server
            assert isinstance(server, DyingUpstream)
            server.received.append(request_line.split()[1])


@pytest.fixture(scope="module")
def dying(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DyingUpstream]]:
    upstream = DyingUpstream()
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    try:
        with nginx_in_front(tmp_path_factory.mktemp("nginx-dying"), free_port(),
                            upstream.server_address[1]) as nginx:
            yield nginx.url, upstream
    finally:
        upstream.shutdown()
        upstream.server_close()


@pytest.mark.parametrize(("path", "tries"), [
    ("/api/v1/differentiate", 2),  # pure: sent again to the other entry
    ("/api/v1/classes/K7P2QX/answers", 1),  # stores an answer: never sent twice
    ("/api/v1/classes", 1),
    ("/api/v1/classes/K7P2QX/exercises", 1),
])
def test_a_post_cut_short_is_retried_only_where_repeating_it_is_safe(
        dying: tuple[str, DyingUpstream], path: str, tries: int) -> None:
    url, upstream = dying
    upstream.received.clear()
    r = httpx.post(f"{url}{path}", json={"answer": 1}, timeout=10)
    assert r.status_code == 502
    assert upstream.received == [path] * tries
