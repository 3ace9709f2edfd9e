"""Session 28's command-line probes against PyTorch (benchmarks/cli28_sweep.py has the whole sweep): several outputs
under every command, jac hessian --wrt past the default's block limit, and a binding beyond float32's range, each
through the typer app with --json and compared with what PyTorch computes."""

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")
runner = CliRunner()
rng = np.random.default_rng(2801)
X, W = rng.standard_normal(3), rng.standard_normal(2)
A = rng.standard_normal((3, 3)) + 3 * np.eye(3)


def jac(*args) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def bound(inputs: dict) -> list:
    return [f"{k}={json.dumps(np.asarray(v).tolist())}" for k, v in inputs.items()]


def outs(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


SEVERAL = [  # (text, its PyTorch function of the inputs, inputs)
    ("a = torch.sin(x)\nb = (x ** 2).sum()\na, b", lambda x: (torch.sin(x), (x ** 2).sum()), {"x": X}),
    ("torch.outer(x, w), x.sum() * w", lambda x, w: (torch.outer(x, w), x.sum() * w), {"x": X, "w": W}),
    ("y = x * 2\nx, y", lambda x: (x, x * 2), {"x": X}),
    ("torch.sin(x), torch.cos(w)", lambda x, w: (torch.sin(x), torch.cos(w)), {"x": X, "w": W}),
    ("torch.linalg.inv(A), torch.linalg.solve(A, x)", lambda A, x: (torch.linalg.inv(A), torch.linalg.solve(A, x)),
     {"A": A, "x": X}),
    ("torch.linalg.slogdet(A)", lambda A: tuple(torch.linalg.slogdet(A)), {"A": A}),
]


@pytest.mark.parametrize("text,f,inputs", SEVERAL, ids=[t.split("\n")[-1] for t, _, _ in SEVERAL])
def test_several_outputs_under_vjp_jvp_and_hessian_are_pytorchs(float64, text, f, inputs):
    names, args = list(inputs), tuple(torch.tensor(v) for v in inputs.values())
    ys = outs(f(*args))
    keys = [o["name"] for o in jac("eval", text, *bound(inputs))["outputs"]]
    vs = [torch.tensor(rng.standard_normal(tuple(y.shape))) for y in ys]
    vs[0] = torch.zeros_like(ys[0])  # left out: it counts as zero
    given = [a for k, v in zip(keys[1:], vs[1:]) for a in ("--v", f"{k}={json.dumps(v.tolist())}")]
    leaves = tuple(a.clone().requires_grad_() for a in args)
    grads = torch.autograd.grad(outs(f(*leaves))[1:], leaves, vs[1:], allow_unused=True)
    vjp = jac("vjp", text, *bound(inputs), *given)["vjp"]
    for n, g, a in zip(names, grads, leaves):
        theirs = np.zeros(a.shape) if g is None else g.numpy()
        np.testing.assert_allclose(vjp[n]["value"], theirs, rtol=1e-10, atol=1e-12, err_msg=n)
    tangents = [rng.standard_normal(np.shape(v)) for v in inputs.values()]
    along = [a for n, t in zip(names, tangents) for a in ("--tangent", f"{n}={json.dumps(t.tolist())}")]
    jvps = jac("jvp", text, *bound(inputs), *along)["jvps"]
    hessians = jac("hessian", text, *bound(inputs))["hessians"]
    every = tuple(range(len(names)))
    for i, key in enumerate(keys):
        J = torch.autograd.functional.jacobian(lambda *a, i=i: outs(f(*a))[i], args)
        theirs = sum(np.tensordot(j.numpy(), t, t.ndim) for j, t in zip(J, tangents))
        np.testing.assert_allclose(jvps[key]["value"], theirs, rtol=1e-10, atol=1e-12, err_msg=key)
        H = torch.func.jacrev(torch.func.jacrev(lambda *a, i=i: outs(f(*a))[i], argnums=every), argnums=every)(*args)
        for p, a in enumerate(names):
            for q, b in enumerate(names):
                np.testing.assert_allclose(hessians[key][f"{a},{b}"]["value"], H[p][q].numpy(), rtol=1e-9, atol=1e-11,
                                           err_msg=f"{key} {a},{b}")


def test_hessian_blocks_of_named_inputs_past_the_default_limit_are_pytorchs(float64):
    xs = {f"x{i}": rng.uniform(0.5, 1.5, 2) for i in range(33)}  # 33 inputs: 1,089 blocks by default, refused
    text = " * ".join(f"x{i}" for i in range(33)) + " ** 2"
    text = f"torch.sin({text}).sum()"
    result = runner.invoke(app, ["hessian", text, *bound(xs)])  # as text: refused
    assert result.exit_code == 2 and result.stderr.startswith("jac: error (limit): 33 inputs")
    blocks = jac("hessian", text, *bound(xs), "--wrt", "x0", "--wrt", "x32")["hessian"]
    args = tuple(torch.tensor(v) for v in xs.values())

    def f(a, b):
        return torch.sin(torch.stack(args[1:-1]).prod(0) * a * b ** 2).sum()
    H = torch.autograd.functional.hessian(f, (args[0], args[-1]))
    for p, a in enumerate(("x0", "x32")):
        for q, b in enumerate(("x0", "x32")):
            np.testing.assert_allclose(blocks[f"{a},{b}"]["value"], H[p][q].numpy(), rtol=1e-10, atol=1e-12)


def test_a_binding_beyond_float32_is_pytorchs_inf():
    out = jac("eval", "x * 2", "x=[1e39, -1e39, 3]", "--dtype", "float32")
    theirs = torch.tensor([1e39, -1e39, 3], dtype=torch.float32) * 2
    words = {np.inf: "Infinity", -np.inf: "-Infinity"}
    assert out["output"]["value"] == [words.get(v, v) for v in theirs.tolist()] == ["Infinity", "-Infinity", 6.0]
