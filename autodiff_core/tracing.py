"""Programs from Python functions, by operator overloading (as autograd and JAX trace).

`trace(fn)` calls `fn` once with one traced value per parameter instead of numbers. Every
`+ - * / **`, unary minus and `ad.sin(...)`-style call on a traced value records a node, so
what comes back is the same Program the parser would build from the equivalent text. The
parameter names become the input names. Python control flow runs during tracing, so a loop
unrolls into the graph; a branch on an input's value cannot be traced and says so.

>>> import autodiff_core as ad
>>> def f(w):
...     x = 3 * w
...     return 2 * x ** 2 + 4
>>> ad.reverse(ad.trace(f), {"w": 1.0}).derivatives
{'f': {'w': 36.0}}
"""

from __future__ import annotations

import inspect
import keyword
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .builder import GraphBuilder, Var
from .ops import OPS
from .program import Program


def trace(fn: Callable[..., Any], name: str | None = None) -> Program:
    """The Program of a Python function of numbers, traced once.

    Returning a tuple gives outputs `f1, f2, ...` (after the function's name, or `name`);
    returning a dict gives outputs named by its keys.

    >>> import autodiff_core as ad
    >>> p = ad.trace(lambda x, y: (x * y, ad.sin(x) + y))
    >>> list(p.inputs), list(p.outputs)
    (['x', 'y'], ['f1', 'f2'])
    """
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"cannot trace *{p.name}: give the function one named parameter "
                            "per input")
        params.append(p.name)
    b = GraphBuilder(simplify=False)
    args = [b.input(p) for p in params]
    result = fn(*args)
    base = str(name or getattr(fn, "__name__", "f"))
    if not base.isidentifier() or keyword.iskeyword(base):
        base = "f"  # a lambda is "<lambda>"
    if isinstance(result, Mapping):
        outputs = {str(k): v for k, v in result.items()}
    elif isinstance(result, tuple | list):
        outputs = {f"{base}{k}": v for k, v in enumerate(result, start=1)}
    else:
        outputs = {base: result}
    if not outputs:
        raise TypeError("the traced function returned nothing to differentiate")
    for out, value in outputs.items():
        if not isinstance(value, Var | numbers.Real):
            raise TypeError(f"output {out!r} is a {type(value).__name__}; a traced function "
                            "returns numbers or traced values (or a tuple or dict of them)")
        if isinstance(value, Var) and value.builder is not b:
            raise ValueError(f"output {out!r} comes from another trace")
        b.name(value, out)
    return b.program(outputs)


def _function(op_name: str) -> Callable[..., Any]:
    """ad.sin and friends: record a node on traced values, compute on plain numbers."""
    op = OPS[op_name]

    def function(*args: Any) -> Any:
        if len(args) != op.arity:
            raise TypeError(f"{op_name}() takes {op.arity} argument"
                            f"{'s' if op.arity > 1 else ''}, got {len(args)}")
        for a in args:
            if isinstance(a, Var):
                return a.builder.apply(op_name, *args)
        if any(isinstance(a, np.ndarray) for a in args):
            return op.array(*args)
        return op.scalar(*(float(a) for a in args))

    function.__name__ = op_name
    function.__qualname__ = op_name
    function.__doc__ = f"The {op.description} {op.text.format('x', 'y')}, traced or computed."
    return function


sin = _function("sin")
cos = _function("cos")
tan = _function("tan")
exp = _function("exp")
log = _function("log")
sqrt = _function("sqrt")
tanh = _function("tanh")
sigmoid = _function("sigmoid")
relu = _function("relu")
# abs, max and min shadow builtins only as ad.abs, ad.max, ad.min (they work on numbers too)
abs = _function("abs")
max = _function("max")
min = _function("min")
sign = _function("sign")
step = _function("step")
pi = math.pi
e = math.e
