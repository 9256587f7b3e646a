"""Benchmarks for issue 3: Hessians against n gradients, and forward against reverse Jacobians.

Every figure is a ratio of two timings measured in the same run (best of several repeats),
never an absolute time compared against a constant. Run: `.venv/bin/python
benchmarks/higher_bench.py` (about half a minute). Goals (printed with PASS/MISS):
- a Hessian of an n-input program costs at most 3x the time of n gradient evaluations;
- a Jacobian with 100 inputs and 1 output is at least 20x cheaper in reverse mode than in
  forward mode, and the other way round with 1 input and 100 outputs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autodiff_core as ad  # noqa: E402


def best_time(fn: Callable[[], object], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def mixing_program(n: int, depth: int = 3) -> ad.Program:
    """A scalar function of n inputs in which every pair of inputs interacts (dense Hessian)."""
    lines = ["s0 = " + " + ".join(f"x{i}" for i in range(n))]
    for d in range(depth):
        lines.append(f"s{d + 1} = tanh(s{d}) * s{d} + 0.5")
    terms = [f"sin(x{i} * x{(i + 1) % n}) * s{depth}" for i in range(n)]
    lines.append("y = " + " + ".join(terms))
    return ad.parse("\n".join(lines))


def hessian_benchmark() -> bool:
    print("Hessian (forward over reverse, one batched H·v program) vs n gradient evaluations")
    print(f"{'n':>5} {'nodes':>6} {'hessian ms':>11} {'n grads ms':>11} {'ratio':>6} "
          f"{'first call':>10}")
    ok = True
    for n in (10, 30, 100):
        program = mixing_program(n)
        at = {f"x{i}": 0.1 * (i % 7) - 0.3 for i in range(n)}
        start = time.perf_counter()
        ad.hessian(program, at)  # builds and caches the H·v program
        first = time.perf_counter() - start
        t_hessian = best_time(lambda p=program, a=at: ad.hessian(p, a))
        t_grads = best_time(lambda p=program, a=at, n=n: [ad.reverse(p, a, trace=False)
                                                          for _ in range(n)])
        ratio = t_hessian / t_grads
        ok &= ratio <= 3.0
        print(f"{n:>5} {len(program.nodes):>6} {t_hessian * 1e3:>11.2f} {t_grads * 1e3:>11.2f} "
              f"{ratio:>6.2f} {first / t_grads:>9.2f}x")
    print(f"goal: hessian <= 3x n gradients: {'PASS' if ok else 'MISS'}\n")
    return ok


def shared_program(n_in: int, n_out: int, depth: int = 200) -> ad.Program:
    """n_in inputs mixed into one long shared chain, read out by n_out outputs."""
    lines = ["h = " + " + ".join(f"x{i}" for i in range(n_in))]
    lines += ["h = sin(h) * 0.9 + h * 0.1"] * depth
    lines += [f"y{j} = h * {j + 1} + x{j % n_in}" for j in range(n_out)]
    return ad.parse("\n".join(lines), outputs=[f"y{j}" for j in range(n_out)])


def jacobian_times(n_in: int, n_out: int) -> tuple[float, float, ad.JacobianResult]:
    program = shared_program(n_in, n_out)
    at = {f"x{i}": 0.01 * i for i in range(n_in)}
    # The engine's own sweeps (what `ad.jacobian` runs), without the cost counting.
    t_fwd = best_time(lambda: ad.forward(program, at, trace=False))
    t_rev = best_time(lambda: ad.reverse(program, at, trace=False))
    return t_fwd, t_rev, ad.jacobian(program, at)


def jacobian_benchmark() -> bool:
    print("Jacobian: forward (one pass per input) vs reverse (one pass per output)")
    print(f"{'inputs':>6} {'outputs':>7} {'fwd ms':>8} {'rev ms':>8} {'fwd/rev time':>12} "
          f"{'fwd/rev ops':>11}")
    ok = True
    crossover = None
    previous = None
    for n_in, n_out in [(100, 1), (50, 2), (20, 5), (10, 10), (5, 20), (2, 50), (1, 100)]:
        t_fwd, t_rev, result = jacobian_times(n_in, n_out)
        ops = result.cost["forward"].operations / result.cost["reverse"].operations
        print(f"{n_in:>6} {n_out:>7} {t_fwd * 1e3:>8.2f} {t_rev * 1e3:>8.2f} "
              f"{t_fwd / t_rev:>12.2f} {ops:>11.2f}")
        if (n_in, n_out) == (100, 1):
            ok &= t_fwd / t_rev >= 20
        if (n_in, n_out) == (1, 100):
            ok &= t_rev / t_fwd >= 20
        if previous is not None and previous >= 1 > t_fwd / t_rev:
            crossover = (n_in, n_out)
        previous = t_fwd / t_rev
    print(f"measured crossover: forward becomes faster at {crossover} (inputs, outputs)")
    print(f"goal: >= 20x either way at 100 x 1 and 1 x 100: {'PASS' if ok else 'MISS'}\n")
    return ok


if __name__ == "__main__":
    results = [hessian_benchmark(), jacobian_benchmark()]
    sys.exit(0 if all(results) else 1)
