"""Errors in FastAPI's own 422 shape: a problem that says what and where, and the mapping of
the engine's deliberate errors (bad text, a domain error at a node, a bad input) onto it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi.exceptions import RequestValidationError

import autodiff_core as ad

from .schemas import ErrorResponse

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The request body is too large."},
    422: {"model": ErrorResponse,
          "description": "The request or the program is invalid, exceeds a limit, or is "
                         "undefined at the point; `ctx` says where (line, column or node)."},
}


def problem(msg: str, loc: tuple[str | int, ...], kind: str,
            ctx: Mapping[str, Any] | None = None) -> RequestValidationError:
    """A 422 with one entry: FastAPI renders it as {"detail": [{"loc", "msg", "type", ...}]}."""
    entry: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": kind}
    if ctx:
        entry["ctx"] = {k: v for k, v in ctx.items() if v is not None}
    return RequestValidationError([entry])


def engine_problem(exc: ad.AutodiffError, program: ad.Program | None = None,
                   loc: tuple[str | int, ...] = ("body", "source")) -> RequestValidationError:
    """The 422 for an error the engine raised on purpose."""
    if isinstance(exc, ad.ExpressionError):
        kind = "limit_exceeded" if exc.limit else "program_error"
        return problem(str(exc), loc, kind, {"line": exc.line, "column": exc.column,
                                             "text": exc.text, "limit": exc.limit})
    if isinstance(exc, ad.EvaluationError):
        line = None
        if program is not None and exc.node and exc.node[1:].isdigit():
            index = int(exc.node[1:])
            if index < len(program.nodes):
                line = program.nodes[index].line
        return problem(exc.message, loc, "evaluation_error",
                       {"node": exc.node, "op": exc.op, "name": exc.name, "line": line})
    if isinstance(exc, ad.InputError):
        return problem(str(exc), ("body",), "input_error")
    return problem(str(exc), loc, "engine_error")


def scalar_only(program: ad.Program, what: str, instead: str = "") -> None:
    """A clear 422 where a feature works on scalar programs only (not yet on tensors), naming
    the tensor that makes the program one and what to use instead."""
    if not program.is_tensor:
        return
    shapes = program.input_shapes
    tensors = [f"{name}: {'×'.join(map(str, shape))}" for name, shape in shapes.items() if shape]
    which = f" (its tensor inputs: {', '.join(tensors)})" if tensors else ""
    raise problem(f"{what} works on scalar programs only, not yet on tensor programs{which}"
                  f"{'; ' + instead if instead else ''}", ("body", "source"),
                  "not_supported_for_tensors", {"feature": what})


@contextmanager
def engine_errors(program: ad.Program | None = None) -> Iterator[None]:
    """Turn engine errors raised inside the block into 422s."""
    try:
        yield
    except ad.AutodiffError as exc:
        raise engine_problem(exc, program) from None
