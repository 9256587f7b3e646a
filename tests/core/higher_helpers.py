"""Random smooth programs with their sympy twin, for the higher-order tests."""

from __future__ import annotations

import random

import sympy

INPUTS = ("a", "b", "c")
UNARY = ("sin", "cos", "tanh", "exp")


def random_program(seed: int, statements: int = 5) -> tuple[str, sympy.Expr, list[str]]:
    """Program text (with fan-out: names are reused) and the same function in sympy."""
    rng = random.Random(seed)
    symbols = {n: sympy.Symbol(n) for n in INPUTS}
    names = list(INPUTS)
    exprs: dict[str, sympy.Expr] = dict(symbols)
    lines = []
    for k in range(statements):
        x, y = rng.choice(names), rng.choice(names)
        kind = rng.choice(("add", "sub", "mul", "unary", "pow", "div"))
        target = f"t{k}"
        if kind == "add":
            text, expr = f"{x} + {y}", exprs[x] + exprs[y]
        elif kind == "sub":
            text, expr = f"{x} - 0.5*{y}", exprs[x] - sympy.Rational(1, 2) * exprs[y]
        elif kind == "mul":
            text, expr = f"{x} * {y}", exprs[x] * exprs[y]
        elif kind == "pow":
            text, expr = f"{x}^2", exprs[x] ** 2
        elif kind == "div":
            text, expr = f"{x} / (1 + {y}^2)", exprs[x] / (1 + exprs[y] ** 2)
        else:
            fn = rng.choice(UNARY)
            # keep exp bounded so values stay moderate
            arg = f"tanh({x})" if fn == "exp" else x
            sym_arg = sympy.tanh(exprs[x]) if fn == "exp" else exprs[x]
            text, expr = f"{fn}({arg})", getattr(sympy, fn)(sym_arg)
        lines.append(f"{target} = {text}")
        exprs[target] = expr
        names.append(target)
    last = names[-1]
    y_expr = exprs[last] + exprs[names[-2]] * symbols["a"]
    lines.append(f"y = {last} + {names[-2]} * a")
    return "\n".join(lines), y_expr, list(INPUTS)
