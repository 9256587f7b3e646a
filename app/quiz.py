"""Exercises generated from any program: predict the next value, tangent or adjoint.

A quiz walks one pass of the engine's own trace (so the expected answer is the number the
playground shows) and asks for each row in turn. A public question carries no rule: the rule
comes as a hint ladder on request (`hint`: which edges enter, their local derivatives, the
whole rule).

A wrong answer is diagnosed by mistake models. Each model is the step's own rule with one
thing changed, evaluated on the engine's numbers for that step (the rows before it are
given, so the step is where the learner went wrong):

- fork:     a contribution where paths meet left out (one term of the sum, not all);
- incoming: the local derivative alone, not times the incoming tangent or adjoint;
- sign:     the minus of a subtraction (or of neg, cos, a divisor) dropped on one edge;
- seed:     the pass seeded on another input (forward) or started from another output;
- value:    the node's value given for its derivative;
- local:    a wrong local derivative on one edge (1, a value instead of the partial, the
            power rule half applied, ...); the verdict names the edge.

`check` returns the first model (in MISTAKES order) whose result matches. Feedback names
the asked quantity with its notation (v̇5, v̄3), says what the learner probably did and what
to do instead, and never repeats the learner's number. The kind names are a public contract
(the classroom counts them).

Lesson 9's tensor exercises (`make_tensor_quiz`, at the end) ask for whole arrays and shapes:
the engine's reverse pass gives the answers, numpy the mistake models (TENSOR_MISTAKES).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

import autodiff_core as ad
from autodiff_core.program import CONST, INPUT, format_number

from .mathtext import atomic, expressions, local_derivative, typeset

MODES = ("value", "forward", "reverse")
MISTAKES = ("fork", "incoming", "sign", "seed", "value", "local")  # checked in this order
HINT_LEVELS = 3
DOT, BAR = "v\u0307", "v\u0304"  # v̇ (tangent) and v̄ (adjoint), as in the engine's traces
SIGNED_OPS = ("sub", "neg", "cos", "div")  # ops whose local derivative carries a minus


def close(answer: float, expected: float) -> bool:
    """Equal up to what a learner typing a rounded number means (0.5% or 0.005)."""
    return abs(answer - expected) <= 5e-3 * max(1.0, abs(expected))


def dotted(node: str) -> str:
    return f"{DOT}{node[1:]}"


def barred(node: str) -> str:
    return f"{BAR}{node[1:]}"


@dataclass
class Edge:
    """One edge into the asked quantity's rule: forward, from an argument into the node;
    reverse, from a node that uses the asked one back into it."""

    id: str  # the engine's edge id, "v2_v5_0"
    source: str  # forward: the argument; reverse: the node using the asked one
    target: str  # the node whose partial derivative this is
    wrt: str  # the argument the partial is taken with respect to
    local_text: str  # "2x"
    local: float
    incoming: float  # the argument's tangent (forward) or the user's adjoint (reverse)
    op: str  # the op of `target`
    wrt_name: str = ""  # "x": how the program names `wrt`
    target_name: str = ""  # "x²": what `target` computes


@dataclass
class Mistake:
    kind: str
    wrong: list[float]
    feedback: str
    edge: str | None = None


@dataclass
class Question:
    id: str
    node: str  # "v5"
    label: str | None  # the user's name of the node, if any
    expression: str  # "x²": what the node computes, in the program's names
    asks: str  # "value", "tangent" or "adjoint"
    prompt: str
    symbol: str  # "v̇5", "v̄3" or "v5"
    rule: str  # "v̇5 = 2x · v̇2": how the answer is built (hint level 3)
    answer: float
    edges: list[Edge] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """What the learner may see before answering: no answer, no rule, no mistakes."""
        return {"id": self.id, "node": self.node, "label": self.label,
                "expression": self.expression, "symbol": self.symbol, "asks": self.asks,
                "prompt": self.prompt}

    def named(self) -> str:
        """"v5 = x²" or "v2 (x = 3w)": the node by its id and its expression."""
        if self.label and self.label != self.expression:
            return f"{self.node} ({self.label} = {self.expression})"
        return f"{self.node} = {self.expression}" if self.expression != self.node else self.node


class _Identified(Protocol):
    id: str


Q = TypeVar("Q", bound=_Identified)


def question_by_id(questions: list[Q], qid: str, what: str) -> Q:
    """The question with this id, or an InputError listing the ids there are."""
    for q in questions:
        if q.id == qid:
            return q
    ids = ", ".join(q.id for q in questions) or "(none)"
    raise ad.InputError(f"no question {qid!r} in this {what}; its questions are: {ids}")


@dataclass
class Quiz:
    mode: str
    wrt: str | None  # the seeded input (forward) or the output swept (reverse)
    rows: list[dict[str, Any]]  # the trace table: node, label, formula, value, given
    questions: list[Question]

    def public(self) -> dict[str, Any]:
        return {"mode": self.mode, "wrt": self.wrt, "rows": self.rows,
                "questions": [q.public() for q in self.questions]}

    def question(self, qid: str) -> Question:
        return question_by_id(self.questions, qid, "quiz")


@dataclass
class Verdict:
    correct: bool
    mistake: str | None  # one of MISTAKES, or None (right, or a mistake we cannot name)
    feedback: str
    answer: float | None  # revealed when right or when asked to reveal
    edge: str | None = None  # the edge a `local` or `sign` mistake is on


def make_quiz(program: ad.Program, at: Mapping[str, float], mode: str,
              wrt: str | None = None) -> Quiz:
    """Questions, in trace order, for one pass of `mode` over `program` at the point `at`."""
    for name, value in at.items():
        if not isinstance(value, int | float):
            raise ad.InputError(f"a quiz needs one number per input; {name!r} is not a number")
    if mode == "value":
        return _value_quiz(program, at)
    if mode == "forward":
        return _forward_quiz(program, at, wrt)
    if mode == "reverse":
        return _reverse_quiz(program, at, wrt)
    raise ad.InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


def check(quiz: Quiz, qid: str, answer: float, reveal: bool = False) -> Verdict:
    """Right, one of the known mistakes (each with its own feedback), or simply not right."""
    q = quiz.question(qid)
    if close(answer, q.answer):
        return Verdict(True, None, f"Right: {q.symbol} = {format_number(q.answer)}.", q.answer)
    shown = q.answer if reveal else None
    for kind in MISTAKES:
        for m in q.mistakes:
            if m.kind == kind and any(close(answer, w) for w in m.wrong):
                return Verdict(False, kind, m.feedback, shown, m.edge)
    return Verdict(False, None, f"Not yet: that is not {q.symbol}. Build it from the rows above "
                                f"it; ask for a hint to see which edges enter {q.node}.", shown)


def hint(quiz: Quiz, qid: str, level: int) -> str:
    """The hint ladder: 1 which edges enter, 2 their local derivatives, 3 the whole rule."""
    q = quiz.question(qid)
    if not 1 <= level <= HINT_LEVELS:
        raise ad.InputError(f"a hint level is 1 to {HINT_LEVELS}, not {level}")
    if q.asks == "value":
        return [f"{q.node} computes {q.expression}: read its arguments' values in the rows "
                f"above.", f"The step is {q.rule}.", f"{q.rule}: put in the numbers."][level - 1]
    if level == 3:
        return f"The whole rule: {q.rule}."
    edges = q.edges
    if level == 2:
        return "Local derivatives: " + "; ".join(
            f"{_partial(e)} = {_with_value(e)}" for e in edges) + "."
    names = ", ".join(e.source for e in edges)
    if q.asks == "tangent":
        return (f"{q.symbol} collects one term per argument of {q.node} that carries a "
                f"tangent: {_count(edges, 'edge enters', 'edges enter')}, from "
                f"{names}. Each term is the local derivative × the argument's tangent.")
    return (f"{q.symbol} collects one contribution from every node that uses {q.node}: "
            f"{_count(edges, 'edge leaves', 'edges leave')} it, to {names}. Each "
            f"contribution is that node's adjoint × its local derivative.")


# --- the three kinds of quiz ------------------------------------------------------------------


@dataclass
class _Names:
    """How the program's nodes read: definitions and references, typeset."""

    definition: list[str]
    refer: list[str]

    @classmethod
    def of(cls, program: ad.Program, steps: list[Any]) -> _Names:
        labels = {int(s.node[1:]): s.label for s in steps}
        pairs = expressions(program, labels)
        return cls([typeset(d) for d, _ in pairs], [r for _, r in pairs])

    def expression(self, node: str) -> str:
        return self.definition[int(node[1:])]

    def name_edges(self, edges: list[Edge]) -> None:
        for e in edges:
            e.wrt_name = typeset(self.refer[int(e.wrt[1:])])
            e.target_name = self.expression(e.target)

    def local(self, program: ad.Program, edge: str, engine_text: str) -> str:
        source, target, position = edge.split("_")
        text = local_derivative(program, int(target[1:]), int(position), self.refer)
        return text if text is not None else engine_text


def _rows(program: ad.Program, result: ad.Result, names: _Names) -> list[dict[str, Any]]:
    return [{"node": s.node, "label": s.label, "formula": s.formula,
             "expression": names.expression(s.node), "value": s.value, "given": None}
            for s in result.primal]


def _asked(program: ad.Program, node: str) -> bool:
    n = program.nodes[int(node[1:])]
    return n.op not in (INPUT, CONST) and program.active[n.id]


def _value_quiz(program: ad.Program, at: Mapping[str, float]) -> Quiz:
    result = ad.forward(program, at, seed=next(iter(program.inputs), None))
    names = _Names.of(program, result.primal)
    rows = _rows(program, result, names)
    questions = []
    for step, row in zip(result.primal, rows, strict=True):
        if step.op in (INPUT, CONST):
            row["given"] = step.value
            continue
        expression = names.expression(step.node)
        rule = f"{step.node} = " + typeset(step.formula.split(" = ", 1)[1])
        q = Question(f"value-{step.node}", step.node, step.label, expression, "value",
                     f"What is the value of {step.node} = {expression}?", step.node, rule,
                     float(step.value))
        questions.append(q)
    return Quiz("value", None, rows, questions)


def _forward_quiz(program: ad.Program, at: Mapping[str, float], wrt: str | None) -> Quiz:
    seed = wrt if wrt is not None else next(iter(program.inputs), None)
    if seed is None:
        raise ad.InputError("the program has no input to seed")
    result = ad.forward(program, at, seed=seed)
    others = {name: ad.forward(program, at, seed=name, trace=True).passes[0].steps
              for name in program.inputs if name != seed}
    names = _Names.of(program, result.primal)
    values = {s.node: float(s.value) for s in result.primal}
    rows = _rows(program, result, names)
    questions = []
    for k, (step, row) in enumerate(zip(result.passes[0].steps, rows, strict=True)):
        # (a node that feeds no output has no tangent: the pass does not visit it)
        if not _asked(program, step.node) or step.tangent is None:
            row["given"] = step.tangent
            continue
        symbol = dotted(step.node)
        edges = [Edge(p.edge, p.arg, step.node, p.arg, names.local(program, p.edge, p.formula),
                      float(p.local), float(p.tangent), step.op) for p in step.partials]
        rule = f"{symbol} = " + (" + ".join(
            _term(e.local_text, dotted(e.source)) for e in edges) or "0").replace(" + −", " − ")
        expression = names.expression(step.node)
        q = Question(f"tangent-{step.node}", step.node, step.label, expression, "tangent",
                     f"Seed {seed} (its tangent 1, every other input's 0). What is "
                     f"{symbol}, the tangent of {_node_name(step.node, step.label, expression)}?",
                     symbol, rule, float(step.tangent), edges)
        seeded = {n: float(steps[k].tangent) for n, steps in others.items()}
        names.name_edges(edges)
        q.mistakes = _mistakes(program, q, values, seed, seeded)
        questions.append(q)
    return Quiz("forward", seed, rows, questions)


def _reverse_quiz(program: ad.Program, at: Mapping[str, float], wrt: str | None) -> Quiz:
    output = wrt if wrt is not None else next(iter(program.outputs), None)
    if output is None:
        raise ad.InputError("the program has no output")
    result = ad.reverse(program, at, cotangent=output)
    steps = result.passes[0].steps
    others = {}
    for name in program.outputs:
        if name != output:
            other = ad.reverse(program, at, cotangent=name).passes[0].steps
            others[name] = {s.node: float(s.adjoint) for s in other}
    names = _Names.of(program, result.primal)
    values = {s.node: float(s.value) for s in result.primal}
    ops = {s.node: s.op for s in result.primal}
    rows = _rows(program, result, names)
    by_node = {row["node"]: row for row in rows}
    seed_node = f"v{program.outputs[output]}"
    into: dict[str, list[Edge]] = {}  # every edge back into each node, in trace order
    questions = []
    for step in steps:
        for c in step.contributions:
            into.setdefault(c.to, []).append(Edge(
                c.edge, step.node, step.node, c.to, names.local(program, c.edge, c.formula),
                float(c.local), float(step.adjoint), ops[step.node]))
        if step.node == seed_node or program.nodes[int(step.node[1:])].op == CONST:
            by_node[step.node]["given"] = step.adjoint
            continue
        symbol = barred(step.node)
        edges = into.get(step.node, [])
        rule = f"{symbol} = " + (" + ".join(
            _term(e.local_text, barred(e.source), first=False) for e in edges) or "0"
        ).replace(" + −", " − ")
        expression = names.expression(step.node)
        q = Question(f"adjoint-{step.node}", step.node, step.label, expression, "adjoint",
                     f"Start from {BAR} = 1 at {output}. What is {symbol}, the adjoint of "
                     f"{_node_name(step.node, step.label, expression)}?", symbol, rule,
                     float(step.adjoint), edges)
        seeded = {n: adj[step.node] for n, adj in others.items() if step.node in adj}
        names.name_edges(edges)
        q.mistakes = _mistakes(program, q, values, output, seeded)
        questions.append(q)
    return Quiz("reverse", output, rows, questions)


# --- the mistake models ---------------------------------------------------------------------


def _mistakes(program: ad.Program, q: Question, values: dict[str, float], seed: str,
              seeded: dict[str, float]) -> list[Mistake]:
    """Every model's wrong answer for this question, with the feedback that explains it.

    The step's rule is Σ local × incoming over its edges; each model changes one thing.
    """
    forward = q.asks == "tangent"
    products = [e.local * e.incoming for e in q.edges]
    answer = q.answer
    out: list[Mistake] = []

    def add(kind: str, wrong: list[float], feedback: str, edge: str | None = None) -> None:
        wrong = [w for w in wrong if math.isfinite(w) and not close(w, answer)]
        if wrong:
            out.append(Mistake(kind, wrong, feedback, edge))

    carried = [e for e, p in zip(q.edges, products, strict=True) if e.incoming != 0.0]
    if len(carried) >= 2:
        singles = [e.local * e.incoming for e in carried]
        leave_one_out = [answer - s for s in singles] if len(carried) > 2 else []
        if forward:
            where = ", ".join(e.source for e in carried)
            text = (f"Paths from {seed} meet at {q.node}: {len(carried)} of its arguments carry "
                    f"a tangent ({where}). It looks like you kept only one term. {q.symbol} is "
                    f"the sum of one term per argument, each its local derivative × that "
                    f"argument's tangent.")
        else:
            where = ", ".join(e.source for e in carried)
            text = (f"{q.named()} is used {len(carried)} times (by {where}): a fork. It looks "
                    f"like you kept only part of what flows back. {q.symbol} adds one "
                    f"contribution per use, each that user's adjoint × its local derivative "
                    f"(a fan-out adds, it never overwrites).")
        add("fork", singles + leave_one_out, text)

    locals_only = [sum(e.local for e in carried)] if carried else []
    alone = "; ".join(f"{_partial(e)} = {e.local_text}" for e in carried)
    if forward:
        text = (f"It looks like you gave the local derivative alone ({alone}). {q.symbol} "
                f"is the local "
                f"derivative × the tangent arriving along the edge: multiply by "
                + " and ".join(dotted(e.source) for e in carried) + " (×local → carried).")
    else:
        text = (f"It looks like you gave the local derivative alone ({alone}). Each "
                f"contribution to "
                f"{q.symbol} is the adjoint of the node that uses {q.node} × the local "
                f"derivative: multiply by " + " and ".join(barred(e.source) for e in carried)
                + ".")
    add("incoming", locals_only, text)

    for e, p in zip(q.edges, products, strict=True):
        if e.op in SIGNED_OPS and e.local < 0 and p != 0.0:
            add("sign", [answer - 2 * p],
                f"Watch the sign in {q.symbol} on the edge {_edge_text(e)}: {_partial(e)} = "
                f"{e.local_text}, negative. It looks like you dropped its minus. Keep the sign "
                f"of the local derivative when you multiply.", e.id)

    for other, wrong in seeded.items():
        if forward:
            text = (f"It looks like you seeded {other}: that gives {q.symbol} for a pass "
                    f"seeded on {other}. This pass seeds {seed}: its tangent is 1 and every "
                    f"other input's is 0.")
        else:
            text = (f"It looks like you started from {other}: that gives {q.symbol} for a "
                    f"pass that starts from {other}. This pass starts with {BAR} = 1 at {seed} "
                    f"and 0 at every other output.")
        add("seed", [wrong], text)

    kind = "tangent" if forward else "adjoint"
    how = (f"how fast {q.node} changes when {seed} moves" if forward
           else f"how much the output {seed} changes when {q.node} moves")
    add("value", [values[q.node]],
        f"It looks like you gave the value {q.node}, not its {kind} {q.symbol}. The {kind} "
        f"says {how}: build it from the "
        f"{'tangents of its arguments' if forward else 'adjoints of its users'}.")

    for e, p in zip(q.edges, products, strict=True):
        for bad, why in _wrong_locals(program, e, values):
            add("local", [answer - p + bad * e.incoming],
                f"One local derivative in {q.symbol} looks wrong: on the edge "
                f"{_edge_text(e)}, "
                f"{_partial(e)} = {_with_value(e)}. It looks like you used {why}. "
                f"Differentiate {e.target} with respect to {e.wrt} alone, the other arguments "
                f"held fixed.", e.id)
    return out


def _wrong_locals(program: ad.Program, e: Edge, values: dict[str, float]
                  ) -> list[tuple[float, str]]:
    """Local derivatives a learner might use by mistake on one edge, each with its story."""
    node = program.nodes[int(e.target[1:])]
    args = [f"v{a}" for a in node.args]
    candidates: list[tuple[float, str]] = [(1.0, "1 (as if the edge only copied its value)"),
                                           (values[e.target], f"the value of {e.target}")]
    candidates += [(values[a], f"the value of {a}" if program.nodes[int(a[1:])].op != CONST
                    else f"the constant {format_number(values[a])}") for a in args]
    if node.op == "pow" and len(node.args) == 2:
        base, power = values[args[0]], values[args[1]]
        if e.wrt == args[0]:
            candidates.append((power * base ** power if base > 0 or power == round(power)
                               else math.nan, "n·xⁿ (the power not lowered by one)"))
            candidates.append((base ** (power - 1) if base != 0 or power > 1 else math.nan,
                               "xⁿ⁻¹ (the factor n left out)"))
    if node.op in ("sin", "cos"):
        x = values[args[0]]
        candidates.append((math.sin(x) if node.op == "sin" else -math.cos(x),
                           f"{'sin' if node.op == 'sin' else '−cos'} (the function, "
                           f"not its derivative)"))
    if node.op == "mul" and len(node.args) == 2 and args[0] != args[1]:
        own = e.wrt
        candidates.append((values[own], f"{own}'s own value instead of the other factor's"))
    out: list[tuple[float, str]] = []
    for value, why in candidates:
        if math.isfinite(value) and not close(value, e.local) \
                and all(not close(value, v) for v, _ in out):
            out.append((value, why))
    return out


# --- how things are written -----------------------------------------------------------------


def _count(items: list[Any], one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"


def _node_name(node: str, label: str | None, expression: str) -> str:
    if label and label != expression:
        return f"{node} ({label} = {expression})"
    return f"{node} = {expression}" if expression != node else node


def _edge_text(e: Edge) -> str:
    return f"{e.wrt} → {e.target} ({e.wrt_name} → {e.target_name})"


def _partial(e: Edge) -> str:
    """∂v5/∂v2 = ∂(x²)/∂x: the partial by ids and by what the nodes compute."""
    def wrap(text: str) -> str:
        return text if text.isidentifier() else f"({text})"
    return f"∂{e.target}/∂{e.wrt} = ∂{wrap(e.target_name)}/∂{wrap(e.wrt_name)}"


def _with_value(e: Edge) -> str:
    number = typeset(format_number(e.local))
    return number if e.local_text == number else f"{e.local_text} = {number}"


def _term(local: str, carried: str, first: bool = True) -> str:
    """local · carried, written as a learner would: 1 · v̇2 is v̇2."""
    if local == "1":
        return carried
    if local == "−1":
        return f"−{carried}"
    wrapped = local if atomic(local) else f"({local})"
    return f"{wrapped} · {carried}" if first else f"{carried} · {wrapped}"



# --- tensor exercises: shapes, and the adjoints of a matmul and of a broadcast ----------------
#
# Lesson 9 asks what one reverse step does to arrays: the shape of an adjoint, the adjoint of
# each factor of a matmul, the adjoint of a vector broadcast over a batch. The learner types
# an array ("1 2; 3 4", rows split by ";") or a shape ("3×2"). As for the scalar exercises,
# every known mistake is the step's rule with one thing changed, evaluated on the step's own
# numbers:
#
# - transpose: a factor used as it is where the rule transposes it (Ā = C̄·B for C̄·Bᵀ), or
#              a shape given transposed;
# - order:     the factors in the wrong order (Bᵀ·C̄ for C̄·Bᵀ);
# - elementwise: the arrays multiplied entry by entry, as if the product were of numbers;
# - unsummed:  a broadcast's adjoint not summed over the broadcast axis (one row of v̄, all of
#              it, or its mean);
# - shape:     an answer of the wrong shape that no model above explains (the output's
#              shape for an input's adjoint, a sum over the wrong axis, a scalar).

TENSOR_KINDS = ("shapes", "batch", "matmul", "broadcast")
TENSOR_MISTAKES = ("transpose", "order", "elementwise", "unsummed", "shape")
TIMES = "\u00d7"


def shape_text(shape: tuple[int, ...]) -> str:
    """(3, 2) -> "3×2"; () -> "a scalar" (as the engine's shape errors write them)."""
    return TIMES.join(map(str, shape)) if shape else "a scalar"


def array_text(value: Any) -> str:
    """An array as a learner would type it: rows split by ";" ("1 2; 3 4")."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return format_number(float(a))
    if a.ndim == 1:
        return " ".join(format_number(float(v)) for v in a)
    return "; ".join(array_text(row) for row in a)


def parse_shape(text: str) -> tuple[int, ...]:
    """ "3×2", "3x2", "3, 2", "(3, 2)", "[3]" or "scalar" -> a shape; InputError otherwise."""
    cleaned = text.strip().lower().strip("()[] ")
    if cleaned in ("", "scalar", "a scalar"):
        return ()
    parts = (cleaned.replace(TIMES, " ").replace("x", " ").replace("*", " ")
             .replace(",", " ").split())
    # isdecimal, not isdigit: "²" is a digit that int() cannot read
    if not parts or not all(p.isdecimal() for p in parts) or len(parts) > 4:
        raise ad.InputError(f"a shape is written like 3{TIMES}2 (or 3x2, or \"scalar\"); "
                            f"{text!r} is not one")
    return tuple(int(p) for p in parts)


def parse_array(text: str) -> np.ndarray:
    """ "1 2; 3 4" (rows split by ";", numbers by spaces or commas), or nested brackets
    "[[1, 2], [3, 4]]" -> an array; InputError when the rows differ in length."""
    cleaned = text.strip().replace("\u2212", "-")
    if cleaned.startswith("["):
        cleaned = cleaned.replace("],", ";").replace("[", "").replace("]", "")
    rows = [r.replace(",", " ").split() for r in cleaned.split(";")]
    rows = [r for r in rows if r]
    try:
        numbers = [[float(v) for v in r] for r in rows]
    except ValueError:
        raise ad.InputError("type the numbers of each row split by spaces, and the rows split "
                            "by \";\" (for example 1 2; 3 4)") from None
    if not numbers or len({len(r) for r in numbers}) != 1:
        raise ad.InputError("every row needs as many numbers as the others (for example "
                            "1 2; 3 4)")
    if not all(math.isfinite(v) for r in numbers for v in r):
        raise ad.InputError("every entry must be a finite number")
    array = np.array(numbers)
    return array[0] if ";" not in cleaned and array.shape[0] == 1 else array


@dataclass
class TensorMistake:
    kind: str
    wrong: np.ndarray | tuple[int, ...]
    feedback: str


@dataclass
class TensorQuestion:
    id: str  # "shape-h", "adjoint-A"
    symbol: str  # "Ā", "the shape of W̄"
    asks: str  # "shape" or "adjoint"
    prompt: str
    answer: np.ndarray | tuple[int, ...]
    hints: list[str]  # the ladder: which rule, the rule, its first entry worked out
    mistakes: list[TensorMistake] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "symbol": self.symbol, "asks": self.asks, "prompt": self.prompt}


@dataclass
class TensorQuiz:
    kind: str
    source: str  # the step as a program, in the tensor language
    given: list[dict[str, Any]]  # {name, symbol, value, shape}: the numbers shown
    questions: list[TensorQuestion]

    def public(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "given": self.given,
                "questions": [q.public() for q in self.questions]}

    def question(self, qid: str) -> TensorQuestion:
        return question_by_id(self.questions, qid, "exercise")


def _array(at: Mapping[str, Any], name: str, ndim: int) -> np.ndarray:
    if name not in at:
        raise ad.InputError(f"this exercise needs a value for {name!r}")
    try:
        value = np.asarray(at[name], dtype=float)
    except (TypeError, ValueError):
        raise ad.InputError(f"{name}: not an array of numbers") from None
    if value.ndim != ndim or not 1 <= min(value.shape) <= max(value.shape) <= 4 \
            or not np.isfinite(value).all():
        kind = "a vector" if ndim == 1 else "a matrix"
        raise ad.InputError(f"{name}: expected {kind} of at most 4 by 4 finite numbers, got "
                            f"{shape_text(value.shape)}")
    return value


def _fits(name: str, value: np.ndarray, shape: tuple[int, ...]) -> None:
    if value.shape != shape:
        raise ad.InputError(f"{name}: expected a {shape_text(shape)} array, got "
                            f"{shape_text(value.shape)}")


def _declare(**arrays: np.ndarray) -> str:
    return "\n".join(f"{n}: [{', '.join(map(str, a.shape))}]" for n, a in arrays.items())


def _given(name: str, symbol: str, value: np.ndarray) -> dict[str, Any]:
    return {"name": name, "symbol": symbol, "value": value.tolist(),
            "shape": list(value.shape)}


def _entry(name: str, left: np.ndarray, right: np.ndarray) -> str:
    """The (0, 0) entry of left @ right written out: "Ā[0,0] = 1·0 + 2·1 = 2"."""
    terms = " + ".join(f"{format_number(float(a))}·{format_number(float(b))}"
                       for a, b in zip(left[0], right[:, 0], strict=True))
    return f"{name} = {terms} = {format_number(float(left[0] @ right[:, 0]))}"


def _engine_adjoints(source: str, at: Mapping[str, np.ndarray], output: str,
                     cotangent: np.ndarray) -> dict[str, np.ndarray]:
    """The right answers: the adjoints of the step's inputs from the engine's reverse pass
    seeded with the given output adjoint (the mistake models are that rule, changed)."""
    result = ad.reverse(ad.parse(source), dict(at), cotangent={output: cotangent}, trace=False)
    assert result.directional is not None
    return {name: np.asarray(value, dtype=float) for name, value in result.directional.items()}


def make_tensor_quiz(kind: str, at: Mapping[str, Any],
                     cotangent: Any = None) -> TensorQuiz:
    """An exercise on one reverse step through arrays (`kind` one of TENSOR_KINDS)."""
    if kind == "shapes":
        return _shapes_quiz(at)
    if kind == "batch":
        return _batch_quiz(at)
    if cotangent is None:
        raise ad.InputError(f"a {kind} exercise needs the output's adjoint in `cotangent`")
    if kind == "matmul":
        return _matmul_quiz(at, cotangent)
    if kind == "broadcast":
        return _broadcast_quiz(at, cotangent)
    raise ad.InputError(f"kind must be one of {', '.join(TENSOR_KINDS)}, not {kind!r}")


def check_tensor(quiz: TensorQuiz, qid: str, text: str, reveal: bool = False) -> dict[str, Any]:
    """The verdict on a typed answer: right, a known mistake with its feedback, or not yet."""
    q = quiz.question(qid)
    shown = _shown(q.answer) if reveal else None
    given: np.ndarray | tuple[int, ...]
    given = parse_shape(text) if q.asks == "shape" else parse_array(text)
    if _same(given, q.answer):
        return {"correct": True, "mistake": None, "answer": _shown(q.answer),
                "feedback": f"Right: {q.symbol} is {_shown(q.answer)}."}
    for kind in TENSOR_MISTAKES:
        for m in q.mistakes:
            if m.kind == kind and _same(given, m.wrong):
                return {"correct": False, "mistake": kind, "feedback": m.feedback,
                        "answer": shown}
    if isinstance(given, np.ndarray) and isinstance(q.answer, np.ndarray) \
            and given.shape != q.answer.shape:
        return {"correct": False, "mistake": "shape", "answer": shown,
                "feedback": f"That array is {shape_text(given.shape)}, but {q.symbol} has the "
                            f"shape of its own array, {shape_text(q.answer.shape)}: an adjoint "
                            f"always has the shape of what it is the adjoint of."}
    return {"correct": False, "mistake": None, "answer": shown,
            "feedback": f"Not yet: that is not {q.symbol}. Ask for a hint to see which rule "
                        f"builds it."}


def tensor_hint(quiz: TensorQuiz, qid: str, level: int) -> str:
    """The hint ladder: 1 which rule applies, 2 the rule, 3 its first entry worked out."""
    q = quiz.question(qid)
    if not 1 <= level <= HINT_LEVELS:
        raise ad.InputError(f"a hint level is 1 to {HINT_LEVELS}, not {level}")
    return q.hints[level - 1]


def _same(given: np.ndarray | tuple[int, ...], expected: np.ndarray | tuple[int, ...]) -> bool:
    if isinstance(expected, tuple) or isinstance(given, tuple):
        return given == expected
    return given.shape == expected.shape and all(
        close(float(a), float(b)) for a, b in zip(given.ravel(), expected.ravel(), strict=True))


def _shown(answer: np.ndarray | tuple[int, ...]) -> str:
    return shape_text(answer) if isinstance(answer, tuple) else array_text(answer)


def _models(answer: np.ndarray | tuple[int, ...],
            models: list[TensorMistake | None]) -> list[TensorMistake]:
    """The models that give a wrong answer, each once (the first story for a number wins)."""
    out: list[TensorMistake] = []
    for m in models:
        if m is not None and not _same(m.wrong, answer) \
                and not any(_same(m.wrong, kept.wrong) for kept in out):
            out.append(m)
    return out


def _shapes_quiz(at: Mapping[str, Any]) -> TensorQuiz:
    """A layer h = tanh(W @ x + b), loss y = sum(h): the shapes of h, of W̄ and of x̄."""
    W = _array(at, "W", 2)
    m, n = W.shape
    x, b = _array(at, "x", 1), _array(at, "b", 1)
    _fits("x", x, (n,))
    _fits("b", b, (m,))
    source = _declare(W=W, x=x, b=b) + "\nh = tanh(W @ x + b)\ny = sum(h)"
    h = TensorQuestion(
        "shape-h", "the shape of h", "shape",
        f"W is {shape_text(W.shape)} and x has {n} entries. What is the shape of h = "
        f"tanh(W @ x + b)?", (m,),
        ["A matrix times a vector: each row of W meets x once.",
         f"(m{TIMES}n) @ (n) gives (m): the inner dimensions meet and vanish.",
         f"W is {shape_text(W.shape)}: h has one entry per row of W."])
    h.mistakes = _models(h.answer, [
        TensorMistake("transpose", (n,), f"That is the number of columns of W. In W @ x the "
                      f"inner dimension ({n}, the columns of W and the entries of x) meets and "
                      f"vanishes; what is left is one entry per row of W."),
        TensorMistake("shape", (m, n), "That is the shape of W itself. A matrix times a "
                      "vector is a vector: each row of W, times x, gives one number."),
        TensorMistake("shape", (), "That would be the loss y = sum(h). h itself keeps one "
                      "entry per row of W.")])
    wbar = TensorQuestion(
        "shape-W", "the shape of W̄", "shape",
        "The loss y is a scalar. What is the shape of W̄ = ∂y/∂W, the adjoint of W?", W.shape,
        ["An adjoint answers: how much does y change when each entry of this array moves?",
         "So there is one number per entry of W: W̄ has W's shape.",
         f"W̄ = v̄ · xᵀ, v̄ the adjoint of W @ x: an outer product, ({m}) times ({n})ᵀ."])
    wbar.mistakes = _models(wbar.answer, [
        TensorMistake("transpose", (n, m), f"That is W's shape transposed. W̄ holds ∂y/∂W[i,j] "
                      f"at the place of W[i,j]: the outer product v̄·xᵀ puts v̄'s {m} entries "
                      f"down the rows and x's {n} along the columns."),
        TensorMistake("shape", (), "y is a scalar, but its derivative with respect to W is "
                      "not: there is one partial derivative per entry of W."),
        TensorMistake("shape", (m,), "That is the shape of h̄, the adjoint of h. W̄ has one "
                      "entry per entry of W.")])
    xbar = TensorQuestion(
        "shape-x", "the shape of x̄", "shape", "And the shape of x̄, the adjoint of x?", (n,),
        ["As for W: one number per entry of x.", "x̄ has x's shape.",
         f"x̄ = Wᵀ · v̄: ({n}{TIMES}{m}) @ ({m}) gives ({n})."])
    xbar.mistakes = _models(xbar.answer, [
        TensorMistake("shape", (m,), "That is the shape of h̄. x̄ = Wᵀ·v̄ brings the adjoint "
                      "back to x's own shape: one number per entry of x."),
        TensorMistake("shape", (), "One partial derivative per entry of x: x̄ is not a "
                      "scalar.")])
    given = [_given("W", "W", W), _given("x", "x", x), _given("b", "b", b)]
    return TensorQuiz("shapes", source, given, [h, wbar, xbar])


def _batch_quiz(at: Mapping[str, Any]) -> TensorQuiz:
    """A layer over a batch, H = tanh(X @ W + b), loss L = sum(H): the shapes of H, W̄, b̄."""
    X, W, b = _array(at, "X", 2), _array(at, "W", 2), _array(at, "b", 1)
    k, n = X.shape
    _fits("W", W, (n, W.shape[1]))
    m = W.shape[1]
    _fits("b", b, (m,))
    source = _declare(X=X, W=W, b=b) + "\nH = tanh(X @ W + b)\nL = sum(H)"
    h = TensorQuestion(
        "shape-H", "the shape of H", "shape",
        f"X holds {k} examples of {n} numbers, one per row; W is {shape_text(W.shape)}. What "
        f"is the shape of H = tanh(X @ W + b)?", (k, m),
        ["Each row of X goes through the layer on its own.",
         f"(k{TIMES}n) @ (n{TIMES}m) gives (k{TIMES}m): the inner dimension n vanishes; b is "
         "broadcast down the rows.",
         f"{k} examples, {m} units each."])
    h.mistakes = _models(h.answer, [
        TensorMistake("transpose", (m, k), "That is H's shape transposed. X @ W keeps X's rows "
                      "(one per example) and W's columns (one per unit)."),
        TensorMistake("shape", (m,), f"That is the shape of one example's output. The batch "
                      f"keeps its {k} rows: one row of H per example.")])
    wbar = TensorQuestion(
        "shape-W", "the shape of W̄", "shape",
        "What is the shape of W̄ = ∂L/∂W, the adjoint of W?", W.shape,
        ["One number per weight, whatever the batch size.", "W̄ has W's shape.",
         f"W̄ = Xᵀ · V̄, V̄ the adjoint of X @ W + b: ({n}{TIMES}{k}) @ ({k}{TIMES}{m}) sums "
         f"the {k} examples' outer products."])
    wbar.mistakes = _models(wbar.answer, [
        TensorMistake("transpose", (m, n), f"That is W's shape transposed. W̄ = Xᵀ · V̄ is "
                      f"({n}{TIMES}{k}) @ ({k}{TIMES}{m}): W's own shape."),
        TensorMistake("shape", (k, m), f"That is the shape of H. The weights are shared by all "
                      f"{k} examples, so their adjoints add up: W̄ = Xᵀ · V̄ sums over the "
                      f"batch and keeps W's shape."),
        TensorMistake("shape", (k, n, m), f"One outer product per example, {k} of them, is "
                      f"what W receives; it is used by every example, so they add into one "
                      f"W̄ of W's shape.")])
    bbar = TensorQuestion(
        "shape-b", "the shape of b̄", "shape",
        "And the shape of b̄, the adjoint of the bias?", (m,),
        [f"b was broadcast down the {k} rows: every example uses it.",
         "Broadcasting's adjoint is a sum over the broadcast axis.",
         f"b̄ = the column sums of V̄: ({m})."])
    bbar.mistakes = _models(bbar.answer, [
        TensorMistake("unsummed", (k, m), f"That is the shape of V̄, the adjoint of X @ W + b. "
                      f"b was broadcast over the {k} examples, so its adjoint sums V̄ down the "
                      f"rows: one number per entry of b."),
        TensorMistake("shape", (k,), "That sums each row. b was copied down the rows, so b̄ "
                      "sums down each column: one number per unit.")])
    given = [_given("X", "X", X), _given("W", "W", W), _given("b", "b", b)]
    return TensorQuiz("batch", source, given, [h, wbar, bbar])


def _matmul_quiz(at: Mapping[str, Any], cotangent: Any) -> TensorQuiz:
    """C = A @ B with C̄ given: Ā = C̄·Bᵀ and B̄ = Aᵀ·C̄, each with its mistakes."""
    A, B = _array(at, "A", 2), _array(at, "B", 2)
    if A.shape[1] != B.shape[0]:
        raise ad.InputError(f"A @ B: {shape_text(A.shape)} @ {shape_text(B.shape)}, the inner "
                            f"dimensions {A.shape[1]} and {B.shape[0]} differ")
    C_bar = _array({"cotangent": cotangent}, "cotangent", 2)
    _fits("cotangent", C_bar, (A.shape[0], B.shape[1]))
    source = _declare(A=A, B=B) + "\nC = A @ B"
    adjoints = _engine_adjoints(source, {"A": A, "B": B}, "C", C_bar)

    def product(kind: str, left: np.ndarray, right: np.ndarray, text: str,
                symbol: str, rule: str) -> TensorMistake | None:
        if left.shape[-1] != right.shape[0]:
            return None  # the learner could not have multiplied these
        return TensorMistake(kind, left @ right, f"{text} ({symbol} = {rule}.)")

    a_bar = TensorQuestion(
        "adjoint-A", "Ā", "adjoint",
        f"C̄ is given. What is Ā, the adjoint of A ({shape_text(A.shape)})?", adjoints["A"],
        ["Ā has A's shape. Each A[i,k] meets B[k,j] in C[i,j], where its local derivative is "
         "B[k,j].",
         "Ā = C̄ · Bᵀ: C̄ on the left, B transposed on the right (Ā[i,k] sums C̄[i,j]·B[k,j] "
         "over j).",
         _entry("Ā[0,0]", C_bar, B.T) + "; the other entries the same way."])
    rule = ("Ā", "C̄ · Bᵀ")
    a_bar.mistakes = _models(a_bar.answer, [
        product("transpose", C_bar, B, "It looks like you multiplied C̄ by B itself. A[i,k] "
                "meets B[k,j]: summing over j pairs row i of C̄ with row k of B, which is "
                "C̄ · Bᵀ. Transpose B.", *rule),
        product("order", B.T, C_bar, "It looks like you put the factors the other way round "
                "(Bᵀ · C̄). A matrix product does not commute: A stands on the left of B, so C̄ "
                "stays on the left of Bᵀ.", *rule),
        product("order", B, C_bar, "It looks like you put B first, and did not transpose it. "
                "C̄ goes on the left, B transposed on the right.", *rule),
        TensorMistake("elementwise", C_bar * B, "It looks like you multiplied C̄ and B entry "
                      "by entry, as if C were A ⊙ B. In a matrix product each A[i,k] meets a "
                      "whole row of B; Ā = C̄ · Bᵀ sums over it.")
        if C_bar.shape == B.shape else None])
    b_bar = TensorQuestion(
        "adjoint-B", "B̄", "adjoint", f"And B̄, the adjoint of B ({shape_text(B.shape)})?",
        adjoints["B"],
        ["B̄ has B's shape. Each B[k,j] meets A[i,k] in C[i,j], where its local derivative is "
         "A[i,k].",
         "B̄ = Aᵀ · C̄: A transposed on the left, C̄ on the right (B̄[k,j] sums A[i,k]·C̄[i,j] "
         "over i).",
         _entry("B̄[0,0]", A.T, C_bar) + "; the other entries the same way."])
    rule = ("B̄", "Aᵀ · C̄")
    b_bar.mistakes = _models(b_bar.answer, [
        product("transpose", A, C_bar, "It looks like you multiplied A itself by C̄. B[k,j] "
                "meets A[i,k]: summing over i pairs column k of A with column j of C̄, which "
                "is Aᵀ · C̄. Transpose A.", *rule),
        product("order", C_bar, A.T, "It looks like you put the factors the other way round "
                "(C̄ · Aᵀ). B stands on the right of A, so C̄ stays on the right of Aᵀ.", *rule),
        product("order", C_bar, A, "It looks like you put C̄ first, and did not transpose A. "
                "A transposed goes on the left, C̄ on the right.", *rule),
        TensorMistake("elementwise", A * C_bar, "It looks like you multiplied A and C̄ entry "
                      "by entry, as if C were A ⊙ B. In a matrix product each B[k,j] meets a "
                      "whole column of A; B̄ = Aᵀ · C̄ sums over it.")
        if A.shape == C_bar.shape else None])
    given = [_given("A", "A", A), _given("B", "B", B), _given("C", "C̄", C_bar)]
    return TensorQuiz("matmul", source, given, [a_bar, b_bar])


def _broadcast_quiz(at: Mapping[str, Any], cotangent: Any) -> TensorQuiz:
    """Z = X + b, b added to each row of a batch X: b̄ is the column sums of Z̄."""
    X, b = _array(at, "X", 2), _array(at, "b", 1)
    _fits("b", b, (X.shape[1],))
    Z_bar = _array({"cotangent": cotangent}, "cotangent", 2)
    _fits("cotangent", Z_bar, X.shape)
    k, n = X.shape
    source = _declare(X=X, b=b) + "\nZ = X + b"
    adjoints = _engine_adjoints(source, {"X": X, "b": b}, "Z", Z_bar)
    bbar = TensorQuestion(
        "adjoint-b", "b̄", "adjoint",
        f"b ({n} entries) is added to each of the {k} rows of X. Z̄ is given. What is b̄?",
        adjoints["b"],
        [f"b[j] is used {k} times, once in every row of Z: a fork, as in lesson 5.",
         "At a fork the contributions add: b̄[j] is the sum over the rows i of Z̄[i,j]. "
         "Broadcasting's adjoint is a sum over the broadcast axis.",
         f"b̄[0] = {' + '.join(format_number(float(v)) for v in Z_bar[:, 0])} = "
         f"{format_number(float(Z_bar[:, 0].sum()))}; the other columns the same way."])
    bbar.mistakes = _models(bbar.answer, [
        *[TensorMistake("unsummed", Z_bar[i], f"It looks like you took one row of Z̄. b[j] is "
                        f"used by every one of the {k} rows of Z: a fork, and the adjoints of "
                        f"all uses add. Sum Z̄ over its rows (axis 0).") for i in range(k)],
        TensorMistake("unsummed", Z_bar, f"That is Z̄ itself, {shape_text(Z_bar.shape)}. b̄ "
                      f"has b's shape ({n}): sum Z̄ over the batch axis, down which b was "
                      f"copied."),
        TensorMistake("unsummed", Z_bar.mean(axis=0), "It looks like you took the mean of "
                      "each column. The contributions at a fork add up; they are not "
                      "averaged: sum each column of Z̄."),
        TensorMistake("shape", Z_bar.sum(axis=1), f"It looks like you summed each row of Z̄ "
                      f"(that gives {k} numbers). b was copied down the rows, so sum down each "
                      f"column: one number per entry of b.")])
    xbar = TensorQuestion(
        "adjoint-X", "X̄", "adjoint", "And X̄, the adjoint of X?", adjoints["X"],
        ["Each X[i,j] is used once, in Z[i,j] = X[i,j] + b[j].",
         "The local derivative of a sum is 1, so X̄[i,j] = Z̄[i,j].",
         "X̄ = Z̄: copy it."])
    xbar.mistakes = _models(xbar.answer, [
        TensorMistake("unsummed", Z_bar.sum(axis=0), "That is b̄, the column sums. X[i,j] is "
                      "used only once, in Z[i,j]: X̄ = Z̄, with no sum.")])
    given = [_given("X", "X", X), _given("b", "b", b), _given("Z", "Z̄", Z_bar)]
    return TensorQuiz("broadcast", source, given, [bbar, xbar])
