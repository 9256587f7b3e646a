"""A classroom against a running Autodiff Lab: simulated students, latency figures, capacity.

Each simulated student behaves like a learner in a lesson: opens a lesson page (and the assets a
browser would fetch once), then every second moves a slider (a differentiate request at a new
point); every fifth second they edit the program instead, which re-differentiates it and redraws
the graph (a render request for a program the server has not seen). Students join over the first
--arrival seconds and then act out of step, as a real class does.

    python benchmarks/classroom_load.py                       # 40 students, 60 s, then the ramp
    python benchmarks/classroom_load.py --url http://127.0.0.1:8080 --duration 30 --no-ramp

First a run with --students for --duration seconds (request counts, errors, p50/p99 per kind);
then the ramp: --ramp-step more students at a time, --ramp-duration seconds each, until p99
reaches --target-ms or a request fails; the last step that stayed under is the capacity.
Only loopback addresses are accepted as targets. The load generator shares the machine with the
server, so its own CPU use is printed: when it nears 100 % of a core the client, not the server,
is the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import re
import socket
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

# Programs a lesson might show, with the inputs a slider moves. Coefficients change on each edit,
# so every edit is a program the server has not rendered before (no cache hit).
PROGRAMS = [
    ("x = {a}*w; y = {b}*x^2 + {c}", ["w"]),
    ("h = tanh({a}*w + b); y = (h - {c})^2", ["w", "b"]),
    ("z = {a}*x1*x2 + sin(x1); y = exp(-z^2/{b}) + log(x2^2 + {c})", ["x1", "x2"]),
    # Scaled down so that p stays inside (0, 1) at every slider position: log(1 - p) is defined.
    ("p = sigmoid(w*x/{a} + b); loss = -(log(p) + {c}*log(1 - p))", ["w", "x", "b"]),
]
EDIT_EVERY = 5  # seconds between edits; the other seconds are slider moves
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, ok: bool, detail: str = "") -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{kind}: {detail}")

    def all_latencies(self) -> list[float]:
        return [x for xs in self.latencies.values() for x in xs]

    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def new_program(rng: random.Random) -> tuple[str, list[str]]:
    template, inputs = rng.choice(PROGRAMS)
    # Close to a million variants per template: an edit is practically never a render-cache hit.
    coefficients = {k: rng.randint(2, 99) for k in "abc"}
    return template.format(**coefficients), inputs


def point(rng: random.Random, inputs: list[str]) -> dict[str, float]:
    # A slider position: a value in (0.1, 2) with two decimals, as a range input gives.
    return {name: round(rng.uniform(0.1, 2.0), 2) for name in inputs}


async def timed(
    stats: Stats, kind: str, client: httpx.AsyncClient, method: str, url: str, **kw
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kw)
        ok, detail = response.status_code < 400, f"{response.status_code} {response.text[:200]}"
    except httpx.HTTPError as e:
        response, ok, detail = None, False, f"{type(e).__name__}: {e}"
    stats.record(kind, time.perf_counter() - started, ok, detail)
    return response


async def open_lesson(client: httpx.AsyncClient, stats: Stats, path: str) -> None:
    """The lesson page and, once, every same-origin asset it names (the browser caches them)."""
    page = await timed(stats, "page", client, "GET", path)
    if page is None or page.status_code != 200:
        return
    base = str(client.base_url)
    for ref in dict.fromkeys(ASSET.findall(page.text)):
        url = urljoin(base + path.lstrip("/"), ref)
        parts = urlsplit(url)
        is_asset = parts.path.startswith(("/static/", "/vendor/"))
        if parts.netloc == urlsplit(base).netloc and is_asset:
            await timed(stats, "asset", client, "GET", parts.path)


async def student(
    n: int,
    client: httpx.AsyncClient,
    stats: Stats,
    lessons: list[str],
    until: float,
    arrival: float,
) -> None:
    rng = random.Random(n)
    # Students follow the teacher's link within the first `arrival` seconds, not all at once,
    # and from then on act on their own clocks, out of step with each other.
    await asyncio.sleep(rng.uniform(0, arrival))
    await open_lesson(client, stats, rng.choice(lessons))
    source, inputs = new_program(rng)
    mode = rng.choice(["reverse", "forward"])
    tick = time.monotonic()
    second = 0
    while time.monotonic() < until:
        second += 1
        if second % EDIT_EVERY == 0:
            source, inputs = new_program(rng)
            body = {"source": source, "at": point(rng, inputs), "mode": mode}
            await timed(stats, "edit", client, "POST", "/api/v1/differentiate", json=body)
            render = {"source": source, "format": "svg"}
            await timed(stats, "render", client, "POST", "/api/v1/render", json=render)
        else:
            body = {"source": source, "at": point(rng, inputs), "mode": mode}
            await timed(stats, "slider", client, "POST", "/api/v1/differentiate", json=body)
        # One action a second, on the student's own clock; a slow answer delays the next one.
        tick += 1.0
        await asyncio.sleep(max(0.0, tick - time.monotonic()))


async def discover_lessons(client: httpx.AsyncClient) -> list[str]:
    """The lesson pages linked from the index; the playground if there are none."""
    index = await client.get("/")
    index.raise_for_status()
    found = sorted(set(re.findall(r"""href\s*=\s*["'](/lessons/[^"'#?]+)""", index.text)))
    return found or ["/playground"]


async def run_class(
    url: str, students: int, seconds: float, arrival: float
) -> tuple[Stats, float, float]:
    """Run `students` students for `seconds`; returns the stats, wall time and client CPU."""
    # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout: otherwise a
    # request may go out on a connection the server is closing at that moment (a browser would
    # retry it; httpx reports a ReadError).
    limits = httpx.Limits(
        max_connections=students + 8, max_keepalive_connections=students + 8, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=url, timeout=10.0, limits=limits) as client:
        lessons = await discover_lessons(client)
        stats = Stats()
        wall, cpu = time.monotonic(), time.process_time()
        until = wall + seconds
        await asyncio.gather(
            *(student(n, client, stats, lessons, until, arrival) for n in range(students))
        )
        return stats, time.monotonic() - wall, time.process_time() - cpu


def summary(students: int, stats: Stats, wall: float, cpu: float) -> dict:
    lat = stats.all_latencies()
    per_kind = {
        kind: {
            "requests": len(xs),
            "errors": stats.errors.get(kind, 0),
            "p50_ms": round(percentile(xs, 50) * 1000, 1),
            "p99_ms": round(percentile(xs, 99) * 1000, 1),
        }
        for kind, xs in sorted(stats.latencies.items())
    }
    return {
        "students": students,
        "seconds": round(wall, 1),
        "requests": len(lat),
        "requests_per_second": round(len(lat) / wall, 1) if wall else 0.0,
        "errors": stats.error_count(),
        "p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
        "p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "client_cpu_percent": round(100 * cpu / wall, 0) if wall else 0.0,
        # Other work on the machine competes with the server: the 1-minute load average at the end.
        "load_average": round(os.getloadavg()[0], 1),
        "per_kind": per_kind,
        "error_samples": stats.error_samples,
    }


def print_summary(s: dict) -> None:
    print(
        f"{s['students']:4d} students  {s['seconds']:5.1f} s  {s['requests']:6d} requests "
        f"({s['requests_per_second']:.1f}/s)  errors {s['errors']}  p50 {s['p50_ms']} ms  "
        f"p99 {s['p99_ms']} ms  max {s['max_ms']} ms  client CPU {s['client_cpu_percent']:.0f} %  "
        f"load {s['load_average']}"
    )
    for kind, k in s["per_kind"].items():
        print(
            f"        {kind:7s} {k['requests']:6d} requests  errors {k['errors']}  "
            f"p50 {k['p50_ms']} ms  p99 {k['p99_ms']} ms"
        )
    for sample in s["error_samples"]:
        print(f"        error: {sample}")


def require_loopback(url: str) -> None:
    """Load is only ever sent to this machine."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as e:
        sys.exit(f"cannot resolve {host!r}: {e}")
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        sys.exit(f"refusing to load {host!r} ({', '.join(sorted(addresses))}): loopback only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running app")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the main run")
    parser.add_argument(
        "--arrival", type=float, default=10.0, help="seconds over which students join"
    )
    parser.add_argument("--target-ms", type=float, default=200.0, help="p99 limit for the ramp")
    parser.add_argument("--ramp-step", type=int, default=20, help="students added per step")
    parser.add_argument("--ramp-duration", type=float, default=30.0, help="seconds per step")
    parser.add_argument("--ramp-max", type=int, default=400, help="stop the ramp here")
    parser.add_argument("--no-ramp", action="store_true", help="only the main run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    url = args.url.rstrip("/") + "/"
    require_loopback(url)

    print(f"classroom: {args.students} students for {args.duration:.0f} s against {url}")
    main_run = summary(
        args.students, *asyncio.run(run_class(url, args.students, args.duration, args.arrival))
    )
    print_summary(main_run)
    result = {"url": url, "main": main_run, "ramp": [], "capacity": None}

    if not args.no_ramp:
        print(
            f"ramp: +{args.ramp_step} students every {args.ramp_duration:.0f} s "
            f"while p99 < {args.target_ms:.0f} ms and no request fails"
        )
        best = 0
        for n in range(args.ramp_step, args.ramp_max + 1, args.ramp_step):
            step = summary(n, *asyncio.run(run_class(url, n, args.ramp_duration, args.arrival)))
            print_summary(step)
            result["ramp"].append(step)
            if step["errors"] or step["p99_ms"] is None or step["p99_ms"] >= args.target_ms:
                break
            best = n
        result["capacity"] = best
        print(
            f"capacity: {best} students with p99 under {args.target_ms:.0f} ms"
            + (
                f" (the ramp stopped at its maximum, {args.ramp_max})"
                if best == args.ramp_max
                else ""
            )
        )

    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if main_run["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
