"""Requests that cost the server the most, each still a valid request: the security suite
(tests/app/test_heavy_requests.py) and the attack load test (benchmarks/attack_load.py) send
them to a real server. Also: reading a process tree's memory and CPU from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def wide_sum(inputs: int) -> str:
    """y = a0 + a1 + ... in sums of ten (the nesting stays under max_depth): about 2 nodes
    per input."""
    tens = [f"s{i} = " + " + ".join(f"a{10 * i + k}" for k in range(10))
            for i in range(inputs // 10)]
    hundreds = [f"t{j} = " + " + ".join(f"s{10 * j + k}" for k in range(10))
                for j in range(inputs // 100)]
    return "\n".join(tens + hundreds + ["y = " + " + ".join(f"t{j}" for j in range(inputs // 100))])


def ones(names: list[str]) -> dict[str, float]:
    return {name: 1.0 for name in names}


WIDE = wide_sum(1000)
WIDE_AT = ones([f"a{i}" for i in range(1000)])
COLUMN = [[float(i)] for i in range(10_000)]
ROW = [[float(i) for i in range(10_000)]]
CHAIN = "b0 = w\n" + "\n".join(f"b{i} = sin(b{i - 1})" for i in range(1, 500))  # 500 nodes
# Every step uses the input again: small in nodes, costly for dot (edges cross many ranks).
TANGLED = "b0 = w\n" + "\n".join(f"b{i} = b{i - 1} * w + {i}" for i in range(1, 120))
SHORT_NAMES = [f"{chr(97 + i % 26)}{i // 26}" for i in range(66)]
SHORT_WIDE = "y = " + "+".join(SHORT_NAMES)  # 201 characters, 66 inputs
# tensors: small requests that would make large arrays or many passes
HUGE_MATRIX = "W: [100000, 100000]\nx: [100000]\ny = sum(W @ x)"
WIDE_LAYER = "W: [300, 100]\nx: [100]\ny = sum(tanh(W @ x))"  # 30,100 input elements
WIDE_LAYER_AT = {"W": [[0.0] * 100] * 300, "x": [0.0] * 100}


@dataclass(frozen=True)
class Heavy:
    path: str
    body: dict[str, Any]
    limits: frozenset[str] = field(default_factory=frozenset)  # a 422 must name one of these
    ok: bool = False  # a bounded 200 is a right answer too


HEAVY: dict[str, Heavy] = {
    "a 10,000 x 1 column times a 1 x 10,000 row (10^8 points)": Heavy(
        "/api/v1/differentiate", {"source": "z = x*y", "at": {"x": COLUMN, "y": ROW}},
        frozenset({"max_grid_points"})),
    "the 10^8-point grid, Hessian": Heavy(
        "/api/v1/hessian", {"source": "z = x*y", "at": {"x": COLUMN, "y": ROW}},
        frozenset({"max_grid_points"})),
    "a derivative program evaluated on the 10^8-point grid": Heavy(
        "/api/v1/derivative", {"source": "z = x*y", "wrt": "x", "at": {"x": COLUMN, "y": ROW}},
        frozenset({"max_grid_points"})),
    "forward mode over 1,000 inputs, traced (2 million steps)": Heavy(
        "/api/v1/differentiate", {"source": WIDE, "at": WIDE_AT, "mode": "forward"},
        frozenset({"max_trace_size"})),
    "forward mode over 1,000 inputs, untraced": Heavy(
        "/api/v1/differentiate", {"source": WIDE, "at": WIDE_AT, "mode": "forward",
                                  "trace": False},
        frozenset({"max_response_bytes", "compute_timeout_seconds"}), ok=True),
    "a forward Jacobian over 1,000 inputs": Heavy(
        "/api/v1/jacobian", {"source": WIDE, "at": WIDE_AT, "mode": "forward"},
        frozenset({"max_work", "compute_timeout_seconds"}), ok=True),
    "a Hessian over 1,000 inputs": Heavy(
        "/api/v1/hessian", {"source": WIDE, "at": WIDE_AT}, frozenset({"max_work"})),
    "a quiz over 1,000 inputs": Heavy(
        "/api/v1/quiz", {"source": WIDE, "at": WIDE_AT, "mode": "forward"},
        frozenset({"max_work"})),
    "a 500-node chain as PNG": Heavy(
        "/api/v1/render", {"source": CHAIN, "format": "png"},
        frozenset({"compute_timeout_seconds", "dot_timeout_seconds"}), ok=True),
    "a tangled graph as PNG": Heavy(
        "/api/v1/render", {"source": TANGLED, "format": "png"},
        frozenset({"max_render_layout"}), ok=True),
    "the derivative program of a 500-node chain, drawn": Heavy(
        "/api/v1/derivative", {"source": CHAIN, "wrt": "w", "order": 2, "svg": True},
        frozenset({"max_render_nodes", "max_render_layout", "max_nodes",
                   "compute_timeout_seconds"})),
    "the derivative program of a tangled graph, drawn": Heavy(
        "/api/v1/derivative", {"source": TANGLED, "wrt": "w", "svg": True},
        frozenset({"max_render_nodes", "max_render_layout"})),
    "a 100,000 x 100,000 matrix declared": Heavy(
        "/api/v1/render", {"source": HUGE_MATRIX}, frozenset({"max_elements"})),
    "forward mode over a 300 x 100 matrix (30,100 passes)": Heavy(
        "/api/v1/differentiate", {"source": WIDE_LAYER, "at": WIDE_LAYER_AT, "mode": "forward",
                                  "trace": False}, frozenset({"max_elements"})),
    "a 100-element vector at each of 10,000 grid points": Heavy(
        "/api/v1/differentiate", {"source": "v: [100]\ny = sum(v * s)",
                                  "at": {"v": [0.0] * 100, "s": COLUMN}, "trace": False},
        frozenset({"max_elements"})),
    "the reverse trace of a 300 x 100 matrix": Heavy(
        "/api/v1/differentiate", {"source": WIDE_LAYER, "at": WIDE_LAYER_AT},
        frozenset({"max_trace_size"})),
    "the gradient of a 300 x 100 matrix, untraced": Heavy(
        "/api/v1/differentiate", {"source": WIDE_LAYER, "at": WIDE_LAYER_AT, "trace": False},
        frozenset({"compute_timeout_seconds"}), ok=True),
    "a 201-character program with 66 inputs, forward trace": Heavy(
        "/api/v1/differentiate", {"source": SHORT_WIDE, "at": ones(SHORT_NAMES),
                                  "mode": "forward"},
        frozenset({"compute_timeout_seconds"}), ok=True),
}


def variant(body: dict[str, Any], k: int) -> dict[str, Any]:
    """The same request, worded differently (spaces after the first `=`): no answer or
    drawing cache can serve it, the server computes it again."""
    source = body["source"].replace("=", "=" + " " * (k % 500 + 1), 1)
    return {**body, "source": source}


# --- a process tree, from /proc (Linux) -----------------------------------------------------


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of the whole tree (shared pages counted in every process: an upper
    bound)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/statm") as statm:
                total += int(statm.read().split()[1]) * PAGE
        except OSError:
            pass
    return total / 2**20


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) of each live process of the tree."""
    times = {}
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            times[p] = (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            pass
    return times
