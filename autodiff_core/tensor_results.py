"""What the tensor passes sweep with and what they return: the inputs to differentiate
(`wrt`), the seeds or cotangents of each pass (one unit array per element, or one given
direction), and the Jacobian blocks the passes fill, `output.shape + input.shape` after the
grid's axes (a float for a scalar at a point).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import shapes
from .errors import InputError
from .program import Program
from .tensor_values import expected


def check_wrt(program: Program, wrt: Any) -> list[str]:
    """The inputs to differentiate (default: all), in input order."""
    if wrt is None:
        return list(program.inputs)
    names = [wrt] if isinstance(wrt, str) else list(wrt)
    unknown = [n for n in names if n not in program.inputs]
    if unknown:
        raise InputError(f"wrt names {', '.join(map(repr, unknown))}, which is not an input; "
                         f"the inputs are: {', '.join(program.inputs) or '(none)'}")
    return [n for n in program.inputs if n in names]


def _array(name: str, value: Any, shape: tuple[int, ...], kind: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"the {kind} of {name!r} is not a number or an array of numbers") \
            from None
    if arr.shape != shape:
        raise InputError(f"{name}: the {kind} must be {expected(shape)}, got "
                         f"{shapes.show(arr.shape)}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"the {kind} of {name!r} must be finite")
    return arr


_ONE = np.ones(())
_ONE.flags.writeable = False  # the unit cotangent of a scalar, shared by every pass
Direction = tuple[dict[str, np.ndarray], tuple[str, tuple[int, ...]] | None]


def directions(program: Program, names: list[str], given: Any, kind: str,
               ids: dict[str, int]) -> list[Direction]:
    """The seeds (or cotangents) to sweep with, each with (name, element) if it is a unit one.

    None: one unit direction per element of every name; a name: its elements; a mapping:
    one general direction (arrays of each name's shape; missing names are 0)."""
    def units(name: str) -> list[Direction]:
        s = program.nodes[ids[name]].shape
        if not s:
            return [({name: _ONE}, (name, ()))]
        out: list[Direction] = []
        for index in np.ndindex(*s):
            e = np.zeros(s)
            e[index] = 1.0
            out.append(({name: e}, (name, index)))
        return out

    if given is None:
        return [d for name in names for d in units(name)]
    if isinstance(given, str):
        if given not in names:
            raise InputError(f"{kind} {given!r} is not one of: {', '.join(names) or '(none)'}")
        return units(given)
    if isinstance(given, Mapping):
        unknown = [k for k in given if k not in names]
        if unknown:
            raise InputError(f"{kind} names {', '.join(map(repr, unknown))}, which is not one "
                             f"of: {', '.join(names) or '(none)'}")
        return [({k: _array(k, v, program.nodes[ids[k]].shape, kind)
                  for k, v in given.items()}, None)]
    raise InputError(f"the {kind} must be a name or a mapping of names to arrays")


def count_invalid(point: Any, program: Program, *groups: dict[str, Any]) -> int:
    """Grid points where any result is NaN (in any of its elements)."""
    if not point.grid:
        return 0
    g = len(point.shape)
    bad = np.zeros(point.shape, dtype=bool)
    stack: list[Any] = list(groups)
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif x is not None:
            nan = np.isnan(np.asarray(x))
            bad |= nan.any(axis=tuple(range(g, nan.ndim))) if nan.ndim > g else nan
    return int(bad.sum())


def jacobian_shape(program: Program, out: int, inp: int, point: Any) -> tuple[int, ...]:
    return point.shape + program.nodes[out].shape + program.nodes[inp].shape


def place(store: dict[str, dict[str, Any]], program: Program, point: Any, row: str, col: str,
           out: int, inp: int, index: tuple[int, ...], value: Any, fixed: str) -> None:
    """Put one pass's result into the Jacobian block [row][col]: `fixed` says whether the
    pass fixed an output element (reverse: a row) or an input element (forward: a column)."""
    full = jacobian_shape(program, out, inp, point)
    if not index and fixed == "output":  # a scalar output: the adjoint is the whole block
        whole = np.asarray(value if value is not None else 0.0)
        if whole.shape != full or not whole.flags.writeable or \
                any(whole is other for other in store[row].values()):
            whole = np.array(np.broadcast_to(whole, full))  # own, full and writable
        store[row][col] = whole
        return
    block = store[row].get(col)
    if block is None:
        block = store[row][col] = np.zeros(full)
    g = (slice(None),) * len(point.shape)
    s_out = program.nodes[out].shape
    if fixed == "output":
        where = g + index
        part = value if value is not None else 0.0
    else:
        where = g + (slice(None),) * len(s_out) + index
        part = value if value is not None else 0.0
    block[where] = part


def finish_blocks(store: dict[str, dict[str, Any]], program: Program, point: Any,
                   rows: dict[str, int], cols: dict[str, int]) -> None:
    for r, out in rows.items():
        for c, inp in cols.items():
            block = store[r].get(c)
            if block is None:
                block = np.zeros(jacobian_shape(program, out, inp, point))
            if not point.grid:  # a point: every derivative was checked finite
                store[r][c] = block if block.shape else float(block)
            else:
                finite = np.isfinite(block)
                store[r][c] = block if finite.all() else np.where(finite, block, np.nan)
