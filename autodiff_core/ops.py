"""The op table: every primitive's value and local partial derivatives, in one place.

Each primitive is an `Op`: its arity, how to compute its value on a float (fast scalar
path, the `math` module) and on a numpy array (grids), one partial-derivative rule per
argument, and how to print it as text and LaTeX.

The partial rules are written against a small math namespace `m` instead of concrete
numbers: `ScalarMath` and `ArrayMath` below evaluate them on floats and arrays, and a graph
builder (see `derivative.py`) implements the same methods by creating graph nodes. So one
rule, written once, serves forward mode, reverse mode and derivative programs, and
differentiating a derivative program gives higher derivatives with no second rule.

`Math` names the methods a rule may call: one per op, nothing else. Conventions at kinks and
edges, and what JAX and PyTorch each do there, are in docs/engine.md ("Conventions"); which
partials a sweep evaluates at all is the sweep policy's decision (`sweep.py`).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

INPUT = "input"  # the kinds of graph node that are not ops
CONST = "const"
GUARD = "guard"  # the op that guards a derivative program's outputs (derivative.py)


class Math(Protocol):
    """The methods every partial rule may call: one per op of the table.

    `ScalarMath` (floats), `ArrayMath` (numpy grids), `GraphBuilder` (graph nodes, see
    builder.py) and the formula writer `TextMath` implement it; a rule written against it
    works on all four. The tensor ops will add theirs here.
    """

    def add(self, x: Any, y: Any) -> Any: ...
    def sub(self, x: Any, y: Any) -> Any: ...
    def mul(self, x: Any, y: Any) -> Any: ...
    def div(self, x: Any, y: Any) -> Any: ...
    def neg(self, x: Any) -> Any: ...
    def pow(self, x: Any, y: Any) -> Any: ...
    def exp(self, x: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...
    def sin(self, x: Any) -> Any: ...
    def cos(self, x: Any) -> Any: ...
    def tan(self, x: Any) -> Any: ...
    def tanh(self, x: Any) -> Any: ...
    def sigmoid(self, x: Any) -> Any: ...
    def relu(self, x: Any) -> Any: ...
    def abs(self, x: Any) -> Any: ...
    def sqrt(self, x: Any) -> Any: ...
    def max(self, x: Any, y: Any) -> Any: ...
    def min(self, x: Any, y: Any) -> Any: ...
    def sign(self, x: Any) -> Any: ...
    def step(self, x: Any) -> Any: ...
    def guard(self, x: Any, y: Any) -> Any: ...


# A partial rule: (m: Math, out, *args) -> local derivative of `out` w.r.t. one argument.
PartialRule = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Op:
    """One primitive: value, local partials (one rule per argument) and printing."""

    name: str
    arity: int
    scalar: Callable[..., float]
    array: Callable[..., np.ndarray]
    partials: tuple[PartialRule, ...]
    text: str  # format string over the argument texts, e.g. "{0} * {1}"
    latex: str
    symbol: str  # short label for the drawn graph node
    precedence: int = 100  # for printing expressions without needless parentheses
    description: str = ""


OPS: dict[str, Op] = {}


def _register(op: Op) -> Op:
    assert len(op.partials) == op.arity, f"{op.name}: one partial rule per argument"
    OPS[op.name] = op
    return op


# --- scalar helpers that follow our conventions (math.* raises on domain errors) --------------


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _sqrt(x: float) -> float:
    return math.sqrt(x)


def _tan(x: float) -> float:
    return math.tan(x)


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _np_step(x: np.ndarray) -> np.ndarray:
    return np.heaviside(x, 0.0)


def _np_relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


# --- the table: value and local partials side by side ------------------------------------------
# In a partial rule, `o` is the op's output value and x, y its arguments.

_register(Op("add", 2, operator.add, np.add,
             (lambda m, o, x, y: 1.0, lambda m, o, x, y: 1.0),
             "{0} + {1}", "{0} + {1}", "+", 10, "sum"))
_register(Op("sub", 2, operator.sub, np.subtract,
             (lambda m, o, x, y: 1.0, lambda m, o, x, y: -1.0),
             "{0} - {1}", "{0} - {1}", "−", 10, "difference"))
_register(Op("mul", 2, operator.mul, np.multiply,
             (lambda m, o, x, y: y, lambda m, o, x, y: x),
             "{0} * {1}", r"{0} \cdot {1}", "×", 20, "product"))
_register(Op("div", 2, operator.truediv, np.divide,
             (lambda m, o, x, y: m.div(1.0, y), lambda m, o, x, y: m.neg(m.div(o, y))),
             "{0} / {1}", r"\frac{{{0}}}{{{1}}}", "÷", 20, "quotient"))
_register(Op("neg", 1, operator.neg, np.negative,
             (lambda m, o, x: -1.0,),
             "-{0}", "-{0}", "−", 30, "negation"))
_register(Op("pow", 2, math.pow, np.power,
             (lambda m, o, x, y: m.mul(y, m.pow(x, m.sub(y, 1.0))),
              lambda m, o, x, y: m.mul(o, m.log(x))),
             "{0} ** {1}", "{{{0}}}^{{{1}}}", "^", 40, "power"))
_register(Op("exp", 1, math.exp, np.exp,
             (lambda m, o, x: o,),
             "exp({0})", r"e^{{{0}}}", "exp", 100, "exponential"))
_register(Op("log", 1, math.log, np.log,
             (lambda m, o, x: m.div(1.0, x),),
             "log({0})", r"\ln\left({0}\right)", "log", 100, "natural logarithm"))
_register(Op("sin", 1, math.sin, np.sin,
             (lambda m, o, x: m.cos(x),),
             "sin({0})", r"\sin\left({0}\right)", "sin", 100, "sine"))
_register(Op("cos", 1, math.cos, np.cos,
             (lambda m, o, x: m.neg(m.sin(x)),),
             "cos({0})", r"\cos\left({0}\right)", "cos", 100, "cosine"))
_register(Op("tan", 1, _tan, np.tan,
             (lambda m, o, x: m.add(1.0, m.mul(o, o)),),
             "tan({0})", r"\tan\left({0}\right)", "tan", 100, "tangent"))
_register(Op("tanh", 1, math.tanh, np.tanh,
             (lambda m, o, x: m.sub(1.0, m.mul(o, o)),),
             "tanh({0})", r"\tanh\left({0}\right)", "tanh", 100, "hyperbolic tangent"))
_register(Op("sigmoid", 1, _sigmoid, _np_sigmoid,
             (lambda m, o, x: m.mul(o, m.sub(1.0, o)),),
             "sigmoid({0})", r"\sigma\left({0}\right)", "σ", 100, "logistic sigmoid"))
_register(Op("relu", 1, _relu, _np_relu,
             (lambda m, o, x: m.step(x),),
             "relu({0})", r"\operatorname{{relu}}\left({0}\right)", "relu", 100,
             "rectified linear unit"))
_register(Op("abs", 1, abs, np.abs,
             (lambda m, o, x: m.sign(x),),
             "abs({0})", r"\left|{0}\right|", "abs", 100, "absolute value"))
_register(Op("sqrt", 1, _sqrt, np.sqrt,
             (lambda m, o, x: m.div(0.5, o),),
             "sqrt({0})", r"\sqrt{{{0}}}", "√", 100, "square root"))
# max/min: (1 ± sign(x - y)) / 2 gives 1 or 0, and 1/2 to each side at a tie.
_register(Op("max", 2, lambda x, y: x if x >= y else y, np.maximum,
             (lambda m, o, x, y: m.mul(0.5, m.add(1.0, m.sign(m.sub(x, y)))),
              lambda m, o, x, y: m.mul(0.5, m.sub(1.0, m.sign(m.sub(x, y))))),
             "max({0}, {1})", r"\max\left({0}, {1}\right)", "max", 100, "maximum"))
_register(Op("min", 2, lambda x, y: x if x <= y else y, np.minimum,
             (lambda m, o, x, y: m.mul(0.5, m.sub(1.0, m.sign(m.sub(x, y)))),
              lambda m, o, x, y: m.mul(0.5, m.add(1.0, m.sign(m.sub(x, y))))),
             "min({0}, {1})", r"\min\left({0}, {1}\right)", "min", 100, "minimum"))
# Piecewise-constant helpers that the rules above use; their derivative is 0 (almost everywhere).
_register(Op("sign", 1, _sign, np.sign,
             (lambda m, o, x: 0.0,),
             "sign({0})", r"\operatorname{{sign}}\left({0}\right)", "sign", 100, "sign"))
_register(Op("step", 1, _step, _np_step,
             (lambda m, o, x: 0.0,),
             "step({0})", r"H\left({0}\right)", "step", 100, "unit step (0 at 0)"))

# The guard of a derivative program (derivative.py): the value of its first argument, undefined
# where the second (a primal value the passes sweep through) is, as the sweep policy says
# (sweep.py, 3); partial 1 for the first argument, a structural zero for the second. Not a
# function a program may call.
_register(Op("guard", 2, lambda x, y: x if math.isfinite(y) else math.nan,
             lambda x, y: np.where(np.isfinite(y), x, np.nan),
             (lambda m, o, x, y: 1.0, lambda m, o, x, y: 0.0),
             "guard({0}, {1})", r"{0}", "guard", 100,
             "the first value, undefined where the second is"))

# Binary operators of the program text, and the functions a program may call.
BINARY_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}
FUNCTIONS = {name: op for name, op in OPS.items()
             if op.name not in ("add", "sub", "mul", "div", "neg", "pow", "guard")}
CONSTANTS = {"pi": math.pi, "e": math.e}


def format_number(x: float) -> str:
    """Short, exact-enough text for a number: 3 not 3.0, 0.1 not 0.1000000000000000055."""
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


# --- what a rule is, seen without numbers -----------------------------------------------------


class Operand:
    """Stands for an operand when a rule is called to see what it returns."""


OUT, X, Y = Operand(), Operand(), Operand()


class _Probe:
    """A math namespace in which every operation gives None: a rule that calls one is a formula."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


@functools.cache
def rule_kind(rule: PartialRule, arity: int) -> float | Operand | None:
    """What a partial rule is: a constant (a number: add's 1, sign's 0), one operand (OUT, X
    or Y: mul's other factor, exp's own output), or None for a real formula (cos for sin)."""
    result = rule(_Probe(), OUT, X, Y) if arity == 2 else rule(_Probe(), OUT, X)
    if isinstance(result, int | float) and not isinstance(result, bool):
        return float(result)
    return result if isinstance(result, Operand) else None


def zero_partial(op: str, position: int) -> bool:
    """Whether the op's partial for that argument is 0 by its rule (sign, step): a structural
    zero, which a sweep never multiplies (see sweep.py)."""
    o = OPS[op]
    return rule_kind(o.partials[position], o.arity) == 0.0


def _make_math(kind: str) -> type:
    """A namespace with one method per op, evaluating on floats or on numpy arrays."""
    methods: dict[str, Any] = {}
    for op in OPS.values():
        fn = op.scalar if kind == "scalar" else op.array
        methods[op.name] = staticmethod(fn)
    return type(f"{kind.title()}Math", (), methods)


ScalarMath: Any = _make_math("scalar")
ArrayMath: Any = _make_math("array")
