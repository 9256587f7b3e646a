"""Exported PyTorch and JAX code: its autograd gives our derivatives, on random programs.

The exported source is run as it is (exec), its inputs made tensors (or JAX arrays), and its
outputs differentiated by PyTorch's and JAX's own autograd: independent engines that share
none of our rules. Random programs use every function of the op table; the conventions at
kinks (relu'(0), abs'(0), max/min at a tie) get examples of their own.
"""

import math
from collections.abc import Callable
from typing import Any

import jax
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from micrograd.engine import Value

import autodiff_core as ad
from autodiff_core.export import to_micrograd

INPUTS = ("a", "b", "c")
UNARY = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sign",
         "step", "-"]
BINARY = ["+", "-", "*", "/", "^", "max", "min"]


def load(code: str) -> Callable[..., dict[str, Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<exported>", "exec"), namespace)  # our own generated code
    return namespace["program"]


def torch_jacobian(code: str, at: dict[str, float]) -> dict[str, dict[str, float]]:
    program = load(code)
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in at.items()}
    outputs = program(**leaves)
    jacobian: dict[str, dict[str, float]] = {}
    for out, value in outputs.items():
        if not (isinstance(value, torch.Tensor) and value.requires_grad):
            jacobian[out] = dict.fromkeys(at, 0.0)  # a constant, or a step of the inputs
            continue
        grads = torch.autograd.grad(value, list(leaves.values()), retain_graph=True,
                                    allow_unused=True)
        jacobian[out] = {n: 0.0 if g is None else float(g)
                         for n, g in zip(leaves, grads, strict=True)}
    return jacobian


def jax_jacobian(code: str, at: dict[str, float]) -> dict[str, dict[str, float]]:
    program = load(code)
    if not at:  # nothing to differentiate by (jacrev needs some input)
        return {out: {} for out in program()}
    point = {n: jax.numpy.asarray(v, dtype=jax.numpy.float64) for n, v in at.items()}
    jacobian = jax.jacrev(lambda inputs: program(**inputs))(point)
    return {out: {n: float(d) for n, d in row.items()} for out, row in jacobian.items()}


def ours(program: ad.Program, at: dict[str, float]) -> dict[str, dict[str, float]]:
    derivatives = ad.reverse(program, at).derivatives
    return {out: {n: float(derivatives[out].get(n, 0.0)) for n in at} for out in derivatives}


def assert_same(found: dict, expected: dict, text: str) -> None:
    assert set(found) == set(expected), text
    for out, row in expected.items():
        for name, value in row.items():
            assert math.isclose(found[out][name], value, rel_tol=1e-9, abs_tol=1e-12), \
                f"d{out}/d{name}: {found[out][name]} != ours {value} in {text!r}"


@st.composite
def expressions(draw: st.DrawFn, names: list[str], depth: int, unary: list[str],
                binary: list[str]) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.integers(0, 4)) == 0:
            return str(draw(st.sampled_from([0.5, 2, 3, -1.5])))
        return draw(st.sampled_from(names))
    if draw(st.booleans()):
        fn = draw(st.sampled_from(unary))
        arg = draw(expressions(names, depth - 1, unary, binary))
        return f"-({arg})" if fn == "-" else f"{fn}({arg})"
    op = draw(st.sampled_from(binary))
    left = draw(expressions(names, depth - 1, unary, binary))
    right = draw(st.sampled_from(["2", "3", "-1"])) if op == "^const" \
        else draw(expressions(names, depth - 1, unary, binary))
    if op == "^const":
        return f"({left}) ^ {right}"
    return f"{op}({left}, {right})" if op in ("max", "min") else f"({left}) {op} ({right})"


@st.composite
def programs(draw: st.DrawFn, unary: list[str] = UNARY, binary: list[str] = BINARY
             ) -> tuple[str, list[str], dict[str, float]]:
    """Program text (shared names, reassignment), chosen outputs, and a point."""
    names, assigned, lines = list(INPUTS), [], []
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(assigned + ["p", "q"])) if assigned else "p"
        depth = draw(st.integers(1, 3))
        lines.append(f"{target} = {draw(expressions(names, depth, unary, binary))}")
        if target not in assigned:
            assigned.append(target)
            names.append(target)
    outputs = draw(st.lists(st.sampled_from(assigned), min_size=1, max_size=2, unique=True))
    point = {n: draw(st.sampled_from([0.0, 1.0]) | st.floats(-2, 2).map(lambda v: round(v, 2)))
             for n in INPUTS}
    return "\n".join(lines), outputs, point


def differentiable_case(case: tuple[str, list[str], dict[str, float]]) -> tuple:
    text, outputs, point = case
    program = ad.parse(text, outputs=outputs)
    at = {n: point[n] for n in program.inputs}
    try:
        expected = ours(program, at)
    except ad.EvaluationError:  # outside the domain at this point (log(-1), 0 ** -1, ...)
        assume(False)
    assume(all(math.isfinite(v) for row in expected.values() for v in row.values()))
    return program, at, expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_torch_autograd_gives_our_derivatives(case: tuple) -> None:
    program, at, expected = differentiable_case(case)
    assert_same(torch_jacobian(program.to_torch(), at), expected, program.source or "")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_jax_autograd_gives_our_derivatives(case: tuple) -> None:
    program, at, expected = differentiable_case(case)
    assert_same(jax_jacobian(program.to_jax(), at), expected, program.source or "")


def micrograd_jacobian(code: str, at: dict[str, float]) -> dict[str, dict[str, float]]:
    """micrograd's backward() for each output (a fresh graph each: it accumulates .grad)."""
    program = load(code)
    jacobian: dict[str, dict[str, float]] = {}
    for out in program(**at):
        leaves = {n: Value(v) for n, v in at.items()}
        value = program(**leaves)[out]
        if isinstance(value, Value):
            value.backward()
        jacobian[out] = {n: float(leaf.grad) for n, leaf in leaves.items()}
    return jacobian


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(unary=["relu", "-"], binary=["+", "-", "*", "/", "^const"]))
def test_micrograd_autograd_gives_our_derivatives(case: tuple) -> None:
    program, at, expected = differentiable_case(case)
    assert_same(micrograd_jacobian(to_micrograd(program), at), expected, program.source or "")


def test_micrograd_export_refuses_what_micrograd_lacks() -> None:
    with pytest.raises(NotImplementedError, match="'sin'"):
        to_micrograd(ad.parse("y = sin(x)"))
    with pytest.raises(NotImplementedError, match="'pow' needs a constant argument 2"):
        to_micrograd(ad.parse("y = 2 ^ x"))


# The conventions at kinks, where the frameworks' own defaults could differ from ours.
KINKS = [
    ("y = relu(x)", {"x": 0.0}),
    ("y = abs(x)", {"x": 0.0}),
    ("y = max(x, w)", {"x": 1.5, "w": 1.5}),
    ("y = min(x, 2)", {"x": 2.0}),
    ("y = sign(x) + step(x)*x", {"x": 0.0}),
    ("y = x ^ 2 + x ^ 3", {"x": -3.0}),  # a negative base, constant exponents
    ("y = sin(2) * x; z = 3", {"x": 1.0}),  # a constant subexpression and a constant output
]


@pytest.mark.parametrize(("text", "at"), KINKS)
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_conventions_at_kinks(text: str, at: dict[str, float], backend: str) -> None:
    program = ad.parse(text, outputs=[s.split("=")[0].strip() for s in text.split(";")])
    code = program.to_torch() if backend == "torch" else program.to_jax()
    jacobian = torch_jacobian if backend == "torch" else jax_jacobian
    assert_same(jacobian(code, at), ours(program, at), text)


def test_values_match_and_trace_programs_export() -> None:
    f = ad.trace(lambda x, w: {"loss": ad.tanh(x * w) ** 2, "out": ad.sigmoid(w) + x})
    at = {"x": 0.3, "w": -1.2}
    values = load(f.to_torch())(**at)
    expected = ad.evaluate(f, at)
    assert {k: float(v) for k, v in values.items()} == pytest.approx(
        {k: expected[k] for k in ("loss", "out")}, rel=1e-12)
    assert_same(jax_jacobian(f.to_jax(), at), ours(f, at), "traced")


def test_code_reads_like_the_trace() -> None:
    code = ad.parse("x = 3*w\ny = 2*x^2 + 4").to_torch()
    assert "def program(**inputs):" in code
    assert 'v0 = torch.as_tensor(inputs["w"], dtype=torch.float64)' in code
    assert "v2 = 3.0 * v0  # x" in code
    assert 'return {"y": v8}' in code
