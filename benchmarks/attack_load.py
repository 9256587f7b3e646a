"""Normal users beside attackers (issue 10): the p99 of 8 normal clients alone, then beside two
clients that send the costliest valid requests (tests/app/heavy_requests.py: a 10^8-point
broadcast grid, forward mode over 1,000 inputs, a 1,000-input Jacobian, PNGs of large graphs,
a 1.85 MB trace, ...), against one real server (`python -m app`, default settings).

    .venv/bin/python benchmarks/attack_load.py               # about 40 s
    .venv/bin/python benchmarks/attack_load.py --seconds 3   # quicker, noisier
    .venv/bin/python benchmarks/attack_load.py --each        # each attack alone, timed

The phases alternate (alone, attacked, alone, attacked, ...) so the machine's drifting load is
shared. Printed: p50 and p99 of the normal requests in each phase, their ratio (goal: attacked
p99 within 2x of alone), failed normal requests (goal: none), the attackers' answers, and the
largest memory of the server's process tree seen (goal: under 1 GB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api_bench import exchange, request_bytes  # noqa: E402 (its keep-alive client)
from tests.app.conftest import SEED, free_port  # noqa: E402
from tests.app.heavy_requests import HEAVY, tree_rss_mb, variant  # noqa: E402

NORMAL_CLIENTS = 8
ATTACKERS = 2


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    attacks: dict[str, int] = field(default_factory=dict)

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def start_server(env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environment = {**os.environ, "AUTODIFF_HOST": "127.0.0.1", "AUTODIFF_PORT": str(port),
                   **(env or {})}
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=environment,
                               stdout=log, stderr=subprocess.STDOUT)
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


async def client(port: int, requests: list[bytes], until: float, phase: Phase,
                 normal: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while time.perf_counter() < until:
        request = requests[i % len(requests)]
        i += 1
        start = time.perf_counter()
        try:
            status, close = await asyncio.wait_for(exchange(reader, writer, request), 30)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
            status, close = type(exc).__name__, True
        if normal:
            phase.latencies.append(time.perf_counter() - start)
            if status != 200:
                phase.failures[str(status)] = phase.failures.get(str(status), 0) + 1
        else:
            phase.attacks[str(status)] = phase.attacks.get(str(status), 0) + 1
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


async def run_phase(port: int, seconds: float, attacked: bool, offset: int) -> Phase:
    phase = Phase()
    # a new point each request, as a slider sends: every answer is computed (no cache)
    normal = [request_bytes(port, "/api/v1/differentiate", json.dumps(
                  {"source": SEED, "at": {"w": 1.0 + (offset + i) * 1e-7},
                   "mode": "reverse"}).encode()) for i in range(20_000)]
    # each attack worded anew (no cache serves it), the two attackers at different ones
    heavy = list(HEAVY.values())
    attacks = [request_bytes(port, h.path, json.dumps(variant(h.body, offset + i)).encode())
               for i, h in enumerate(heavy * 20)]
    until = time.perf_counter() + seconds
    tasks = [client(port, normal[k::NORMAL_CLIENTS], until, phase, True)
             for k in range(NORMAL_CLIENTS)]
    if attacked:
        start = offset // 10**5 * 4  # a later round starts further along the list
        tasks += [client(port, attacks[start + k * 6:] + attacks[:start + k * 6], until, phase,
                         False) for k in range(ATTACKERS)]
    await asyncio.gather(*tasks)
    return phase


def measure(seconds: float, rounds: int, env: dict[str, str] | None = None) -> dict[str, float]:
    process, port = start_server({"AUTODIFF_MAX_BODY_BYTES": "1000000", **(env or {})})
    peak = [0.0]
    done = threading.Event()

    def watch_memory() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss_mb(process.pid))

    watcher = threading.Thread(target=watch_memory, daemon=True)
    watcher.start()
    alone, attacked = Phase(), Phase()
    try:
        asyncio.run(run_phase(port, 1.0, False, 10**6))  # warm-up
        for r in range(rounds):
            for target, under_attack in ((alone, False), (attacked, True)):
                got = asyncio.run(run_phase(port, seconds, under_attack, r * 10**5))
                target.latencies += got.latencies
                for kind, source in (("failures", got.failures), ("attacks", got.attacks)):
                    bucket = getattr(target, kind)
                    for status, count in source.items():
                        bucket[status] = bucket.get(status, 0) + count
    finally:
        done.set()
        watcher.join()
        process.terminate()
        process.wait()
    ratio = attacked.p(99) / alone.p(99)
    print(f"alone: {len(alone.latencies)} normal requests, p50 {alone.p(50) * 1e3:.1f} ms, "
          f"p99 {alone.p(99) * 1e3:.1f} ms, failed {sum(alone.failures.values())}")
    print(f"beside {ATTACKERS} attackers: {len(attacked.latencies)} normal requests, p50 "
          f"{attacked.p(50) * 1e3:.1f} ms, p99 {attacked.p(99) * 1e3:.1f} ms, failed "
          f"{sum(attacked.failures.values())} {attacked.failures or ''}")
    print(f"p99 ratio {ratio:.2f} (goal <= 2); attack requests "
          f"{sum(attacked.attacks.values())}: {json.dumps(attacked.attacks, sort_keys=True)}; "
          f"server tree memory at most {peak[0]:.0f} MB (goal < 1024)")
    return {"ratio": ratio, "failed": sum(alone.failures.values())
            + sum(attacked.failures.values()), "peak_mb": peak[0],
            "attacks": sum(attacked.attacks.values()), "p99_alone": alone.p(99),
            "p99_attacked": attacked.p(99)}


def each_alone() -> None:
    """Each attack once on an idle server (worded anew: no cache), best of three: status, the
    limit a 422 names, time, answer size, and the process tree's memory after it."""
    process, port = start_server({"AUTODIFF_MAX_BODY_BYTES": "1000000"})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            http.post("/api/v1/render", json={"source": SEED})  # the job workers are up
            for i, (name, heavy) in enumerate(HEAVY.items()):
                best, answer = float("inf"), None
                for k in range(3):
                    start = time.perf_counter()
                    answer = http.post(heavy.path, json=variant(heavy.body, 10 * i + k))
                    best = min(best, time.perf_counter() - start)
                assert answer is not None
                said = (answer.json()["detail"][0].get("ctx", {}).get("limit", "")
                        if answer.status_code == 422 else "")
                print(f"{answer.status_code} {said:<24} {best * 1e3:7.0f} ms "
                      f"{len(answer.content):>9,} B  tree {tree_rss_mb(process.pid):4.0f} MB  "
                      f"{name}")
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--each", action="store_true", help="time each attack alone")
    options = parser.parse_args()
    if options.each:
        each_alone()
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {NORMAL_CLIENTS} normal clients, {ATTACKERS} attackers, "
          f"{options.rounds} rounds of {options.seconds:.0f} s per phase")
    measure(options.seconds, options.rounds)


if __name__ == "__main__":
    main()
