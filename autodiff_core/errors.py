"""The errors the engine raises: each says what went wrong and where."""

from __future__ import annotations


class AutodiffError(Exception):
    """Base class of every error the engine raises on purpose."""


class ExpressionError(AutodiffError, ValueError):
    """The program text is not a valid program (or exceeds a limit).

    `line` and `column` are 1-based positions in the source; `text` is the offending snippet.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 text: str | None = None, limit: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        self.text = text
        self.limit = limit  # the name of the limit exceeded, if that is the problem
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message)


class EvaluationError(AutodiffError, ValueError):
    """A value or derivative is undefined at the given point (log(-1), 1/0, overflow...).

    `node` is the id of the node where it happened (e.g. "v3"), `op` its primitive,
    `args` the argument values there.
    """

    def __init__(self, message: str, node: str | None = None, op: str | None = None,
                 args: tuple[float, ...] = (), name: str | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.op = op
        self.args = args  # replaces Exception.args (hence __str__ and __reduce__ below)
        self.name = name

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"EvaluationError({self.message!r}, node={self.node!r}, args={self.args!r})"

    def __reduce__(self) -> tuple:
        return type(self), (self.message, self.node, self.op, self.args, self.name)


class InputError(AutodiffError, ValueError):
    """The point, seed, cotangent or output names do not match the program."""
