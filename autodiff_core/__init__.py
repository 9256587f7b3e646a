"""Autodiff Lab's engine: programs as graphs, forward and reverse accumulation, traced.

>>> import autodiff_core as ad
>>> program = ad.parse("x = 3*w; y = 2*x^2 + 4")
>>> ad.reverse(program, {"w": 1.0}).derivatives
{'y': {'w': 36.0}}
"""

from .derivative import derivative, grad_program, jvp_program, vjp_program
from .errors import AutodiffError, EvaluationError, ExpressionError, InputError
from .evaluation import primal
from .forward import forward
from .higher import HessianResult, HvpResult, JacobianResult, hessian, hvp, hvp_program, jacobian
from .limits import DEFAULT_LIMITS, Limits
from .numeric import FiniteDifferences, finite_differences
from .ops import CONSTANTS, FUNCTIONS, OPS, Op
from .parser import parse
from .program import Node, Program
from .results import Pass, Result
from .reverse import reverse
from .symbolic import SymbolicResult, expression, swelling, symbolic_derivative
from .tracing import abs as abs  # ad.abs, ad.max, ad.min: not in * (they shadow builtins)
from .tracing import (
    cos,
    e,
    exp,
    log,
    pi,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    step,
    tan,
    tanh,
    trace,
)
from .tracing import max as max
from .tracing import min as min
from .widget import show

__all__ = [
    "AutodiffError", "EvaluationError", "ExpressionError", "InputError",
    "DEFAULT_LIMITS", "Limits", "CONSTANTS", "FUNCTIONS", "OPS", "Op",
    "Node", "Program", "Pass", "Result",
    "parse", "evaluate", "forward", "reverse",
    # beyond first derivatives (issue 3)
    "derivative", "grad_program", "jvp_program", "vjp_program",
    "HessianResult", "HvpResult", "JacobianResult", "hessian", "hvp", "hvp_program", "jacobian",
    "trace", "sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sign", "step",
    "pi", "e",
    "FiniteDifferences", "finite_differences",
    "SymbolicResult", "expression", "swelling", "symbolic_derivative",
    # notebooks (issue 15): the widget needs the [notebook] extra
    "show",
]


def evaluate(program: Program, at: dict | None = None) -> dict:
    """The value of every named quantity and output at a point (or over a grid)."""
    from .evaluation import make_point, named_values

    point = make_point(program, at)
    return named_values(program, primal(program, point), point)
