"""REST API speed (issue 4): every figure is a ratio against a baseline measured in the same run.

    .venv/bin/python benchmarks/api_bench.py              # about a minute
    .venv/bin/python benchmarks/api_bench.py --seconds 2  # a quicker, noisier run

(a) requests/s and p50/p99 of POST /api/v1/differentiate (seed example, reverse mode) under
    32 concurrent keep-alive loopback clients, vs a bare FastAPI endpoint answering a constant
    JSON of the same size (benchmarks/bare_app.py). Goal: at least 50% of the bare rate.
    Measured twice: the same request each time (what a class on one lesson sends; answered
    from the answer cache), and a new point each time (computed every time).
(b) the same for a cached POST /api/v1/render (SVG) vs a bare endpoint answering that SVG.
(c) uncached render (a new program each time) vs running `dot -Tsvg` alone on the same DOT,
    one request at a time. Goal: at most 1.2x.
(d) the p99 of 31 normal clients (differentiate, a new point each request) while one more
    client loops over hostile inputs (limits hit, the largest program and drawings the limits
    allow, 9**9**9, 10,000 nested parens, a 10 MB body), vs the p99 of the same 31 clients
    alone. Goal: within 2x.

Both servers are real uvicorn processes on free loopback ports, one worker each (the app's
default). The load generator is a small asyncio HTTP/1.1 client, cheap enough not to be the
bottleneck; it runs in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app.conftest import free_port  # noqa: E402

SEED = "x = 3*w; y = 2*x^2 + 4"
DIFFERENTIATE = {"source": SEED, "at": {"w": 1.0}, "mode": "reverse"}
CLIENTS = 32
LOG = Path(tempfile.gettempdir()) / "api_bench_servers.log"  # any server error lands here


# --- servers ---------------------------------------------------------------------------------


def start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes],
                                                                       int]:
    port = free_port()
    environment = {**os.environ, "AUTODIFF_PORT": str(port), **(env or {})}
    command = [a.replace("{port}", str(port)) for a in args]
    log = open(LOG, "ab")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,
                               stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return process, port
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def start_app() -> tuple[subprocess.Popen[bytes], int]:
    # Access logs off in both servers: the comparison is about the request path itself.
    return start([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                  "--port", "{port}", "--no-access-log", "--log-level", "warning"])


def start_bare(body: bytes, media_type: str) -> tuple[subprocess.Popen[bytes], int]:
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=".body")  # noqa: SIM115
    handle.write(body)
    handle.close()
    return start([sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir",
                  str(ROOT / "benchmarks"), "--host", "127.0.0.1", "--port", "{port}",
                  "--no-access-log", "--log-level", "warning"],
                 {"BARE_BODY_FILE": handle.name, "BARE_MEDIA_TYPE": media_type})


# --- a small keep-alive HTTP client ----------------------------------------------------------


def request_bytes(port: int, path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            ).encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: bytes) -> tuple[int, bool]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() == "close"


async def client(port: int, requests: list[bytes], until: float, latencies: list[float],
                 statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while time.perf_counter() < until:
        request = requests[i % len(requests)]
        i += 1
        start = time.perf_counter()
        try:
            status, close = await exchange(reader, writer, request)
        except (ConnectionError, asyncio.IncompleteReadError):
            status, close = 0, True
        latencies.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


async def load(port: int, normal: list[bytes], seconds: float, clients: int = CLIENTS,
               hostile: list[bytes] | None = None) -> dict:
    """Run `clients` normal clients (and one hostile one) for `seconds` after a warm-up."""
    for phase in ("warm-up", "measure"):
        duration = 0.5 if phase == "warm-up" else seconds
        until = time.perf_counter() + duration
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        bad: list[float] = []
        bad_statuses: dict[int, int] = {}
        tasks = [client(port, normal, until, latencies, statuses) for _ in range(clients)]
        if hostile:
            tasks.append(client(port, hostile, until, bad, bad_statuses))
        began = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    assert set(statuses) == {200}, f"normal clients got {statuses}"
    latencies.sort()
    return {"rate": len(latencies) / elapsed, "latencies": latencies,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99), "hostile_requests": len(bad),
            "hostile_statuses": json.dumps(bad_statuses, sort_keys=True)}


def percentile(sorted_values: list[float], p: float) -> float:
    index = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


# --- the four comparisons --------------------------------------------------------------------


def compare_rates(name: str, app_port: int, path: str, body: dict, media_type: str,
                  seconds: float, rounds: int = 3, variants: int = 1) -> dict[str, float]:
    """Our endpoint and the bare one, alternating for `rounds` rounds (the machine's load
    drifts: alternating shares the drift), each round `seconds / rounds` long. With
    `variants` > 1, each of our requests is at a new point (no answer cache hits)."""
    payload = json.dumps(body).encode()
    ours_requests = [request_bytes(app_port, path, payload)]
    if variants > 1:
        ours_requests = [request_bytes(app_port, path, json.dumps(
            {**body, "at": {"w": 1.0 + i * 1e-6 + time.time_ns() % 1000}}).encode())
            for i in range(variants)]
    answer = httpx.post(f"http://127.0.0.1:{app_port}{path}", content=payload,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    bare, bare_port = start_bare(answer.content, media_type)
    ours_runs, base_runs = [], []
    try:
        for _ in range(rounds):
            ours_runs.append(asyncio.run(load(app_port, ours_requests, seconds / rounds)))
            base_runs.append(asyncio.run(load(bare_port,
                                              [request_bytes(bare_port, "/bare", payload)],
                                              seconds / rounds)))
    finally:
        bare.terminate()
        bare.wait()
    ours, base = merge(ours_runs), merge(base_runs)
    ratio = ours["rate"] / base["rate"]
    print(f"{name}: {ours['rate']:.0f} req/s (p50 {ours['p50'] * 1e3:.1f} ms, p99 "
          f"{ours['p99'] * 1e3:.1f} ms) vs bare {base['rate']:.0f} req/s (p50 "
          f"{base['p50'] * 1e3:.1f} ms, p99 {base['p99'] * 1e3:.1f} ms); "
          f"{len(answer.content)} bytes; ratio {ratio:.2f} (goal >= 0.50); per round "
          + ", ".join(f"{o['rate'] / b['rate']:.2f}"
                      for o, b in zip(ours_runs, base_runs, strict=True)))
    return {"ratio": ratio}


def merge(runs: list[dict]) -> dict[str, float]:
    latencies = sorted(x for run in runs for x in run["latencies"])
    return {"rate": statistics.mean(run["rate"] for run in runs),
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


def uncached_render(app_port: int, repeats: int) -> float:
    """Median time of a render that misses the cache vs `dot -Tsvg` on the same DOT."""
    ours, dot_alone = [], []
    with httpx.Client(base_url=f"http://127.0.0.1:{app_port}") as http:
        for i in range(repeats):
            source = f"{SEED} + {i + 1000 * time.time_ns() % 997}.5"  # new program: a miss
            dot = http.post("/api/v1/render", json={"source": source, "format": "dot"}).text
            start = time.perf_counter()
            r = http.post("/api/v1/render", json={"source": source, "format": "svg"})
            ours.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
            start = time.perf_counter()
            subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True,
                           check=True)
            dot_alone.append(time.perf_counter() - start)
    ratio = statistics.median(ours) / statistics.median(dot_alone)
    print(f"uncached render: median {statistics.median(ours) * 1e3:.1f} ms vs dot alone "
          f"{statistics.median(dot_alone) * 1e3:.1f} ms; ratio {ratio:.2f} (goal <= 1.2)")
    return ratio


def hostile_requests(port: int) -> list[bytes]:
    """Inputs meant to hurt: refused ones, and the largest ones the limits still allow."""
    largest = "\n".join(f"b{i}=sin(b{i - 1})*w+{i}" if i else "b0=w"
                        for i in range(900))  # 900 statements, about 4,500 nodes
    programs = [
        {"source": "y = 9**9**9"},
        {"source": "y = " + "(" * 10_000 + "1" + ")" * 10_000},
        {"source": "y = ().__class__.__bases__[0]"},
        {"source": "y = 1" + "0" * 5000},
        {"source": "\n".join(f"a{i} = {i}" for i in range(3000))},
        {"source": largest, "at": {"w": 0.5}, "mode": "reverse"},
    ]
    requests = [request_bytes(port, "/api/v1/differentiate", json.dumps(p).encode())
                for p in programs]
    for k in range(20):  # the largest drawable graphs, each new, so dot runs every time
        drawing = {"source": "\n".join(f"b{i}=b{i - 1}*{k + 2}+{i}" if i else "b0=w"
                                       for i in range(120))}
        requests.append(request_bytes(port, "/api/v1/render", json.dumps(drawing).encode()))
    tangled = "\n".join(f"b{i} = b{i - 1} * w + {i}" if i else "b0 = w" for i in range(160))
    requests.append(request_bytes(port, "/api/v1/render",
                                  json.dumps({"source": tangled}).encode()))
    huge = b'{"source": "' + b"1" * 10_000_000 + b'"}'
    requests.append(request_bytes(port, "/api/v1/differentiate", huge))
    return requests


def hostile_load(app_port: int, seconds: float) -> dict[str, float]:
    # Normal clients ask at a new point each time, so every answer is computed (no cache).
    normal = [request_bytes(app_port, "/api/v1/differentiate", json.dumps(
        {**DIFFERENTIATE, "at": {"w": 2.0 + i * 1e-7}}).encode()) for i in range(200_000)]
    alone = asyncio.run(load(app_port, normal, seconds, clients=CLIENTS - 1))
    under = asyncio.run(load(app_port, normal, seconds, clients=CLIENTS - 1,
                             hostile=hostile_requests(app_port)))
    ratio = under["p99"] / alone["p99"]
    print(f"hostile client: normal p99 {under['p99'] * 1e3:.1f} ms (p50 "
          f"{under['p50'] * 1e3:.1f} ms, {under['rate']:.0f} req/s) vs "
          f"{alone['p99'] * 1e3:.1f} ms alone (p50 {alone['p50'] * 1e3:.1f} ms, "
          f"{alone['rate']:.0f} req/s); ratio {ratio:.2f} (goal <= 2); hostile requests "
          f"{under['hostile_requests']:.0f}, statuses {under['hostile_statuses']}")
    return {"ratio": ratio, "p99": under["p99"], "p99_alone": alone["p99"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    options = parser.parse_args()
    LOG.unlink(missing_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {CLIENTS} clients, "
          f"{options.seconds:.0f} s per measurement")
    app, app_port = start_app()
    try:
        compare_rates("differentiate", app_port, "/api/v1/differentiate", DIFFERENTIATE,
                      "application/json", options.seconds)
        compare_rates("differentiate, a new point each request (no cache)", app_port,
                      "/api/v1/differentiate", DIFFERENTIATE, "application/json",
                      options.seconds, variants=200_000)
        compare_rates("cached render", app_port, "/api/v1/render", {"source": SEED},
                      "image/svg+xml", options.seconds)
        uncached_render(app_port, repeats=30)
        hostile_load(app_port, options.seconds)
    finally:
        app.terminate()
        app.wait()
    errors = [line for line in LOG.read_text(errors="replace").splitlines()
              if "Traceback" in line or " 500 " in line or "Exception" in line]
    print(f"server errors logged: {len(errors)}" + (f" (see {LOG})" if errors else ""))


if __name__ == "__main__":
    main()
