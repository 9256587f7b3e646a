"""Showing a Program outside the web app: LaTeX, and a graphviz drawing for Jupyter.

`Program.latex()` writes the evaluation trace as an aligned LaTeX block (one line per node,
names as comments). `Program._repr_svg_()` lets Jupyter draw the graph: it writes a small DOT
description and runs graphviz's `dot` if it is installed; without it Jupyter falls back to the
text form. (The web app has its own, richer renderer in `app/rendering.py`.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any, Protocol

from .ops import CONST, GUARD, INPUT, OPS
from .tensor_ops import const_text


class Program(Protocol):
    """What drawing needs of a program (program.py imports this module, not the reverse)."""

    nodes: list[Any]
    outputs: dict[str, int]

    def label(self, i: int) -> str: ...
    def output_names_of(self, i: int) -> list[str]: ...
    def unguarded(self, i: int) -> int: ...
    def edges(self) -> Iterator[tuple[int, int, int]]: ...

MAX_DRAWN_NODES = 400  # a bigger graph is unreadable as a picture; the text form stays


def latex_name(name: str) -> str:
    """A node or output name in LaTeX: x_bar -> \\bar{x}, x_dot -> \\dot{x}, y'' stays."""
    match = re.fullmatch(r"([A-Za-z]\w*?)_(dot|bar)", name)
    if match and len(match.group(1)) == 1:
        return rf"\{match.group(2)}{{{match.group(1)}}}"
    escaped = name.replace("\\", "").replace("_", r"\_").replace("#", r"\#")
    escaped = escaped.replace("{", "").replace("}", "").replace("$", "").replace("&", "")
    return escaped if len(name) == 1 else rf"\mathrm{{{escaped}}}"


def program_latex(program: Program) -> str:
    r"""The program as an aligned LaTeX block, one line per node.

    >>> from autodiff_core import parse
    >>> print(parse("y = sin(x) * x").latex())
    \begin{aligned}
    v_{0} &= x \\
    v_{1} &= \sin\left(v_{0}\right) \\
    v_{2} &= v_{1} \cdot v_{0} && y
    \end{aligned}
    """
    lines = []
    for node in program.nodes:
        if node.op == GUARD:  # a derivative program's guard: a note in text(), not a line
            continue
        line = f"v_{{{node.id}}} &= {_latex_expression(program, node.id)}"
        names = [program.label(node.id)] if node.name and node.op != INPUT else []
        names += [o for o, i in program.outputs.items()
                  if program.unguarded(i) == node.id and o not in names]
        if names:
            line += " && " + ", ".join(latex_name(n) for n in names)
        lines.append(line)
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def _latex_expression(program: Program, i: int) -> str:
    node = program.nodes[i]
    if node.op == INPUT:
        return latex_name(node.name or node.ref)
    if node.op == CONST:  # a number, or a tensor constant's nested list
        return const_text(node.value)
    return OPS[node.op].latex.format(*(f"v_{{{a}}}" for a in node.args))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def program_dot(program: Program) -> str:
    """A small DOT description: inputs on the left, ids equal to the node ids."""
    lines = ["digraph program {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=12, shape=ellipse];']
    for node in program.nodes:
        if node.op == INPUT:
            label, shape = node.name or node.ref, "box"
        elif node.op == CONST:
            label, shape = const_text(node.value), "plaintext"
        else:
            label, shape = OPS[node.op].symbol, "ellipse"
            if node.name:
                label += "\n" + program.label(node.id)
        lines.append(f"  v{node.id} [id={_quote(node.ref)}, label={_quote(label)}, "
                     f"shape={shape}];")
    for src, dst, position in program.edges():
        lines.append(f'  v{src} -> v{dst} [id="v{src}_v{dst}_{position}"];')
    for k, (name, i) in enumerate(program.outputs.items()):
        lines.append(f"  out{k} [label={_quote(name)}, shape=none];")
        lines.append(f"  v{i} -> out{k} [style=dashed];")
    lines.append("}")
    return "\n".join(lines)


def program_svg(program: Program, timeout: float = 10.0) -> str | None:
    """The graph as SVG via graphviz `dot`, or None (no `dot`, too big, or it failed)."""
    dot = shutil.which("dot")
    if dot is None or len(program.nodes) > MAX_DRAWN_NODES:
        return None
    try:
        done = subprocess.run([dot, "-Tsvg"], input=program_dot(program).encode(),
                              capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode() if done.returncode == 0 else None
