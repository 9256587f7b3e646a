"""The scalar graph of a small tensor program: every element a node of its own.

`scalarize(program)` rewrites a tensor program with scalar ops only: each element of a tensor
input becomes an input labelled `W[0,1]`, a matmul becomes its multiply-adds, a sum a chain of
additions, broadcasting a fan-out (one scalar node used by several elements). It is the bridge
from the scalar lessons: the tensor rules (v̄W = v̄·xᵀ, broadcasting's adjoint a sum) are what
the scalar graph does element by element, so the scalar program's gradients, gathered back
into arrays, equal the tensor program's (tests/core/test_scalarize.py checks that).

Only small programs are expanded: past `max_nodes` scalar nodes the answer is an
`ExpressionError` that says how many nodes it would take, before anything is built.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .builder import GraphBuilder, Term
from .errors import ExpressionError, InputError
from .program import CONST, INPUT, Node, Program

__all__ = ["MAX_SCALAR_NODES", "element_label", "scalar_point", "scalar_size", "scalarize"]

MAX_SCALAR_NODES = 400  # about what graphviz draws in well under a second, and a reader can follow


def element_label(name: str, index: tuple[int, ...]) -> str:
    """`W[0,1]` for element (0, 1) of W; a scalar keeps its name."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def _shape(node: Node) -> tuple[int, ...]:
    return tuple(getattr(node, "shape", ()) or ())


def _param(node: Node, key: str) -> Any:
    """A static parameter of the node (an axis, a target shape), None when absent."""
    params = getattr(node, "params", None)
    if isinstance(params, Mapping):
        return params.get(key)
    return getattr(params, key, None) if params is not None else None


def _axis(node: Node, arg_ndim: int, default_last: bool) -> int | None:
    """The node's axis as a non-negative int, or None for "all axes"."""
    axis = _param(node, "axis")
    if axis is None:
        return arg_ndim - 1 if default_last and arg_ndim else None
    return int(axis) % arg_ndim if arg_ndim else 0


def _text(shape: tuple[int, ...]) -> str:
    return "a " + "\u00d7".join(map(str, shape)) + " array" if shape else "a scalar"


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def scalar_size(program: Program) -> int:
    """How many scalar nodes `scalarize` builds (counted from the shapes alone, before any
    is built; nodes no output needs are then left out, so the program may be smaller)."""
    total = 0
    for node in program.nodes:
        out = _size(_shape(node))
        size = _size(_shape(program.nodes[node.args[0]])) if node.args else 0
        constants = sum(1 for a in node.args if program.nodes[a].op == CONST)
        if node.op == INPUT:
            total += out
        elif node.op in (CONST, "broadcast", "transpose"):
            continue  # a constant is written where it is used; the others reuse nodes
        elif node.op == "matmul":  # per element: k products, k - 1 additions
            inner = _shape(program.nodes[node.args[0]])[-1]
            total += out * (2 * inner - 1 + constants * inner)
        elif node.op == "sum":
            total += size - out
        elif node.op == "mean":  # the sums, then a division by a constant count
            total += size + out
        elif node.op == "logsumexp":
            total += 2 * size
        elif node.op == "softmax":
            total += 3 * size
        else:  # an elementwise op; each use of a constant element is a node of its own
            total += out * (1 + constants)
    return total


def _chain_sum(builder: GraphBuilder, terms: list[Term]) -> Term:
    """t0 + t1 + ... as a chain of additions, as one would write it by hand."""
    total = terms[0]
    for term in terms[1:]:
        total = builder.add(total, term)
    return total


def _over_axis(x: np.ndarray, axis: int | None,
               reduce: Callable[[list[Term]], Term]) -> np.ndarray:
    """Apply `reduce` to each 1-D slice along `axis` (every element when axis is None)."""
    if axis is None:
        out = np.empty((), dtype=object)
        out[()] = reduce(list(x.reshape(-1)))
        return out
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = reduce(list(moved[index]))
    return out


def _matmul(builder: GraphBuilder, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy's matmul, written as multiply-adds: 1-D operands promoted, batches broadcast."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = np.broadcast_to(b2, batch + b2.shape[-2:])
    rows, inner, cols = a2.shape[-2], a2.shape[-1], b2.shape[-1]
    out = np.empty(batch + (rows, cols), dtype=object)
    for index in itertools.product(*(range(n) for n in batch)):
        for i in range(rows):
            for j in range(cols):
                products = [builder.mul(a2[index + (i, k)], b2[index + (k, j)])
                            for k in range(inner)]
                out[index + (i, j)] = _chain_sum(builder, products)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def _elementwise(builder: GraphBuilder, op: str, args: list[np.ndarray]) -> np.ndarray:
    parts = np.broadcast_arrays(*args)
    out = np.empty(parts[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = builder.apply(op, *(p[index] for p in parts))
    return out


def _softmax(builder: GraphBuilder, terms: list[Term]) -> list[Term]:
    exps = [builder.exp(t) for t in terms]
    total = _chain_sum(builder, exps)
    return [builder.div(e, total) for e in exps]


def _terms(builder: GraphBuilder, program: Program, node: Node,
           values: list[np.ndarray]) -> np.ndarray:
    """The scalar terms of one tensor node, as an object array of its shape."""
    shape = _shape(node)
    args = [values[a] for a in node.args]
    if node.op == INPUT:
        name = node.name or node.ref
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            out[index] = builder.input(element_label(name, index))
        return out
    if node.op == CONST:
        return np.array(np.broadcast_to(np.asarray(node.value, dtype=float), shape), dtype=object)
    if node.op == "broadcast":
        return np.broadcast_to(args[0], shape)  # each element used again: a fan-out
    if node.op == "transpose":
        return args[0].T
    if node.op == "matmul":
        return _matmul(builder, args[0], args[1])
    if node.op in ("sum", "mean", "logsumexp"):
        x = args[0]
        axis = _axis(node, x.ndim, default_last=node.op == "logsumexp")
        count = x.size if axis is None else x.shape[axis]

        def reduce(terms: list[Term]) -> Term:
            if node.op == "logsumexp":
                return builder.log(_chain_sum(builder, [builder.exp(t) for t in terms]))
            total = _chain_sum(builder, terms)
            return builder.div(total, float(count)) if node.op == "mean" else total

        return _over_axis(x, axis, reduce)
    if node.op == "softmax":
        x = args[0]
        axis = _axis(node, x.ndim, default_last=True)
        if axis is None:  # a scalar: softmax of one number is 1
            return _elementwise(builder, "div", [x, x])
        moved = np.moveaxis(x, axis, -1)
        out = np.empty(moved.shape, dtype=object)
        for index in np.ndindex(moved.shape[:-1]):
            out[index] = _softmax(builder, list(moved[index]))
        return np.moveaxis(out, -1, axis)
    return _elementwise(builder, node.op, args)


def scalarize(program: Program, max_nodes: int = MAX_SCALAR_NODES) -> Program:
    """The program with one scalar node per element: inputs `W[0,1]`, outputs `h[0]`, `y`.

    >>> import autodiff_core as ad
    >>> small = scalarize(ad.parse("a: [2]\\nb: [2]\\ny = sum(a * b)"))
    >>> list(small.inputs), len(small.nodes)
    (['a[0]', 'a[1]', 'b[0]', 'b[1]'], 7)
    """
    size = scalar_size(program)
    if size > max_nodes:
        raise ExpressionError(
            f"the scalar graph of this program would have {size} nodes; programs of up to "
            f"{max_nodes} scalar nodes are expanded (try smaller shapes)", limit="max_scalar_nodes")
    builder = GraphBuilder(simplify=False)
    for name, i in program.inputs.items():  # the inputs first, element by element
        shape = _shape(program.nodes[i])
        for index in np.ndindex(shape):
            builder.input(element_label(name, index))
    values: list[np.ndarray] = []
    for node in program.nodes:
        terms = _terms(builder, program, node, values)
        if node.name is not None and node.op not in (INPUT, CONST):
            label = program.label(node.id)
            for index in np.ndindex(terms.shape):
                builder.name(terms[index], element_label(label, index))
        values.append(terms)
    outputs: dict[str, Term] = {}
    for name, i in program.outputs.items():
        for index in np.ndindex(values[i].shape):
            outputs[element_label(name, index)] = values[i][index]
    return builder.program(outputs)


def scalar_point(program: Program, at: Mapping[str, Any]) -> dict[str, float]:
    """The point of the scalar program: each input's array spread over its elements."""
    point: dict[str, float] = {}
    for name, i in program.inputs.items():
        shape = _shape(program.nodes[i])
        try:
            value = np.asarray(at[name], dtype=float)
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{name}: no value of shape {_text(shape)} given") from None
        if value.shape != shape:
            raise InputError(f"{name}: expected {_text(shape)} at a single point, "
                             f"got {_text(value.shape)}")
        for index in np.ndindex(shape):
            point[element_label(name, index)] = float(value[index])
    return point
