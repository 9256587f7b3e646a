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


def export(program: Program, backend: Backend) -> str:
    """The program as `def program(**inputs)` for one backend (see the module docstring)."""
    scalar_only(program, f"export to {backend.name}")
    constant: dict[int, float] = {}  # the value of each node that depends on no input
    texts: dict[int, str] = {}  # how a later line refers to a node: its v-name or its value
    body: list[str] = []
    for node in program.nodes:
        named = node.name is not None and node.op != INPUT
        comment = f"  # {program.label(node.id)}" if named else ""
        if node.op == INPUT:
            line = f"{node.ref} = {backend.input.format(json.dumps(node.name))}"
        elif node.op == CONST or all(a in constant for a in node.args):
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
