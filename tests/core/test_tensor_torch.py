"""PyTorch as an independent oracle for tensor programs: values, gradients, Jacobians, both modes.

`tensor_programs.generate(seed)` writes a random tensor program (shapes up to 3 axes,
broadcasting, matmul with broadcast batch axes, reductions over each axis, softmax, logsumexp)
and, from the same description, the same function in torch (float64). Torch computes the values
and differentiates by its own rules; our engine must agree in reverse and forward mode, traced
and untraced, for the full Jacobian of the tensor output `out` (shape out + input) and the
gradient of the scalar `loss`, for vector-Jacobian and Jacobian-vector products, with `wrt`, and
on a grid of two points. Central differences of our own evaluation, which know no derivative
rule at all, check the gradients a second way.

The seeds are fixed: the same programs on every run (a failure prints the program and point).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from tensor_programs import TensorProgram, generate

import autodiff_core as ad

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

SEEDS = range(40)
FEWER = range(0, 40, 3)  # the slower checks (grids, central differences of every element)
LONG = range(100, 108)  # longer programs: deeper chains, more fan-out
RTOL, ATOL = 1e-8, 1e-10


@functools.cache
def case(seed: int) -> tuple[TensorProgram, ad.Program]:
    tp = generate(seed, statements=(8, 14)) if seed in LONG else generate(seed)
    return tp, ad.parse(tp.source, outputs=tp.outputs)


@functools.cache
def torch_answers(seed: int) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """Every statement's value, and the Jacobian {output: {input: out.shape + in.shape}}."""
    tp, _ = case(seed)
    env = tp.torch_inputs(torch)
    values = {k: v.detach().numpy() for k, v in tp.torch_values(torch, env).items()}
    names = list(tp.inputs)
    args = tuple(env[n].detach() for n in names)
    jac: dict[str, dict[str, np.ndarray]] = {}
    for out in tp.outputs:
        blocks = torch.autograd.functional.jacobian(tp.torch_function(torch, out), args)
        jac[out] = {n: np.asarray(b.numpy()) for n, b in zip(names, blocks, strict=True)}
    return values, jac


def close(ours: Any, theirs: Any, what: str, tp: TensorProgram) -> None:
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}\n{tp}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=f"{what}\n{tp}")


def test_the_generator_is_deterministic_and_varied() -> None:
    assert generate(7).source == generate(7).source
    sources = [generate(s).source for s in SEEDS]
    assert len(set(sources)) == len(sources)
    text = "\n".join(sources)
    # every construct the proof asks for appears in the fixed set of programs
    for construct in ("@", "sum(", "mean(", "softmax(", "logsumexp(", "transpose(", ", -1)",
                      ", 0)", ", 2)", "log(", "sqrt(", "exp(", "max(", "/", "[["):
        assert construct in text, construct
    shapes = {s for seed in SEEDS for s in generate(seed).inputs.values()}
    assert any(len(s) == 3 for s in shapes) and () in shapes and any(1 in s for s in shapes)


@pytest.mark.parametrize("seed", [*SEEDS, *LONG])
def test_shapes_and_values(seed: int) -> None:
    tp, program = case(seed)
    values, _ = torch_answers(seed)
    assert program.input_shapes == tp.inputs
    assert program.is_tensor
    graph = program.to_dict()["nodes"]
    assert [n["shape"] for n in graph] == [list(n.shape) for n in program.nodes]
    ours = ad.evaluate(program, tp.at)
    for name, expr in tp.statements:
        assert program.shape(name) == expr.shape, (name, tp)
        close(ours[name], values[name], f"value of {name}", tp)


@pytest.mark.parametrize("trace", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("seed", [*SEEDS, *LONG])
def test_jacobians_of_every_output(seed: int, mode: str, trace: bool) -> None:
    """The full Jacobian of the tensor output and the gradient of the scalar loss."""
    tp, program = case(seed)
    _, jac = torch_answers(seed)
    result = getattr(ad, mode)(program, tp.at, trace=trace)
    for out in tp.outputs:
        for name in tp.inputs:
            close(result.derivatives[out][name], jac[out][name], f"{mode} d{out}/d{name}", tp)
    if mode == "reverse":  # one pass per output element; forward: one per input element
        want = sum(int(np.prod(tp.shape(out))) for out in tp.outputs)
    else:
        want = sum(int(np.prod(shape)) for shape in tp.inputs.values())
    assert len(result.passes) == want


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("seed", SEEDS[::2])
def test_jacobian_function(seed: int, mode: str) -> None:
    tp, program = case(seed)
    _, jac = torch_answers(seed)
    result = ad.jacobian(program, tp.at, mode=mode)
    for out in tp.outputs:
        for name in tp.inputs:
            close(result.matrix[out][name], jac[out][name], f"jacobian {mode} d{out}/d{name}", tp)


@pytest.mark.parametrize("seed", SEEDS)
def test_vector_jacobian_and_jacobian_vector_products(seed: int) -> None:
    tp, program = case(seed)
    rng = np.random.default_rng(1000 + seed)
    env = tp.torch_inputs(torch)
    outs = tp.torch_values(torch, env)
    # reverse: a cotangent of the tensor output's shape
    bar = rng.normal(size=tp.shape("out"))
    grads = torch.autograd.grad(outs["out"], list(env.values()), torch.tensor(bar),
                                allow_unused=True)
    result = ad.reverse(program, tp.at, cotangent={"out": bar}, trace=False)
    assert result.directional is not None
    for name, g in zip(env, grads, strict=True):
        want = np.zeros(tp.inputs[name]) if g is None else g.numpy()
        close(result.directional[name], want, f"vjp onto {name}", tp)
    # forward: a seed of each input's shape
    dots = {n: rng.normal(size=s) for n, s in tp.inputs.items()}
    fn = tp.torch_function(torch, "out")
    primals = tuple(env[n].detach() for n in tp.inputs)
    _, jvp = torch.func.jvp(fn, primals, tuple(torch.tensor(dots[n]) for n in tp.inputs))
    result = ad.forward(program, tp.at, seed=dots, trace=False)
    assert result.directional is not None
    close(result.directional["out"], jvp.numpy(), "jvp of out", tp)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("seed", SEEDS[::2])
def test_wrt_differentiates_only_the_named_inputs(seed: int, mode: str) -> None:
    tp, program = case(seed)
    _, jac = torch_answers(seed)
    wrt = list(tp.inputs)[-1:]
    result = getattr(ad, mode)(program, tp.at, trace=False, wrt=wrt)
    passes = int(np.prod(tp.inputs[wrt[0]])) if mode == "forward" \
        else sum(int(np.prod(tp.shape(out))) for out in tp.outputs)
    assert len(result.passes) == passes  # forward: one pass per element of the wrt inputs
    for out in tp.outputs:
        assert set(result.derivatives[out]) == set(wrt)
        close(result.derivatives[out][wrt[0]], jac[out][wrt[0]], f"{mode} wrt {wrt}", tp)
    values, _ = torch_answers(seed)
    close(result.values["loss"], values["loss"], "value of loss with wrt", tp)


@pytest.mark.parametrize("seed", SEEDS)
def test_gradient_against_central_differences_along_a_direction(seed: int) -> None:
    """(loss(x + hv) - loss(x - hv)) / 2h = <grad, v>, with our evaluation only."""
    tp, program = case(seed)
    rng = np.random.default_rng(2000 + seed)
    v = {n: rng.normal(size=s) for n, s in tp.inputs.items()}
    h = 1e-5
    up = ad.evaluate(program, {n: tp.at[n] + h * v[n] for n in tp.inputs})["loss"]
    down = ad.evaluate(program, {n: tp.at[n] - h * v[n] for n in tp.inputs})["loss"]
    grad = ad.reverse(program, tp.at, trace=False).derivatives["loss"]
    slope = sum(float(np.sum(np.asarray(grad[n]) * v[n])) for n in tp.inputs)
    assert abs((up - down) / (2 * h) - slope) <= 1e-6 * (1 + abs(slope)), tp


@pytest.mark.parametrize("seed", FEWER)
def test_every_gradient_element_against_central_differences(seed: int) -> None:
    tp, program = case(seed)
    grad = ad.forward(program, tp.at, trace=False).derivatives["loss"]
    h = 1e-6
    for name, shape in tp.inputs.items():
        fd = np.zeros(shape)
        for index in np.ndindex(*shape):
            step = np.zeros(shape)
            step[index] = h
            up = ad.evaluate(program, {**tp.at, name: tp.at[name] + step})["loss"]
            down = ad.evaluate(program, {**tp.at, name: tp.at[name] - step})["loss"]
            fd[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(np.asarray(grad[name]), fd, rtol=1e-5, atol=1e-7,
                                   err_msg=f"d loss/d{name}\n{tp}")


@pytest.mark.parametrize("spread", ["every input", "one input"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("seed", FEWER)
def test_a_grid_of_two_points(seed: int, mode: str, spread: str) -> None:
    """An extra leading axis makes a grid: each point's answers are its own, as torch's. The
    inputs' grid axes broadcast together: one input may vary while the others stay put."""
    tp, program = case(seed)
    rng = np.random.default_rng(3000 + seed)
    moved = list(tp.inputs) if spread == "every input" else list(tp.inputs)[:1]
    other = {n: np.asarray(v) + (rng.uniform(-0.2, 0.2, np.shape(v)) if n in moved else 0.0)
             for n, v in tp.at.items()}
    grid = {n: np.stack([np.asarray(tp.at[n]), other[n]]) if n in moved else tp.at[n]
            for n in tp.inputs}
    result = getattr(ad, mode)(program, grid, trace=False)
    for k, point in enumerate((tp.at, other)):
        env = tp.torch_inputs(torch, point)
        loss = tp.torch_values(torch, env)["loss"]
        grads = torch.autograd.grad(loss, list(env.values()), allow_unused=True)
        close(np.asarray(result.values["loss"])[k], loss.detach().numpy(), f"loss at {k}", tp)
        for name, g in zip(env, grads, strict=True):
            want = np.zeros(tp.inputs[name]) if g is None else g.numpy()
            close(np.asarray(result.derivatives["loss"][name])[k], want,
                  f"{mode} dloss/d{name} at grid point {k}", tp)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_undefined_values_follow_the_sweep_policy(mode: str) -> None:
    """log of a negative element: an error naming the node at a point; on a grid, NaN for
    that point's value and every derivative, the other point's answers as torch's."""
    program = ad.parse("x: [3]\nw: [3]\nt = log(x)\ny = sum(t * w)")
    bad, good, w = np.array([1.0, -1.0, 2.0]), np.array([1.0, 2.0, 3.0]), np.ones(3)
    with pytest.raises(ad.EvaluationError, match="v2 \\(t\\)"):
        getattr(ad, mode)(program, {"x": bad, "w": w})
    result = getattr(ad, mode)(program, {"x": np.stack([bad, good]), "w": w}, trace=False)
    assert result.invalid_points == 1
    assert np.isnan(result.values["y"][0])
    for name in ("x", "w"):
        assert np.isnan(result.derivatives["y"][name][0]).all()
    x, wt = torch.tensor(good, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = torch.sum(torch.log(x) * wt)
    gx, gw = torch.autograd.grad(y, [x, wt])
    np.testing.assert_allclose(result.values["y"][1], y.item(), rtol=RTOL)
    np.testing.assert_allclose(result.derivatives["y"]["x"][1], gx.numpy(), rtol=RTOL)
    np.testing.assert_allclose(result.derivatives["y"]["w"][1], gw.numpy(), rtol=RTOL)


def test_nested_lists_are_values_too() -> None:
    tp, program = case(3)
    _, jac = torch_answers(3)
    at = {n: (v.tolist() if isinstance(v, np.ndarray) else v) for n, v in tp.at.items()}
    result = ad.reverse(program, at, trace=False)
    for name in tp.inputs:
        close(result.derivatives["loss"][name], jac["loss"][name], f"d loss/d{name}", tp)


# --- second derivatives and derivative programs -----------------------------------------------


def element_labels(tp: TensorProgram) -> list[str]:
    """The inputs' elements in input order, row-major: `W[0,1]`, or the name for a scalar."""
    return [name if not shape else f"{name}[{','.join(map(str, index))}]"
            for name, shape in tp.inputs.items() for index in np.ndindex(*shape)]


def small(seeds: range, elements: int = 40) -> list[int]:
    return [s for s in seeds if sum(int(np.prod(v)) for v in generate(s).inputs.values())
            <= elements]


@pytest.mark.parametrize("seed", small(SEEDS[::2]))
def test_hessian_of_the_loss_over_every_input_element(seed: int) -> None:
    tp, program = case(seed)
    names = list(tp.inputs)
    flat = np.concatenate([np.ravel(tp.at[n]) for n in names])
    sizes = [int(np.prod(tp.inputs[n])) for n in names]
    loss = tp.torch_function(torch, "loss")

    def of_flat(v: Any) -> Any:
        parts = torch.split(v, sizes)
        return loss(*(p.reshape(tp.inputs[n]) for p, n in zip(parts, names, strict=True)))

    want = torch.autograd.functional.hessian(of_flat, torch.tensor(flat)).numpy()
    result = ad.hessian(program, tp.at, output="loss")
    assert result.labels == element_labels(tp)
    close(result.matrix, want, "hessian", tp)
    starts = np.cumsum([0] + sizes)
    for row, x in enumerate(names):  # the blocks [x][z], of shape x.shape + z.shape
        for col, z in enumerate(names):
            block = want[starts[row]:starts[row + 1], starts[col]:starts[col + 1]]
            close(result.hessian[x][z], block.reshape(tp.inputs[x] + tp.inputs[z]),
                  f"hessian block {x}, {z}", tp)
    _, jac = torch_answers(seed)
    for name in names:
        close(result.gradient[name], jac["loss"][name], f"hessian's gradient {name}", tp)


@pytest.mark.parametrize("seed", SEEDS[::3])
def test_derivative_programs(seed: int) -> None:
    """grad_program, vjp_program and jvp_program written out as tensor graphs, then evaluated."""
    tp, program = case(seed)
    _, jac = torch_answers(seed)
    grads = ad.evaluate(ad.grad_program(program, "loss"), tp.at)
    for name in tp.inputs:
        close(grads[f"dloss/d{name}"], jac["loss"][name], f"grad_program dloss/d{name}", tp)
    rng = np.random.default_rng(4000 + seed)
    bar = rng.normal(size=tp.shape("out"))
    vjp = ad.evaluate(ad.vjp_program(program), {**tp.at, "out_bar": bar, "loss_bar": 0.0})
    for name in tp.inputs:
        want = np.tensordot(bar, jac["out"][name], axes=len(tp.shape("out")))
        close(vjp[f"{name}_bar"], want, f"vjp_program {name}_bar", tp)
    dots = {n: rng.normal(size=s) for n, s in tp.inputs.items()}
    jvp = ad.evaluate(ad.jvp_program(program), {**tp.at, **{f"{n}_dot": v for n, v in
                                                            dots.items()}})
    want = sum(np.tensordot(jac["out"][n], dots[n], axes=len(tp.inputs[n])) for n in tp.inputs)
    close(jvp["out_dot"], want, "jvp_program out_dot", tp)


SCALAR_INPUT_SEEDS = [s for s in range(200) if () in generate(s).inputs.values()][:6]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("seed", SCALAR_INPUT_SEEDS)
def test_derivative_in_a_scalar_input(seed: int, order: int) -> None:
    """derivative(program, u, order): tensors in between, a scalar input u; torch's jacfwd."""
    tp, program = case(seed)
    u = next(n for n, shape in tp.inputs.items() if shape == ())
    env = {n: torch.tensor(np.asarray(v, dtype=np.float64)) for n, v in tp.at.items()}
    for out in tp.outputs:
        def f(x: Any, out: str = out) -> Any:
            return tp.torch_values(torch, {**env, u: x})[out]

        want = torch.func.jacfwd(f)
        if order == 2:
            want = torch.func.jacfwd(want)
        d = ad.derivative(program, u, order=order, output=out)
        (name,) = d.outputs
        close(ad.evaluate(d, tp.at)[name], want(env[u]).numpy(), f"{name}", tp)


def test_derivative_in_a_tensor_input_is_refused_clearly() -> None:
    tp, program = case(0)
    with pytest.raises(ad.ExpressionError, match="tensor"):
        ad.derivative(program, next(iter(tp.inputs)), output="loss")


def test_derivative_programs_give_structural_zeros_their_shape() -> None:
    """An input off the route (W) has a zero gradient of its shape; a tensor output that does
    not depend on the seeded input has a zero tangent of its shape; so does a second derivative
    that is zero (relu is piecewise linear)."""
    program = ad.parse("W: [2, 1]\nx: [3]\nu: []\nz = relu(x * u)\ny = sum(x * x)",
                       outputs=["z", "y"])
    at = {"W": np.ones((2, 1)), "x": np.arange(1.0, 4.0), "u": 0.5}
    assert np.shape(ad.evaluate(ad.grad_program(program, "y"), at)["dy/dW"]) == (2, 1)
    vjp = ad.evaluate(ad.vjp_program(program), {**at, "z_bar": np.ones(3), "y_bar": 1.0})
    assert np.shape(vjp["W_bar"]) == (2, 1)
    jvp = ad.evaluate(ad.jvp_program(program), {**at, "W_dot": np.ones((2, 1)),
                                                "x_dot": np.zeros(3), "u_dot": 0.0})
    assert np.shape(jvp["z_dot"]) == (3,) and np.shape(jvp["y_dot"]) == ()
    second = ad.derivative(program, "u", order=2, output="z")
    assert np.shape(ad.evaluate(second, at)["d2z/du2"]) == (3,)
