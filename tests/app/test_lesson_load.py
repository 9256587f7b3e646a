"""40 students move lesson 1's slider together against a real server: one redraw (the one
descent request a move sends) stays under 200 ms at the 99th percentile.

The machine running the tests is shared and noisy (other test workers, other jobs), so each
try also measures the floor: the same 40 students sending the cheapest request there is (a
cached drawing) in the same moment. The bound holds when the redraw's p99 is under 200 ms,
or, on a machine so loaded that even the floor's p99 is past 50 ms, when the redraw adds
less than 200 ms to the floor. Best of three tries. benchmarks/lesson_slider_load.py prints
the figures and the old way's (docs/lessons.md).
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.api_bench import start_app
from benchmarks.lesson_slider_load import class_moves

pytestmark = pytest.mark.slow

BOUND = 0.2
QUIET_FLOOR = 0.05


def test_forty_students_moving_the_slider_redraw_within_200_ms() -> None:
    process, port = start_app()
    tries: list[tuple[float, float]] = []
    try:
        asyncio.run(class_moves(port, "now", 4, 2))  # warm up
        for attempt in range(3):
            floor = asyncio.run(class_moves(port, "health", 40, 3, seed=attempt))
            redraw = asyncio.run(class_moves(port, "now", 40, 5, seed=attempt))
            assert redraw["errors"] == 0 and redraw["count"] == 200
            tries.append((redraw["p99"], floor["p99"]))
            if redraw["p99"] < BOUND or (floor["p99"] > QUIET_FLOOR
                                         and redraw["p99"] - floor["p99"] < BOUND):
                return
    finally:
        process.terminate()
        process.wait(timeout=10)
    pytest.fail(f"p99 of one redraw and of the floor in each try (s): {tries}")
