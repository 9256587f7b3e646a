"""The primal sweep and what both modes share: the point, named values, formulas as text.

Two paths with one rule table: a point of plain floats runs on Python floats and the `math`
module (a numpy call per scalar node would cost more than the arithmetic), and a grid runs
on numpy float64 arrays, element-wise. At a single point an undefined value (log(-1), 1/0,
overflow) raises `EvaluationError` naming the node; on a grid it becomes NaN and is counted
(the policy is in sweep.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InputError
from .ops import OPS, format_number
from .plan import plan_of
from .point import Point, Value
from .program import Program
from .sweep import undefined_error
from .tensor_values import make_tensor_point, named_tensor_values, tensor_primal


def make_point(program: Program, at: Mapping[str, Any] | None) -> Point:
    at = dict(at or {})
    if program.tensor_path:
        _check_names(program, at)
        return make_tensor_point(program, at)
    _check_names(program, at)
    values: dict[str, Value] = {}
    grid = False
    for name in program.inputs:
        raw = at[name]
        if type(raw) is float and math.isfinite(raw):  # the common case, without numpy
            values[name] = raw
            continue
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"the value of {name!r} is not a number or an array of numbers") \
                from None
        if not np.all(np.isfinite(arr)):
            raise InputError(f"the value of {name!r} must be finite")
        if arr.ndim == 0:
            values[name] = float(arr)
        else:
            values[name] = arr
            grid = True
    shape: tuple[int, ...] = ()
    if grid:
        try:
            shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
        except ValueError:
            shapes = ", ".join(f"{n}: {np.shape(v)}" for n, v in values.items())
            raise InputError(f"the input grids have shapes that do not match ({shapes})") \
                from None
    return Point(values, grid, shape)


def _check_names(program: Program, at: dict[str, Any]) -> None:
    missing = [name for name in program.inputs if name not in at]
    if missing:
        raise InputError(f"no value given for input {', '.join(repr(m) for m in missing)}; "
                         f"the program's inputs are: {', '.join(program.inputs) or '(none)'}")
    unknown = [name for name in at if name not in program.inputs]
    if unknown:
        raise InputError(f"{', '.join(repr(u) for u in unknown)} is not an input of the program; "
                         f"its inputs are: {', '.join(program.inputs) or '(none)'}")


def primal(program: Program, point: Point) -> list[Value]:
    """The value of every node, in node order."""
    if program.tensor_path:
        return tensor_primal(program, point)
    plan = plan_of(program)
    vals: list[Value] = plan.initial.copy()
    for name, i in plan.inputs:
        vals[i] = point.values[name]
    if point.grid:
        with np.errstate(all="ignore"):
            for i, ufunc, x, y in plan.array_steps:
                vals[i] = ufunc(vals[x]) if y < 0 else ufunc(vals[x], vals[y])
        return vals
    i = 0
    try:
        for i, fn, x, y in plan.scalar_steps:
            vals[i] = fn(vals[x]) if y < 0 else fn(vals[x], vals[y])
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        args_i = tuple(vals[a] for a in program.nodes[i].args)
        raise undefined_error(program, i, args_i, exc) from None
    # One cheap test for the whole sweep (inf and nan survive a sum); only if it fails, look
    # for the node that overflowed.
    if not math.isfinite(sum(vals)):
        for node in program.nodes:
            if not math.isfinite(vals[node.id]):
                args_i = tuple(vals[a] for a in node.args)
                raise undefined_error(program, node.id, args_i, None)
    return vals


def partial_formulas(program: Program, i: int) -> list[str]:
    """The local partial rules of node i as text in its argument names (e.g. 'cos(v0)')."""
    node = program.nodes[i]
    rules = OPS[node.op].partials
    args = tuple(f"v{a}" for a in node.args)
    return [_text(rule(TextMath, f"v{i}", *args)) for rule in rules]


def factor_text(text: str) -> str:
    """A formula as a factor of a product: parenthesised if it has an operator in it."""
    return f"({text})" if " " in text else text


def _text(x: Any) -> str:
    return format_number(x) if isinstance(x, float | int) else str(x)


def _atom(x: Any) -> str:
    """x as an operand: parenthesised unless it is a name, a number or a function call."""
    s = _text(x)
    if (" " not in s and not s.startswith("-")) or _balanced_call(s):
        return s
    return f"({s})"


def _balanced_call(s: str) -> bool:
    # `sin(v0 + v1)` is an atom; `(v0) * (v1)` is not.
    if not s.endswith(")") or "(" not in s:
        return False
    head = s[: s.index("(")]
    return head.isidentifier() and _closes_at_end(s, s.index("("))


def _closes_at_end(s: str, start: int) -> bool:
    depth = 0
    for k in range(start, len(s)):
        depth += s[k] == "("
        depth -= s[k] == ")"
        if depth == 0:
            return k == len(s) - 1
    return False


class _TextMathType:
    """The math namespace that writes formulas instead of computing numbers."""

    def __getattr__(self, name: str) -> Any:
        if name not in OPS:  # e.g. `__wrapped__`, looked up by inspect and doctest
            raise AttributeError(name)
        op = OPS[name]

        def build(*args: Any) -> str:
            if op.name == "mul" and any(_text(a) == "1" for a in args):
                other = [a for a in args if _text(a) != "1"]
                return _text(other[0]) if other else "1"
            if op.arity == 2 or op.name == "neg":
                return op.text.format(*(_atom(a) for a in args))
            return op.text.format(*(_text(a) for a in args))

        return build


TextMath: Any = _TextMathType()


# --- shared by forward and reverse mode --------------------------------------------------------


def primal_steps(program: Program, vals: list[Value]) -> list[Any]:
    from .results import PrimalStep

    return [PrimalStep(node.ref, node.op, program.label(node.id) if node.name else None,
                       [f"v{a}" for a in node.args],
                       f"v{node.id} = {program.expression(node.id)}", vals[node.id])
            for node in program.nodes]


def finish(x: Value, point: Point) -> Value:
    """A result value: a float at a point; on a grid, a full-shape array with NaN where
    the function or its derivative is undefined."""
    if not point.grid:
        return float(x)
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != point.shape:
        arr = np.array(np.broadcast_to(arr, point.shape))
    finite = np.isfinite(arr)
    return arr if finite.all() else np.where(finite, arr, np.nan)


def named_values(program: Program, vals: list[Value], point: Point) -> dict[str, Value]:
    """Every named quantity (each version of a reassigned name) and every output."""
    if program.tensor_path:
        return named_tensor_values(program, vals, point)
    done: dict[int, Value] = {}  # a node named twice (an output, say) is finished once
    out = {}
    for label, i in plan_of(program).named:
        if i not in done:
            done[i] = finish(vals[i], point)
        out[label] = done[i]
    return out


def count_invalid(point: Point, *groups: Any) -> int:
    """Grid points where any of the given results is NaN."""
    if not point.grid:
        return 0
    bad = np.zeros(point.shape, dtype=bool)
    for group in groups:
        for value in _leaves(group):
            bad |= np.isnan(value)
    return int(bad.sum())


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    return [x]


def unit_directions(names: list[str], given: Any, kind: str) -> list[tuple[dict[str, float],
                                                                      str | None]]:
    """The seeds (or cotangents) to sweep with: (direction, name if it is a unit vector).

    None means one unit direction per name; a name means that unit direction; a dict is a
    general direction (missing names are 0).
    """
    if given is None:
        return [({n: 1.0 for n in names if n == m}, m) for m in names]
    if isinstance(given, str):
        if given not in names:
            raise InputError(f"{kind} {given!r} is not one of: {', '.join(names) or '(none)'}")
        return [({given: 1.0}, given)]
    if isinstance(given, Mapping):
        unknown = [k for k in given if k not in names]
        if unknown:
            raise InputError(f"{kind} names {', '.join(map(repr, unknown))}, which is not one of:"
                             f" {', '.join(names) or '(none)'}")
        direction = {k: float(v) for k, v in given.items()}
        nonzero = [k for k, v in direction.items() if v != 0.0]
        unit = nonzero[0] if len(nonzero) == 1 and direction[nonzero[0]] == 1.0 else None
        return [(direction, unit)]
    raise InputError(f"the {kind} must be a name or a mapping of names to numbers")
