"""The server's limits on one request, checked before any work: the program's size (at parse
time: its text, nodes, and the numbers its values hold, from the shapes the parser inferred),
then what will really be computed at the requested point: the grid's broadcast size, the node
evaluations (nodes x points x passes), the numbers held (node values x points, and the
answer), the arithmetic (element operations and matmul multiply-adds x points x passes) and
the trace's size (steps and contributions weighed by the elements they show).

The same counts decide where a job runs (app/jobs.py): tried on the event loop under an
inline budget, a job stops at the first count above that budget (`TooBigForInline`), before
any evaluation, and moves to a worker process.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff_core as ad

from .problems import engine_problem, problem
from .schemas import MAX_AXES
from .settings import Settings

_INLINE: ContextVar[Settings | None] = ContextVar("inline_budget", default=None)


class TooBigForInline(Exception):  # noqa: N818 (a signal, not an error)
    """The job tried on the event loop counts more than the inline budget allows."""


@contextmanager
def inline_budget(settings: Settings) -> Iterator[None]:
    """Within this block, the checks below stop a job that is too big for the event loop."""
    token = _INLINE.set(settings)
    try:
        yield
    finally:
        _INLINE.reset(token)


def _inline_check(source_chars: int = 0, work: int = 0, operations: int = 0) -> None:
    settings = _INLINE.get()
    if settings is not None and (source_chars > settings.inline_source_chars
                                 or work > settings.inline_max_work
                                 or operations > settings.inline_max_operations):
        raise TooBigForInline


# The parser refuses a declaration or a literal past these, before any node is made; the
# server sets both to its max_elements (app/settings.py) and names that.
ENGINE_ELEMENT_LIMITS = ("max_tensor_elements", "max_total_elements")


def parse_program(source: str, outputs: list[str] | None, settings: Settings) -> ad.Program:
    """Parse with the server's limits; a bad program or a wrong output name is a 422."""
    _inline_check(source_chars=len(source))
    try:
        program = ad.parse(source, outputs=outputs, limits=settings.limits())
    except ad.ExpressionError as exc:
        if exc.limit in ENGINE_ELEMENT_LIMITS:  # the parser's count of elements is ours too
            raise problem(str(exc).replace(exc.limit, "max_elements"), ("body", "source"),
                          "limit_exceeded", {"line": exc.line, "column": exc.column,
                                             "text": exc.text, "limit": "max_elements"}
                          ) from None
        if outputs and exc.line is None and exc.limit is None:
            unknown = _unknown_outputs(source, outputs, settings)
            if unknown:
                raise problem(str(exc), ("body", "outputs"), "input_error",
                              {"unknown": ",".join(unknown)}) from None
        raise engine_problem(exc) from None
    except ad.InputError as exc:
        raise problem(str(exc), ("body", "outputs"), "input_error") from None
    except RecursionError:
        raise problem("the program is nested too deeply", ("body", "source"),
                      "limit_exceeded", {"limit": "max_depth"}) from None
    check_program_size(program, settings)
    return program


def _unknown_outputs(source: str, outputs: list[str], settings: Settings) -> list[str]:
    """The requested outputs the program does not name (parsed again: only on this error)."""
    try:
        names = ad.parse(source, limits=settings.limits()).names
    except ad.AutodiffError:
        return []
    return [name for name in outputs if name not in names]


def show_shape(shape: tuple[int, ...]) -> str:
    """A shape as the engine's messages write it: `2×3`, or `a scalar`."""
    return "×".join(map(str, shape)) if shape else "a scalar"


def value_shape(name: str, value: Any) -> tuple[int, ...]:
    """The shape of a nested list, from its lengths alone (no array is made), level by level
    (any depth, no recursion). Each list holds only numbers or only lists (the request schema
    says so), so looking at the first element of each list finds a mix across lists."""
    shape: list[int] = []
    level = [value]
    while isinstance(level[0], list):
        length = len(level[0])
        nested = length > 0 and isinstance(level[0][0], list)
        for item in level:
            if not isinstance(item, list) or len(item) != length or (
                    length > 0 and isinstance(item[0], list) != nested):
                raise _ragged(name)
        shape.append(length)
        if len(shape) > MAX_AXES:
            raise problem(f"the value of {name!r} is nested more than {MAX_AXES} lists deep; "
                          f"an array has at most {MAX_AXES} axes", ("body", "at", name),
                          "input_error", {"limit": "max_axes"})
        if not nested:
            break
        level = [x for item in level for x in item]
    return tuple(shape)


def declared_shape(program: ad.Program, name: str) -> tuple[int, ...]:
    """The shape an input was declared with (`W: [2, 3]`); () for a scalar input."""
    node = program.inputs.get(name)
    return program.nodes[node].shape if node is not None else ()


def grid_shape(at: Mapping[str, Any] | None, program: ad.Program | None = None
               ) -> tuple[int, ...]:
    """The shape of the grid a request evaluates on: the broadcast of its inputs' grid axes
    (a value's leading axes beyond its input's declared shape; a 10,000 x 1 column with a
    1 x 10,000 row is 10,000 x 10,000: 10^8 points). () at a point. Found from the list
    lengths alone, before any array is made; a value whose trailing axes are not its input's
    declared shape is a 422 naming the input and both shapes."""
    grids = {}
    for name, value in (at or {}).items():
        shape = value_shape(name, value)
        declared = declared_shape(program, name) if program is not None else ()
        if declared and shape[len(shape) - len(declared):] != declared:
            got = show_shape(shape) if shape else "a number"
            raise problem(f"{name}: expected a {show_shape(declared)} array (or a grid of "
                          f"them), got {got}", ("body", "at", name), "shape_error",
                          {"input": name, "expected": show_shape(declared), "got": got})
        grids[name] = shape[:len(shape) - len(declared)]
    try:
        return tuple(np.broadcast_shapes(*grids.values()))
    except ValueError:
        listed = ", ".join(f"{n}: {list(s)}" for n, s in grids.items() if s)
        raise problem(f"the input grids have shapes that do not broadcast together ({listed})",
                      ("body", "at"), "input_error") from None


def _ragged(name: str) -> Exception:
    return problem(f"the value of {name!r} is ragged: the lists at each depth must all have "
                   "the same length and all hold numbers or all hold lists",
                   ("body", "at", name), "input_error")


# --- what one evaluation holds and does -------------------------------------------------------

# Ops whose arithmetic is one operation per element of their argument, not of their result.
REDUCING = frozenset({"sum", "mean", "logsumexp", "softmax"})


@dataclass(frozen=True)
class Size:
    """What one evaluation of a program at one point holds and does, from the shapes inferred
    at parse time. For a scalar program each count is the node count (trace: nodes + edges),
    so the limits below count exactly what they counted before tensors."""

    nodes: int
    elements: int  # numbers in all the nodes' values
    operations: int  # an elementwise op: its elements; a matmul: its multiply-adds; a reduction:
    #                  the elements it reduces
    trace: int  # a traced sweep's steps (one per node) and contributions (one per edge), each
    #             weighed by the elements it shows
    largest: int  # the node holding the most elements


def size_of(program: ad.Program) -> Size:
    """Count, in one walk over the nodes, what the limits below compare (kept on the program:
    parsing, the point and the trace each ask)."""
    known = program.__dict__.get("_app_size")
    if isinstance(known, Size) and known.nodes == len(program.nodes):
        return known
    size = _count(program)
    program.__dict__["_app_size"] = size
    return size


def _count(program: ad.Program) -> Size:
    nodes = program.nodes
    if not program.is_tensor:  # as quick as the counts were before tensors
        edges = sum(len(node.args) for node in nodes)
        return Size(len(nodes), len(nodes), len(nodes), len(nodes) + edges, 0)
    sizes = [math.prod(node.shape) for node in nodes]
    operations = trace = 0
    for node, size in zip(nodes, sizes, strict=True):
        if node.op == "matmul":
            left = nodes[node.args[0]].shape
            operations += size * (left[-1] if left else 1)
        elif node.op in REDUCING:
            operations += max(size, sizes[node.args[0]])
        else:
            operations += size
        trace += size + sum(max(size, sizes[a]) for a in node.args)
    largest = max(range(len(nodes)), key=sizes.__getitem__, default=0)
    return Size(len(nodes), sum(sizes), operations, trace, largest)


def sweep_passes(program: ad.Program, mode: str, seeded: bool,
                 wrt: list[str] | None = None) -> int:
    """The passes a whole Jacobian takes: forward mode one per input element (of the inputs
    in `wrt`), reverse mode one per output element; one with a seed or a cotangent."""
    if seeded:
        return 1
    if mode == "forward":
        names = wrt if wrt is not None else list(program.inputs)
        return sum(math.prod(declared_shape(program, name)) for name in names)
    return sum(math.prod(program.nodes[i].shape) for i in program.outputs.values())


def seed_elements(program: ad.Program, mode: str, passes: int,
                  wrt: list[str] | None = None) -> int:
    """Numbers the passes' seeds hold: each tensor pass keeps its seed, forward mode an array
    for every input of `wrt` (a 100 x 100 input in forward mode: 10,100 passes of 10,100
    numbers, 0.8 GB), reverse mode one of an output's shape. (A scalar program's seeds are
    numbers, as counted before tensors: nothing here.)"""
    if not program.is_tensor:
        return 0
    if mode == "forward":
        names = wrt if wrt is not None else list(program.inputs)
        return passes * sum(math.prod(declared_shape(program, name)) for name in names)
    return passes * max((math.prod(program.nodes[i].shape) for i in program.outputs.values()),
                        default=1)


def jacobian_elements(program: ad.Program, wrt: list[str] | None = None) -> int:
    """Numbers of a whole Jacobian at one point: derivatives[output][input] has the shape
    output.shape + input.shape."""
    names = wrt if wrt is not None else list(program.inputs)
    inputs = sum(math.prod(declared_shape(program, name)) for name in names)
    return inputs * sum(math.prod(program.nodes[i].shape) for i in program.outputs.values())


def check_program_size(program: ad.Program, settings: Settings) -> None:
    """Refuse at parse time a program whose values alone would hold more than `max_elements`
    numbers (`W: [100000, 100000]`): no endpoint can do anything useful with it."""
    size = size_of(program)
    if size.elements > settings.max_elements:
        node = program.nodes[size.largest]
        what = program.label(node.id) if node.name else node.ref
        raise problem(f"the program's values would hold {size.elements:,} numbers at one point "
                      f"(the largest, {what}, is {show_shape(node.shape)}); the limit is "
                      f"{settings.max_elements:,} (max_elements). Declare smaller shapes",
                      ("body", "source"), "limit_exceeded",
                      {"limit": "max_elements", "line": node.line})


# What one counted unit costs on the event loop, in node evaluations of a flat (untraced)
# sweep, measured with the seed example and programs of 10 to 30 inputs: a traced step or
# contribution about 20; a Hessian's pass (batched columns, forward over reverse) about 10; a
# quiz's pass (traced, and re-run for each mistake it models) about 70.
TRACED = 20
HESSIAN = 10
QUIZ = 70
# A pass of derivatives does about twice the arithmetic of the evaluation: a matmul's
# adjoint is two matrix products (Ā·Bᵀ and Aᵀ·B̄), its tangent two as well.
PASS_OPERATIONS = 2


def check_point(program: ad.Program, at: Mapping[str, Any] | None, settings: Settings,
                passes: int = 1, cost: int = 1, results: int = 0) -> int:
    """Before doing any work, name an unknown or missing input and a value of the wrong shape,
    and refuse: a grid above `max_grid_points`; node evaluations (nodes x points x passes)
    above `max_work`; numbers held (every node's value at every point, and `results` numbers
    of the answer and the passes' seeds, per point) above `max_elements`; arithmetic
    (element operations and multiply-adds of the evaluation and of each pass, at every
    point) above `max_element_ops`. Returns the number of points. `cost` weighs the work
    for the inline budget: what one unit costs this job."""
    given = dict(at or {})
    for name in given:
        if name not in program.inputs:
            raise problem(f"{name!r} is not an input of the program; its inputs are: "
                          f"{', '.join(program.inputs) or '(none)'}", ("body", "at", name),
                          "input_error", {"program_inputs": ",".join(program.inputs)})
    missing = [name for name in program.inputs if name not in given]
    if missing:
        # program_inputs lets the playground fit its point to a program just typed
        raise problem(f"no value given for input {', '.join(map(repr, missing))}",
                      ("body", "at"), "missing", {"inputs": ", ".join(missing),
                                                  "program_inputs": ",".join(program.inputs)})
    shape = grid_shape(at, program)
    points = math.prod(shape)
    if points > settings.max_grid_points:
        raise problem(f"the inputs make a grid of {' x '.join(map(str, shape))} = {points:,} "
                      f"points; the limit is {settings.max_grid_points:,} (max_grid_points)",
                      ("body", "at"), "limit_exceeded", {"limit": "max_grid_points"})
    passes = max(passes, 1)
    work = len(program.nodes) * points * passes
    if work > settings.max_work:
        raise problem(f"this request needs {len(program.nodes)} nodes x {points} points x "
                      f"{passes} passes = {work} node evaluations; the limit is "
                      f"{settings.max_work} (max_work)", ("body",), "limit_exceeded",
                      {"limit": "max_work"})
    size = size_of(program)
    held = (size.elements + results) * points
    if held > settings.max_elements:
        answer = f" and {results:,} in the derivatives and the passes' seeds" if results else ""
        raise problem(f"this request would hold {held:,} numbers ({size.elements:,} in the "
                      f"program's values{answer}, at {points:,} points); the limit is "
                      f"{settings.max_elements:,} (max_elements). Ask for fewer derivatives "
                      "(reverse mode rather than forward, a seed or cotangent, fewer inputs in "
                      "`wrt`), at fewer points, or with smaller arrays", ("body",),
                      "limit_exceeded", {"limit": "max_elements"})
    operations = size.operations * points * (1 + PASS_OPERATIONS * passes)
    if operations > settings.max_element_ops:
        raise problem(f"this request needs about {operations:,} arithmetic operations (an "
                      f"evaluation of {size.operations:,} element operations and multiply-adds,"
                      f" and {passes:,} passes of derivatives, at {points:,} points); the limit "
                      f"is {settings.max_element_ops:,} (max_element_ops). Ask for fewer "
                      "passes: reverse mode (one pass per output element) rather than forward "
                      "(one per input element), a seed or cotangent (one pass), fewer inputs in "
                      "`wrt`, or fewer points", ("body",), "limit_exceeded",
                      {"limit": "max_element_ops"})
    _inline_check(work=work * cost, operations=operations * cost)
    return points


def trace_size(program: ad.Program, passes: int, points: int) -> int:
    """Numbers a traced answer holds: the primal trace and every pass, one step per node and
    one entry per edge (a partial or a contribution), each weighed by the elements it shows,
    at every grid point (for a scalar program: steps and contributions)."""
    return (passes + 1) * size_of(program).trace * points


def check_trace(program: ad.Program, passes: int, points: int, settings: Settings) -> None:
    """Refuse a trace above `max_trace_size` before building it (the answer without the
    trace is still there to ask for)."""
    size = trace_size(program, passes, points)
    if size > settings.max_trace_size:
        raise problem(f"the trace would hold {size:,} steps and contributions, counted by the "
                      f"elements they show ({passes} passes of {len(program.nodes)} nodes at "
                      f"{points} points); the limit is {settings.max_trace_size:,} "
                      f"(max_trace_size). Ask with \"trace\": false for the values and "
                      "derivatives alone, or seed one input (one pass), or use smaller arrays",
                      ("body", "trace"), "limit_exceeded", {"limit": "max_trace_size"})
    _inline_check(work=size * TRACED)
