"""Syntax errors in our own words, each with the fix.

Python's parser reads the program (see parser.py), but its messages are written for Python
programmers ("invalid decimal literal", "cannot assign to function call here. Maybe you meant
'==' instead of '='?"). A learner who writes `3x`, `f(x) = x^2` or `sin x` needs to hear what
to write instead. `explain` looks at the line as typed and Python's complaint, and returns our
message and the column it is about; Python's wording never reaches the learner.
"""

from __future__ import annotations

import difflib
import keyword
import re

from .ops import CONSTANTS, FUNCTIONS

HINT = "a program is lines like `x = 3*w` and `y = 2*x^2 + 4`"

_NAME = r"[A-Za-z_]\w*"
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# f(x) = x^2: a function definition written as in mathematics
_DEFINITION = re.compile(rf"^\s*({_NAME})\s*\(([^()]*)\)\s*=(?!=)")
# 3x, 2 x, 3sin(x), 2 (x + 1): a number written against what it multiplies
_NUMBER_THEN = re.compile(rf"(?<![\w.])({_NUMBER})\s*({_NAME}(?:\([^()]*\))?|\()")
# sin x: a function's argument without its parentheses
_BARE_CALL = re.compile(rf"\b({'|'.join(sorted(FUNCTIONS, key=len, reverse=True))})\s+"
                        rf"({_NAME}|{_NUMBER})")
# x y: two names side by side
_NAME_THEN_NAME = re.compile(rf"\b({_NAME})\s+({_NAME}|{_NUMBER}|\()")

_OPERATORS = "+-*/^"

# Other names learners reach for, and what this language calls them.
ALIASES = {"ln": "log", "log10": "log", "exp2": "exp", "arctanh": "tanh", "pow": "^",
           "sgn": "abs", "sign": "abs", "maximum": "max", "minimum": "min"}


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def definition_message(name: str, args: str) -> str:
    """`f(x) = ...`: say how to write it, and why x is still an input."""
    params = [a.strip() for a in args.split(",") if a.strip()]
    if not params:
        return f"write `{name} = ...` without the parentheses"
    inputs = _join(params)
    are = "is an input" if len(params) == 1 else "are inputs"
    them = "it" if len(params) == 1 else "them"
    return (f"write `{name} = ...` without `({', '.join(params)})`: {inputs} {are} "
            f"because nothing assigns {them}")


def multiply_message(left: str, right: str) -> str:
    right = "(...)" if right == "(" else right
    return f"write {left}*{right}: multiplying needs a '*'"


def nearest_function(name: str) -> str | None:
    """The known function a mistyped or borrowed name most likely means, if any."""
    lowered = name.lower()
    if lowered in FUNCTIONS and lowered != name:
        return lowered
    if lowered in ALIASES and ALIASES[lowered] in FUNCTIONS:
        return ALIASES[lowered]
    close = difflib.get_close_matches(lowered, list(FUNCTIONS), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_function_message(name: str, known_names: set[str] | frozenset[str]) -> str:
    """`foo(x)`: the nearest function, or the '*' that was meant when `foo` is a value."""
    if name in known_names or name in CONSTANTS:
        return f"'{name}' is a value, not a function: to multiply, write {name}*(...)"
    guess = nearest_function(name)
    listed = ", ".join(sorted(FUNCTIONS))
    if guess:
        return f"unknown function '{name}': did you mean {guess}? The functions are {listed}"
    return f"unknown function '{name}'; the functions are {listed}"


def explain(line: str, python_message: str, column: int) -> tuple[str, int]:
    """Our message for a syntax error on `line` (as typed) and the 1-based column it is about.

    `column` is where Python stopped reading, in the line as typed.
    """
    found = _DEFINITION.match(line)
    if found:
        return definition_message(found.group(1), found.group(2)), found.start(2)
    for pattern, message in ((_BARE_CALL, _bare_call), (_NUMBER_THEN, _number_then),
                             (_NAME_THEN_NAME, _name_then_name)):
        for found in pattern.finditer(line):
            text = message(found)
            if text:
                return text, found.end(1) + 1
    return _general(line, python_message, column)


def _bare_call(found: re.Match[str]) -> str | None:
    return (f"write {found.group(1)}({found.group(2)}): a function's argument goes in "
            "parentheses")


def _number_then(found: re.Match[str]) -> str | None:
    number, right = found.groups()
    if keyword.iskeyword(right):
        return None
    if right.lower() == "e" or (right[0] in "eE" and right[1:].isdigit()):
        return None  # 1e5 is a number; `1e` alone is left to the general messages
    return multiply_message(number, right)


def _name_then_name(found: re.Match[str]) -> str | None:
    left, right = found.groups()
    if keyword.iskeyword(left) or keyword.iskeyword(right) or left in FUNCTIONS:
        return None
    return multiply_message(left, right)


def _general(line: str, python_message: str, column: int) -> tuple[str, int]:
    """Python's complaint, said in our words (never quoted)."""
    first_word = line.strip().split(" ", 1)[0].rstrip(":")
    text = python_message.lower()
    if keyword.iskeyword(first_word) and first_word not in ("True", "False", "None"):
        return f"'{first_word}' is not part of this language: {HINT}", line.find(first_word) + 1
    if "never closed" in text or ("unexpected eof" in text):
        return "a '(' is not closed: add its ')'", column
    if "unmatched" in text or "does not match" in text:
        return "this bracket has no partner: check the '(' and ')'", column
    if "indent" in text:
        return "remove the spaces at the start of the line", column
    if "string" in text or "quote" in text:
        return "quotes are not allowed: a program is made of numbers and names", column
    if "leading zero" in text:
        return "write the number without its leading zero", column
    if "literal" in text:
        return "this number cannot be read: write numbers as 3, 0.5 or 1e-3", column
    if "cannot assign" in text or "assign to" in text:
        return "the left of '=' must be a single name, as in `y = 2*x`", 1
    stripped = line.rstrip()
    if column > len(stripped):
        return "the line ends too soon: something is missing at its end", max(1, len(stripped))
    char = line[column - 1] if 0 < column <= len(line) else ""
    before = line[:column - 1].rstrip()
    if char and char in _OPERATORS and before and before[-1] in _OPERATORS:
        return f"two operators in a row: '{before[-1]}' then '{char}'", column
    if char and not (char.isalnum() or char in "_+-*/^(). =,;#\t"):
        return f"'{char}' is not part of this language: {HINT}", column
    return f"this cannot be read here: {HINT}", column
