"""Program text: clear messages with positions, reassignment, and hostile text never evaluated."""

import math
import re

import pytest

import autodiff_core as ad
from tests.timing import fastest


def error_of(source: str, **kwargs) -> ad.ExpressionError:
    with pytest.raises(ad.ExpressionError) as info:
        ad.parse(source, **kwargs)
    return info.value


# --- messages and positions --------------------------------------------------------------------


@pytest.mark.parametrize(("source", "line", "column", "words"), [
    ("y = 3*", 1, 6, "the line ends too soon"),
    ("x = 1\ny = 2 +* x", 2, 8, "two operators in a row: '+' then '*'"),
    ("y = foo(x)", 1, 5, "unknown function 'foo'"),
    ("y = z + 1\nz = 2", 1, 5, "'z' is used before it is assigned (it is first assigned on line"),
    ("y = sin(x, 2)", 1, 5, "sin() takes 1 argument, got 2"),
    ("y = x % 2", 1, 5, "the operator '%' is not supported"),
    ("sin = 3", 1, 1, "'sin' is a function and cannot be assigned"),
    ("y = sin", 1, 5, "'sin' is a function: call it"),
    ("w = 1\ny = x; z = q.real", 2, 12, "attribute access"),
])
def test_messages_say_what_and_where(source: str, line: int, column: int, words: str) -> None:
    error = error_of(source)
    assert (error.line, error.column) == (line, column)
    assert words in error.message
    assert error.text == source.split("\n")[line - 1].strip()
    assert str(error).startswith(f"line {line}, column {column}: ")


# Python's own wording, which a learner must never be shown.
PYTHON_WORDING = ("invalid syntax", "invalid decimal literal", "Maybe you meant", "never closed",
                  "unmatched", "cannot assign to", "unexpected", "literal", "syntax error",
                  "was expected", "perhaps")


@pytest.mark.parametrize(("source", "column", "fix"), [
    ("y = 3x", 6, "write 3*x"),
    ("y = 2.5x^2 + 1", 8, "write 2.5*x"),
    ("y = 3 sin(x)", 6, "write 3*sin(x)"),
    ("y = 1e5x", 8, "write 1e5*x"),
    ("y = 2(x + 1)", 5, "write 2*(...)"),
    ("y = (x + 1)(x - 1)", 5, "write (...)*(...)"),
    ("y = x y", 6, "write x*y"),
    ("f(x) = x^2", 2, "write `f = ...` without `(x)`: x is an input because nothing assigns it"),
    ("f(x, w) = x*w", 2, "x and w are inputs because nothing assigns them"),
    ("y = sin x", 8, "write sin(x)"),
    ("y = tanh 2", 9, "write tanh(2)"),
    ("y = sn(x)", 5, "did you mean sin?"),
    ("y = ln(x)", 5, "did you mean log?"),
    ("y = Exp(x)", 5, "did you mean exp?"),
    ("a = 2*w\ny = a(w + 1)", 5, "'a' is a value, not a function: to multiply, write a*(...)"),
    ("y = sin(x", 8, "a '(' is not closed: add its ')'"),
    ("y = x)", 6, "check the '(' and ')'"),
    ("  y = x", 2, "remove the spaces"),
    ("y = 'x", 5, "quotes are not allowed"),
    ("y = 07", 5, "leading zero"),
    ("x + 1 = y", 1, "the left of '=' must be a single name"),
    ("y = x!", 6, "'!' is not part of this language"),
])
def test_mistakes_get_their_fix_in_our_words(source: str, column: int, fix: str) -> None:
    error = error_of(source)
    assert fix in error.message
    assert error.column == column
    for words in PYTHON_WORDING:
        assert words.lower() not in error.message.lower(), (words, error.message)


def test_no_phrase_said_twice() -> None:
    for source in ("y = 3x", "f(x) = x^2", "y = sin x", "y = sn(x)", "y = sin(x"):
        message = error_of(source).message
        parts = [p.strip() for p in re.split(r"[:;.?]", message) if p.strip()]
        assert len(parts) == len(set(parts)), message


def test_pi_and_e_may_be_rebound() -> None:
    # micrograd's README names a value `e`; before its assignment `e` is still Euler's number
    program = ad.parse("y = e*x\ne = c - d\nz = e * y")
    assert list(program.inputs) == ["x", "c", "d"]
    values = ad.evaluate(program, {"x": 1.0, "c": 5.0, "d": 2.0})
    assert values["y"] == pytest.approx(math.e) and values["z"] == pytest.approx(3 * math.e)
    assert ad.evaluate(ad.parse("pi = 3\ny = pi*r"), {"r": 2.0})["y"] == 6.0


def test_a_misspelt_function_is_not_an_input() -> None:
    assert "did you mean" in error_of("y = sn(x) + x").message
    assert list(ad.parse("y = sin(x) * w").inputs) == ["x", "w"]


def test_unknown_function_lists_the_known_ones() -> None:
    message = error_of("y = foo(x)").message
    for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs",
                 "max", "min"):
        assert name in message


@pytest.mark.parametrize("source", ["", "   ", "\n\n", "# just a comment"])
def test_empty_program(source: str) -> None:
    error = error_of(source)
    assert "empty" in error.message and (error.line, error.column) == (1, 1)


def test_caret_columns_map_back_to_the_users_text() -> None:
    # Each `^` becomes `**` for Python's parser; the columns must still be the user's.
    error = error_of("y = a ^ b ^ c + q.real")
    assert error.column == 17  # the q, counted in the text as typed
    error = error_of("y = x^2^2 + 1 +* 3")
    assert error.column == 16
    assert error_of("y = a^b + c.d").column == 11


def test_reassignment_makes_versions() -> None:
    program = ad.parse("c = 2*x\nc = c + 1; c = c * c")
    named = [program.label(n.id) for n in program.nodes if n.name == "c"]
    assert named == ["c", "c#2", "c#3"]
    result = ad.reverse(program, {"x": 1.5})
    assert result.values["c"] == result.values["c#3"] == 16.0 and result.values["c#2"] == 4.0
    assert result.derivatives == {"c": {"x": 2 * 4.0 * 2}}


@pytest.mark.parametrize("source", ["x = 3*w; y = 2*x^2 + 4", "x = 3*w\ny = 2*x^2 + 4",
                                    "x = 3*w;\n\ny = 2*x**2 + 4\n"])
def test_separators_and_both_powers(source: str) -> None:
    program = ad.parse(source)
    assert (list(program.inputs), list(program.outputs)) == (["w"], ["y"])
    assert ad.reverse(program, {"w": 1.0}).derivatives == {"y": {"w": 36.0}}


# --- hostile text: rejected fast, never evaluated ---------------------------------------------

HOSTILE = {
    "attribute": "y = x.__class__",
    "dunder name": "y = __import__('os')",
    "dunder call": "y = __builtins__",
    "string": "y = 'rm -rf /'",
    "bytes": "y = b'x'",
    "f-string": "y = f'{x}'",
    "lambda": "y = lambda: 1",
    "import": "import os",
    "from import": "from os import system",
    "subscript": "y = x[0]",
    "comprehension": "y = [x for x in w]",
    "walrus": "y = (z := 2)",
    "def": "def f(): pass",
    "call of attribute": "y = (1).__add__(2)",
    "keyword argument": "y = sin(x=1)",
    "huge float literal": "y = 1e999",
    "5000-digit integer": "y = " + "9" * 5000,
    "4000-digit integer": "y = " + "9" * 4000,
    "10,000 nested parentheses": "y = " + "(" * 10_000 + "x" + ")" * 10_000,
    "100,000 nested unary minus": "y = " + "-" * 100_000 + "x",
    "over the length limit": "y = " + "+".join(["x"] * 2_600_000),
    "NUL character": "y = x\x00",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_rejected_within_a_second(name: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def no_eval(*args, **kwargs):
        raise AssertionError("user text reached eval/exec")

    monkeypatch.setattr("builtins.eval", no_eval)
    monkeypatch.setattr("builtins.exec", no_eval)
    def refuse() -> pytest.ExceptionInfo[ad.ExpressionError]:
        with pytest.raises(ad.ExpressionError) as info:
            ad.parse(HOSTILE[name])
        return info

    elapsed, info = fastest(refuse)
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
    assert info.value.message and info.value.line == 1


def test_power_tower_parses_but_fails_fast_at_evaluation() -> None:
    program = ad.parse("y = 9**9**9")  # every literal is a float: no big-integer blow-up
    def fail() -> None:
        with pytest.raises(ad.EvaluationError, match="overflow"):
            ad.evaluate(program, {})

    elapsed, _ = fastest(fail)
    assert elapsed < 1.0, f"{elapsed:.2f} s"


# --- limits are parameters --------------------------------------------------------------------


@pytest.mark.parametrize(("source", "limits", "limit"), [
    ("y = x + 1", ad.Limits(max_source_chars=5), "max_source_chars"),
    ("a = 1; b = 2; c = a + b", ad.Limits(max_statements=2), "max_statements"),
    ("y = x + x + x + x", ad.Limits(max_nodes=3), "max_nodes"),
    ("y = sin(sin(sin(sin(x))))", ad.Limits(max_depth=3), "max_depth"),
    ("y = 1e10 * x", ad.Limits(max_number=1e9), "max_number"),
])
def test_each_limit_is_a_parameter_and_is_named(source: str, limits: ad.Limits,
                                                limit: str) -> None:
    assert ad.parse(source)  # fine with the defaults
    error = error_of(source, limits=limits)
    assert error.limit == limit and limit in error.message


def test_default_limits_admit_a_100k_node_program() -> None:
    defaults = ad.DEFAULT_LIMITS
    assert defaults.max_nodes >= 100_000 and defaults.max_depth >= 100_000
    assert defaults.max_statements >= 100_000 and defaults.max_source_chars >= 1_000_000
