"""The trace of a tensor program: steps carry shapes and the arrays themselves (stored once,
never copied into each step), formulas name the rule (matmul's transposes, broadcast's sum as
a step of its own, a reduction's broadcast back), and everything turns into JSON."""

import json

import numpy as np

import autodiff_core as ad

LAYER = "W: [2, 3]\nx: [3]\nb: [2]\ny = sum(tanh(W @ x + b))"
AT = {"W": np.arange(6.0).reshape(2, 3) / 10, "x": np.array([1.0, -1.0, 0.5]),
      "b": np.array([0.1, -0.2])}


def by_node(steps: list) -> dict:
    return {s.node: s for s in steps}


def test_reverse_steps_name_their_rules_and_carry_shapes() -> None:
    program = ad.parse(LAYER)
    result = ad.reverse(program, AT)
    steps = by_node(result.passes[0].steps)
    matmul = next(n for n in program.nodes if n.op == "matmul")
    total = next(n for n in program.nodes if n.op == "sum")
    w, x, b = (program.inputs[k] for k in "Wxb")
    m = matmul.id
    assert steps[f"v{m}"].formula == f"v̄{w} += v̄{m} · v{x}ᵀ; v̄{x} += v{w}ᵀ · v̄{m}"
    add = next(n for n in program.nodes if n.op == "add")
    assert steps[f"v{add.id}"].formula == f"v̄{m} += v̄{add.id}; v̄{b} += v̄{add.id}"
    assert steps[f"v{total.id}"].formula == f"v̄{total.args[0]} += broadcast of v̄{total.id} to 2"
    assert steps[f"v{m}"].shape == [2]
    assert steps[f"v{w}"].shape == [2, 3]
    # a linear map has no local array: the formula says what was done
    assert all(c.local is None for c in steps[f"v{m}"].contributions)
    np.testing.assert_allclose(steps[f"v{w}"].adjoint, result.derivatives["y"]["W"])


def test_broadcast_adjoint_is_a_step_of_its_own() -> None:
    program = ad.parse("X: [4, 3]\nb: [3]\ny = sum(X + b)")
    result = ad.reverse(program, {"X": np.ones((4, 3)), "b": np.ones(3)})
    bcast = next(n for n in program.nodes if n.op == "broadcast")
    step = by_node(result.passes[0].steps)[f"v{bcast.id}"]
    assert step.formula == f"v̄{program.inputs['b']} += sum over axis 0 of v̄{bcast.id}"
    assert step.shape == [4, 3]
    np.testing.assert_allclose(step.contributions[0].contribution, [4.0, 4.0, 4.0])


def test_forward_steps_name_their_rules() -> None:
    program = ad.parse("A: [2, 2]\nB: [2, 2]\nC = A @ B")
    result = ad.forward(program, {"A": np.eye(2), "B": np.ones((2, 2))})
    assert len(result.passes) == 8  # one per input element
    c = program.names["C"]
    a, b = program.inputs["A"], program.inputs["B"]
    first = by_node(result.passes[0].steps)[f"v{c}"]  # seeded at A[0,0]: only A's term
    assert first.formula == f"v̇{c} = v̇{a} · v{b}"
    both = ad.forward(program, {"A": np.eye(2), "B": np.ones((2, 2))},
                      seed={"A": np.ones((2, 2)), "B": np.ones((2, 2))})
    assert by_node(both.passes[0].steps)[f"v{c}"].formula == \
        f"v̇{c} = v̇{a} · v{b} + v{a} · v̇{b}"


def test_elementwise_formulas_use_the_elementwise_product() -> None:
    program = ad.parse("x: [3]\ny = sum(sin(x) * x)")
    steps = by_node(ad.reverse(program, {"x": np.ones(3)}).passes[0].steps)
    sin = next(n for n in program.nodes if n.op == "sin")
    assert steps[f"v{sin.id}"].formula == f"v̄0 += v̄{sin.id} ⊙ cos(v0)"


def test_arrays_are_stored_once() -> None:
    program = ad.parse(LAYER)
    result = ad.reverse(program, AT)
    primal = by_node(result.primal)
    steps = by_node(result.passes[0].steps)
    for node, step in steps.items():
        assert step.value is primal[node].value  # the same array, not a copy
    # the matmul step's contribution to W is the very array W's step shows as its adjoint
    w = f"v{program.inputs['W']}"
    matmul = next(s for s in steps.values() if s.op == "matmul")
    assert next(c for c in matmul.contributions if c.to == w).contribution is steps[w].adjoint


def test_trace_is_json() -> None:
    program = ad.parse(LAYER)
    data = ad.reverse(program, AT).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert '"shape": [2, 3]' in text
    step = data["passes"][0]["steps"][-1]
    assert step["shape"] == [2, 3] and len(step["adjoint"]) == 2 and len(step["adjoint"][0]) == 3
    forward = ad.forward(program, AT).to_dict()
    json.dumps(forward, allow_nan=False)
    assert forward["passes"][0]["seed"]["W"] == [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_a_pass_per_output_element_says_which() -> None:
    program = ad.parse("W: [2, 3]\nx: [3]\ny = W @ x")
    result = ad.reverse(program, {"W": np.ones((2, 3)), "x": np.ones(3)})
    assert [p.seed["y"].tolist() for p in result.passes] == [[1.0, 0.0], [0.0, 1.0]]
    last = result.passes[1].steps[-1]
    assert last.formula == "v̄0 = ∂y[1]/∂W (complete)"
    np.testing.assert_allclose(last.adjoint, [[0, 0, 0], [1, 1, 1]])
