"""The tensor ops: matmul, broadcast, reductions, transpose, softmax and logsumexp.

An elementwise op (`+`, `sin`, ...) keeps its rule of `ops.py`: its local partial is an array
of the output's shape, and a sweep multiplies it elementwise (⊙) with the tangent or adjoint.
The ops here are different: their derivative is a linear map, not an array (the adjoint of
`A @ B` with respect to A is `C̄ · Bᵀ`, a product, not `C̄ ⊙ something`). So each has, beside
its value, a JVP rule per argument (forward mode: the tangent of the output from that
argument's tangent) and a VJP rule per argument (reverse mode: the contribution to that
argument's adjoint from the output's adjoint), written against the math namespace `m`, and
the text of each rule for the trace. The two rules of an op are transposes of each other:
matmul's JVP multiplies by B on the right, its VJP by Bᵀ; broadcast's JVP copies along the
broadcast axes, its VJP sums over them; a reduction's JVP sums, its VJP broadcasts back.

The math methods take the operands' node shapes as well as their values, because on a grid of
points a value carries extra leading axes (see `shapes.py`): `m.transpose(x, s)` reverses the
last len(s) axes only. `TensorMath` is the numpy namespace; each op of the table is in it too
(an elementwise op is `ArrayMath`'s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import shapes
from .errors import ExpressionError
from .ops import FUNCTIONS, OPS, ArrayMath, Op, _register, format_number

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """What a rule needs to know of the node it runs for: shapes and static parameters."""

    shape: Shape  # the output's
    shapes: tuple[Shape, ...]  # the arguments'
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def axis(self) -> int | None:
        """The reduction axis, non-negative, or None for every axis."""
        return self.params.get("axis")

    @property
    def target(self) -> Shape:
        return tuple(self.params["shape"])


# A JVP rule: (m, call, out, args, dot) -> tangent of the output from one argument's tangent.
# A VJP rule: (m, call, out, args, bar) -> that argument's contribution from the output's adjoint.
Rule = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class TensorRule:
    """Value, JVP and VJP rules of one tensor op, and their text for the trace.

    Texts are format strings over `{out}`, `{x}`, `{y}` (argument node refs), `{dot}` (the
    argument's tangent), `{bar}` (the output's adjoint), `{shape}` (an argument's shape),
    `{target}` (the output's shape) and `{axes}` (a description of the axes)."""

    value: Rule
    jvp: tuple[Rule, ...]
    vjp: tuple[Rule, ...]
    jvp_text: tuple[str, ...]
    vjp_text: tuple[str, ...]


TENSOR_RULES: dict[str, TensorRule] = {}
TENSOR_OPS = ("matmul", "broadcast", "sum", "mean", "transpose", "softmax", "logsumexp",
              "reshape")
AXIS_OPS = ("sum", "mean", "softmax", "logsumexp")
ALL_AXES = ("sum", "mean")  # without an axis: every axis (softmax/logsumexp: the last)


def _linear(m: Any, o: Any, *args: Any) -> Any:
    """The placeholder partial of a tensor op: a linear map, not an array (see TENSOR_RULES).
    Seen by `ops.rule_kind`, it is a formula, so no edge of a tensor op is a structural zero."""
    return None


def _no_scalar(*args: Any) -> Any:
    raise TypeError("a tensor op runs on the tensor sweeps (tensor_sweep.py)")


def _op(name: str, arity: int, text: str, latex: str, symbol: str, description: str,
        rule: TensorRule) -> None:
    _register(Op(name, arity, _no_scalar, _no_scalar, (_linear,) * arity, text, latex, symbol,
                 100 if name != "matmul" else 20, description))
    TENSOR_RULES[name] = rule


# --- the numpy namespace -----------------------------------------------------------------------


def _last(s: Shape, axis: int | None) -> tuple[int, ...]:
    """The reduced axes counted from the end (so leading grid axes are left alone)."""
    if axis is None:
        return tuple(range(-len(s), 0))
    return (axis - len(s),)


def _promoted(a: Any, b: Any, sa: Shape, sb: Shape) -> tuple[Any, Any, Shape, Shape, int]:
    """matmul's operands as matrices (1-D ones promoted as numpy does) with their grid axes
    aligned, and the static rank of the product before the promoted axes are dropped."""
    a, b = np.asarray(a), np.asarray(b)
    if len(sa) == 1:
        a, sa = a[..., None, :], (1,) + sa
    if len(sb) == 1:
        b, sb = b[..., :, None], sb + (1,)
    ndim = max(len(sa), len(sb))
    return shapes.align(a, sa, ndim), shapes.align(b, sb, ndim), sa, sb, ndim


def _swap(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


class TensorMath(ArrayMath):
    """numpy on values with leading grid axes: ArrayMath's elementwise ops, and these."""

    @staticmethod
    def step(x: Any) -> Any:
        # relu's partial: a mask of 0s and 1s (np.heaviside is several times slower; where x
        # is NaN the sweep policy makes the partial NaN anyway, see tensor_sweep.Locals)
        return np.greater(x, 0.0).astype(np.float64) if np.ndim(x) else float(x > 0)

    @staticmethod
    def matmul(a: Any, b: Any, sa: Shape, sb: Shape) -> Any:
        if np.ndim(a) == len(sa) and np.ndim(b) == len(sb):
            return np.matmul(a, b)  # no grid axes: numpy's own rules are ours
        a2, b2, pa, pb, _ = _promoted(a, b, sa, sb)
        out = np.matmul(a2, b2)
        if len(sb) == 1:
            out = out[..., 0]
        if len(sa) == 1:
            out = out[..., 0, :] if len(sb) > 1 else out[..., 0]
        return out

    @staticmethod
    def matmul_vjp(bar: Any, a: Any, b: Any, sa: Shape, sb: Shape, k: int) -> Any:
        """A's contribution C̄ · Bᵀ (k = 0) or B's Aᵀ · C̄ (k = 1), summed back over the batch
        axes that broadcasting added, with 1-D operands promoted and restored."""
        if len(sa) == len(sb) == 2 and np.ndim(bar) == 2 and np.ndim(a) == np.ndim(b) == 2:
            return np.matmul(bar, b.T) if k == 0 else np.matmul(a.T, bar)  # the common case
        a2, b2, pa, pb, ndim = _promoted(a, b, sa, sb)
        g = np.asarray(bar)
        if len(sb) == 1:
            g = g[..., None]
        if len(sa) == 1:
            g = g[..., None, :]
        batch = shapes.broadcast(pa[:-2], pb[:-2])
        g = shapes.align(g, batch + (pa[-2], pb[-1]), ndim)
        if k == 0:
            r = np.matmul(g, _swap(b2))
            r = shapes.unbroadcast(r, pa, batch + pa[-2:])
            return r[..., 0, :] if len(sa) == 1 else r
        r = np.matmul(_swap(a2), g)
        r = shapes.unbroadcast(r, pb, batch + pb[-2:])
        return r[..., 0] if len(sb) == 1 else r

    @staticmethod
    def transpose(x: Any, s: Shape, axes: tuple[int, ...] | None = None) -> Any:
        """The axes reversed (numpy's .T), or permuted by `axes` (derivative programs swap
        the last two of a batched matmul's operand)."""
        x = np.asarray(x)
        g = x.ndim - len(s)
        perm = tuple(reversed(range(len(s)))) if axes is None else axes
        return x.transpose(tuple(range(g)) + tuple(g + p for p in perm))

    @staticmethod
    def sum(x: Any, s: Shape, axis: int | None) -> Any:
        return np.sum(x, axis=_last(s, axis))

    @staticmethod
    def unreduce(x: Any, s: Shape, axis: int | None) -> Any:
        """A reduced value broadcast back to the shape `s` it was reduced from."""
        x = np.asarray(x)
        if axis is not None:
            x = np.expand_dims(x, axis - len(s))  # counted from the end: grid axes stay first
            return np.broadcast_to(x, x.shape[:x.ndim - len(s)] + s)
        return np.broadcast_to(x[(...,) + (None,) * len(s)], x.shape + s)

    @staticmethod
    def expand(x: Any, s: Shape, axis: int | None) -> Any:
        """A reduced value with its reduced axes back as 1s (numpy's keepdims): it broadcasts
        against the shape `s` it was reduced from without being copied to it."""
        x = np.asarray(x)
        if axis is not None:
            return np.expand_dims(x, axis - len(s))
        return x.reshape(x.shape + (1,) * len(s))

    @staticmethod
    def reshape(x: Any, s: Shape, target: Shape) -> Any:
        x = np.asarray(x)
        return x.reshape(x.shape[:x.ndim - len(s)] + target)

    @staticmethod
    def guard(x: Any, y: Any, sx: Shape, sy: Shape) -> Any:
        """x, NaN at the grid points where some element of y is undefined (the guard of a
        derivative program of a tensor program: x and y have shapes of their own)."""
        finite = np.isfinite(y)
        if sy:
            finite = finite.all(axis=tuple(range(-len(sy), 0)))
        finite = np.asarray(finite)
        return np.where(finite.reshape(finite.shape + (1,) * len(sx)), x, np.nan)

    @staticmethod
    def broadcast(x: Any, s: Shape, target: Shape) -> Any:
        return shapes.broadcast_value(x, s, target)

    @staticmethod
    def unbroadcast(x: Any, s: Shape, target: Shape) -> Any:
        return shapes.unbroadcast(x, s, target)

    @staticmethod
    def softmax(x: Any, s: Shape, axis: int | None) -> Any:
        ax = _last(s, axis)
        z = np.exp(x - np.max(x, axis=ax, keepdims=True))
        z /= np.sum(z, axis=ax, keepdims=True)
        return z

    @staticmethod
    def logsumexp(x: Any, s: Shape, axis: int | None) -> Any:
        ax = _last(s, axis)
        top = np.max(x, axis=ax, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        return np.log(np.sum(np.exp(x - top), axis=ax)) + np.squeeze(top, axis=ax)


# --- the rules --------------------------------------------------------------------------------
# c: the Call; o: the output value; x, y: the arguments; d: a tangent; g: an adjoint.

_op("matmul", 2, "{0} @ {1}", r"{0} {1}", "@", "matrix product", TensorRule(
    lambda m, c, x, y: m.matmul(x, y, *c.shapes),
    (lambda m, c, o, x, y, d: m.matmul(d, y, *c.shapes),
     lambda m, c, o, x, y, d: m.matmul(x, d, *c.shapes)),
    (lambda m, c, o, x, y, g: m.matmul_vjp(g, x, y, *c.shapes, 0),
     lambda m, c, o, x, y, g: m.matmul_vjp(g, x, y, *c.shapes, 1)),
    ("{dot} · {y}", "{x} · {dot}"),
    ("{bar} · {y}ᵀ", "{x}ᵀ · {bar}")))

_op("broadcast", 1, "broadcast({0})", r"{0}", "⇲", "broadcast to a larger shape", TensorRule(
    lambda m, c, x: m.broadcast(x, c.shapes[0], c.shape),
    (lambda m, c, o, x, d: m.broadcast(d, c.shapes[0], c.shape),),
    (lambda m, c, o, x, g: m.unbroadcast(g, c.shapes[0], c.shape),),
    ("broadcast of {dot} to {target}",),
    ("sum over {axes} of {bar}",)))

_op("sum", 1, "sum({0})", r"\sum {0}", "Σ", "sum of the elements", TensorRule(
    lambda m, c, x: m.sum(x, c.shapes[0], c.axis),
    (lambda m, c, o, x, d: m.sum(d, c.shapes[0], c.axis),),
    (lambda m, c, o, x, g: m.unreduce(g, c.shapes[0], c.axis),),
    ("sum over {axes} of {dot}",),
    ("broadcast of {bar} to {shape}",)))


def _count(c: Call) -> float:
    s = c.shapes[0]
    return float(shapes.size(s) if c.axis is None else s[c.axis])


_op("mean", 1, "mean({0})", r"\operatorname{{mean}} {0}", "mean", "mean of the elements",
    TensorRule(
        lambda m, c, x: m.div(m.sum(x, c.shapes[0], c.axis), _count(c)),
        (lambda m, c, o, x, d: m.div(m.sum(d, c.shapes[0], c.axis), _count(c)),),
        (lambda m, c, o, x, g: m.div(m.unreduce(g, c.shapes[0], c.axis), _count(c)),),
        ("sum over {axes} of {dot} / {count}",),
        ("broadcast of {bar} / {count} to {shape}",)))

def _axes(c: Call) -> tuple[int, ...] | None:
    axes = c.params.get("axes")
    return None if axes is None else tuple(axes)


def _inverse(axes: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The permutation that undoes `axes` (None, all axes reversed, undoes itself)."""
    return None if axes is None else tuple(int(k) for k in np.argsort(axes))


_op("transpose", 1, "transpose({0})", r"{{{0}}}^\top", "ᵀ", "transpose (axes reversed)",
    TensorRule(
        lambda m, c, x: m.transpose(x, c.shapes[0], _axes(c)),
        (lambda m, c, o, x, d: m.transpose(d, c.shapes[0], _axes(c)),),
        (lambda m, c, o, x, g: m.transpose(g, c.shape, _inverse(_axes(c))),),
        ("({dot})ᵀ",),
        ("({bar})ᵀ",)))

# softmax: ȯ = o ⊙ (ẋ − Σ o ⊙ ẋ) along the axis; x̄ = o ⊙ (ō − Σ ō ⊙ o), the same map (it is
# symmetric). logsumexp: its gradient is softmax(x) = exp(x − o).


def softmax_map(m: Any, c: Call, o: Any, v: Any) -> Any:
    s = c.shapes[0]
    inner = m.expand(m.sum(m.mul(o, v), s, c.axis), s, c.axis)
    return m.mul(o, m.sub(v, inner))


def _softmax_of(m: Any, c: Call, o: Any, x: Any) -> Any:
    """softmax(x) from logsumexp's output o: exp(x − o), o broadcast back along the axis."""
    return m.exp(m.sub(x, m.expand(o, c.shapes[0], c.axis)))


_op("softmax", 1, "softmax({0})", r"\operatorname{{softmax}} {0}", "softmax",
    "softmax along an axis", TensorRule(
        lambda m, c, x: m.softmax(x, c.shapes[0], c.axis),
        (lambda m, c, o, x, d: softmax_map(m, c, o, d),),
        (lambda m, c, o, x, g: softmax_map(m, c, o, g),),
        ("{out} ⊙ ({dot} − sum over {axes} of ({out} ⊙ {dot}))",),
        ("{out} ⊙ ({bar} − sum over {axes} of ({bar} ⊙ {out}))",)))

_op("logsumexp", 1, "logsumexp({0})", r"\log \sum e^{{{0}}}", "lse",
    "log of the sum of exponentials along an axis", TensorRule(
        lambda m, c, x: m.logsumexp(x, c.shapes[0], c.axis),
        (lambda m, c, o, x, d: m.sum(m.mul(_softmax_of(m, c, o, x), d), c.shapes[0], c.axis),),
        (lambda m, c, o, x, g: m.mul(m.expand(g, c.shapes[0], c.axis),
                                     _softmax_of(m, c, o, x)),),
        ("sum over {axes} of (exp({x} − {out}) ⊙ {dot})",),
        ("broadcast of {bar} to {shape} ⊙ exp({x} − {out})",)))

_op("reshape", 1, "reshape({0})", r"{0}", "⤢", "the same elements in another shape",
    TensorRule(
        lambda m, c, x: m.reshape(x, c.shapes[0], c.shape),
        (lambda m, c, o, x, d: m.reshape(d, c.shapes[0], c.shape),),
        (lambda m, c, o, x, g: m.reshape(g, c.shape, c.shapes[0]),),
        ("reshape of {dot} to {target}",),
        ("reshape of {bar} to {shape}",)))

# The functions a program may call (matmul is `@`; broadcast is inserted by the parser).
for _name in ("sum", "mean", "transpose", "softmax", "logsumexp"):
    FUNCTIONS[_name] = OPS[_name]


def infer(op: str, arg_shapes: list[tuple[int, ...]],
           params: dict[str, Any] | None) -> tuple[tuple[int, ...], dict[str, Any] | None]:
    """The output shape of `op` on arguments of these shapes, and its parameters normalized
    (an axis made non-negative, softmax's default the last axis). Raises ShapeMismatch."""
    if op == "matmul":
        return shapes.matmul(*arg_shapes), None
    if op in ("broadcast", "reshape"):  # made by the parser or the graph builder
        return tuple((params or {})["shape"]), params
    if op == "guard":  # a derivative program's guard has the shape of what it guards
        return arg_shapes[0], None
    if op == "transpose":
        axes = (params or {}).get("axes")
        if axes is None:
            return shapes.transposed(arg_shapes[0]), None
        return tuple(arg_shapes[0][p] for p in axes), params
    if op in AXIS_OPS:
        s = arg_shapes[0]
        axis = (params or {}).get("axis")
        if axis is None and op not in ALL_AXES:
            axis = -1
        if axis is not None:
            axis = shapes.axis_of(s, axis)
        out = shapes.reduced(s, axis) if op in ("sum", "mean", "logsumexp") else s
        return out, {"axis": axis}
    shape: tuple[int, ...] = ()
    for s in arg_shapes:
        shape = shapes.broadcast(shape, s) if shape != s else s
    return shape, None



def scalar_only(program: Any, what: str) -> None:
    """Refuse, with a clear ExpressionError, a transform not written for tensor programs yet."""
    if getattr(program, "tensor_path", False):
        raise ExpressionError(f"{what} is not yet supported for tensor programs (forward, "
                              "reverse, jacobian, hessian and gradient programs are; see "
                              "docs/tensors.md)")


# --- text -------------------------------------------------------------------------------------


def axes_text(c: Call, op: str) -> str:
    """`axis 1`, `axes 0 and 2`, `every axis` (in the terms of the larger shape)."""
    if op == "broadcast":
        s, t = c.shapes[0], c.shape
        lead = len(t) - len(s)
        axes = list(range(lead)) + [lead + k for k, n in enumerate(s)
                                    if n == 1 and t[lead + k] != 1]
    elif c.axis is None:
        return "every axis"
    else:
        axes = [c.axis]
    if len(axes) == 1:
        return f"axis {axes[0]}"
    return "axes " + ", ".join(map(str, axes[:-1])) + f" and {axes[-1]}"


def rule_text(template: str, op: str, c: Call, out: str, args: list[str], dot: str = "",
              bar: str = "") -> str:
    """A rule's text for the trace, in node names (`v̄5 · v3ᵀ`)."""
    return template.format(out=out, x=args[0], y=args[-1], dot=dot, bar=bar,
                           shape=shapes.show(c.shapes[0]), target=shapes.show(c.shape),
                           axes=axes_text(c, op), count=format_number(_count(c))
                           if op == "mean" else "")


def const_text(value: Any) -> str:
    """A constant as program text: `2`, `[1, 0]`, `[[1, 0], [0, 1]]` (long ones cut)."""
    if np.ndim(value) == 0:
        return format_number(float(value if value is not None else 0.0))

    def write(x: Any) -> str:
        if np.ndim(x) == 0:
            return format_number(float(x))
        return "[" + ", ".join(write(v) for v in x) + "]"

    text = write(np.asarray(value))
    return text if len(text) <= 60 else f"[{shapes.show(np.shape(value))} array]"


def with_params(text: str, params: dict[str, Any] | None) -> str:
    """An op's text with its static parameters: `sum(v3, 1)`, `broadcast(v1, 2×3)`."""
    if not params:
        return text
    if "axis" in params and params["axis"] is not None and text.endswith(")"):
        return f"{text[:-1]}, {params['axis']})"
    if params.get("axes") is not None and text.endswith(")"):
        return f"{text[:-1]}, axes {' '.join(map(str, params['axes']))})"
    if "shape" in params and text.endswith(")"):
        return f"{text[:-1]} to {shapes.show(tuple(params['shape']))})"
    return text
