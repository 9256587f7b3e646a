"""Program text -> Program (graph IR).

The text is parsed by Python's own `ast` module and then checked against a whitelist: only
assignments of one name, numbers, names, + - * / ** (and ^, which means power here), unary
minus, and calls of the functions in the op table. Nothing the user writes is ever evaluated
as Python. Every other construct is rejected with what it is and where (line, column).
"""

from __future__ import annotations

import ast
import bisect
import math
import sys
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import shapes
from .errors import ExpressionError
from .limits import DEFAULT_LIMITS, Limits
from .ops import BINARY_OPS, CONSTANTS, FUNCTIONS
from .program import CONST, INPUT, Node, Program
from .shapes import ShapeMismatch
from .syntax_help import HINT as _HINT
from .syntax_help import explain, multiply_message, unknown_function_message
from .tensor_ops import AXIS_OPS, TENSOR_RULES, infer

_AST_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
               ast.MatMult: "@"}
_OTHER_BINOPS = {ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&",
                 ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_OP_NAMES = {**BINARY_OPS, "@": "matmul"}

# What to call the constructs we reject, so the message says what the learner wrote.
_REJECTED = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "indexing ('[...]')",
    ast.JoinedStr: "an f-string",
    ast.Lambda: "a lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "a conditional expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.NamedExpr: "':='",
    ast.Starred: "'*' unpacking",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.Slice: "a slice",
}

_STATEMENT_WORDS = {
    ast.Import: "'import'", ast.ImportFrom: "'import'", ast.FunctionDef: "'def'",
    ast.AsyncFunctionDef: "'def'", ast.ClassDef: "'class'", ast.If: "'if'",
    ast.For: "'for'", ast.While: "'while'", ast.With: "'with'", ast.Try: "'try'",
    ast.Return: "'return'", ast.Delete: "'del'", ast.Global: "'global'",
    ast.Nonlocal: "'nonlocal'", ast.Raise: "'raise'", ast.Assert: "'assert'",
    ast.Pass: "'pass'", ast.Break: "'break'", ast.Continue: "'continue'",
    ast.AnnAssign: "an annotated assignment",
}

@dataclass
class _Source:
    """The text as given, and its translation (`^` -> `**`) for Python's parser."""

    original: str
    lines: list[str]
    shifts: dict[int, list[int]]  # line -> translated columns where a `*` was inserted

    @classmethod
    def translate(cls, source: str) -> tuple[_Source, str]:
        lines = source.split("\n")
        shifts: dict[int, list[int]] = {}
        out_lines = []
        for number, line in enumerate(lines, start=1):
            if "^" in line:
                cols, pieces, extra = [], [], 0
                for i, ch in enumerate(line):
                    if ch == "^":
                        cols.append(i + extra)
                        extra += 1
                        pieces.append("**")
                    else:
                        pieces.append(ch)
                shifts[number] = cols
                out_lines.append("".join(pieces))
            else:
                out_lines.append(line)
        return cls(source, lines, shifts), "\n".join(out_lines)

    def original_column(self, line: int, translated_col: int) -> int:
        """0-based translated column -> 0-based column in the user's text."""
        return translated_col - bisect.bisect_left(self.shifts.get(line, ()), translated_col)

    def snippet(self, line: int | None) -> str | None:
        if line is None or not 1 <= line <= len(self.lines):
            return None
        return self.lines[line - 1].strip()[:200]


class _Builder:
    def __init__(self, source: _Source, translated: str, limits: Limits):
        self.src = source
        self.translated_lines = translated.split("\n")
        self.limits = limits
        self.nodes: list[Node] = []
        self.names: dict[str, int] = {}
        self.versions: dict[str, int] = {}
        self.inputs: dict[str, int] = {}
        self._active: dict[int, bool] = {}  # whether a node depends on an input (is_active)
        self.total_elements = 0
        self._broadcasts: dict[tuple[int, tuple[int, ...]], int] = {}

    # --- positions and errors ----------------------------------------------------------------

    def where(self, node: ast.AST) -> tuple[int | None, int | None]:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        if line is None or col is None:
            return line, None
        # ast gives UTF-8 byte offsets; convert to characters, then undo the `^` translation.
        text = self.translated_lines[line - 1] if line <= len(self.translated_lines) else ""
        chars = len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return line, self.src.original_column(line, chars) + 1

    def error(self, message: str, node: ast.AST, limit: str | None = None) -> ExpressionError:
        line, col = self.where(node)
        return ExpressionError(message, line, col, self.src.snippet(line), limit)

    # --- nodes -------------------------------------------------------------------------------

    def emit(self, op: str, args: tuple[int, ...] = (), value: Any = None,
             line: int | None = None, at: ast.AST | None = None, shape: tuple[int, ...] = (),
             params: dict[str, Any] | None = None) -> int:
        if len(self.nodes) >= self.limits.max_nodes:
            raise self.error(f"the program has more than {self.limits.max_nodes} nodes "
                             "(limit max_nodes)", at or ast.Pass(), limit="max_nodes")
        if shape:
            self.count_elements(shape, at)
        self.nodes.append(Node(len(self.nodes), op, args, value, None, 0, line, shape, params))
        return len(self.nodes) - 1

    def is_active(self, i: int) -> bool:
        """Whether node i depends on an input (asked only when broadcasting a tensor)."""
        found = self._active.get(i)
        if found is None:
            stack, seen = [i], {i}
            found = False
            while stack and not found:
                node = self.nodes[stack.pop()]
                found = node.op == INPUT or self._active.get(node.id, False)
                for a in node.args:
                    if a not in seen:
                        seen.add(a)
                        stack.append(a)
            self._active[i] = found
        return found

    def count_elements(self, shape: tuple[int, ...], at: ast.AST | None) -> None:
        """Refuse a value too large for the limits before anything is allocated."""
        n = shapes.size(shape)
        limits = self.limits
        if n > limits.max_tensor_elements:
            raise self.error(f"a value of shape {shapes.show(shape)} has {n} elements; the limit "
                             f"is {limits.max_tensor_elements} (max_tensor_elements)",
                             at or ast.Pass(), limit="max_tensor_elements")
        self.total_elements += n
        if self.total_elements > limits.max_total_elements:
            raise self.error(f"the program's values have more than {limits.max_total_elements} "
                             "elements in all (limit max_total_elements)", at or ast.Pass(),
                             limit="max_total_elements")

    def apply(self, op: str, args: tuple[int, ...], at: ast.AST,
              params: dict[str, Any] | None = None) -> int:
        """The node of `op(*args)` with its shape inferred; an active argument that must be
        broadcast gets a `broadcast` node of its own (its adjoint is a sum, a trace step)."""
        nodes = self.nodes
        line = getattr(at, "lineno", None)
        if not (nodes[args[0]].shape or nodes[args[-1]].shape) and op not in TENSOR_RULES:
            return self.emit(op, args, line=line, at=at)  # the scalar case, as before
        arg_shapes = [nodes[a].shape for a in args]
        try:
            shape, params = infer(op, arg_shapes, params)
        except ShapeMismatch as exc:
            raise self.error(f"{_source_of(at)}: {exc}", at) from None
        if op not in TENSOR_RULES:
            args = tuple(self.broadcast(a, shape, at) for a in args)
        return self.emit(op, args, line=line, at=at, shape=shape, params=params)

    def broadcast(self, a: int, shape: tuple[int, ...], at: ast.AST) -> int:
        node = self.nodes[a]
        if node.shape == shape or not self.is_active(a):
            return a  # constants broadcast implicitly: they carry no derivative
        key = (a, shape)
        if key not in self._broadcasts:
            self._broadcasts[key] = self.emit("broadcast", (a,), line=getattr(at, "lineno", None),
                                              at=at, shape=shape, params={"shape": shape})
        return self._broadcasts[key]

    def declare(self, stmt: ast.AnnAssign, readable: set[str],
                first_assigned: dict[str, int], statements: list[ast.stmt]) -> None:
        """`W: [2, 3]`: the input W with that shape (`a: []` is a scalar input)."""
        target = stmt.target
        assert isinstance(target, ast.Name)
        self.check_name(target)
        name = target.id
        if stmt.value is not None:
            raise self.error(f"a declaration gives a shape only, as in `{name}: [2, 3]`; "
                             "assign the value in a separate statement", stmt)
        if name in self.inputs:
            raise self.error(f"'{name}' is used (or declared) before this declaration; "
                             "declare an input once, before its first use", stmt)
        if name in first_assigned:
            first = statements[first_assigned[name]].lineno
            raise self.error(f"'{name}' is declared as an input but assigned on line {first}",
                             stmt)
        if name in FUNCTIONS or name in CONSTANTS:
            raise self.error(f"'{name}' is a built-in name and cannot be declared", stmt)
        shape = self.declared_shape(stmt.annotation)
        line, _ = self.where(target)
        node_id = self.emit(INPUT, line=line, at=stmt, shape=shape)
        self.nodes[node_id].name = name
        self.inputs[name] = self.names[name] = node_id
        readable.add(name)

    def declared_shape(self, annotation: ast.expr) -> tuple[int, ...]:
        if not isinstance(annotation, ast.List):
            raise self.error("a declaration's shape is a list of sizes, as in `W: [2, 3]` "
                             "(`a: []` for a scalar)", annotation)
        sizes = []
        for item in annotation.elts:
            if not (isinstance(item, ast.Constant) and type(item.value) is int
                    and item.value >= 1):
                raise self.error("each size in a shape is a positive whole number, as in "
                                 "`W: [2, 3]`", item)
            sizes.append(item.value)
        self.check_axes(len(sizes), annotation)
        return tuple(sizes)

    def check_axes(self, n: int, at: ast.AST) -> None:
        if n > self.limits.max_tensor_axes:
            raise self.error(f"a shape may have at most {self.limits.max_tensor_axes} axes "
                             f"(limit max_tensor_axes); this one has {n}", at,
                             limit="max_tensor_axes")

    def collect_inputs(self, statements: list[ast.stmt]) -> None:
        """Names never assigned are inputs; they get the first ids, in order of first use."""
        first_assigned: dict[str, int] = {}  # name -> index of the statement assigning it first
        for index, stmt in enumerate(statements):
            target = _target(stmt)
            if target is not None:
                first_assigned.setdefault(target.id, index)
        # What a statement may read without a closer look: constants, functions, the inputs
        # found so far and the names assigned by earlier statements.
        readable = set(CONSTANTS) | set(FUNCTIONS)
        for stmt in statements:
            if _is_declaration(stmt):
                assert isinstance(stmt, ast.AnnAssign)
                self.declare(stmt, readable, first_assigned, statements)
                continue
            value = stmt.value if isinstance(stmt, ast.Assign | ast.AugAssign | ast.Expr) else None
            loads = _names_in(value) if value else []
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                loads.insert(0, stmt.target)  # `c += 1` reads c
            if not {name.id for name in loads} <= readable:  # something new or wrong
                for name in sorted(loads, key=lambda n: (n.lineno, n.col_offset)):
                    self.check_name(name)
                    if name.id in readable:
                        continue
                    if name.id in first_assigned:
                        first = statements[first_assigned[name.id]].lineno
                        raise self.error(f"'{name.id}' is used before it is assigned "
                                         f"(it is first assigned on line {first})", name)
                    line, _ = self.where(name)
                    node_id = self.emit(INPUT, line=line, at=name)
                    self.nodes[node_id].name = name.id
                    self.inputs[name.id] = self.names[name.id] = node_id
                    readable.add(name.id)
            target = _target(stmt)
            if target is not None and not target.id.startswith("_"):
                readable.add(target.id)

    def check_name(self, name: ast.Name) -> None:
        if name.id.startswith("_"):
            raise self.error(f"names may not start with '_' (got '{name.id}')", name)

    def statement(self, stmt: ast.stmt) -> int:
        """Add the nodes of one statement; return the node id of its value."""
        if isinstance(stmt, ast.Expr):
            return self.expression(stmt.value)
        if _is_declaration(stmt):
            assert isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            return self.inputs[stmt.target.id]
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise self.error("assign one name at a time, as in `y = 2*x`", stmt)
            target = stmt.targets[0]
            self.check_target(target)
            value = self.expression(stmt.value)
            return self.bind(target.id, value)
        if isinstance(stmt, ast.AugAssign):
            if not isinstance(stmt.target, ast.Name):
                raise self.error("assign one name at a time, as in `y = 2*x`", stmt)
            op = _AST_BINOPS.get(type(stmt.op))
            if op is None:
                raise self.error(f"the operator '{_OTHER_BINOPS.get(type(stmt.op), '?')}=' "
                                 "is not supported (use + - * / ** ^)", stmt)
            self.check_target(stmt.target)
            right = self.expression(stmt.value)
            value = self.apply(_OP_NAMES[op], (self.names[stmt.target.id], right), stmt)
            return self.bind(stmt.target.id, value)
        what = _STATEMENT_WORDS.get(type(stmt), f"a '{type(stmt).__name__}' statement")
        raise self.error(f"{what} is not allowed: {_HINT}", stmt)

    def check_target(self, target: ast.Name) -> None:
        self.check_name(target)
        if target.id in FUNCTIONS:
            raise self.error(f"'{target.id}' is a function and cannot be assigned", target)
        # `pi` and `e` may be rebound (micrograd's README names a value `e`): from there on
        # the name means the new value, as in Python.

    def bind(self, name: str, node_id: int) -> int:
        node = self.nodes[node_id]
        if node.name is None and node.op != INPUT:
            # A fresh node takes the name; `y = x` just makes y another name for x's node.
            self.versions[name] = self.versions.get(name, 0) + 1
            node.name, node.version = name, self.versions[name]
        self.names[name] = node_id
        return node_id

    def expression(self, root: ast.expr) -> int:
        """Post-order walk with an explicit stack: deep expressions cannot overflow Python's.

        A stack entry is (node, depth, number of children), the count -1 until it is visited.
        """
        stack: list[tuple[ast.expr, int, int]] = [(root, 1, -1)]
        results: list[int] = []
        max_depth = self.limits.max_depth
        while stack:
            node, depth, count = stack.pop()
            if count < 0:
                if depth > max_depth:
                    raise self.error(f"the expression is nested more than "
                                     f"{max_depth} levels deep (limit max_depth)",
                                     node, limit="max_depth")
                children = self.children(node)
                if not children:  # a leaf: its node at once
                    results.append(self.node_for(node, ()))
                    continue
                stack.append((node, depth, len(children)))
                for child in reversed(children):
                    stack.append((child, depth + 1, -1))
            else:
                args = tuple(results[len(results) - count:]) if count else ()
                del results[len(results) - count:]
                results.append(self.node_for(node, args))
        return results[0]

    def children(self, node: ast.expr) -> list[ast.expr]:
        """The sub-expressions of an allowed construct; raise for anything not allowed."""
        if isinstance(node, ast.Constant | ast.Name | ast.List):
            return []  # a leaf, checked by node_for right away
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _AST_BINOPS:
                sym = _OTHER_BINOPS.get(type(node.op), "?")
                raise self.error(f"the operator '{sym}' is not supported (use + - * / ** ^)",
                                 node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub | ast.UAdd):
                if isinstance(node.operand, ast.Constant):
                    return []  # a negative literal is one constant
                return [node.operand]
            word = "not" if isinstance(node.op, ast.Not) else "~"
            raise self.error(f"'{word}' is not supported", node)
        if isinstance(node, ast.Call):
            return self.call_args(node)
        if isinstance(node, ast.FormattedValue):
            raise self.error("strings are not allowed", node)
        what = _REJECTED.get(type(node), f"'{type(node).__name__}'")
        raise self.error(f"{what} is not allowed here: {_HINT}", node)

    def call_args(self, node: ast.Call) -> list[ast.expr]:
        if isinstance(node.func, ast.Constant | ast.BinOp | ast.UnaryOp | ast.Call):
            # 2(x + 1), (a + b)(a - b): a product written without its '*'
            left = str(node.func.value) if isinstance(node.func, ast.Constant) else "(...)"
            raise self.error(multiply_message(left, "("), node)
        if not isinstance(node.func, ast.Name):
            what = _REJECTED.get(type(node.func), "this kind of call")
            raise self.error(f"{what} is not allowed: call a function by its name, "
                             "as in sin(x)", node.func)
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.error(unknown_function_message(name, set(self.names)), node.func)
        if node.keywords:
            raise self.error(f"{name}() takes no keyword arguments", node)
        if name in AXIS_OPS:
            if not 1 <= len(node.args) <= 2:
                raise self.error(f"{name}() takes an array and, optionally, an axis, as in "
                                 f"{name}(x, 1); got {len(node.args)} arguments", node)
            if len(node.args) == 2:
                self.axis_literal(node.args[1], name)
            return [node.args[0]]
        arity = FUNCTIONS[name].arity
        if len(node.args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise self.error(f"{name}() takes {arity} {plural}, got {len(node.args)}", node)
        return list(node.args)

    def axis_literal(self, node: ast.expr, function: str) -> int:
        """The axis argument of a reduction: an integer literal, negative allowed."""
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int):
            raise self.error(f"the axis of {function}() is a whole number written in the "
                             f"program, as in {function}(x, 1)", node)
        return sign * node.value

    def array_literal(self, node: ast.List) -> Any:
        """`[1, 2]`, `[[1, 0], [0, 1]]`: a constant array (numbers only, rectangular)."""
        def entries(item: ast.expr, depth: int) -> Any:
            if isinstance(item, ast.List):
                self.check_axes(depth, node)
                return [entries(e, depth + 1) for e in item.elts]
            if isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub | ast.UAdd) \
                    and isinstance(item.operand, ast.Constant):
                value = self.literal(item.operand)
                return -value if isinstance(item.op, ast.USub) else value
            if isinstance(item, ast.Constant):
                return self.literal(item)
            if isinstance(item, ast.Name) and item.id in CONSTANTS:
                return CONSTANTS[item.id]
            raise self.error("an array literal holds numbers only, as in [[1, 0], [0, 1]]",
                             item)

        if len(node.elts) > self.limits.max_tensor_elements:
            raise self.error(f"the array literal has more than {self.limits.max_tensor_elements} "
                             "elements (max_tensor_elements)", node, limit="max_tensor_elements")
        nested = entries(node, 1)
        try:
            value = np.array(nested, dtype=np.float64)
        except ValueError:
            raise self.error("the rows of an array literal must all have the same length",
                             node) from None
        if value.size == 0:
            raise self.error("an array literal cannot be empty", node)
        return value

    def literal(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, str | bytes):
                raise self.error("strings are not allowed", node)
            raise self.error(f"the literal {value!r} is not a real number", node)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not abs(number) <= self.limits.max_number:
            raise self.error(f"the number is too large (limit max_number = "
                             f"{self.limits.max_number:g})", node, limit="max_number")
        return number

    def node_for(self, node: ast.expr, args: tuple[int, ...]) -> int:
        line = node.lineno
        if isinstance(node, ast.Constant):
            return self.emit(CONST, value=self.literal(node), line=line, at=node)
        if isinstance(node, ast.List):
            value = self.array_literal(node)
            return self.emit(CONST, value=value, line=line, at=node, shape=value.shape)
        if isinstance(node, ast.Name):
            found = self.names.get(node.id)  # never a constant or a function: see check_target
            if found is not None:
                return found
            if node.id in CONSTANTS:
                return self.emit(CONST, value=CONSTANTS[node.id], line=line, at=node)
            if node.id in FUNCTIONS:
                raise self.error(f"'{node.id}' is a function: call it, as in {node.id}(x)", node)
            raise self.error(f"'{node.id}' is used before it is assigned", node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.operand, ast.Constant):
                value = self.literal(node.operand)
                value = -value if isinstance(node.op, ast.USub) else value
                return self.emit(CONST, value=value, line=line, at=node)
            if isinstance(node.op, ast.UAdd):
                return args[0]
            return self.apply("neg", args, node)
        if isinstance(node, ast.BinOp):
            return self.apply(_OP_NAMES[_AST_BINOPS[type(node.op)]], args, node)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        name = node.func.id
        params = None
        if name in AXIS_OPS:
            axis = self.axis_literal(node.args[1], name) if len(node.args) == 2 else None
            params = {"axis": axis}
        return self.apply(FUNCTIONS[name].name, args, node, params)


def _names_in(expr: ast.AST) -> list[ast.Name]:
    """Every name in an expression (a plain stack walk: `ast.walk` is generic and slower)."""
    names: list[ast.Name] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            names.append(node)
        elif isinstance(node, ast.BinOp):
            stack += (node.left, node.right)
        elif isinstance(node, ast.UnaryOp):
            stack.append(node.operand)
        elif isinstance(node, ast.List):
            continue  # a literal: numbers only (array_literal says so otherwise)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            # the called name is a function (or a mistake call_args explains), not an input
            stack += node.args
            stack += (k.value for k in node.keywords)
        elif not isinstance(node, ast.Constant):
            stack.extend(ast.iter_child_nodes(node))
    return names


def _is_declaration(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)


def _source_of(node: ast.AST) -> str:
    """The expression as the program wrote it (near enough: Python's spelling of it)."""
    return ast.unparse(node)


def _target(stmt: ast.stmt) -> ast.Name | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0]
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target
    return None


def _parse_python(source: _Source, translated: str, limits: Limits) -> ast.Module:
    try:
        try:
            # One ast.parse at a time: CPython 3.11 keeps the AST builder's recursion depth
            # in shared state, and two threads parsing at once (a server's worker threads)
            # can fail with "SystemError: AST constructor recursion depth mismatch".
            with _DEEP_LOCK:
                return ast.parse(translated, mode="exec")
        except RecursionError:
            if limits.max_depth <= _PLAIN_DEPTH:
                raise
            return _parse_deep(translated, limits.max_depth)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = source.original_column(line, (exc.offset or 1) - 1) + 1
        typed = source.lines[line - 1] if 1 <= line <= len(source.lines) else ""
        message, col = explain(typed, exc.msg or "", col)
        raise ExpressionError(message, line, col, source.snippet(line)) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the program is nested too deeply to read", 1, 1,
                              limit="max_depth") from None
    except ValueError:  # e.g. an integer literal with thousands of digits
        raise ExpressionError("a number in the program is too long to read", 1, 1) from None


# CPython builds the syntax tree recursively and gives up at 3x the recursion limit, which a
# long flat expression (`x + x + ... + x` is a tree as deep as it has terms) soon reaches.
_PLAIN_DEPTH = 2000
_DEEP_LOCK = threading.Lock()


def _parse_deep(translated: str, max_depth: int) -> ast.Module:
    """ast.parse in a thread with a large stack, with the recursion limit raised just for it."""
    outcome: list[ast.Module | BaseException] = []

    def run() -> None:
        try:
            outcome.append(ast.parse(translated, mode="exec"))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    with _DEEP_LOCK:
        old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
        try:
            sys.setrecursionlimit(max(old_limit, max_depth // 3 + 100))
            threading.stack_size(max(old_stack, (64 + max_depth // 2000) * 2**20))
            thread = threading.Thread(target=run, name="deep-parse")
            thread.start()
            thread.join()
        finally:
            threading.stack_size(old_stack)
            sys.setrecursionlimit(old_limit)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def parse(source: str, outputs: list[str] | None = None, limits: Limits | None = None) -> Program:
    """Parse program text into a Program.

    >>> p = parse("x = 3*w; y = 2*x^2 + 4")
    >>> list(p.inputs), list(p.outputs)
    (['w'], ['y'])
    """
    limits = limits or DEFAULT_LIMITS
    if not isinstance(source, str):
        raise ExpressionError("the program must be text")
    if len(source) > limits.max_source_chars:
        raise ExpressionError(f"the program is {len(source)} characters long; the limit is "
                              f"{limits.max_source_chars} (max_source_chars)", 1, 1,
                              limit="max_source_chars")
    if "\x00" in source:
        raise ExpressionError("the program contains a NUL character", 1, 1)
    src, translated = _Source.translate(source)
    module = _parse_python(src, translated, limits)
    statements = module.body
    if not statements:
        raise ExpressionError(f"the program is empty: {_HINT}", 1, 1)
    if len(statements) > limits.max_statements:
        raise ExpressionError(f"the program has {len(statements)} statements; the limit is "
                              f"{limits.max_statements} (max_statements)", 1, 1,
                              limit="max_statements")
    builder = _Builder(src, translated, limits)
    builder.collect_inputs(statements)
    last = -1
    for stmt in statements:
        last = builder.statement(stmt)

    out: dict[str, int] = {}
    if outputs:
        for name in outputs:
            if name not in builder.names:
                known = ", ".join(builder.names) or "(none)"
                raise ExpressionError(f"unknown output '{name}'; the program's names are: "
                                      f"{known}")
            out[name] = builder.names[name]
    else:
        final = statements[-1]
        target = _target(final)
        if target is not None:
            out[target.id] = builder.names[target.id]
        else:
            name = "f" if "f" not in builder.names else "output"
            builder.bind(name, last)
            out[name] = last
    return Program(builder.nodes, builder.inputs, out, builder.names, source)
