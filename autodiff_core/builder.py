"""A math namespace that builds graphs: the op table's rules, applied to graph nodes.

`ScalarMath` and `ArrayMath` (in `ops.py`) evaluate a partial-derivative rule on numbers.
`GraphBuilder` has the same methods, one per op (`add`, `mul`, `sin`, ...), but each call
appends a node to a new graph and returns it. So when forward or reverse accumulation is run
with a `GraphBuilder` as the math namespace, out comes a *program* that computes the derivative
(a derivative as a graph), and that program can be differentiated again: higher derivatives
with no second copy of any rule.

A term is either a `Var` (a node of the graph being built) or a plain float (a constant not
yet written down). Keeping constants as floats lets the builder simplify as it goes, so the
printed derivative programs stay readable:
- constant folding: `2 * 3` becomes `6`;
- identities: `x * 1 = x`, `x + 0 = x`, `-(-x) = x`, `x ** 1 = x`;
- sharing: the same op on the same arguments is one node (common subexpressions), and a
  constant value is one node.
An identity never turns a node into a constant (no `x * 0 = 0`, `x - x = 0`, `0 / x = 0` or
`x ** 0 = 1`): that would make a zero structural that the numeric passes see as a number, and
the sweep policy (sweep.py) treats the two differently where a partial is infinite.

A `Var` also overloads `+ - * / **`, so `tracing.py` builds programs from Python functions
with the same builder (then without simplification, to keep the graph the function wrote).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .errors import ExpressionError
from .ops import OPS
from .program import CONST, INPUT, Node, Program
from .shapes import ShapeMismatch
from .tensor_ops import TENSOR_RULES, infer

Term = Any  # a Var or a float


class Var:
    """A node of the graph a `GraphBuilder` is building (supports + - * / ** for tracing)."""

    __slots__ = ("builder", "id")
    __array_ufunc__ = None  # make numpy scalars defer to our reflected operators

    def __init__(self, builder: GraphBuilder, id: int):
        self.builder = builder
        self.id = id

    def __repr__(self) -> str:
        return f"<traced {self.builder.describe(self.id)}>"

    def __add__(self, other: Any) -> Any:
        return self.builder.add(self, other)

    def __radd__(self, other: Any) -> Any:
        return self.builder.add(other, self)

    def __sub__(self, other: Any) -> Any:
        return self.builder.sub(self, other)

    def __rsub__(self, other: Any) -> Any:
        return self.builder.sub(other, self)

    def __mul__(self, other: Any) -> Any:
        return self.builder.mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return self.builder.mul(other, self)

    def __truediv__(self, other: Any) -> Any:
        return self.builder.div(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self.builder.div(other, self)

    def __pow__(self, other: Any) -> Any:
        return self.builder.pow(self, other)

    def __rpow__(self, other: Any) -> Any:
        return self.builder.pow(other, self)

    def __neg__(self) -> Any:
        return self.builder.neg(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return self.builder.abs(self)

    def __bool__(self) -> bool:
        # A branch on a traced value would record only one side of it: say so.
        raise TypeError("a traced value has no truth value: `if`, `and`, `or` and comparisons "
                        "on inputs cannot be traced; use ad.max, ad.min, ad.relu or ad.abs")

    def _compare(self, other: Any) -> bool:
        return self.__bool__()

    __lt__ = __le__ = __gt__ = __ge__ = _compare

    def __float__(self) -> float:
        raise TypeError("a traced value is a graph node, not a number: use the ad.* functions "
                        "(ad.sin, ad.exp, ...) instead of math.* on traced values")


def is_const(t: Term, value: float | None = None) -> bool:
    """Whether a term is a plain number (equal to `value`, if given)."""
    return not isinstance(t, Var) and (value is None or t == value)


class GraphBuilder:
    """Builds a Program node by node; has one method per op in OPS (`b.mul(x, y)`)."""

    def __init__(self, simplify: bool = True, max_nodes: int | None = None):
        self.nodes: list[Node] = []
        self.inputs: dict[str, int] = {}
        self.simplify = simplify
        self.max_nodes = max_nodes
        self._constants: dict[float, int] = {}
        self._shared: dict[tuple[Any, ...], int] = {}
        self._versions: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not ops (ops are real methods, set below).
        raise AttributeError(f"differentiation rule needs '{name}', which is not an op "
                             f"of the table (ops: {', '.join(OPS)})")

    # --- making nodes ------------------------------------------------------------------------

    def _emit(self, op: str, args: tuple[int, ...] = (), value: Any = None,
              name: str | None = None, shape: tuple[int, ...] = (),
              params: dict[str, Any] | None = None) -> int:
        if self.max_nodes is not None and len(self.nodes) >= self.max_nodes:
            raise ExpressionError(f"the derivative program has more than {self.max_nodes} nodes "
                                  "(limit max_nodes)", limit="max_nodes")
        self.nodes.append(Node(len(self.nodes), op, args, value, name, 0, None, shape, params))
        return len(self.nodes) - 1

    def input(self, name: str, shape: tuple[int, ...] = ()) -> Var:
        """An input node (one per name), of the given shape."""
        if name not in self.inputs:
            self.inputs[name] = self._emit(INPUT, name=name, shape=shape)
        return Var(self, self.inputs[name])

    def ref(self, t: Term) -> int:
        """The node id of a term, writing a constant node for a number (or an array)."""
        if isinstance(t, Var):
            return t.id
        if isinstance(t, np.ndarray) and t.ndim:
            return self._emit(CONST, value=t, shape=t.shape)
        value = float(t)
        if not self.simplify:
            return self._emit(CONST, value=value)
        if value not in self._constants:
            self._constants[value] = self._emit(CONST, value=value)
        return self._constants[value]

    def name(self, t: Term, name: str) -> Term:
        """Give a fresh op node a readable name (x_bar, y_dot); named nodes keep theirs."""
        if isinstance(t, Var):
            node = self.nodes[t.id]
            if node.name is None and node.op not in (INPUT, CONST):
                self._versions[name] = self._versions.get(name, 0) + 1
                node.name, node.version = name, self._versions[name]
        return t

    def describe(self, i: int) -> str:
        node = self.nodes[i]
        return f"v{i} = {node.op}{tuple(f'v{a}' for a in node.args) if node.args else ''}"

    def shape_of(self, t: Term) -> tuple[int, ...]:
        return self.nodes[t.id].shape if isinstance(t, Var) else ()

    def apply(self, op: str, *args: Term, params: dict[str, Any] | None = None) -> Term:
        """The term for `op(*args)`: simplified when possible, else a (shared) new node."""
        shapes = [self.shape_of(a) for a in args]
        if params is not None or any(shapes) or op in TENSOR_RULES:
            return self._tensor(op, args, shapes, params)
        if self.simplify:
            args = tuple(self._unwrap(a) for a in args)
            simpler = self._simplified(op, args)
            if simpler is not None:
                return simpler
            ids = tuple(self.ref(a) for a in args)
            key: tuple[Any, ...] = (op, ids)
            found = self._shared.get(key)
            if found is None and op in ("add", "mul"):
                found = self._shared.get((op, ids[::-1]))
            if found is not None:
                return Var(self, found)
            self._shared[key] = self._emit(op, ids)
            return Var(self, self._shared[key])
        for a in args:
            if isinstance(a, Var) and a.builder is not self:
                raise ValueError("a traced value from another trace was used here")
            if not isinstance(a, Var | numbers.Real):
                raise TypeError(f"{OPS[op].name} got {type(a).__name__}; traced functions "
                                "work on numbers and traced values only")
        return Var(self, self._emit(op, tuple(self.ref(a) for a in args)))

    def _tensor(self, op: str, args: tuple[Term, ...], shapes: list[tuple[int, ...]],
                params: dict[str, Any] | None) -> Term:
        """A node of a tensor op or on tensors: its shape inferred, an operand that carries a
        value of another shape broadcast by a node of its own (as the parser does)."""
        try:
            shape, params = infer(op, shapes, params)
        except ShapeMismatch as exc:  # a rule gave operands that do not fit: our bug
            raise ExpressionError(f"derivative program: {op} of {exc}") from None
        if op not in TENSOR_RULES and op != "guard":
            args = tuple(self.broadcast(a, self.shape_of(a), shape)
                         if isinstance(a, Var) and self.shape_of(a) != shape else a
                         for a in args)
        if self.simplify and op in ("add", "sub", "mul", "div") and not params:
            simpler = self._simplified(op, tuple(self._unwrap(a) for a in args))
            if simpler is not None and self.shape_of(simpler) == shape:
                return simpler
        ids = tuple(self.ref(a) for a in args)
        key = (op, ids, tuple(sorted((params or {}).items())))
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = self._emit(op, ids, shape=shape, params=params)
        return Var(self, found)

    # --- the tensor math of the rules (tensor_ops.TensorMath's methods, as nodes) -----------

    def matmul(self, a: Term, b: Term, sa: tuple[int, ...], sb: tuple[int, ...]) -> Term:
        return self.apply("matmul", a, b)

    def transpose(self, x: Term, s: tuple[int, ...],
                  axes: tuple[int, ...] | None = None) -> Term:
        if axes is not None:
            return self.apply("transpose", x, params={"axes": axes}) \
                if axes != tuple(range(len(s))) else x
        return self.apply("transpose", x) if len(s) > 1 else x

    def sum(self, x: Term, s: tuple[int, ...], axis: int | None) -> Term:
        return self.apply("sum", x, params={"axis": axis})

    def softmax(self, x: Term, s: tuple[int, ...], axis: int | None) -> Term:
        return self.apply("softmax", x, params={"axis": axis})

    def logsumexp(self, x: Term, s: tuple[int, ...], axis: int | None) -> Term:
        return self.apply("logsumexp", x, params={"axis": axis})

    def reshape(self, x: Term, s: tuple[int, ...], target: tuple[int, ...]) -> Term:
        if s == target:
            return x
        return self.apply("reshape", Var(self, self.ref(x)), params={"shape": target})

    def broadcast(self, x: Term, s: tuple[int, ...], target: tuple[int, ...]) -> Term:
        if s == target:
            return x
        return self.apply("broadcast", Var(self, self.ref(x)), params={"shape": target})

    def expand(self, x: Term, s: tuple[int, ...], axis: int | None) -> Term:
        kept = (1,) * len(s) if axis is None else s[:axis] + (1,) + s[axis + 1:]
        return self.reshape(x, self.shape_of(x), kept)

    def unreduce(self, x: Term, s: tuple[int, ...], axis: int | None) -> Term:
        if axis is None:  # a scalar broadcasts to any shape as it is
            return self.broadcast(x, self.shape_of(x), s)
        kept = self.expand(x, s, axis)
        return self.broadcast(kept, self.shape_of(kept), s)

    def unbroadcast(self, g: Term, s: tuple[int, ...], target: tuple[int, ...]) -> Term:
        """Sum back to `s` over the axes broadcasting made: each a `sum` node, then a reshape
        where `s` had 1s."""
        current = target
        for _ in range(len(target) - len(s)):
            g, current = self.sum(g, current, 0), current[1:]
        for k in reversed(range(len(s))):
            if s[k] == 1 and current[k] != 1:
                g, current = self.sum(g, current, k), current[:k] + current[k + 1:]
        return self.reshape(g, current, s)

    def matmul_vjp(self, g: Term, a: Term, b: Term, sa: tuple[int, ...], sb: tuple[int, ...],
                   k: int) -> Term:
        """C̄ · Bᵀ (k = 0) or Aᵀ · C̄ (k = 1) as nodes, as numpy does it: a 1-D operand
        promoted by a reshape (so a vector's adjoint is an outer product, a column times a
        row), the last two axes swapped, and the batch axes that broadcasting added summed."""
        if len(sa) == 1 and len(sb) == 1:  # a dot product: g is a scalar
            return self.mul(g, b) if k == 0 else self.mul(g, a)
        pa = (1,) + sa if len(sa) == 1 else sa
        pb = sb + (1,) if len(sb) == 1 else sb
        batch = tuple(np.broadcast_shapes(pa[:-2], pb[:-2]))
        out = batch + (pa[-2], pb[-1])
        g = self.reshape(g, self.shape_of(g), out)

        def swapped(x: Term, s: tuple[int, ...]) -> Term:
            n = len(s)
            if n == 2:
                return self.transpose(x, s)  # reads as the textbook's Bᵀ
            return self.transpose(x, s, tuple(range(n - 2)) + (n - 1, n - 2))

        if k == 0:
            r = self.matmul(g, swapped(self.reshape(b, sb, pb), pb), out, pb)
            r = self.unbroadcast(r, pa, batch + pa[-2:])
            return self.reshape(r, pa, sa)
        r = self.matmul(swapped(self.reshape(a, sa, pa), pa), g, pa, out)
        r = self.unbroadcast(r, pb, batch + pb[-2:])
        return self.reshape(r, pb, sb)

    def _unwrap(self, t: Term) -> Term:
        if isinstance(t, Var):
            node = self.nodes[t.id]
            return float(node.value or 0.0) if node.op == CONST and not node.shape else t
        return float(t)

    def _op_of(self, t: Term) -> Node | None:
        return self.nodes[t.id] if isinstance(t, Var) else None

    def _is_neg(self, t: Term) -> bool:
        node = self._op_of(t)
        return node is not None and node.op == "neg"

    def _negated(self, t: Term) -> Term:
        """The y of a term -y (only called when `_is_neg`)."""
        return Var(self, self.nodes[t.id].args[0])

    def _simplified(self, op: str, args: tuple[Term, ...]) -> Term | None:
        """A simpler equal term, or None to build the node as asked."""
        if all(is_const(a) for a in args):
            try:
                value = OPS[op].scalar(*args)
            except (ValueError, ZeroDivisionError, OverflowError):
                return None  # keep it as a node: evaluation will report it where it happens
            if math.isfinite(value):
                return float(value)
            return None
        x = args[0]
        y = args[1] if len(args) > 1 else None
        if op == "add":
            if is_const(x, 0.0):
                return y
            if is_const(y, 0.0):
                return x
            if self._is_neg(y):  # x + -y = x - y
                return self.sub(x, self._negated(y))
            if self._is_neg(x):
                return self.sub(y, self._negated(x))
        elif op == "sub":
            if is_const(y, 0.0):
                return x
            if is_const(x, 0.0):
                return self.neg(y)
            if self._is_neg(y):  # x - -y = x + y
                return self.add(x, self._negated(y))
        elif op == "mul":
            if is_const(y) and not is_const(x):
                return self.mul(y, x)  # constants first: `2 * x` reads better
            if is_const(x, 1.0):
                return y
            if is_const(x, -1.0):
                return self.neg(y)
            if self._is_neg(y):  # x * -y = -(x * y): the sign moves out, to cancel or fold
                return self.neg(self.mul(x, self._negated(y)))
            if self._is_neg(x):
                return self.neg(self.mul(self._negated(x), y))
            inner = self._op_of(y)
            if is_const(x) and inner is not None and inner.op == "mul" \
                    and self.nodes[inner.args[0]].op == CONST \
                    and not self.nodes[inner.args[0]].shape:
                # 3 * (2 * x) = 6 * x: keeps repeated derivatives of x**k readable
                c = self.nodes[inner.args[0]].value or 0.0
                return self.mul(x * c, Var(self, inner.args[1]))
        elif op == "div":
            if is_const(y, 1.0):
                return x
            if is_const(y, -1.0):
                return self.neg(x)
        elif op == "neg":
            inner = self._op_of(x)
            if inner is not None and inner.op == "neg":
                return Var(self, inner.args[0])
        elif op == "pow" and is_const(y, 1.0):
            return x
        elif op == "guard" and isinstance(y, Var):  # guarded by itself or already by y
            node = self._op_of(x)
            while node is not None:
                if node.id == y.id:
                    return x
                if node.op != "guard":
                    break
                if node.args[1] == y.id:
                    return x
                node = self.nodes[node.args[0]]
        return None

    # --- the result --------------------------------------------------------------------------

    def program(self, outputs: dict[str, Term], source: str | None = None) -> Program:
        """The Program computing `outputs`: only the nodes they need (every input is kept),
        renumbered with the inputs first."""
        roots = {name: self.ref(t) for name, t in outputs.items()}
        needed = [False] * len(self.nodes)
        for i in roots.values():
            needed[i] = True
        for i in range(len(self.nodes) - 1, -1, -1):
            if needed[i]:
                for a in self.nodes[i].args:
                    needed[a] = True
        order = list(self.inputs.values())
        order += [n.id for n in self.nodes if needed[n.id] and n.op != INPUT]
        new_id = {old: new for new, old in enumerate(order)}
        nodes = []
        for old in order:
            n = self.nodes[old]
            nodes.append(Node(new_id[old], n.op, tuple(new_id[a] for a in n.args), n.value,
                              n.name, n.version, None, n.shape, n.params))
        names = {n.name: n.id for n in nodes if n.name is not None}
        return Program(nodes, {name: new_id[i] for name, i in self.inputs.items()},
                       {name: new_id[i] for name, i in roots.items()}, names, source)


def _op_method(name: str) -> Any:
    def method(self: GraphBuilder, *args: Term) -> Term:
        return self.apply(name, *args)

    method.__name__ = name
    method.__doc__ = f"The term {OPS[name].text.format(*('xy'[:OPS[name].arity]))}."
    return method


for _name in OPS:
    if _name not in TENSOR_RULES:  # those have methods of their own, with shapes
        setattr(GraphBuilder, _name, _op_method(_name))


def copy_program(builder: GraphBuilder, program: Program) -> list[Term]:
    """Rebuild `program` inside `builder` (its inputs first); the term of each node, in order."""
    for name, shape in program.input_shapes.items():
        builder.input(name, shape)
    terms: list[Term] = []
    for node in program.nodes:
        if node.op == INPUT:
            terms.append(builder.input(node.name or node.ref, node.shape))
        elif node.op == CONST:
            terms.append(Var(builder, builder.ref(node.value)) if node.shape
                         else float(node.value or 0.0))
        else:
            t = builder.apply(node.op, *(terms[a] for a in node.args), params=node.params)
            if node.name is not None:
                builder.name(t, node.name)
            terms.append(t)
    return terms
