"""A class at once (benchmarks/class_bench.py, bounded): 40 students join and answer together
on SQLite with 2 workers while the teacher's dashboard polls. No request fails and the
database counts every acknowledged answer. Latency is judged against the stateless check
measured in the same run by the same students (a ratio: the machine may be busy)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import class_bench  # noqa: E402

# p99 of a recorded answer over p99 of the stateless check by the same students: about 2 to
# 4 on this 2-core machine, 6.7 when writers polled the locked SQLite file (before app/db.py
# queued them on a lock)
RATIO = 6


def one_run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="class-load-") as data_dir:
        process, url = class_bench.start_server(2, data_dir)
        try:
            return asyncio.run(class_bench.run([url], students=40, classes=1, answers=5,
                                               think=1.0, seed=7))
        finally:
            class_bench.stop_server(process)


@pytest.mark.slow
def test_forty_students_at_once_on_sqlite_with_two_workers() -> None:
    tries = []
    for _ in range(2):  # the better of two runs: one pause of a loaded machine is not the app
        figures = one_run()
        print(class_bench.report(figures))
        assert figures["errors"] == {}, figures["error_samples"]
        assert figures["acknowledged"] == 40 * 5
        assert figures["every_answer_counted"] and figures["counted"] == 200
        tries.append(figures)
        if figures["answer_vs_check_p99"] < RATIO:
            break
    best = min(tries, key=lambda f: f["answer_vs_check_p99"])
    # no absolute time: the machine may be busy (the benchmark prints p99; docs/classroom.md
    # records it with the machine's load)
    assert best["answer_vs_check_p99"] < RATIO, class_bench.report(best)
