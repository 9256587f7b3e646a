"""Tensor speed (issue 13): ratios against baselines measured in the same run, one thread each.

    .venv/bin/python benchmarks/tensor_bench.py            # the table, and the figures as JSON
    .venv/bin/python benchmarks/tensor_bench.py --quick    # fewer repeats, no scalar check

(a) One training step of the contract's 784-128-10 MLP at batch 64: the loss and its gradients
    wrt W1, b1, W2, b2 (not the data X, Y). Ours, `ad.reverse(program, at, wrt=[...],
    trace=False)`, against PyTorch eager (autograd, float64 like ours) and against the same step
    written by hand in numpy (the forward pass and the four gradients, no autodiff: the limit).
    Goals: ours / PyTorch <= 1.0, ours / numpy <= 1.5.
(b) A traced step (`trace=True`, then the JSON the API sends) of a small MLP, and its graph
    drawn by graphviz: under 1 s together.
(c) Scalar programs keep their speed: the scalar benchmark's programs (benchmarks/engine_bench.py)
    timed with this engine and with the engine of a baseline commit (default: the last commit
    before the tensor engine, unpacked under build/ and imported beside this one), in turns
    with a copy of this engine, whose ratio to this one is the run's noise floor.
    Goal: this / baseline <= 1.10.

Every time is the best of several repeats after a warm-up; contenders run in turns so that a slow
patch of the shared machine hits each alike. One thread everywhere: the BLAS thread variables are
set before numpy is imported, and torch.set_num_threads(1).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy (and its BLAS) is loaded

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from io import BytesIO  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import autodiff_core as ad  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "tensor_bench"

MLP_SOURCE = """\
X: [{batch}, {inputs}]
Y: [{batch}, {classes}]
W1: [{inputs}, {hidden}]
b1: [{hidden}]
W2: [{hidden}, {classes}]
b2: [{classes}]
h = relu(X @ W1 + b1)
logits = h @ W2 + b2
loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))
"""
BIG = {"batch": 64, "inputs": 784, "hidden": 128, "classes": 10}
SMALL = {"batch": 16, "inputs": 2, "hidden": 8, "classes": 2}  # two moons' size
PARAMS = ["W1", "b1", "W2", "b2"]
GOALS = {"torch": 1.0, "numpy": 1.5, "traced_seconds": 1.0, "scalar": 1.10}
# The scalar engine before tensors: main's last commit before issue 13's engine was merged
# (f73b686, "Tensor programs in the engine: ..."). `main` itself has the tensor engine now.
SCALAR_BASELINE = "9b5dad1"


def mlp_source(sizes: dict[str, int]) -> str:
    return MLP_SOURCE.format(**sizes)


def mlp_point(sizes: dict[str, int], seed: int = 0) -> dict[str, np.ndarray]:
    """Data (X, one-hot Y) and He-initialized weights, as a first training step sees them."""
    rng = np.random.default_rng(seed)
    n, d, k, c = sizes["batch"], sizes["inputs"], sizes["hidden"], sizes["classes"]
    return {
        "X": rng.normal(size=(n, d)),
        "Y": np.eye(c)[rng.integers(0, c, n)],
        "W1": rng.normal(size=(d, k)) * np.sqrt(2 / d), "b1": rng.normal(size=k) * 0.1,
        "W2": rng.normal(size=(k, c)) * np.sqrt(2 / k), "b2": rng.normal(size=c) * 0.1,
    }


# --- the three contenders ----------------------------------------------------------------------


def ours_step(program: ad.Program, at: dict[str, np.ndarray]) -> tuple[float, list[np.ndarray]]:
    result = ad.reverse(program, at, wrt=PARAMS, trace=False)
    return float(result.values["loss"]), [result.derivatives["loss"][w] for w in PARAMS]


def numpy_step(at: dict[str, np.ndarray]) -> tuple[float, list[np.ndarray]]:
    """The step by hand: forward, then each gradient from its formula."""
    X, Y, W1, b1, W2, b2 = (at[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    pre = X @ W1 + b1
    h = np.maximum(pre, 0.0)
    logits = h @ W2 + b2
    top = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - top)
    total = e.sum(axis=1, keepdims=True)
    lse = np.log(total[:, 0]) + top[:, 0]
    loss = float(np.mean(lse - np.sum(Y * logits, axis=1)))
    d_logits = (e / total - Y) / X.shape[0]  # softmax minus the targets, over the batch size
    d_pre = (d_logits @ W2.T) * (pre > 0)
    return loss, [X.T @ d_pre, d_pre.sum(axis=0), h.T @ d_logits, d_logits.sum(axis=0)]


def torch_step_fn(torch: Any, at: dict[str, np.ndarray]) -> Callable[[], tuple[float, list]]:
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in PARAMS) for k, v in at.items()}

    def step() -> tuple[float, list]:
        h = torch.relu(t["X"] @ t["W1"] + t["b1"])
        logits = h @ t["W2"] + t["b2"]
        loss = torch.mean(torch.logsumexp(logits, 1) - torch.sum(t["Y"] * logits, 1))
        grads = torch.autograd.grad(loss, [t[w] for w in PARAMS])
        return float(loss.detach()), [g.numpy() for g in grads]

    return step


def race(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """The best time of each function, run in turns after one warm-up each, the order of a
    turn reversed every other turn (no contender always follows the same one). The cyclic
    garbage collector is off while a call is timed (as timeit does): when it runs depends on
    what else the process holds, not on the call."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    try:
        for turn in range(repeat):
            order = list(zip(fns, times, strict=True))
            for fn, spent in order[::-1] if turn % 2 else order:
                gc.collect()
                gc.disable()
                start = time.perf_counter()
                fn()
                spent.append(time.perf_counter() - start)
                gc.enable()
    finally:
        gc.enable()
    return [min(spent) for spent in times]


def same_answers(*answers: tuple[float, list[np.ndarray]]) -> None:
    """Every contender computes the same loss and gradients, or the race means nothing."""
    loss, grads = answers[0]
    for other_loss, other_grads in answers[1:]:
        assert abs(loss - other_loss) <= 1e-9 * max(1.0, abs(loss)), (loss, other_loss)
        for w, a, b in zip(PARAMS, grads, other_grads, strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-12,
                                       err_msg=w)


def training_step(repeat: int) -> dict[str, float]:
    """(a): seconds per step for each contender, and the ratios."""
    import torch

    torch.set_num_threads(1)
    program = ad.parse(mlp_source(BIG))
    at = mlp_point(BIG)
    torch_step = torch_step_fn(torch, at)
    same_answers(numpy_step(at), ours_step(program, at), torch_step())
    t_ours, t_torch, t_numpy = race([lambda: ours_step(program, at), torch_step,
                                     lambda: numpy_step(at)], repeat)
    return {"ours": t_ours, "torch": t_torch, "numpy": t_numpy,
            "ours/torch": t_ours / t_torch, "ours/numpy": t_ours / t_numpy,
            "numpy/torch": t_numpy / t_torch}


def traced_step(repeat: int) -> dict[str, float]:
    """(b): a traced reverse step of the small MLP, its JSON, and its graph drawn by graphviz
    (the app's DOT, `dot -Tsvg`), as the playground gets them; seconds, best of repeat."""
    sys.path.insert(0, str(ROOT))  # the app's package, from the checkout
    from app.rendering import to_dot

    program = ad.parse(mlp_source(SMALL))
    at = mlp_point(SMALL)

    def step() -> int:
        result = ad.reverse(program, at, wrt=PARAMS, trace=True)
        return len(json.dumps(result.to_dict()))

    def draw() -> bytes:
        return subprocess.run(["dot", "-Tsvg"], input=to_dot(program).encode(),
                              capture_output=True, check=True).stdout

    size = step()
    t_trace, t_draw = race([step, draw], repeat)
    t_untraced, = race([lambda: ad.reverse(program, at, wrt=PARAMS, trace=False)], repeat)
    return {"traced": t_trace, "drawn": t_draw, "traced+drawn": t_trace + t_draw,
            "untraced": t_untraced, "json_bytes": size, "nodes": len(program.nodes)}


# --- (c) scalar programs: this engine against a baseline commit's -----------------------------


def engine_copy(ref: str | None, name: str) -> Any:
    """A copy of autodiff_core imported beside this one as the package `name`: a commit's
    (`ref`, unpacked from git under build/; None if git does not know it), or this worktree's
    own (ref None: the noise floor, the same code timed as a rival). The engine's modules
    import each other relatively, so a copy is whole and independent."""
    where = BUILD / name
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    if ref is None:
        shutil.copytree(ROOT / "autodiff_core", where / "autodiff_core",
                        ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "autodiff_core"],
                                 capture_output=True)
        if archive.returncode:
            return None
        with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
            tar.extractall(where, filter="data")
    spec = importlib.util.spec_from_file_location(
        name, where / "autodiff_core" / "__init__.py",
        submodule_search_locations=[str(where / "autodiff_core")])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def scalar_runs(engine: Any) -> dict[str, Callable[[], Any]]:
    """engine_bench's programs, each parsed by `engine`, as calls to time."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from engine_bench import _SMOOTH_TEMPLATES, AT, GRID_SOURCE, program_text

    arith = engine.parse(program_text(10_000))
    smooth = engine.parse(program_text(10_000, _SMOOTH_TEMPLATES))
    grid = engine.parse(GRID_SOURCE)
    xs = {"x": np.linspace(-4.0, 4.0, 1_000_000)}
    small = engine.parse("x = 3*w; y = 2*x^2 + 4")
    text = program_text(10_000)
    return {
        "parse, 10,000-node arithmetic program": lambda: engine.parse(text),
        "reverse, 10,000-node arithmetic program": lambda: engine.reverse(arith, AT, trace=False),
        "reverse, 10,000-node smooth program": lambda: engine.reverse(smooth, AT, trace=False),
        "evaluate, 10,000-node arithmetic program": lambda: engine.evaluate(arith, AT),
        "reverse, 1,000,000-point grid": lambda: engine.reverse(grid, xs, trace=False),
        "forward, 1,000,000-point grid": lambda: engine.forward(grid, xs, trace=False),
        "traced reverse, 3-node program": lambda: engine.reverse(small, {"w": 1.0}, trace=True),
    }


def scalar_check(ref: str, repeat: int) -> dict[str, Any] | str:
    """(c): each scalar measurement by this engine, the baseline's and a copy of this one, the
    three calls in turns in one process (a slow patch of the machine hits all alike). This /
    its own copy is the noise floor of the run: what "this / baseline" may differ from 1 by
    with no change at all."""
    baseline = engine_copy(ref, "baseline_autodiff_core")
    if baseline is None:
        return f"baseline {ref!r} not found by git: skipped"
    runs = [scalar_runs(e) for e in (ad, baseline, engine_copy(None, "same_autodiff_core"))]
    figures = {}
    for name in runs[0]:
        heavy = "grid" in name or "parse" in name
        t_ours, t_base, t_same = race([r[name] for r in runs],
                                      max(3, repeat // 7) if heavy else repeat)
        figures[name] = {"ours": t_ours, "baseline": t_base, "ratio": t_ours / t_base,
                         "noise": t_ours / t_same}
    return figures


# --- report ------------------------------------------------------------------------------------


def ms(t: float) -> str:
    return f"{t * 1e3:.2f} ms"


def report(figures: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows (what, figure, goal, met) for the table and for docs/tensors.md."""
    a, b = figures["step"], figures["traced"]
    rows = [
        ("(a) ours: `ad.reverse(trace=False, wrt=[W1, b1, W2, b2])`", ms(a["ours"]), "", ""),
        ("(a) PyTorch eager, float64", ms(a["torch"]), "", ""),
        ("(a) numpy by hand", ms(a["numpy"]), "", ""),
        ("(a) ours / PyTorch", f"{a['ours/torch']:.2f}x", f"<= {GOALS['torch']}x",
         _met(a["ours/torch"] <= GOALS["torch"])),
        ("(a) ours / numpy by hand", f"{a['ours/numpy']:.2f}x", f"<= {GOALS['numpy']}x",
         _met(a["ours/numpy"] <= GOALS["numpy"])),
        ("(a) numpy by hand / PyTorch", f"{a['numpy/torch']:.2f}x", "(info)", ""),
        (f"(b) traced step + JSON, small MLP ({b['nodes']} nodes, {b['json_bytes']:,} bytes)",
         ms(b["traced"]), "", ""),
        ("(b) its graph drawn (DOT, then graphviz `dot -Tsvg`)", ms(b["drawn"]), "", ""),
        ("(b) traced step + drawing", ms(b["traced+drawn"]),
         f"< {GOALS['traced_seconds']:.0f} s", _met(b["traced+drawn"] < GOALS["traced_seconds"])),
        ("(b) the same step untraced", ms(b["untraced"]), "(info)", ""),
    ]
    scalar = figures.get("scalar")
    if isinstance(scalar, str):
        rows.append(("(c) scalar programs", scalar, "", ""))
    elif scalar:
        for name, s in scalar.items():
            rows.append((f"(c) {name}: this / baseline ({ms(s['ours'])} / {ms(s['baseline'])}"
                         f"; this / its own copy, the noise: {s['noise']:.2f}x)",
                         f"{s['ratio']:.2f}x", f"<= {GOALS['scalar']}x", _scalar_met(s)))
    return rows


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def _scalar_met(s: dict[str, float]) -> str:
    """Met; or missed by less than the run's noise (this engine against its own copy)."""
    if s["ratio"] <= GOALS["scalar"]:
        return "yes"
    noise = max(s["noise"], 1 / s["noise"])
    return "NO (within the noise)" if s["ratio"] <= GOALS["scalar"] * noise else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no scalar check")
    parser.add_argument("--repeat", type=int, default=None, help="repeats of (a) (default 100)")
    parser.add_argument("--baseline", default=SCALAR_BASELINE,
                        help="git ref of the scalar baseline (default: the last before tensors)")
    parser.add_argument("--no-scalar", action="store_true", help="skip (c)")
    parser.add_argument("--markdown", action="store_true",
                        help="also print the tables as markdown (for docs/tensors.md)")
    args = parser.parse_args()
    repeat = args.repeat or (30 if args.quick else 100)
    import torch

    machine = (f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python "
               f"{platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
               f"load average {os.getloadavg()[0]:.1f} at the start")
    print(f"Tensor benchmark ({machine}), one thread each", flush=True)
    figures: dict[str, Any] = {"machine": machine, "repeat": repeat,
                               "step": training_step(repeat), "traced": traced_step(5)}
    if not (args.quick or args.no_scalar):
        figures["scalar"] = scalar_check(args.baseline, repeat=100)
    rows = report(figures)
    width = max(len(r[0]) for r in rows)
    for what, figure, goal, met in rows:
        print(f"  {what:<{width}}  {figure:>10}  {goal:<8} {met}")
    if args.markdown:
        for part in "abc":
            print("\n| measurement | figure | goal | met |\n|---|---|---|---|")
            for what, figure, goal, met in rows:
                if what.startswith(f"({part})"):
                    print(f"| {what[4:]} | {figure} | {goal} | {met} |")
    print("JSON " + json.dumps(figures))


if __name__ == "__main__":
    main()
