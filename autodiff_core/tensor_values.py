"""The values of a tensor program: its point (inputs with their declared shapes, a grid as
leading axes) and the primal sweep.

At a single point a value that is not finite raises `EvaluationError` naming the node and the
element; on a grid it stays NaN at that point (the sweep policy of `sweep.py`). Every value is
an array of shape `grid + node.shape`, except constants, which have no grid axes (numpy's
broadcasting lines them up from the right).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import shapes
from .errors import EvaluationError, InputError
from .ops import CONST, GUARD, INPUT, OPS
from .plan import plan_of
from .point import Point
from .program import Program
from .sweep import describe
from .tensor_ops import TENSOR_RULES, Call, TensorMath

m = TensorMath

def all_finite(x: Any) -> bool:
    """Whether every element is finite. A sum is finite only if every term is (inf and NaN
    survive it), and one reduction is much cheaper than an array of booleans; only a sum that
    overflows needs the element-wise test."""
    if type(x) is not np.ndarray:
        return math.isfinite(x) if isinstance(x, float) else bool(np.isfinite(x).all())
    return math.isfinite(_add(x, axis=None)) or bool(np.isfinite(x).all())


_add = np.add.reduce  # without np.sum's wrapper: this runs once per node


# --- the point --------------------------------------------------------------------------------


def expected(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a number"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return f"a {shapes.show(shape)} array"


def not_finite(name: str) -> InputError:
    return InputError(f"the value of {name!r} must be finite")


# Ops whose value is not finite wherever an argument is not (inf·0 and inf−inf are NaN): an
# input used only by these is checked by its users' values at a point (tensor_primal), which
# spares reading a large input (a batch of data, a weight matrix) once more per step.
_PROPAGATING = {"matmul", "add", "sub", "mul", "neg", "broadcast", "sum", "mean", "transpose",
                "reshape"}


def checked_later(program: Program) -> frozenset[int]:
    """The inputs whose finiteness at a point is checked through their users' values: each is
    used, only by propagating ops (as the numerator of a division too), and is no output."""
    found: frozenset[int] | None = vars(program).get("_checked_later")
    if found is None:
        users: dict[int, list[tuple[str, int]]] = {i: [] for i in program.inputs.values()}
        for node in program.nodes:
            for k, a in enumerate(node.args):
                if a in users:
                    users[a].append((node.op, k))
        outputs = set(program.outputs.values())
        found = frozenset(i for i, uses in users.items()
                          if uses and i not in outputs
                          and all(op in _PROPAGATING or (op == "div" and k == 0)
                                  for op, k in uses))
        vars(program)["_checked_later"] = found
    return found


def make_tensor_point(program: Program, at: dict[str, Any]) -> Any:
    """Each input's value as an array of its declared shape; extra leading axes are a grid
    (all inputs' grids broadcast together, and every input is viewed with the whole grid)."""
    arrays: dict[str, np.ndarray] = {}
    grids: list[tuple[int, ...]] = []
    for name, i in program.inputs.items():
        s = program.nodes[i].shape
        try:
            arr = np.asarray(at[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{name}: the value is not a number or a (rectangular) array of "
                             "numbers") from None
        if arr.ndim < len(s) or arr.shape[arr.ndim - len(s):] != s:
            raise InputError(f"{name}: expected {expected(s)} (or a grid of them), got "
                             f"{shapes.show(arr.shape)}")
        grids.append(arr.shape[:arr.ndim - len(s)])
        if (grids[-1] or i not in checked_later(program)) and not all_finite(arr):
            raise not_finite(name)
        arrays[name] = arr
    deepest = max((len(n.shape) for n in program.nodes), default=0)
    most = max((len(g) for g in grids), default=0)
    if most + deepest > 30:  # numpy broadcasts at most 32 axes
        raise InputError(f"the inputs' grids have {most} axes; at most {30 - deepest} are "
                         "allowed with this program's shapes")
    try:
        grid_shape = tuple(np.broadcast_shapes(*grids)) if grids else ()
    except ValueError:
        found = ", ".join(f"{n}: {shapes.show(g)}" for n, g in zip(arrays, grids, strict=True))
        raise InputError(f"the inputs' grids (their extra leading axes) do not broadcast "
                         f"({found})") from None
    grid = any(grids)
    values: dict[str, Any] = {}
    for name, arr in arrays.items():
        s = program.nodes[program.inputs[name]].shape
        values[name] = np.broadcast_to(arr, grid_shape + s) if grid else arr
    return Point(values, grid, grid_shape)


# --- the primal sweep ---------------------------------------------------------------------------


def calls(program: Program) -> list[Call | None]:
    """Per node, the shapes and parameters its rules need (built once per program)."""
    found: list[Call | None] | None = vars(program).get("_tensor_calls")
    if found is None:
        nodes = program.nodes
        found = [Call(n.shape, tuple(nodes[a].shape for a in n.args), dict(n.params or {}))
                 if n.args else None for n in nodes]
        vars(program)["_tensor_calls"] = found
    return found


def tensor_primal(program: Program, point: Any, math: Any = None) -> list[Any]:
    """The value of every node: an array of shape grid + node.shape (constants: their own).

    `math`: another namespace to compute with (the Hessian's dual values), unchecked."""
    vals: list[Any] = [None] * len(program.nodes)
    call_of = calls(program)
    with np.errstate(all="ignore"):
        for node in program.nodes:
            i, op = node.id, node.op
            if op == INPUT:
                vals[i] = point.values[node.name or ""]
                continue
            if op == CONST:
                vals[i] = node.value
                continue
            args = [vals[a] for a in node.args]
            rule = TENSOR_RULES.get(op)
            if math is not None:
                vals[i] = rule.value(math, call_of[i], *args) if rule is not None \
                    else getattr(math, op)(*args)
                continue
            if rule is not None:
                v = rule.value(m, call_of[i], *args)
            elif op == GUARD:
                v = m.guard(*args, *call_of[i].shapes)  # type: ignore[union-attr]
            else:
                v = OPS[op].array(*args)
            vals[i] = v
            if not point.grid and not all_finite(v):
                for a in node.args:  # an input checked later (checked_later) is named
                    if program.nodes[a].op == INPUT and not all_finite(vals[a]):
                        raise not_finite(program.nodes[a].name or "")
                raise undefined_value(program, i, args, v)
    return vals


def undefined_value(program: Program, i: int, args: list[Any], value: Any, what: str = "value",
               ) -> EvaluationError:
    node = program.nodes[i]
    bad = np.argwhere(~np.isfinite(value))
    where = f" (element [{', '.join(map(str, bad[0]))}])" if np.ndim(value) and len(bad) else ""
    if what == "value":
        nan = np.isnan(value).any()
        problem = "is undefined" if nan or node.op in ("log", "div", "pow") \
            else "is too large for a float64 (overflow)"
    else:
        problem = "has no finite derivative"
    return EvaluationError(f"{describe(program, i, tuple(args))} {problem}{where}",
                           node=node.ref, op=node.op,
                           args=tuple(float(a) for a in args if np.ndim(a) == 0),
                           name=program.label(i) if node.name else None)


def finish(x: Any, shape: tuple[int, ...], point: Any) -> Any:
    """A result: a float for a scalar at a point, else an array of shape grid + shape, NaN
    where it is undefined on a grid."""
    arr = np.asarray(x, dtype=np.float64)
    if not point.grid:  # a structural zero (an input off the route) gets its shape too
        if not shape:
            return float(arr)
        return arr if arr.shape == shape else np.array(np.broadcast_to(arr, shape))
    full = point.shape + shape
    if arr.shape != full:
        arr = np.array(np.broadcast_to(shapes.align(arr, shape, len(shape))
                                       if arr.ndim > len(shape) else arr, full))
    finite = np.isfinite(arr)
    return arr if finite.all() else np.where(finite, arr, np.nan)


def named_tensor_values(program: Program, vals: list[Any], point: Any) -> dict[str, Any]:
    done: dict[int, Any] = {}
    out = {}
    for label, i in plan_of(program).named:
        if i not in done:
            done[i] = finish(vals[i], program.nodes[i].shape, point)
        out[label] = done[i]
    return out


