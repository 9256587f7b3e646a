"""Load test (benchmarks/attack_load.py, shortened): 8 normal clients keep their p99 within 2x
of what they get alone while two clients send the costliest valid requests, and none of their
requests fails. The machine is shared and noisy: the best of three measurements counts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_benchmark() -> object:
    spec = importlib.util.spec_from_file_location("attack_load",
                                                  ROOT / "benchmarks" / "attack_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["attack_load"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_attackers_do_not_slow_normal_users_down() -> None:
    bench = load_benchmark()
    results = []
    for _ in range(3):
        result = bench.measure(seconds=3.0, rounds=2)  # type: ignore[attr-defined]
        results.append(result)
        assert result["failed"] == 0, result  # a failed normal request fails at once
        assert result["attacks"] > 0, result
        assert result["peak_mb"] < 1024, result
        if result["ratio"] <= 2.0:
            break
    assert min(r["ratio"] for r in results) <= 2.0, results
