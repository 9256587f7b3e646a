"""The graph IR: a program is a list of nodes in single assignment, in topological order.

A node is an input, a constant, or a primitive (see `ops.py`) applied to earlier nodes. Node
`i` is printed `v{i}`; inputs come first, as in textbook evaluation traces. A name the program
uses twice is one node with two uses (its out-edges), which is why reverse mode must add
adjoint contributions. Every walk is a loop over the node list, never a recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .display import program_latex, program_svg
from .ops import CONST, GUARD, INPUT, OPS, format_number
from .shapes import show as show_shape
from .tensor_ops import TENSOR_OPS, const_text, with_params

__all__ = ["CONST", "INPUT", "Node", "Program", "edge_id", "format_number"]


@dataclass(slots=True)
class Node:
    id: int
    op: str  # "input", "const" or a key of OPS
    args: tuple[int, ...] = ()
    value: Any = None  # constants only: a float, or an ndarray for a tensor literal
    name: str | None = None  # the user's name for this node, if any
    version: int = 0  # 1 for the first assignment of `name`, 2 for the second...
    line: int | None = None  # where in the source it was written
    shape: tuple[int, ...] = ()  # the value's shape; () for a scalar
    # An op's static parameters: {"axis": 1} for a reduction (None: every axis),
    # {"shape": (2, 3)} for a broadcast (its target shape). None for most ops.
    params: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        return f"v{self.id}"


def edge_id(src: int, dst: int, position: int) -> str:
    """Id of the edge that feeds node `src` into argument `position` of node `dst`."""
    return f"v{src}_v{dst}_{position}"


@dataclass
class Program:
    """A computation graph: nodes in topological order, named inputs and outputs."""

    nodes: list[Node]
    inputs: dict[str, int]  # input name -> node id, in order of first use
    outputs: dict[str, int]  # output name -> node id
    names: dict[str, int] = field(default_factory=dict)  # every name -> its latest node
    source: str | None = None

    def __len__(self) -> int:
        return len(self.nodes)

    # --- shapes (tensors) --------------------------------------------------------------------

    def shape(self, name_or_id: str | int) -> tuple[int, ...]:
        """The shape of a named quantity (its latest version) or of node `v{id}`."""
        if isinstance(name_or_id, int):
            return self.nodes[name_or_id].shape
        return self.nodes[self.names[name_or_id]].shape

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        """Each input's declared shape (() for a scalar input)."""
        return {name: self.nodes[i].shape for name, i in self.inputs.items()}

    @cached_property
    def is_tensor(self) -> bool:
        """Whether some node's value is not a scalar."""
        return any(node.shape for node in self.nodes)

    @cached_property
    def tensor_path(self) -> bool:
        """Whether the program runs on the tensor sweeps (tensor_sweep.py): it has a tensor
        value or a tensor op (`sum(x)` of a scalar x is still a tensor op)."""
        return self.is_tensor or any(node.op in TENSOR_OPS for node in self.nodes)

    # --- structure ---------------------------------------------------------------------------

    def edges(self) -> Iterator[tuple[int, int, int]]:
        """(source node, destination node, argument position) for every edge."""
        for node in self.nodes:
            for position, arg in enumerate(node.args):
                yield arg, node.id, position

    @cached_property
    def active(self) -> list[bool]:
        """Whether each node depends on some input: only those carry derivatives."""
        active = [False] * len(self.nodes)
        for node in self.nodes:
            active[node.id] = node.op == INPUT or any(active[a] for a in node.args)
        return active

    @cached_property
    def uses(self) -> list[int]:
        """How many edges leave each node (a node used twice fans out)."""
        counts = [0] * len(self.nodes)
        for node in self.nodes:
            for a in node.args:
                counts[a] += 1
        return counts

    @cached_property
    def version_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            if node.name is not None:
                counts[node.name] = max(counts.get(node.name, 0), node.version)
        return counts

    def label(self, i: int) -> str:
        """The user's name of node i, telling reassigned versions apart (c, c#2, c#3)."""
        node = self.nodes[i]
        if node.name is None:
            return node.ref
        if node.version > 1:
            return f"{node.name}#{node.version}"
        return node.name

    def output_names_of(self, i: int) -> list[str]:
        return [name for name, node_id in self.outputs.items() if node_id == i]

    # --- guards (derivative.py): a value made undefined where a primal value is ----------------

    def unguarded(self, i: int) -> int:
        """The node whose value node i shows: i, or the first argument of its guards."""
        while self.nodes[i].op == GUARD:
            i = self.nodes[i].args[0]
        return i

    def guarded_by(self, i: int) -> list[int]:
        """The nodes whose undefined values make node i's guards undefined, beyond those the
        value of `unguarded(i)` is computed from (those need no note)."""
        shown = self.unguarded(i)
        ancestors = {shown}
        for j in range(shown, -1, -1):
            if j in ancestors:
                ancestors.update(self.nodes[j].args)
        found = []
        while self.nodes[i].op == GUARD:
            g = self.nodes[i].args[1]
            if g not in ancestors and g not in found:
                found.append(g)
            i = self.nodes[i].args[0]
        return sorted(found)

    # --- printing ----------------------------------------------------------------------------

    def expression(self, i: int, latex: bool = False) -> str:
        """The right-hand side of node i in terms of its argument nodes (v-names)."""
        node = self.nodes[i]
        if node.op == INPUT:
            return node.name or node.ref
        if node.op == CONST:
            return const_text(node.value)
        op = OPS[node.op]
        text = (op.latex if latex else op.text).format(*(f"v{a}" if not latex else f"v_{{{a}}}"
                                                         for a in node.args))
        return with_params(text, node.params)

    def text(self) -> str:
        """The program as an evaluation trace: one line per node, like a jaxpr."""
        lines = [f"inputs: {', '.join(f'{n} = v{i}' for n, i in self.inputs.items()) or '(none)'}"]
        tensor = self.is_tensor
        for node in self.nodes:
            if node.op == GUARD:  # shown as a note below, not as a line
                continue
            comment = ""
            if node.op != INPUT and node.name is not None:
                comment = f"    # {self.label(node.id)}"
            if tensor:  # every line says its shape: `v3 = v0 @ v1    # 2`, `# y: a scalar`
                shape = show_shape(node.shape)
                comment = f"{comment}: {shape}" if comment else f"    # {shape}"
            lines.append(f"v{node.id} = {self.expression(node.id)}{comment}")
        outs = ", ".join(f"{name} = v{self.unguarded(i)}" for name, i in self.outputs.items())
        lines.append(f"outputs: {outs or '(none)'}")
        for name, i in self.outputs.items():
            if guards := self.guarded_by(i):
                where = " or ".join(f"v{g}" for g in guards)
                lines.append(f"# {name} is undefined where {where} is, as the passes give")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def latex(self) -> str:
        """The program as an aligned LaTeX block (see display.py)."""
        return program_latex(self)

    def to_torch(self) -> str:
        """PyTorch source of `def program(**inputs)` whose autograd gives our derivatives."""
        from .export import to_torch

        return to_torch(self)

    def to_jax(self) -> str:
        """JAX source of `def program(**inputs)` whose autograd gives our derivatives."""
        from .export import to_jax

        return to_jax(self)

    def _repr_svg_(self) -> str | None:  # Jupyter draws the graph (needs graphviz's `dot`)
        return program_svg(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the text
        printer.text(self.text())

    def __repr__(self) -> str:
        return (f"<Program: {len(self.nodes)} nodes, inputs {list(self.inputs)}, "
                f"outputs {list(self.outputs)}>")

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain JSON-ready data (what the API returns as `graph`)."""
        nodes = []
        for node in self.nodes:
            entry: dict[str, Any] = {
                "id": node.ref,
                "op": node.op,
                "label": self.label(node.id) if node.name else None,
                "symbol": _symbol(node),
                "args": [f"v{a}" for a in node.args],
                "expression": self.expression(node.id),
                "outputs": self.output_names_of(node.id),
                "shape": list(node.shape),
            }
            if node.params:
                entry["params"] = {k: list(v) if isinstance(v, tuple) else v
                                   for k, v in node.params.items()}
            if node.op == CONST:
                entry["value"] = node.value.tolist() if node.shape else node.value
            nodes.append(entry)
        edges = [{"id": edge_id(s, d, k), "source": f"v{s}", "target": f"v{d}", "position": k}
                 for s, d, k in self.edges()]
        return {"nodes": nodes, "edges": edges,
                "inputs": {n: f"v{i}" for n, i in self.inputs.items()},
                "outputs": {n: f"v{i}" for n, i in self.outputs.items()}}


def _symbol(node: Node) -> str:
    if node.op == INPUT:
        return node.name or node.ref
    if node.op == CONST:
        return const_text(node.value)
    return OPS[node.op].symbol
