"""The course: lessons in order, each with its slug, title, summary and playground state.

The registry is plain data, so the index page, the lesson pages, next/previous navigation
and the tests all read the same list. Each lesson's `example` is the program its interactive
part starts from; `playground_url` turns it into the playground link (DESIGN.md: the
playground's state lives in its URL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

Value = float | list[float] | list[list[float]]


@dataclass(frozen=True, slots=True)
class Example:
    """A program, a point and a mode: what the playground opens."""

    source: str
    at: dict[str, Value]
    mode: str = "reverse"

    def query(self) -> str:
        # a tensor input as a nested list, "W=[[1,2],[3,4]]" (the playground's URL format)
        at = ",".join(f"{name}={json.dumps(value, separators=(',', ':'))}"
                      if isinstance(value, list) else f"{name}={value:g}"
                      for name, value in self.at.items())
        return urlencode({"source": self.source, "at": at, "mode": self.mode})


@dataclass(frozen=True, slots=True)
class Lesson:
    number: int
    slug: str
    title: str
    summary: str
    example: Example

    @property
    def url(self) -> str:
        return f"/lessons/{self.slug}"

    @property
    def template(self) -> str:
        return f"lessons/{self.slug}.html"

    @property
    def playground_url(self) -> str:
        return f"/playground?{self.example.query()}"


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "why-derivatives", "Why derivatives",
           "Learning is optimisation: a loss curve, and gradient descent walking down it.",
           Example("loss = 0.5*(w - 3)^2 + sin(2*w)", {"w": -1.0})),
    Lesson(2, "by-hand-symbolic-numeric", "By hand, symbolic, numeric",
           "Three older ways to get a derivative, and where each one fails.",
           Example("y = sin(x)*exp(x)", {"x": 1.0})),
    Lesson(3, "chain-rule", "The chain rule on a graph",
           "y = 2x² + 4 and x = 3w: multiply the local derivatives along the path.",
           Example("x = 3*w; y = 2*x^2 + 4", {"w": 1.0})),
    Lesson(4, "forward-accumulation", "Forward accumulation",
           "Carry a tangent along with every value: one pass per input.",
           Example("u = x*y; f = u + x^2", {"x": 3.0, "y": 2.0}, "forward")),
    Lesson(5, "reverse-accumulation", "Reverse accumulation",
           "Send adjoints back from the output: one pass per output, and forks add up.",
           Example("a = x*y; b = a + x; f = a*b", {"x": 2.0, "y": 3.0})),
    Lesson(6, "forward-or-reverse", "Forward or reverse?",
           "Count the passes: the Jacobian column by column, or row by row.",
           Example("f = a*b + b*c + c*d + d*a", {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0})),
    Lesson(7, "higher-derivatives", "Higher derivatives",
           "Differentiate the derivative's graph: second derivatives and a Hessian.",
           Example("f = x^2*y + y^3", {"x": 1.0, "y": 2.0})),
    Lesson(8, "putting-it-together", "Putting it together",
           "Train a single neuron by gradient descent, with reverse mode doing the calculus.",
           Example("z = w*x + b; p = sigmoid(z); loss = (p - t)^2",
                   {"w": 0.5, "b": 0.0, "x": 2.0, "t": 1.0})),
    Lesson(9, "scalars-to-tensors", "From scalars to tensors: backprop through a layer",
           "A layer's scalar graph collapses into W @ x + b; its adjoints are an outer "
           "product and a sum.",
           Example("W: [2, 2]\nx: [2]\nb: [2]\nh = tanh(W @ x + b)\ny = sum(h)",
                   {"W": [[0.5, -1.0], [1.0, 0.5]], "x": [1.0, 2.0], "b": [0.0, -1.0]})),
    # lesson 10's link gets its point from the page: four of the points and the current weights
    Lesson(10, "train-a-network", "Train a small network",
           "Two moons, a small MLP, reverse mode on its tensor graph: the loss falls and the "
           "boundary bends.",
           Example("X: [4, 2]\nY: [4, 2]\nW1: [2, 8]\nb1: [8]\nW2: [8, 2]\nb2: [2]\n"
                   "h1 = tanh(X @ W1 + b1)\nlogits = h1 @ W2 + b2\n"
                   "loss = mean(logsumexp(logits, 1) - sum(Y * logits, 1))", {})),
)

BY_SLUG: dict[str, Lesson] = {lesson.slug: lesson for lesson in LESSONS}


def neighbours(lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The previous and next lessons (None at either end of the course)."""
    i = lesson.number - 1
    previous = LESSONS[i - 1] if i > 0 else None
    following = LESSONS[i + 1] if i + 1 < len(LESSONS) else None
    return previous, following
