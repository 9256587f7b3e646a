"""Engine speed: the goals of issue 2, each a ratio against a baseline measured in the same run.

    .venv/bin/python benchmarks/engine_bench.py            # prints a table, writes the markdown
    .venv/bin/python benchmarks/engine_bench.py --quick    # fewer repeats, a smoke run

(a) reverse-mode gradient (primal included, trace off) / one evaluation, 10,000-node program
(b) evaluate + gradient: ours vs micrograd 0.1.0 doing forward + backward on the same expression
(c) time per node from 1,000 to 100,000 nodes (evaluate + gradient)
(d) f and f' on a 1,000,000-point grid vs the same function and derivative by hand in numpy
(e) for information: PyTorch CPU eager (and JAX) on the same programs, when installed

Every time is the best of several repeats (time.perf_counter), after one warm-up call; the
warm-up builds the program's cached plan, whose one-time cost is reported separately.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autodiff_core as ad
from autodiff_core.plan import plan_of
from autodiff_core.program import CONST, INPUT, Program

RESULTS = Path(__file__).resolve().parent / "results" / "engine.md"
AT = {"w": 0.8, "x": 0.3}

# Statements that keep values bounded over thousands of steps and use only the operations that
# micrograd 0.1.0 has (+ - * / ** relu), so that both engines run the very same expression.
_TEMPLATES = (
    "t{k} = 0.5*t{a} + relu(w*t{b} - x)*0.25",
    "t{k} = t{a}*t{b} / (1 + t{a}^2)",
    "t{k} = 0.9*t{a} - 0.1*t{c} + x*w",
)
# The same shape with transcendental functions (micrograd cannot run it; for ratio (a) only).
_SMOOTH_TEMPLATES = (
    "t{k} = tanh(0.5*t{a} + w*t{b})",
    "t{k} = sin(t{a}) * exp(-t{b}^2) + x",
    "t{k} = sigmoid(t{a} - t{c}) * w",
)


def program_text(nodes: int, templates: tuple[str, ...] = _TEMPLATES) -> str:
    """A program of about `nodes` nodes (+-2%): inputs w and x, each line reusing earlier ones."""
    per_line = sum(len(ad.parse(t.format(k=9, a=1, b=2, c=3).replace("t9 =", "q =")).nodes) - 3
                   for t in templates) / len(templates)  # minus the three inputs t1, t2, t3
    lines = ["t0 = w*x", "t1 = w + x", "t2 = w - x"]
    for k in range(3, 3 + max(1, round((nodes - 6) / per_line))):
        lines.append(templates[k % len(templates)].format(k=k, a=k - 1, b=k - 2, c=k - 3))
    return "\n".join(lines)


def race(fns: list[Callable[[], Any]], repeat: int, burst: int = 1) -> list[float]:
    """The best time of each function, run in turns (a, b, a, b, ...) after one warm-up each,
    so that a slow patch of a shared machine hits every contender alike. With burst > 1 each
    turn is that many calls in a row (the first after another contender runs on cold caches)."""
    for fn in fns:
        fn()  # warm-up: builds cached plans
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            for _ in range(burst):
                start = time.perf_counter()
                fn()
                spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    return race([fn], repeat)[0]


# --- micrograd and torch on the same Program ---------------------------------------------------


def micrograd_run(program: Program, at: dict[str, float]) -> dict[str, float]:
    """Forward (micrograd builds its graph as it computes) and backward, node by node."""
    from micrograd.engine import Value

    vals: list[Any] = [None] * len(program.nodes)
    leaves = {}
    for node in program.nodes:
        args = [vals[a] for a in node.args]
        if node.op == INPUT:
            vals[node.id] = leaves[node.name] = Value(at[node.name or ""])
        elif node.op == CONST:
            vals[node.id] = node.value
        else:
            vals[node.id] = _MICROGRAD[node.op](*args)
    out = vals[next(iter(program.outputs.values()))]
    out.backward()
    return {name: leaf.grad for name, leaf in leaves.items()}


_MICROGRAD: dict[str, Callable[..., Any]] = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "neg": lambda x: -x,
    "relu": lambda x: x.relu(),
}


def torch_run(torch: Any, program: Program, at: dict[str, float]) -> dict[str, float]:
    """The same node-by-node forward in PyTorch eager mode (0-d tensors), then backward."""
    fns = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
           "pow": torch.pow, "neg": torch.neg, "relu": torch.relu, "tanh": torch.tanh,
           "sin": torch.sin, "exp": torch.exp, "sigmoid": torch.sigmoid}
    vals: list[Any] = [None] * len(program.nodes)
    leaves = {}
    for node in program.nodes:
        if node.op == INPUT:
            leaf = torch.tensor(at[node.name or ""], dtype=torch.float64, requires_grad=True)
            vals[node.id] = leaves[node.name] = leaf
        elif node.op == CONST:
            vals[node.id] = torch.tensor(node.value, dtype=torch.float64)
        else:
            vals[node.id] = fns[node.op](*(vals[a] for a in node.args))
    vals[next(iter(program.outputs.values()))].backward()
    return {name: float(leaf.grad) for name, leaf in leaves.items()}


def try_import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        return None


# --- the measurements --------------------------------------------------------------------------


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, figure: str, goal: str = "", verdict: str = "") -> None:
        self.rows.append((what, figure, goal, verdict))
        print(f"  {what:<62} {figure:>22}  {goal:<8} {verdict}", flush=True)

    def markdown(self) -> str:
        lines = ["| measurement | figure | goal | met |", "|---|---|---|---|"]
        lines += [f"| {w} | {f} | {g} | {v} |" for w, f, g, v in self.rows]
        return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def ms(t: float) -> str:
    return f"{t * 1e3:.2f} ms"


def gradient_ratio(table: Table, label: str, program: Program, repeat: int,
                   goal: bool) -> None:
    """(a) reverse gradient (primal included, trace off) / one evaluation."""
    from autodiff_core.evaluation import make_point, primal

    point = make_point(program, AT)
    t_eval, t_grad, t_primal = race([lambda: ad.evaluate(program, AT),
                                     lambda: ad.reverse(program, AT, trace=False),
                                     lambda: primal(program, point)], repeat)
    n = len(program.nodes)
    ratio = t_grad / t_eval
    table.add(f"(a) {label}, {n} nodes: ad.evaluate", ms(t_eval))
    table.add(f"(a) {label}: ad.reverse(trace=False)", ms(t_grad))
    table.add(f"(a) {label}: gradient / evaluation", f"{ratio:.2f}x",
              "<= 2.5x" if goal else "(info)", verdict(ratio <= 2.5) if goal else "")
    table.add(f"(a) {label}: gradient / bare primal sweep (no result dicts)",
              f"{t_grad / t_primal:.2f}x", "(info)")


def versus_micrograd(table: Table, program: Program, repeat: int) -> None:
    """(b) evaluate + gradient, side by side with micrograd on the same expression."""
    text = program.source or ""
    ours = ad.reverse(program, AT, trace=False).derivatives
    output = next(iter(program.outputs))
    theirs = micrograd_run(program, AT)
    for name in AT:  # the same numbers, or the comparison means nothing
        assert math.isclose(ours[output][name], theirs[name], rel_tol=1e-9, abs_tol=1e-12), \
            (name, ours[output][name], theirs[name])
    t_ours, t_parse, t_cold, t_micro = race([
        lambda: ad.reverse(program, AT, trace=False),
        lambda: ad.parse(text),
        lambda: ad.reverse(ad.parse(text), AT, trace=False),
        lambda: micrograd_run(program, AT)], max(3, repeat // 2))
    table.add("(b) micrograd 0.1.0: build graph (forward) + backward", ms(t_micro))
    table.add("(b) ours: ad.reverse(trace=False), program parsed once", ms(t_ours))
    table.add("(b) speed-up vs micrograd, program parsed once", f"{t_micro / t_ours:.1f}x",
              ">= 5x", verdict(t_micro / t_ours >= 5))
    table.add("(b) ours: parse alone", ms(t_parse))
    table.add("(b) ours: parse + plan + reverse, nothing cached", ms(t_cold))
    table.add("(b) speed-up vs micrograd, parse included", f"{t_micro / t_cold:.1f}x", "(info)")


def per_node(table: Table, sizes: list[int], repeat: int) -> None:
    """(c) evaluate + gradient time per node stays flat as the program grows."""
    programs = [ad.parse(program_text(size)) for size in sizes]
    runs = [lambda p=p: ad.reverse(p, AT, trace=False) for p in programs]
    # Three calls per turn: a 1,000-node program run right after a 100,000-node one finds the
    # caches full of the other's data, which is not a cost of its size. Both are printed.
    cold = race(runs, repeat)
    times = race(runs, repeat, burst=3)
    per: dict[int, float] = {}
    for size, program, t in zip(sizes, programs, times, strict=True):
        per[size] = t / len(program.nodes)
        table.add(f"(c) {len(program.nodes)} nodes: evaluate + gradient per node",
                  f"{per[size] * 1e9:.0f} ns")
    spread = max(per.values()) / min(per.values())
    table.add(f"(c) largest / smallest time per node ({sizes[0]} to {sizes[-1]} nodes)",
              f"{spread:.2f}x", "<= 2x", verdict(spread <= 2))
    cold_per = [t / len(p.nodes) for p, t in zip(programs, cold, strict=True)]
    table.add("(c) the same, one call per turn (each size right after another)",
              f"{max(cold_per) / min(cold_per):.2f}x", "(info)")


GRID_SOURCE = "y = sin(x) * exp(-x^2 / 2) + 0.1*x^3"


def by_hand(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same function and its derivative written directly in numpy."""
    s = np.sin(x)
    e = np.exp(-x ** 2 / 2)
    f = s * e + 0.1 * x ** 3
    df = np.cos(x) * e - x * s * e + 0.3 * x ** 2
    return f, df


def grid(table: Table, points: int, repeat: int) -> None:
    """(d) f and f' over a grid vs the hand-written numpy."""
    program = ad.parse(GRID_SOURCE)
    x = np.linspace(-4.0, 4.0, points)
    f, df = by_hand(x)
    for mode in (ad.forward, ad.reverse):
        result = mode(program, {"x": x}, trace=False)
        assert np.allclose(result.values["y"], f) and np.allclose(result.derivatives["y"]["x"], df)
    t_hand, t_fwd, t_rev = race([lambda: by_hand(x),
                                 lambda: ad.forward(program, {"x": x}, trace=False),
                                 lambda: ad.reverse(program, {"x": x}, trace=False)], repeat)
    table.add(f"(d) {points:,} points, `{GRID_SOURCE}`: numpy by hand", ms(t_hand))
    table.add("(d) ours: ad.forward(trace=False)", ms(t_fwd))
    table.add("(d) ours: ad.reverse(trace=False)", ms(t_rev))
    table.add("(d) forward mode / numpy by hand", f"{t_fwd / t_hand:.2f}x", "<= 1.5x",
              verdict(t_fwd / t_hand <= 1.5))
    table.add("(d) reverse mode / numpy by hand", f"{t_rev / t_hand:.2f}x", "<= 1.5x",
              verdict(t_rev / t_hand <= 1.5))


def others(table: Table, program: Program, points: int, repeat: int) -> None:
    """(e) for information: PyTorch eager and JAX, when installed."""
    torch = try_import("torch")
    if torch is None:
        table.add("(e) PyTorch: not installed (pip install torch), skipped", "-")
    else:
        torch.set_num_threads(1)
        theirs = torch_run(torch, program, AT)
        ours = ad.reverse(program, AT, trace=False).derivatives[next(iter(program.outputs))]
        assert all(math.isclose(ours[n], theirs[n], rel_tol=1e-9, abs_tol=1e-12) for n in AT)
        t_torch = best_of(lambda: torch_run(torch, program, AT), max(1, repeat // 3))
        t_ours = best_of(lambda: ad.reverse(program, AT, trace=False), repeat)
        table.add(f"(e) PyTorch {torch.__version__} eager, {len(program.nodes)}-node program",
                  ms(t_torch), "(info)")
        table.add("(e) PyTorch eager time / ours", f"{t_torch / t_ours:.1f}x", "(info)")

        def torch_grid() -> None:
            x = torch.linspace(-4.0, 4.0, points, dtype=torch.float64, requires_grad=True)
            y = torch.sin(x) * torch.exp(-x ** 2 / 2) + 0.1 * x ** 3
            y.backward(torch.ones_like(y))

        t_grid = best_of(torch_grid, repeat)
        t_hand = best_of(lambda: by_hand(np.linspace(-4.0, 4.0, points)), repeat)
        table.add("(e) PyTorch f and f' on the grid (1 thread) / numpy by hand",
                  f"{t_grid / t_hand:.2f}x", "(info)")
    jax = try_import("jax")
    if jax is None:
        table.add("(e) JAX: not installed, skipped", "-")
    else:
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        f = jax.jit(jax.vmap(jax.value_and_grad(
            lambda x: jnp.sin(x) * jnp.exp(-x ** 2 / 2) + 0.1 * x ** 3)))
        xs = jnp.linspace(-4.0, 4.0, points)
        t_jax = best_of(lambda: [a.block_until_ready() for a in f(xs)], repeat)
        t_hand = best_of(lambda: by_hand(np.linspace(-4.0, 4.0, points)), repeat)
        table.add("(e) JAX jit(vmap(value_and_grad)) on the grid / numpy by hand",
                  f"{t_jax / t_hand:.2f}x", "(info)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, a smoke run")
    parser.add_argument("--no-write", action="store_true", help="do not write the markdown")
    args = parser.parse_args()
    repeat = 3 if args.quick else 15
    sys.setrecursionlimit(1_000_000)  # micrograd's topological sort is recursive

    machine = f"{platform.processor() or platform.machine()}, {_cpus()} CPUs, " \
              f"Python {platform.python_version()}, numpy {np.__version__}, " \
              f"load average {os.getloadavg()[0]:.1f} at the start"
    print(f"Engine benchmark ({machine})")
    table = Table()
    program = ad.parse(program_text(10_000))
    smooth = ad.parse(program_text(10_000, _SMOOTH_TEMPLATES))
    t_plan = best_of(lambda: plan_of(ad.parse(program.source or "")).edges(
        program.outputs.values()), 3) - best_of(lambda: ad.parse(program.source or ""), 3)
    gradient_ratio(table, "arithmetic + relu program", program, repeat, goal=True)
    gradient_ratio(table, "tanh/sin/exp/sigmoid program", smooth, repeat, goal=False)
    table.add("(a) one-time cost of the plan (cached on the Program)", ms(max(t_plan, 0.0)))
    versus_micrograd(table, program, repeat)
    per_node(table, [1_000, 10_000, 100_000], max(3, repeat // 3))
    grid(table, 1_000_000, max(3, repeat // 2))
    others(table, program, 1_000_000, max(3, repeat // 2))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(f"# Engine benchmark\n\n`benchmarks/engine_bench.py` on {machine}, "
                           f"best of {repeat} runs.\n\n{table.markdown()}\n")
        print(f"wrote {RESULTS}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
