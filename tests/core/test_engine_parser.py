"""Program text: clear messages with positions, reassignment, and hostile text never evaluated."""


import pytest

import autodiff_core as ad
from tests.timing import fastest


def error_of(source: str, **kwargs) -> ad.ExpressionError:
    with pytest.raises(ad.ExpressionError) as info:
        ad.parse(source, **kwargs)
    return info.value


# --- messages and positions --------------------------------------------------------------------


@pytest.mark.parametrize(("source", "line", "column", "words"), [
    ("y = 3*", 1, 7, "syntax error"),
    ("x = 1\ny = 2 +* x", 2, 8, "syntax error"),
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
