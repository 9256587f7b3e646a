"""A class moving lesson 1's slider together (issue 11): how long one redraw takes.

    .venv/bin/python benchmarks/lesson_slider_load.py               # 40 students, 10 moves
    .venv/bin/python benchmarks/lesson_slider_load.py --students 80

Each simulated student moves the step-size or start slider every half second (with jitter)
and waits for the redraw. A redraw is what the page does per move:

- now:    one POST /api/v1/descent (the whole 15-step walk; the curve is drawn once);
- before: the page's old way, one POST /api/v1/differentiate per step, 16 in sequence.

Both are measured in the same run against the same real uvicorn server (one worker, the
app's default), with a new point for every move (no answer cache helps). Printed: p50 and
p99 of one redraw in each way, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api_bench import exchange, percentile, request_bytes, start_app  # noqa: E402

LOSS = "loss = 0.5*(w - 3)^2 + sin(2*w)"
STEPS = 15


def move(rng: random.Random) -> tuple[float, float]:
    """A slider position: η on its 0.02 grid up to 2.5, w₀ on its 0.1 grid in [-2, 7]."""
    return round(rng.randint(1, 125) * 0.02, 2), round(rng.randint(-20, 70) * 0.1, 1)


async def student(port: int, mode: str, moves: int, seed: int, start: float,
                  redraws: list[float], errors: list[int]) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        for _ in range(moves):
            eta, w0 = move(rng)
            began = time.perf_counter()
            if mode == "health":  # the baseline: the cheapest request the server answers
                status, _ = await exchange(reader, writer, request_bytes(
                    port, "/api/v1/render", b'{"source": "y = x", "format": "dot"}'))
                if status != 200:
                    errors.append(status)
            elif mode == "now":
                body = {"source": LOSS, "at": {"w": w0}, "rate": eta, "steps": STEPS}
                status, _ = await exchange(reader, writer, request_bytes(
                    port, "/api/v1/descent", json.dumps(body).encode()))
                if status != 200:
                    errors.append(status)
            else:  # the old page: a differentiate per step, each after the last
                w = w0
                for _ in range(STEPS + 1):
                    body = {"source": LOSS, "at": {"w": w}, "mode": "reverse", "trace": False}
                    request = request_bytes(port, "/api/v1/differentiate",
                                            json.dumps(body).encode())
                    status, _ = await exchange(reader, writer, request)
                    if status != 200:
                        errors.append(status)
                    w -= eta * 0.5  # a new point each step, as the real walk has
            redraws.append(time.perf_counter() - began)
            await asyncio.sleep(0.5 + rng.uniform(-0.1, 0.1))
    finally:
        writer.close()


async def class_moves(port: int, mode: str, students: int, moves: int,
                      seed: int = 0) -> dict[str, float]:
    """Every student's redraw times (seconds) while the whole class moves its sliders."""
    redraws: list[float] = []
    errors: list[int] = []
    start = time.perf_counter() + 0.2  # connected first, then all move together
    await asyncio.gather(*(student(port, mode, moves, seed * 1000 + k, start, redraws, errors)
                           for k in range(students)))
    ordered = sorted(redraws)
    return {"p50": percentile(ordered, 50), "p99": percentile(ordered, 99),
            "count": len(ordered), "errors": len(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--moves", type=int, default=10)
    args = parser.parse_args()
    process, port = start_app()
    try:
        asyncio.run(class_moves(port, "now", 4, 2))  # warm up (imports, caches of the parser)
        now = asyncio.run(class_moves(port, "now", args.students, args.moves, seed=1))
        before = asyncio.run(class_moves(port, "before", args.students, args.moves, seed=1))
    finally:
        process.terminate()
        process.wait(timeout=10)
    for name, r in (("one descent request per move (now)", now),
                    ("16 differentiate requests per move (before)", before)):
        print(f"{name}: p50 {r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms "
              f"over {r['count']:.0f} redraws, {r['errors']:.0f} errors")
    print(f"p99 ratio before/now: {before['p99'] / now['p99']:.1f}x "
          f"({args.students} students, {args.moves} moves each)")


if __name__ == "__main__":
    main()
