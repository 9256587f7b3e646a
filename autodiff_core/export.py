"""A Program as PyTorch or JAX source, to check our derivatives with someone else's autograd.

`to_torch(program)` and `to_jax(program)` (and `to_micrograd`, for programs of + - * /,
constant powers and relu, all that micrograd has) return Python source that defines
`def program(**inputs)`: inputs by name (numbers, or tensors/arrays that autograd tracks), the
outputs returned as a dict by name. The code follows the evaluation trace line by line (`v3 =
v1 * v0`, the user's name as a comment), so it reads beside the graph. A node that depends on
no input carries no derivative: it is written as its value.

>>> import autodiff_core as ad
>>> print(ad.parse("x = 3*w; y = sin(x)").to_torch(), end="")
import torch
<BLANKLINE>
<BLANKLINE>
def program(**inputs):
    \"\"\"x = 3*w; y = sin(x)\"\"\"
    v0 = torch.as_tensor(inputs["w"], dtype=torch.float64)
    v2 = 3.0 * v0  # x
    v3 = torch.sin(v2)  # y
    return {"y": v3}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .ops import CONST, INPUT, OPS
from .tensor_ops import scalar_only

if TYPE_CHECKING:  # (program.py imports this module for Program.to_torch: types only here)
    from .program import Program


@dataclass(frozen=True)
class Backend:
    """How one framework spells the program: its imports, inputs and one template per op."""

    name: str
    header: str
    input: str  # over the input's name as a string literal
    constant: str  # a literal that a function of two arguments accepts beside a tensor
    ops: dict[str, str]  # op name -> format string over the argument texts
    constant_args: dict[str, tuple[int, ...]] = field(default_factory=dict)  # must not vary
    # Tensors: an array literal (over its nested list), and one template per tensor op over
    # the argument texts and {axis}, {shape} (a tuple) and {perm} (a permutation of the axes).
    array: str = ""
    tensor_ops: dict[str, str] = field(default_factory=dict)


_OPERATORS = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
              "neg": "-{0}", "pow": "{0} ** {1}"}

TORCH = Backend(
    name="PyTorch",
    header="import torch\n",
    input="torch.as_tensor(inputs[{0}], dtype=torch.float64)",
    constant="torch.tensor({0}, dtype=torch.float64)",  # torch.maximum takes no float
    ops={**_OPERATORS,
         **{f: f"torch.{f}({{0}})" for f in ("exp", "log", "sin", "cos", "tan", "tanh",
                                             "sigmoid", "relu", "abs", "sqrt", "sign")},
         "max": "torch.maximum({0}, {1})", "min": "torch.minimum({0}, {1})",
         # torch.heaviside has no derivative; a comparison has none to give (0, as ours)
         "step": "({0} > 0).to(torch.float64)"},
    array="torch.tensor({0}, dtype=torch.float64)",
    tensor_ops={"matmul": "{0} @ {1}", "broadcast": "torch.broadcast_to({0}, {shape})",
                "reshape": "torch.reshape({0}, {shape})", "transpose": "{0}.permute{perm}",
                "sum": "torch.sum({0})", "sum_axis": "torch.sum({0}, dim={axis})",
                "mean": "torch.mean({0})", "mean_axis": "torch.mean({0}, dim={axis})",
                "softmax_axis": "torch.softmax({0}, dim={axis})",
                "logsumexp_axis": "torch.logsumexp({0}, dim={axis})"},
)

JAX = Backend(
    name="JAX",
    header=("import jax\nimport jax.numpy as jnp\n\n"
            'jax.config.update("jax_enable_x64", True)  # float64, as the engine\n'),
    input="jnp.asarray(inputs[{0}], dtype=jnp.float64)",
    constant="{0}",
    ops={**_OPERATORS,
         **{f: f"jnp.{f}({{0}})" for f in ("exp", "log", "sin", "cos", "tan", "tanh", "sqrt",
                                           "sign")},
         "sigmoid": "jax.nn.sigmoid({0})", "relu": "jax.nn.relu({0})",
         # jnp.abs has derivative 1 at 0; sign(x) * x has the engine's abs'(0) = 0
         "abs": "jnp.sign({0}) * {0}",
         "max": "jnp.maximum({0}, {1})", "min": "jnp.minimum({0}, {1})",
         "step": "jnp.where({0} > 0, 1.0, 0.0)"},
    array="jnp.asarray({0}, dtype=jnp.float64)",
    tensor_ops={"matmul": "{0} @ {1}", "broadcast": "jnp.broadcast_to({0}, {shape})",
                "reshape": "jnp.reshape({0}, {shape})", "transpose": "jnp.transpose({0}, {perm})",
                "sum": "jnp.sum({0})", "sum_axis": "jnp.sum({0}, axis={axis})",
                "mean": "jnp.mean({0})", "mean_axis": "jnp.mean({0}, axis={axis})",
                "softmax_axis": "jax.nn.softmax({0}, axis={axis})",
                "logsumexp_axis": "jax.nn.logsumexp({0}, axis={axis})"},
)


# micrograd (Karpathy's teaching engine) has + - * /, powers by a constant, and relu: a program
# with anything else is not exported to it.
MICROGRAD = Backend(
    name="micrograd",
    header=("from micrograd.engine import Value\n\n\n"
            "def _value(x):\n    return x if isinstance(x, Value) else Value(float(x))\n"),
    input="_value(inputs[{0}])",
    constant="{0}",
    ops={**_OPERATORS, "relu": "{0}.relu()"},
    constant_args={"pow": (1,)},  # micrograd's ** takes a number, not a Value
)


def _constant_value(program: Program, i: int, values: dict[int, float]) -> float:
    """The value of a node that depends on no input (its arguments' values are known)."""
    node = program.nodes[i]
    if node.op == CONST:
        return float(node.value if node.value is not None else 0.0)
    args = [np.float64(values[a]) for a in node.args]
    with np.errstate(all="ignore"):  # a constant outside the domain is nan, as numpy says
        return float(OPS[node.op].array(*args))


def _literal(x: float) -> str:
    """A float as exact Python source (repr round-trips); nan and inf spelled out."""
    if math.isnan(x):
        return 'float("nan")'
    if math.isinf(x):
        return 'float("inf")' if x > 0 else '-float("inf")'
    return repr(float(x))


def _tensor_line(program: Program, i: int, backend: Backend, texts: dict[int, str]) -> str:
    """A tensor op in the backend's words, its parameters written in (an axis, a shape)."""
    node = program.nodes[i]
    args = [texts[a] for a in node.args]
    params = node.params or {}
    axis = params.get("axis")
    key = f"{node.op}_axis" if axis is not None else node.op
    if key not in backend.tensor_ops:  # softmax/logsumexp always have an axis after parsing
        raise NotImplementedError(f"export to {backend.name}: no translation of {node.op!r}")
    s = program.nodes[node.args[0]].shape
    axes = params.get("axes")
    perm = tuple(axes) if axes is not None else tuple(reversed(range(len(s))))
    return backend.tensor_ops[key].format(*args, axis=axis, shape=tuple(params.get("shape", ())),
                                          perm=perm)


def export(program: Program, backend: Backend) -> str:
    """The program as `def program(**inputs)` for one backend (see the module docstring)."""
    if not backend.array:
        scalar_only(program, f"export to {backend.name}")
    constant: dict[int, float] = {}  # the value of each node that depends on no input
    texts: dict[int, str] = {}  # how a later line refers to a node: its v-name or its value
    body: list[str] = []
    for node in program.nodes:
        named = node.name is not None and node.op != INPUT
        comment = f"  # {program.label(node.id)}" if named else ""
        if node.op == INPUT:
            line = f"{node.ref} = {backend.input.format(json.dumps(node.name))}"
        elif node.op == CONST and node.shape:  # an array literal: written where it is used
            texts[node.id] = backend.array.format(json.dumps(np.asarray(node.value).tolist()))
            continue
        elif node.op in backend.tensor_ops or f"{node.op}_axis" in backend.tensor_ops:
            line = f"{node.ref} = {_tensor_line(program, node.id, backend, texts)}"
        elif (node.op == CONST or all(a in constant for a in node.args)) and not node.shape:
            constant[node.id] = _constant_value(program, node.id, constant)
            texts[node.id] = _literal(constant[node.id])
            if not named and node.id not in program.outputs.values():
                continue  # written where it is used
            line = f"{node.ref} = {texts[node.id]}"
        else:
            if node.op not in backend.ops:
                raise NotImplementedError(f"export to {backend.name}: no translation of the "
                                          f"{node.op!r} operation yet")
            for position in backend.constant_args.get(node.op, ()):
                if node.args[position] not in constant:
                    raise NotImplementedError(
                        f"export to {backend.name}: {node.op!r} needs a constant argument "
                        f"{position + 1} (line {node.line})")
            args = [texts[a] for a in node.args]
            args = [f"({t})" if t.startswith("-") else t for t in args]
            if node.op in ("max", "min"):
                args = [backend.constant.format(t) if a in constant else t
                        for a, t in zip(node.args, args, strict=True)]
            line = f"{node.ref} = {backend.ops[node.op].format(*args)}"
        texts[node.id] = node.ref
        body.append(line + comment)
    outputs = ", ".join(f"{json.dumps(name)}: {texts[i]}" for name, i in program.outputs.items())
    body.append(f"return {{{outputs}}}")
    doc = (program.source or "").strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = [backend.header, "", "def program(**inputs):"]
    if doc:
        lines.append(f'    """{doc}"""' if "\n" not in doc
                     else '    """\n' + "\n".join(f"    {t}" for t in doc.split("\n"))
                     + '\n    """')
    lines += [f"    {line}" for line in body]
    return "\n".join(lines) + "\n"


def to_torch(program: Program) -> str:
    """PyTorch source of `def program(**inputs)`; `.backward()` gives our derivatives."""
    return export(program, TORCH)


def to_micrograd(program: Program) -> str:
    """micrograd source of `def program(**inputs)` (+ - * /, constant powers, relu only);
    `.backward()` on an output gives our derivatives in each input Value's `.grad`."""
    return export(program, MICROGRAD)


def to_jax(program: Program) -> str:
    """JAX source of `def program(**inputs)`; `jax.jacrev` gives our derivatives."""
    return export(program, JAX)


__all__ = ["JAX", "MICROGRAD", "TORCH", "Backend", "export", "to_jax", "to_micrograd",
           "to_torch"]
