"""The tensor speed goals (issue 13), as ratios measured in one run: no absolute times.

One training step of the 784-128-10 MLP at batch 64, loss and gradients wrt the weights, one
thread on every side: ours no slower than PyTorch eager and within 1.5x of the same step written
by hand in numpy. The benchmark runs in its own process (so that the single-thread settings are
made before numpy loads its BLAS); a shared machine is noisy, so the best of three tries counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "tensor_bench.py"
TRIES = 3

pytest.importorskip("torch")


def run_bench() -> dict:
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--repeat", "60"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("JSON "))
    return json.loads(line.removeprefix("JSON "))


@pytest.mark.slow
def test_a_training_step_is_no_slower_than_pytorch_and_near_numpy_by_hand() -> None:
    best = {"ours/torch": float("inf"), "ours/numpy": float("inf")}
    for _ in range(TRIES):
        step = run_bench()["step"]
        for key in best:
            best[key] = min(best[key], step[key])
        if best["ours/torch"] <= 1.0 and best["ours/numpy"] <= 1.5:
            break
    assert best["ours/torch"] <= 1.0, best
    assert best["ours/numpy"] <= 1.5, best
