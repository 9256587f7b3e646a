"""Mathematics as a learner writes it: node expressions and local derivatives, simplified.

The engine's traces print rules in its own syntax (`v4 * (v2 ** (v4 - 1))`); a learner who
knows school calculus reads `2x`. This module writes, for one program:

- `expressions`: each node as an expression of the program's names (`x²`, `2x² + 4`), a
  named node standing for itself inside later expressions;
- `local_derivative`: the partial derivative of a node with respect to one argument, as a
  simplified expression of the argument names (`∂(x²)/∂x = 2x`).

No rule is written here: a local derivative is the engine's own symbolic derivative
(`autodiff_core.symbolic_derivative`, which reads the op table and simplifies as it builds) of
a one-operation program, then typeset (powers as superscripts, `2 * x` as `2x`, `·`, `−`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import autodiff_core as ad
from autodiff_core.ops import OPS
from autodiff_core.program import CONST, INPUT, format_number

try:  # the engine's own parenthesising, so expressions read as the symbolic ones do
    from autodiff_core.symbolic import ATOM, _operands
except ImportError:  # the engine was reorganised: parenthesise every compound operand
    ATOM = 100

    def _operands(op: str, parts: list[tuple[str, int]], latex: bool) -> list[str]:
        return [text if q >= ATOM else f"({text})" for text, q in parts]

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_POWER = re.compile(r"(\b[A-Za-z_]\w*|\)|\b\d+(?:\.\d+)?) \*\* (-?\d+)\b(?!\.)")
_COEFFICIENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?) \* (?!v\d)([A-Za-z_(])")


def typeset(text: str) -> str:
    """Engine syntax to school notation: `2 * x ** 2 - y` -> `2x² − y`."""
    text = _POWER.sub(lambda m: m.group(1) + m.group(2).translate(SUPERSCRIPT), text)
    text = _COEFFICIENT.sub(r"\1\2", text)
    text = text.replace(" ** ", "^").replace(" * ", "·").replace(" / ", "/")
    text = text.replace(" - ", " − ")
    return re.sub(r"(^|[(\s·/^])-", r"\1−", text)


def atomic(text: str) -> bool:
    """Whether an expression needs no parentheses as a factor: a name, a number or a call
    (no operator outside parentheses)."""
    depth = 0
    for position, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and (ch in " +*/·^−" or (ch == "-" and position > 0)):
            return False
    return True


def expressions(program: ad.Program, labels: dict[int, str | None]) -> list[tuple[str, str]]:
    """For every node: (its definition, how later nodes refer to it), in engine syntax.

    A named node is referred to by its name (x), an unnamed one by its definition (x ** 2).
    """
    out: list[tuple[str, str]] = []
    refer: list[tuple[str, int]] = []
    for node in program.nodes:
        label = labels.get(node.id)
        if node.op == INPUT:
            text = node.name or label or f"v{node.id}"
            out.append((text, text))
            refer.append((text, ATOM))
            continue
        if node.op == CONST:
            value = float(node.value or 0.0)
            text = format_number(value)
            out.append((text, text))
            refer.append((text, 30 if value < 0 else ATOM))
            continue
        op = OPS.get(node.op)
        if op is None or not hasattr(op, "text"):
            text = f"v{node.id}"
            out.append((text, label or text))
            refer.append((label or text, ATOM))
            continue
        parts = _operands(node.op, [refer[a] for a in node.args], False)
        text = op.text.format(*parts)
        out.append((text, label or text))
        refer.append((label, ATOM) if label else (text, op.precedence))
    return out


def local_derivative(program: ad.Program, node_id: int, position: int,
                     refer: list[str]) -> str | None:
    """∂(node)/∂(its argument at `position`), simplified, in the arguments' names.

    None when the op has no one-line form (the caller then keeps the engine's text).
    """
    node = program.nodes[node_id]
    operands = []
    for k, a in enumerate(node.args):
        arg = program.nodes[a]
        if arg.op == CONST:
            value = float(arg.value or 0.0)
            operands.append(f"({format_number(value)})" if value < 0 else format_number(value))
        else:
            operands.append(f"a{k}")
    text = _symbolic(node.op, tuple(operands), f"a{position}")
    if text is None:
        return None

    def name(match: re.Match[str]) -> str:
        ref = refer[node.args[int(match.group(1))]]
        before, after = text[match.start() - 1:match.start()], text[match.end():match.end() + 1]
        bare = atomic(ref) or (before == "(" and after in (")", ","))
        return ref if bare else f"({ref})"

    return typeset(re.sub(r"\ba(\d+)\b", name, text))


@lru_cache(maxsize=512)
def _symbolic(op: str, operands: tuple[str, ...], wrt: str) -> str | None:
    spec = OPS.get(op)
    if spec is None or not hasattr(spec, "text"):
        return None
    try:
        program = ad.parse("r = " + spec.text.format(*operands))
        return ad.symbolic_derivative(program, wrt).derivative.text
    except (ad.ExpressionError, ad.InputError, IndexError, KeyError):
        return None
