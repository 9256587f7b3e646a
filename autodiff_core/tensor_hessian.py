"""The Hessian of a tensor program's scalar output: forward over reverse, with dual values.

The scalar engine differentiates its gradient *program* again (higher.py). For tensor programs
the same idea runs on numbers: every value carries, beside itself, its tangents along all unit
directions at once (a `Dual`: the value and an array with one extra leading axis, one row per
input element). The reverse sweep of `tensor_sweep.py` runs unchanged with `DualMath` as its
math namespace, so the adjoint of each input comes out with its tangents: the gradient and,
row by row, the Hessian. No rule is written twice: an elementwise op's tangent is the op's own
partial rules (ops.py) times the argument's tangent, and the tensor ops' methods are linear in
the arguments that carry tangents (matmul is bilinear), so their tangent is the same method
applied to the tangent. The extra leading axis is, to those methods, just a grid axis.

The Hessian is over the inputs' elements, flattened in input order, row-major (W[0,0],
W[0,1], ...); its size is refused past `MAX_HESSIAN_ELEMENTS` inputs elements (n² numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import EvaluationError, InputError
from .ops import OPS
from .point import Point
from .program import Program
from .sweep import route
from .tensor_ops import TENSOR_OPS, Call, TensorMath, softmax_map
from .tensor_sweep import Locals, pull
from .tensor_values import all_finite, make_tensor_point, tensor_primal

MAX_HESSIAN_ELEMENTS = 2000


@dataclass(slots=True)
class Dual:
    """A value and its tangents along every direction (leading axis: the direction)."""

    v: Any
    t: Any


def _parts(x: Any) -> tuple[Any, Any]:
    return (x.v, x.t) if isinstance(x, Dual) else (x, None)


def _dual(v: Any, t: Any) -> Any:
    return v if t is None else Dual(v, t)


def _plus(a: Any, b: Any) -> Any:
    return b if a is None else (a if b is None else a + b)


def _elementwise(name: str) -> Any:
    op = OPS[name]

    def method(*args: Any) -> Any:
        vals = [_parts(a)[0] for a in args]
        out = op.array(*vals)
        tangent = None
        for k, a in enumerate(args):
            t = _parts(a)[1]
            if t is not None:
                p = op.partials[k](TensorMath, out, *vals)
                tangent = _plus(tangent, t if type(p) is float and p == 1.0 else t * p)
        return _dual(out, tangent)

    return staticmethod(method)


def _linear(name: str, linear: tuple[int, ...]) -> Any:
    """A TensorMath method that is linear in each argument of `linear`; it does not depend on
    the others' tangents (shapes, an axis, or an operand it does not read)."""
    f = getattr(TensorMath, name)

    def method(*args: Any) -> Any:
        vals = [_parts(a)[0] for a in args]
        out = f(*vals)
        tangent = None
        for k in linear:
            t = _parts(args[k])[1]
            if t is not None:
                tangent = _plus(tangent, f(*vals[:k], t, *vals[k + 1:]))
        return _dual(out, tangent)

    return staticmethod(method)


def _matmul_vjp(bar: Any, a: Any, b: Any, sa: tuple[int, ...], sb: tuple[int, ...],
                k: int) -> Any:
    # bilinear in (bar, b) for A's contribution, in (bar, a) for B's
    other = 2 if k == 0 else 1
    f = _linear("matmul_vjp", (0, other)).__func__
    return f(bar, a, b, sa, sb, k)


def _softmax(x: Any, s: tuple[int, ...], axis: int | None) -> Any:
    v, t = _parts(x)
    out = TensorMath.softmax(v, s, axis)
    if t is None:
        return out
    return Dual(out, softmax_map(TensorMath, Call(s, (s,), {"axis": axis}), out, t))


def _logsumexp(x: Any, s: tuple[int, ...], axis: int | None) -> Any:
    v, t = _parts(x)
    out = TensorMath.logsumexp(v, s, axis)
    if t is None:
        return out
    p = TensorMath.exp(v - TensorMath.expand(out, s, axis))
    return Dual(out, TensorMath.sum(p * t, s, axis))


_METHODS = {name: _elementwise(name) for name in OPS if name not in TENSOR_OPS}
_METHODS.update({
    "matmul": _linear("matmul", (0, 1)),
    "matmul_vjp": staticmethod(_matmul_vjp),
    "transpose": _linear("transpose", (0,)),
    "sum": _linear("sum", (0,)),
    "unreduce": _linear("unreduce", (0,)),
    "expand": _linear("expand", (0,)),
    "broadcast": _linear("broadcast", (0,)),
    "reshape": _linear("reshape", (0,)),
    "unbroadcast": _linear("unbroadcast", (0,)),
    "softmax": staticmethod(_softmax),
    "logsumexp": staticmethod(_logsumexp),
})
DualMath: Any = type("DualMath", (), _METHODS)
"""The math namespace of dual values: what the sweeps call, value and tangents at once."""


def element_labels(program: Program) -> list[str]:
    """`a`, `W[0,0]`, `W[0,1]`, ...: the inputs' elements in order, row-major."""
    labels = []
    for name, shape in program.input_shapes.items():
        if not shape:
            labels.append(name)
        labels += [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)
                   if shape]
    return labels


@dataclass
class TensorHessian:
    value: float
    gradient: dict[str, Any]
    blocks: dict[str, dict[str, Any]]  # blocks[x][z]: shape x.shape + z.shape
    matrix: np.ndarray  # n×n over the flattened elements
    labels: list[str]


def tensor_hessian(program: Program, at: Mapping[str, Any] | None, output: str) -> TensorHessian:
    """Value, gradient and Hessian of a scalar output of a tensor program, at one point."""
    target = program.outputs[output]
    if program.nodes[target].shape:
        raise InputError(f"the Hessian is of a scalar output; {output!r} has shape "
                         f"{'×'.join(map(str, program.nodes[target].shape))}")
    point = make_tensor_point(program, dict(at or {}))
    if point.grid:
        raise InputError("the Hessian of a tensor program is computed at one point: give each "
                         "input its declared shape, without grid axes")
    shapes = program.input_shapes
    n = sum(int(np.prod(s)) for s in shapes.values())
    if n > MAX_HESSIAN_ELEMENTS:
        raise InputError(f"the inputs have {n} elements in all; the Hessian is computed for at "
                         f"most {MAX_HESSIAN_ELEMENTS} (an n×n matrix)")
    eye = np.eye(n)
    directions: dict[str, Any] = {}
    offset = 0
    for name, s in shapes.items():
        size = int(np.prod(s))
        directions[name] = eye[:, offset:offset + size].reshape((n,) + s)
        offset += size
    value, gradient, products = forward_over_reverse(program, point, target, directions, n)
    columns = [products[name].reshape(n, -1) for name in shapes]
    matrix = np.concatenate(columns, axis=1) if columns else np.zeros((0, 0))
    if not all_finite(matrix):
        raise EvaluationError(f"a second derivative of {output} is undefined at this point")
    blocks: dict[str, dict[str, Any]] = {}
    rows = 0
    for x, sx in shapes.items():
        nx = int(np.prod(sx))
        blocks[x] = {}
        cols = 0
        for z, sz in shapes.items():
            nz = int(np.prod(sz))
            block = matrix[rows:rows + nx, cols:cols + nz].reshape(sx + sz)
            blocks[x][z] = float(block) if not block.shape else block
            cols += nz
        rows += nx
    return TensorHessian(value, gradient, blocks, matrix, element_labels(program))


def forward_over_reverse(program: Program, point: Point, target: int,
                         directions: dict[str, Any], n: int
                         ) -> tuple[float, dict[str, Any], dict[str, np.ndarray]]:
    """The value, the gradient, and the products H·v for n directions at once: the reverse
    sweep run on dual values whose tangents are `directions` (each input's: shape (n,) +
    its shape). Returns (value, gradient, {input: (n,) + its shape})."""
    shapes = program.input_shapes
    values = {name: Dual(point.values[name], directions[name]) for name in shapes}
    vals = tensor_primal(program, Point(values, False), DualMath)
    swept = route(program, program.inputs.values(), [target])
    adjoints: list[Any] = [None] * len(program.nodes)
    adjoints[target] = 1.0
    pull(program, swept, vals, Locals(program, vals, False, check=False, m=DualMath), adjoints,
         m=DualMath)
    gradient: dict[str, Any] = {}
    products: dict[str, np.ndarray] = {}
    for name, s in shapes.items():
        g, t = _parts(adjoints[program.inputs[name]])
        g = np.broadcast_to(0.0 if g is None else g, s)
        gradient[name] = float(g) if not s else np.array(g)
        products[name] = np.zeros((n,) + s) if t is None \
            else np.array(np.broadcast_to(t, (n,) + s))
    return float(_parts(vals[target])[0]), gradient, products


def tensor_hvp(program: Program, at: Mapping[str, Any] | None, output: str,
               vector: Mapping[str, Any]) -> tuple[float, dict[str, Any], dict[str, Any]]:
    """(value, gradient, H·v) of a scalar output at one point, without forming H: one
    direction, the vector (missing inputs are 0), with each input's shape."""
    target = program.outputs[output]
    if program.nodes[target].shape:
        raise InputError(f"H·v is of a scalar output; {output!r} is not a scalar")
    point = make_tensor_point(program, dict(at or {}))
    if point.grid:
        raise InputError("H·v of a tensor program is computed at one point")
    directions = {}
    for name, s in program.input_shapes.items():
        v = np.asarray(vector.get(name, 0.0), dtype=np.float64)
        if v.shape not in (s, ()):
            raise InputError(f"{name}: the vector's entry must have its shape "
                             f"{'×'.join(map(str, s)) or 'a scalar'}, got "
                             f"{'×'.join(map(str, v.shape)) or 'a scalar'}")
        directions[name] = np.broadcast_to(v, s)[None]
    value, gradient, products = forward_over_reverse(program, point, target, directions, 1)
    hv = {name: float(p[0]) if not p[0].shape else p[0] for name, p in products.items()}
    if not all(all_finite(p) for p in products.values()):
        raise EvaluationError(f"a second derivative of {output} is undefined at this point")
    return value, gradient, hv
