"""Random tensor programs, written twice from one description: as our program text and in PyTorch.

A description is a list of declared inputs (name and shape) and of statements, each a small
expression tree whose nodes know their shapes. `TensorProgram.source` renders the trees as program
text; `TensorProgram.torch_outputs` evaluates the very same trees with torch operations (float64),
so the text our parser reads and the function torch differentiates cannot drift apart.

What the generator makes (`generate(seed)`): shapes of up to 3 axes with dimensions of 1 to 4;
elementwise operators and functions between operands whose shapes broadcast (a partner may drop
leading axes, have axes of length 1, or add a leading axis); `@` with numpy's rules (vectors,
matrices, batched products whose batch axes broadcast); `sum`, `mean`, `softmax`, `logsumexp`
over all axes, the default axis or each axis (negative ones too); `transpose`; literal tensors.
Functions with a restricted domain get arguments inside it (`log(1 + u**2)`, `x / (1 + y**2)`),
and a description whose values grow past `LARGEST` is drawn again, so every value is finite and
moderate. The same seed always gives the same program and the same point.

    >>> p = generate(3)
    >>> p == generate(3)
    True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int, ...]

# A small MLP with its loss (the contract's network at batch 4): the tests' fixed example.
SMALL_MLP = """X: [4, 5]
Y: [4, 3]
W1: [5, 6]
b1: [6]
W2: [6, 3]
b2: [3]
h = relu(X @ W1 + b1)
logits = h @ W2 + b2
loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))"""

MAX_AXES = 3
MAX_DIM = 4
MAX_SIZE = 48  # elements of any one value: keeps Jacobians (a pass per element) quick
LARGEST = 1e4  # a drawn program whose values exceed this is drawn again
INPUT_NAMES = ("W", "x", "V", "u", "b")

UNARY = ("sin", "cos", "tanh", "sigmoid", "exp", "relu", "abs")
SAFE = ("log", "sqrt")  # written as f(1 + u**2): inside their domain for every u
REDUCTIONS = ("sum", "mean", "softmax", "logsumexp")
BINARY = ("+", "-", "*", "/", "max", "min")


@dataclass(frozen=True)
class Expr:
    """One node of a statement's expression tree.

    kind: "name" (an input or earlier statement), "const" (a number or a literal tensor),
    "call" (a function, `axis` its optional axis argument), "binary" (an operator or max/min),
    "matmul", "power" (`args[0] ** exponent`).
    """

    kind: str
    shape: Shape
    name: str = ""
    args: tuple[Expr, ...] = ()
    axis: int | None = None
    value: Any = None  # a float or an ndarray for "const"; the exponent for "power"

    def text(self) -> str:
        """Program text, fully parenthesized (so `^` or `**` need no precedence thought)."""
        if self.kind == "name":
            return self.name
        if self.kind == "const":
            return _literal(self.value)
        if self.kind == "call":
            inner = ", ".join(a.text() for a in self.args)
            return f"{self.name}({inner})" if self.axis is None \
                else f"{self.name}({inner}, {self.axis})"
        if self.kind == "power":
            return f"({self.args[0].text()} ** {_literal(self.value)})"
        a, b = (x.text() for x in self.args)
        if self.kind == "matmul":
            return f"({a} @ {b})"
        if self.name in ("max", "min"):
            return f"{self.name}({a}, {b})"
        return f"({a} {self.name} {b})"

    def torch(self, torch: Any, env: dict[str, Any]) -> Any:
        """The same expression with torch operations, names looked up in `env`."""
        if self.kind == "name":
            return env[self.name]
        if self.kind == "const":
            return torch.tensor(self.value, dtype=torch.float64)
        args = [a.torch(torch, env) for a in self.args]
        if self.kind == "power":
            return args[0] ** self.value
        if self.kind == "matmul":
            return torch.matmul(*args)
        if self.kind == "binary":
            return _TORCH_BINARY[self.name](torch, *args)
        return _torch_call(torch, self.name, args[0], self.axis)


_TORCH_BINARY = {
    "+": lambda t, a, b: a + b, "-": lambda t, a, b: a - b, "*": lambda t, a, b: a * b,
    "/": lambda t, a, b: a / b, "max": lambda t, a, b: t.maximum(a, b),
    "min": lambda t, a, b: t.minimum(a, b),
}


def _torch_call(torch: Any, name: str, x: Any, axis: int | None) -> Any:
    if name in ("sum", "mean"):
        return getattr(torch, name)(x) if axis is None else getattr(torch, name)(x, dim=axis)
    if name in ("softmax", "logsumexp"):
        return getattr(torch, name)(x, dim=-1 if axis is None else axis)
    if name == "transpose":
        return x.permute(*reversed(range(x.dim())))
    return getattr(torch, name)(x)


def _literal(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return repr(value.tolist())
    text = repr(float(value))
    return f"({text})" if value < 0 else text  # -1.5 ** 2 would be -(1.5 ** 2)


@dataclass
class TensorProgram:
    """A random program: its inputs' shapes, its statements, its outputs and a point."""

    seed: int
    inputs: dict[str, Shape]
    statements: list[tuple[str, Expr]]
    outputs: list[str]
    at: dict[str, Any] = field(default_factory=dict)  # ndarray per input (a float for a scalar)
    declare_scalars: bool = True  # `a: []` for scalar inputs, or leave them undeclared

    @property
    def source(self) -> str:
        lines = [f"{name}: {list(shape)}" for name, shape in self.inputs.items()
                 if shape or self.declare_scalars]
        lines += [f"{name} = {expr.text()}" for name, expr in self.statements]
        return "\n".join(lines)

    def shape(self, name: str) -> Shape:
        return self.inputs[name] if name in self.inputs else dict(self.statements)[name].shape

    def torch_values(self, torch: Any, env: dict[str, Any]) -> dict[str, Any]:
        """Every statement's value in torch, from input tensors `env` (name -> tensor)."""
        values = dict(env)
        for name, expr in self.statements:
            values[name] = expr.torch(torch, values)
        return values

    def torch_inputs(self, torch: Any, at: dict[str, Any] | None = None) -> dict[str, Any]:
        """The point as float64 tensors that require gradients."""
        return {name: torch.tensor(np.asarray(value, dtype=np.float64), dtype=torch.float64,
                                   requires_grad=True)
                for name, value in (at or self.at).items()}

    def torch_function(self, torch: Any, output: str) -> Any:
        """f(*inputs in declaration order) -> the output: what torch.autograd.functional takes."""
        names = list(self.inputs)

        def f(*tensors: Any) -> Any:
            return self.torch_values(torch, dict(zip(names, tensors, strict=True)))[output]

        return f

    def __repr__(self) -> str:  # what pytest shows when a test fails: the program to rerun
        return f"TensorProgram(seed={self.seed}):\n{self.source}\nat={self.at!r}"


# --- shapes -------------------------------------------------------------------------------------


def broadcast(a: Shape, b: Shape) -> Shape | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def matmul_shape(a: Shape, b: Shape) -> Shape | None:
    """numpy's rule for `a @ b`: 1-D operands promoted, batch axes broadcast; None if refused."""
    if not a or not b:
        return None
    if a[-1] != (b[0] if len(b) == 1 else b[-2]):
        return None
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 1:
        return b[:-2] + b[-1:]
    if len(b) == 1:
        return a[:-1]
    batch = broadcast(a[:-2], b[:-2])
    return None if batch is None else batch + (a[-2], b[-1])


def fits(shape: Shape | None) -> bool:
    return shape is not None and len(shape) <= MAX_AXES and math.prod(shape) <= MAX_SIZE


def _dim(rng: random.Random) -> int:
    return rng.choice((1, 2, 2, 3, 3, 4))


def random_shape(rng: random.Random, axes: int | None = None) -> Shape:
    axes = rng.choice((0, 1, 1, 2, 2, 3)) if axes is None else axes
    return tuple(_dim(rng) for _ in range(axes))


def broadcast_partners(rng: random.Random, shape: Shape) -> list[Shape]:
    """Shapes that broadcast with `shape`: itself, a scalar, trailing axes, axes set to 1, or
    one more leading axis; those whose result fits."""
    out = [shape, ()]
    out += [shape[k:] for k in range(1, len(shape))]
    for k in range(len(shape)):
        out.append(shape[:k] + (1,) + shape[k + 1:])
    if len(shape) >= 2:
        out.append(tuple(1 if rng.random() < 0.5 else d for d in shape))
    out.append((_dim(rng),) + shape)
    out.append((_dim(rng),) + tuple(1 for _ in shape))
    return [s for s in out if fits(broadcast(shape, s))]


def matmul_partners(rng: random.Random, shape: Shape) -> list[tuple[Shape, bool]]:
    """(partner shape, partner on the left) pairs for which `@` is defined and fits."""
    if not shape:
        return []
    n, m, k = shape[-1], _dim(rng), rng.choice((2, 3))
    right = [(n,), (n, m), (k, n, m), (1, n, m)]
    if len(shape) == 3:
        right.append((shape[0], n, m))
    first = shape[0] if len(shape) == 1 else shape[-2]
    left = [(m, first), (k, m, first), (first,)]
    if len(shape) == 3:
        left.append((1, m, first))
    pairs = [(s, False) for s in right if fits(matmul_shape(shape, s))]
    pairs += [(s, True) for s in left if fits(matmul_shape(s, shape))]
    return pairs


# --- the generator ------------------------------------------------------------------------------


class _Draw:
    """The state of one drawing: the pool of named values and the inputs made so far."""

    def __init__(self, rng: random.Random, max_inputs: int):
        self.rng = rng
        self.max_inputs = max_inputs
        self.inputs: dict[str, Shape] = {}
        self.pool: list[Expr] = []  # names usable as operands, newest last
        self.used: set[str] = set()  # the names some statement reads

    def new_input(self, shape: Shape) -> Expr:
        name = INPUT_NAMES[len(self.inputs)]
        self.inputs[name] = shape
        ref = Expr("name", shape, name)
        self.pool.append(ref)
        return ref

    def operand(self) -> Expr:
        """Mostly a statement nothing uses yet (so little is dead code), else the newest value
        (chains grow deep), sometimes any older one (fan-out)."""
        unused = self.unused()
        r = self.rng.random()
        if unused and r < 0.5:
            return unused[0]
        return self.pool[-1] if r < 0.8 else self.rng.choice(self.pool)

    def unused(self) -> list[Expr]:
        return [e for e in self.pool if e.name.startswith("t") and e.name not in self.used]

    def partner(self, shapes: list[Shape]) -> Expr:
        """A value of one of `shapes`: from the pool, a new input, or a constant."""
        rng = self.rng
        known = [e for e in self.pool if e.shape in shapes]
        if known and rng.random() < 0.5:
            return rng.choice(known)
        shape = rng.choice(shapes)
        if len(self.inputs) < self.max_inputs and rng.random() < 0.8:
            return self.new_input(shape)
        if not shape:
            return Expr("const", (), value=rng.choice((0.5, 2.0, -1.5, 3.0)))
        values = np.array([rng.choice((-1.0, -0.5, 0.5, 1.0, 1.5, 2.0))
                           for _ in range(math.prod(shape))]).reshape(shape)
        return Expr("const", shape, value=values)

    def expression(self) -> Expr:
        rng = self.rng
        a = self.operand()
        kinds = ["unary", "safe", "power", "binary", "binary", "divide", "reduce", "reduce",
                 "reduce", "matmul", "matmul", "transpose"]
        while True:
            kind = rng.choice(kinds)
            if kind == "unary":
                return Expr("call", a.shape, rng.choice(UNARY), (a,))
            if kind == "safe":
                inside = Expr("binary", a.shape, "+",
                              (Expr("const", (), value=1.0), _square(a)))
                return Expr("call", a.shape, rng.choice(SAFE), (inside,))
            if kind == "power":
                return Expr("power", a.shape, args=(a,), value=rng.choice((2.0, 3.0)))
            if kind in ("binary", "divide"):
                b = self.partner(broadcast_partners(rng, a.shape))
                left, right = (a, b) if rng.random() < 0.5 else (b, a)
                shape = broadcast(left.shape, right.shape)
                assert shape is not None
                if kind == "divide":  # a denominator that is never near 0
                    right = Expr("binary", right.shape, "+",
                                 (Expr("const", (), value=1.0), _square(right)))
                    return Expr("binary", shape, "/", (left, right))
                return Expr("binary", shape, rng.choice(BINARY[:3] + BINARY[4:]), (left, right))
            if kind == "reduce" and a.shape:
                name = rng.choice(REDUCTIONS)
                axis = None if rng.random() < 0.25 \
                    else rng.choice(range(-len(a.shape), len(a.shape)))
                if name in ("softmax",):
                    shape = a.shape
                elif axis is None and name in ("sum", "mean"):
                    shape = ()
                else:
                    dropped = (len(a.shape) - 1) if axis is None else axis % len(a.shape)
                    shape = a.shape[:dropped] + a.shape[dropped + 1:]
                return Expr("call", shape, name, (a,), axis)
            if kind == "matmul":
                pairs = matmul_partners(rng, a.shape)
                if pairs:
                    shape_b, on_left = rng.choice(pairs)
                    b = self.partner([shape_b])
                    left, right = (b, a) if on_left else (a, b)
                    product = matmul_shape(left.shape, right.shape)
                    assert product is not None
                    return Expr("matmul", product, args=(left, right))
            if kind == "transpose" and len(a.shape) >= 2:
                return Expr("call", a.shape[::-1], "transpose", (a,))


def _names(e: Expr) -> set[str]:
    return {e.name} if e.kind == "name" else set().union(*(_names(a) for a in e.args))


def _square(e: Expr) -> Expr:
    return Expr("power", e.shape, args=(e,), value=2.0)


def generate(seed: int, statements: tuple[int, int] = (2, 6), max_inputs: int = 4,
             tensor_output: bool = True) -> TensorProgram:
    """A random program (see the module docstring), its outputs `out` (the last statement, a
    tensor or a scalar) and `loss` (a scalar built from it), and a point. Deterministic in seed."""
    for attempt in range(100):
        rng = random.Random(seed * 1000 + attempt)
        draw = _Draw(rng, max_inputs)
        for _ in range(rng.choice((1, 1, 2))):
            draw.new_input(random_shape(rng, rng.choice((1, 2, 2, 3))))
        body: list[tuple[str, Expr]] = []
        for k in range(rng.randint(*statements)):
            expr = draw.expression()
            draw.used |= _names(expr)
            body.append((f"t{k}", expr))
            draw.pool.append(Expr("name", expr.shape, f"t{k}"))
        draw.pool.pop()  # the last statement becomes `out`
        last = body[-1][1]
        for dead in draw.unused():  # every statement reaches the outputs
            term = dead if not dead.shape else Expr("call", (), "mean", (dead,))
            last = Expr("binary", last.shape, "+", (last, term))
        body[-1] = ("out", last)
        # loss: a scalar that reaches `out` through a nonlinearity (the gradient is not constant)
        loss = Expr("call", (), "sum", (Expr("call", last.shape, "tanh",
                                             (Expr("name", last.shape, "out"),)),))
        if not last.shape:
            loss = loss.args[0]
        body.append(("loss", loss))
        if not tensor_output and last.shape == ():
            continue
        point_rng = np.random.default_rng(seed)
        at: dict[str, Any] = {}
        for name, shape in draw.inputs.items():
            value = point_rng.uniform(-1.5, 1.5, shape)
            at[name] = float(value) if shape == () else value
        program = TensorProgram(seed, draw.inputs, body, ["out", "loss"], at,
                                declare_scalars=rng.random() < 0.7)
        if _moderate(program):
            return program
    raise RuntimeError(f"no moderate program for seed {seed}")


def _moderate(program: TensorProgram) -> bool:
    """All values finite and below LARGEST, computed in numpy (no torch needed to draw)."""
    values: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in program.at.items()}
    for name, expr in program.statements:
        values[name] = _numpy(expr, values)
        if not np.all(np.isfinite(values[name])) or np.max(np.abs(values[name])) > LARGEST:
            return False
    return True


def _numpy(e: Expr, env: dict[str, Any]) -> Any:
    if e.kind == "name":
        return env[e.name]
    if e.kind == "const":
        return np.asarray(e.value, dtype=np.float64)
    args = [_numpy(a, env) for a in e.args]
    with np.errstate(all="ignore"):
        if e.kind == "power":
            return args[0] ** e.value
        if e.kind == "matmul":
            return args[0] @ args[1]
        if e.kind == "binary":
            return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
                    "max": np.maximum, "min": np.minimum}[e.name](*args)
        x = args[0]
        if e.name in ("sum", "mean"):
            return getattr(np, e.name)(x, axis=e.axis)
        if e.name in ("softmax", "logsumexp"):
            axis = -1 if e.axis is None else e.axis
            top = np.max(x, axis=axis, keepdims=True)
            shifted = np.exp(x - top)
            if e.name == "softmax":
                return shifted / shifted.sum(axis=axis, keepdims=True)
            return np.log(shifted.sum(axis=axis)) + np.squeeze(top, axis)
        if e.name == "transpose":
            return x.T
        if e.name == "sigmoid":
            return 1 / (1 + np.exp(-x))
        if e.name == "relu":
            return np.maximum(x, 0.0)
        return getattr(np, e.name)(x)
