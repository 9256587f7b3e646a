"""Shapes of tensor values: inference rules and the words an error uses.

A shape is a tuple of ints, `()` for a scalar. The parser asks these functions for the shape
of every node it makes, so a program whose shapes do not fit is refused before anything runs;
each function raises `ShapeMismatch` with a sentence the parser prefixes with the expression
and its line and column ("W @ x: 2×3 @ 2, the inner dimensions 3 and 2 differ").

On a grid of points a value carries extra leading axes; the ops therefore address tensor axes
from the end (negative axes), and `align` inserts axes of length 1 just after the grid axes so
that leading grid axes never meet a tensor axis. Those helpers live here too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Shape = tuple[int, ...]


class ShapeMismatch(ValueError):
    """Shapes that do not fit; the message says why (the parser adds where)."""


def show(shape: Shape) -> str:
    """`2×3`, `5`, or `a scalar`."""
    return "×".join(str(n) for n in shape) if shape else "a scalar"


def size(shape: Shape) -> int:
    return math.prod(shape)


def broadcast(a: Shape, b: Shape) -> Shape:
    """numpy's broadcasting of two shapes, or ShapeMismatch."""
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ShapeMismatch(f"shapes {show(a)} and {show(b)} do not broadcast") from None


def matmul(a: Shape, b: Shape) -> Shape:
    """numpy's `@`: 1-D operands are promoted (and the added axis dropped), batch axes broadcast."""
    if not a or not b:
        which = "left" if not a else "right"
        raise ShapeMismatch(f"{show(a)} @ {show(b)}, the {which} operand is a scalar "
                            "(use * to scale)")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeMismatch(f"{show(a)} @ {show(b)}, the inner dimensions {a2[-1]} and "
                            f"{b2[-2]} differ")
    try:
        batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    except ValueError:
        raise ShapeMismatch(f"{show(a)} @ {show(b)}, the batch dimensions {show(a2[:-2])} and "
                            f"{show(b2[:-2])} do not broadcast") from None
    out = batch + (a2[-2],) * (len(a) > 1) + (b2[-1],) * (len(b) > 1)
    return out


def axis_of(shape: Shape, axis: int) -> int:
    """The axis as a non-negative index into `shape`, or ShapeMismatch."""
    if not -len(shape) <= axis < len(shape):
        if not shape:
            raise ShapeMismatch(f"axis {axis} is out of range for a scalar")
        axes = "1 axis" if len(shape) == 1 else f"{len(shape)} axes"
        raise ShapeMismatch(f"axis {axis} is out of range for shape {show(shape)} ({axes})")
    return axis % len(shape)


def reduced(shape: Shape, axis: int | None) -> Shape:
    """The shape after reducing over `axis` (None: every axis), without keepdims."""
    if axis is None:
        return ()
    k = axis_of(shape, axis)
    return shape[:k] + shape[k + 1:]


def transposed(shape: Shape) -> Shape:
    return shape[::-1]


# --- values with leading grid axes ------------------------------------------------------------


def grid_ndim(value: Any, shape: Shape) -> int:
    """How many leading grid axes a value of the node shape `shape` carries."""
    return np.ndim(value) - len(shape)


def align(value: Any, shape: Shape, ndim: int) -> Any:
    """The value with `ndim - len(shape)` axes of length 1 inserted between its grid axes and
    its tensor axes, so it lines up with tensors of `ndim` axes under numpy's broadcasting."""
    pad = ndim - len(shape)
    if pad <= 0:
        return value
    g = grid_ndim(value, shape)
    if g == 0:
        return value  # numpy pads on the left by itself
    arr = np.asarray(value)
    return arr.reshape(arr.shape[:g] + (1,) * pad + arr.shape[g:])


def unbroadcast(value: Any, shape: Shape, target: Shape) -> Any:
    """Sum a value of node shape `target` (the broadcast one) back to `shape`: over the leading
    axes broadcasting added and over the axes where `shape` has 1. Grid axes are kept."""
    lead = len(target) - len(shape)
    axes = tuple(range(-len(target), -len(target) + lead))
    axes += tuple(k - len(shape) for k, n in enumerate(shape) if n == 1 and target[lead + k] != 1)
    if not axes:
        return value
    arr = np.asarray(value)
    out = arr.sum(axis=axes, keepdims=True)
    # drop the leading axes (now 1s) that broadcasting added, keeping the grid's
    return out.reshape(out.shape[:out.ndim - len(target)] + shape)


def broadcast_value(value: Any, shape: Shape, target: Shape) -> Any:
    """A value of node shape `shape` broadcast to `target` (a read-only view, no copy)."""
    arr = np.asarray(value)
    g = arr.ndim - len(shape)
    arr = align(arr, shape, len(target))
    return np.broadcast_to(arr, arr.shape[:g] + target)
