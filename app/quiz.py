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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
        for q in self.questions:
            if q.id == qid:
                return q
        ids = ", ".join(q.id for q in self.questions) or "(none)"
        raise ad.InputError(f"no question {qid!r} in this quiz; its questions are: {ids}")


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

