"""deploy/nginx/autodiff-lab.conf for real: Debian's nginx on loopback in front of a real uvicorn
with two workers, as compose.yaml runs them (the upstream lists the app twice, as
deploy/nginx/upstream-compose.conf does).

The slow test kills a worker with SIGKILL while clients keep sending requests: nginx retries a
request that was in flight on it, so not one is lost.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.app.conftest import free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "deploy" / "nginx" / "autodiff-lab.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKERS = 2


@dataclass
class Proxied:
    url: str  # nginx
    app: subprocess.Popen[bytes]  # uvicorn's supervisor; the workers are its children
    error_log: Path


def nginx_config(folder: Path, listen: int, app_port: int) -> str:
    """A main nginx.conf that includes the policy file verbatim, except for its listen line."""
    policy = POLICY.read_text()
    assert policy.count("listen 8000;") == 1
    (folder / "autodiff-lab.conf").write_text(
        policy.replace("listen 8000;", f"listen 127.0.0.1:{listen};"))
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""  # workers may read the test's files
    return f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    default_type application/octet-stream;
    include {folder}/autodiff-lab.conf;
    upstream autodiff_lab {{
        server 127.0.0.1:{app_port} max_fails=0;
        server 127.0.0.1:{app_port} max_fails=0;
        keepalive 32;
    }}
}}
"""


def wait_for(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer /healthz in {timeout} s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: scripts/setup.sh --dev installs it")
    app, app_url = start_server({"AUTODIFF_WORKERS": str(WORKERS)})
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    app_port = urlsplit(app_url).port
    assert app_port is not None
    conf = folder / "nginx.conf"
    conf.write_text(nginx_config(folder, port, app_port))
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url)
        yield Proxied(url, app, folder / "error.log")
    finally:
        for process in (nginx, app):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_policy_file_passes_nginx_t(proxied: Proxied) -> None:
    assert "emerg" not in proxied.error_log.read_text()


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


def test_redirect_through_nginx_stays_on_the_server(proxied: Proxied) -> None:
    r = httpx.get(f"{proxied.url}/playground/", headers={"host": "evil.example"}, timeout=10)
    assert r.status_code == 307 and r.headers["location"] == "/playground"


def worker_pids(supervisor: int) -> set[int]:
    """uvicorn's live workers (a killed one stays listed as a zombie until it is reaped)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    live = set()
    for pid in children:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            live.add(int(pid))
    return live


# A request of some 20-50 ms (a 2,000-point grid, forward mode): at any moment both workers
# have requests in flight, so the killed one takes some with it.
HEAVY = {"source": "z = sin(w)*exp(-w^2)\ny = tanh(z*w) + log(1 + w^2)",
         "mode": "forward", "trace": False}


def hammer(url: str, stop: threading.Event, results: list[tuple[float, int | str]],
           client: int) -> None:
    with httpx.Client(base_url=url, timeout=30) as session:
        i = 0
        while not stop.is_set():
            i += 1
            grid = [client + i / 1000 + k / 2000 for k in range(2000)]
            try:
                status: int | str = session.post("/api/v1/differentiate",
                                                 json={**HEAVY, "at": {"w": grid}}).status_code
            except httpx.HTTPError as e:
                status = type(e).__name__
            results.append((time.monotonic(), status))


@pytest.mark.slow
def test_a_worker_killed_under_load_loses_no_request(proxied: Proxied) -> None:
    probe = httpx.post(f"{proxied.url}/api/v1/differentiate", timeout=30,
                       json={**HEAVY, "at": {"w": [0.5] * 2000}})
    assert probe.status_code == 200, probe.text[:300]
    results: list[tuple[float, int | str]] = []
    stop = threading.Event()
    clients = [threading.Thread(target=hammer, args=(proxied.url, stop, results, i))
               for i in range(4)]
    for thread in clients:
        thread.start()
    killed = []
    try:
        time.sleep(2)
        for _ in range(2):  # twice: the second time the worker that replaced the first
            victim = min(worker_pids(proxied.app.pid))
            os.kill(victim, signal.SIGKILL)
            killed.append((time.monotonic(), victim))
            deadline = time.monotonic() + 30
            while len(worker_pids(proxied.app.pid)) < WORKERS:
                assert time.monotonic() < deadline, "uvicorn did not replace the worker"
                time.sleep(0.1)
            time.sleep(2)
    finally:
        stop.set()
        for thread in clients:
            thread.join(30)
    failed = [(t, status) for t, status in results if status != 200]
    # nginx logs each request it had to send again: proof that the kills cut requests short.
    retried = [line for line in proxied.error_log.read_text().splitlines()
               if "upstream" in line and "while reading response header" in line]
    print(f"{len(results)} requests, {len(retried)} cut short by a kill and sent again, "
          f"{len(failed)} failed; killed {[pid for _, pid in killed]}")
    assert retried, "no request was in flight on a killed worker: the test proved nothing"
    assert failed == [], f"{len(failed)} of {len(results)} requests failed: {failed[:5]}"
