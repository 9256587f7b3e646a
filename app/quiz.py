"""Exercises generated from any program: predict the next value, tangent or adjoint.

A quiz walks one pass of the engine's own trace (so the expected answer is the number the
playground shows) and asks for each row in turn. Next to each right answer it works out
the wrong answers that the classic mistakes produce, from the same trace:

- fork:  forgot to add the contributions where paths meet (reverse: a value used several
         times collects one adjoint contribution per use; forward: a node with several
         input-dependent arguments sums one tangent term per argument);
- local: multiplied by the wrong local derivative on one edge (1, the node's own value, an
         argument's value, or another argument's partial);
- seed:  seeded the wrong input (forward) or the wrong output (reverse).

`check` classifies an answer against these; the browser only shows what it returns.
No derivative is computed here: every number comes from `autodiff_core`'s trace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import autodiff_core as ad
from autodiff_core.program import CONST, INPUT, format_number

MODES = ("value", "forward", "reverse")
MISTAKES = ("fork", "seed", "local")  # checked in this order when two coincide
DOT, BAR = "v\u0307", "v\u0304"  # v̇ (tangent) and v̄ (adjoint), as in the engine's traces


def close(answer: float, expected: float) -> bool:
    """Equal up to what a learner typing a rounded number means (0.5% or 0.005)."""
    return abs(answer - expected) <= 5e-3 * max(1.0, abs(expected))


@dataclass
class Question:
    id: str
    node: str  # "v5"
    label: str | None  # the user's name of the node, if any
    asks: str  # "value", "tangent" or "adjoint"
    prompt: str
    formula: str  # how the answer is built from earlier rows
    answer: float
    # mistake kind -> (wrong values it produces, feedback that explains it)
    mistakes: dict[str, tuple[list[float], str]] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """What the learner may see before answering (no answer, no mistakes)."""
        return {"id": self.id, "node": self.node, "label": self.label, "asks": self.asks,
                "prompt": self.prompt, "formula": self.formula}


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
    name = _name(q.node, q.label)
    if close(answer, q.answer):
        return Verdict(True, None, f"Right: {name} = {format_number(q.answer)}.", q.answer)
    for kind in MISTAKES:
        if kind in q.mistakes:
            wrong, feedback = q.mistakes[kind]
            if any(close(answer, w) for w in wrong):
                return Verdict(False, kind, feedback, q.answer if reveal else None)
    feedback = (f"Not {format_number(answer)}. Build {name} from the rows above it: "
                f"{q.formula}.")
    return Verdict(False, None, feedback, q.answer if reveal else None)


# --- the three kinds of quiz ------------------------------------------------------------------


def _rows(program: ad.Program, result: ad.Result) -> list[dict[str, Any]]:
    return [{"node": s.node, "label": s.label, "formula": s.formula, "value": s.value,
             "given": None} for s in result.primal]


def _asked(program: ad.Program, node: str) -> bool:
    n = program.nodes[int(node[1:])]
    return n.op not in (INPUT, CONST) and program.active[n.id]


def _value_quiz(program: ad.Program, at: Mapping[str, float]) -> Quiz:
    result = ad.forward(program, at, seed=next(iter(program.inputs), None))
    rows = _rows(program, result)
    questions = []
    for step, row in zip(result.primal, rows, strict=True):
        if step.op in (INPUT, CONST):
            row["given"] = step.value
            continue
        name = _name(step.node, step.label)
        questions.append(Question(
            f"value-{step.node}", step.node, step.label, "value",
            f"What is the value of {name}?", step.formula, float(step.value)))
    return Quiz("value", None, rows, questions)


def _forward_quiz(program: ad.Program, at: Mapping[str, float], wrt: str | None) -> Quiz:
    seed = wrt if wrt is not None else next(iter(program.inputs), None)
    if seed is None:
        raise ad.InputError("the program has no input to seed")
    result = ad.forward(program, at, seed=seed)
    others = {name: ad.forward(program, at, seed=name, trace=True).passes[0].steps
              for name in program.inputs if name != seed}
    values = {s.node: float(s.value) for s in result.primal}
    rows = _rows(program, result)
    questions = []
    for k, (step, row) in enumerate(zip(result.passes[0].steps, rows, strict=True)):
        # (a node that feeds no output has no tangent: the pass does not visit it)
        if not _asked(program, step.node) or step.tangent is None:
            row["given"] = step.tangent
            continue
        name = f"{DOT}{step.node[1:]}"
        q = Question(f"tangent-{step.node}", step.node, step.label, "tangent",
                     f"Seed {seed} (its tangent 1, every other input 0). "
                     f"What is the tangent {name} of {_name(step.node, step.label)}?",
                     step.formula, float(step.tangent))
        terms = [(p.product, p.tangent, p.local, p.arg, p.formula) for p in step.partials]
        joins = [t for t in terms if t[1] != 0.0]
        if len(joins) >= 2:
            q.mistakes["fork"] = (
                [float(t[0]) for t in joins],
                f"Paths from {seed} meet at {name}: it has {len(joins)} arguments that carry a "
                f"tangent, and its tangent is the sum of one term per argument "
                f"({step.formula}). You kept only one term.")
        wrong = []
        for product, tangent, local, _, _ in terms:
            for bad in _wrong_locals(program, step.node, local, values, step.partials):
                wrong.append(float(q.answer - product + bad * tangent))
        _add_local(q, wrong, step.node, terms)
        seeded = [(n, float(steps[k].tangent)) for n, steps in others.items()]
        seeded = [(n, t) for n, t in seeded if not close(t, q.answer)]
        if seeded:
            q.mistakes["seed"] = (
                [t for _, t in seeded],
                f"That is the tangent for a pass seeded on {seeded[0][0]}. This pass seeds "
                f"{seed}: its tangent is 1 and every other input's is 0.")
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
    values = {s.node: float(s.value) for s in result.primal}
    rows = _rows(program, result)
    by_node = {row["node"]: row for row in rows}
    seed_node = f"v{program.outputs[output]}"
    # every contribution to each node, as (parent step, contribution), in trace order
    into: dict[str, list[tuple[Any, Any]]] = {}
    questions = []
    for step in steps:
        for c in step.contributions:
            into.setdefault(c.to, []).append((step, c))
        if step.node == seed_node or program.nodes[int(step.node[1:])].op == CONST:
            by_node[step.node]["given"] = step.adjoint
            continue
        name = f"{BAR}{step.node[1:]}"
        parts = into.get(step.node, [])
        formula = f"{name} = " + " + ".join(
            f"{BAR}{p.node[1:]} · {_factor(c.formula)}" for p, c in parts)
        q = Question(f"adjoint-{step.node}", step.node, step.label, "adjoint",
                     f"Start from {BAR} = 1 at {output}. What is the adjoint {name} of "
                     f"{_name(step.node, step.label)}?", formula, float(step.adjoint))
        if len(parts) >= 2:
            singles = [float(c.contribution) for _, c in parts]
            partial_sums = [float(q.answer - x) for x in singles] if len(parts) > 2 else []
            q.mistakes["fork"] = (
                singles + partial_sums,
                f"{_name(step.node, step.label)} is used {len(parts)} times, so {name} collects "
                f"{len(parts)} contributions and adds them: {formula}. You kept only part of "
                f"them (a fan-out adds, it never overwrites).")
        wrong = []
        terms = []
        for parent, c in parts:
            adjoint = float(parent.adjoint)
            terms.append((c.contribution, adjoint, c.local, parent.node, c.formula))
            siblings = [s for s in parent.contributions if s is not c]
            for bad in _wrong_locals(program, parent.node, c.local, values, siblings):
                wrong.append(float(q.answer - c.contribution + adjoint * bad))
        _add_local(q, wrong, step.node, terms, reverse=True)
        seeded = [(n, adj[step.node]) for n, adj in others.items()
                  if step.node in adj and not close(adj[step.node], q.answer)]
        if seeded:
            q.mistakes["seed"] = (
                [a for _, a in seeded],
                f"That is the adjoint for a pass that starts from {seeded[0][0]}. This pass "
                f"starts with {BAR} = 1 at {output} and 0 at every other output.")
        questions.append(q)
    return Quiz("reverse", output, rows, questions)


# --- the mistakes -------------------------------------------------------------------------------


def _wrong_locals(program: ad.Program, node: str, local: float, values: dict[str, float],
                  siblings: list[Any]) -> list[float]:
    """Local derivatives a learner might use by mistake on one edge into `node`."""
    n = program.nodes[int(node[1:])]
    candidates = [1.0, values[node]]
    candidates += [values[f"v{a}"] for a in n.args]
    candidates += [float(s.local) for s in siblings]
    out: list[float] = []
    for c in candidates:
        if math.isfinite(c) and not close(c, float(local)) and all(c != o for o in out):
            out.append(c)
    return out


def _add_local(q: Question, wrong: list[float], node: str, terms: list[tuple],
               reverse: bool = False) -> None:
    wrong = [w for w in wrong if math.isfinite(w) and not close(w, q.answer)]
    if not wrong:
        return
    edge = "the edge into {}" if reverse else "the edge from {}"
    edges = "; ".join(f"{edge.format(where)} carries {_carries(formula, float(local))}"
                      for _, _, local, where, formula in terms)
    q.mistakes["local"] = (
        wrong,
        f"One factor is the wrong local derivative. Each edge multiplies by the partial "
        f"derivative of the node it enters with respect to that argument: {edges}.")


def _carries(formula: str, local: float) -> str:
    number = format_number(local)
    return number if formula == number else f"{_factor(formula)} = {number}"


def _name(node: str, label: str | None) -> str:
    return f"{node} ({label})" if label else node


def _factor(text: str) -> str:
    return f"({text})" if " " in text else text
