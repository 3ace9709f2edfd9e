"""Session 39: batches x several outputs x orders 1-4 together (benchmarks/orders39_fuzz.py's cases).

Each case runs jac's CLI with ``--json`` in this process and holds its keys, shapes and numbers to the contract
(sections "Batches", "Several outputs", "Higher orders", the table's math_shape) and, where PyTorch or JAX is
installed, to ``torch.func`` / ``jax`` transforms of the same text (``vmap`` of nested ``jacfwd`` over ``jacrev``).
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.tools import api

X = np.array([[[0.3, -0.7], [0.9, 0.2]], [[-0.4, 0.6], [0.1, -0.8]], [[0.5, 0.5], [-0.2, 0.4]]])  # (3, 2, 2)
W = np.array([0.5, -0.25])


def jac(*args):
    """``(exit code, the --json object, stderr)`` of ``jac ARGS --json``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args] + ["--json"])
    return code, json.loads(out.getvalue()), err.getvalue()


def values(obj):
    return np.asarray(obj, dtype=np.float64)


def text(a):
    return repr(np.asarray(a, dtype=np.float64).tolist())


PROGRAM = "a = torch.sin(x) * w; b = torch.sum(x ** 3); a, b"  # a: (2, 2) per example, b: ()


def _torch_tuple(torch):
    return lambda x, w: (torch.sin(x) * w, torch.sum(x ** 3))


# ---------------------------------------------------------------------------------------------- keys, shapes
def test_a_negative_batch_axis_is_reported_as_the_axis_it_names():
    x = np.moveaxis(X, 0, 2)  # the batch along axis 2 of (2, 2, 3), given as -1
    code, obj, _ = jac("eval", PROGRAM, f"x={text(x)}", f"w={text(W)}", "--batch", "x:-1")
    assert code == 0
    assert obj["batch"] == {"size": 3, "inputs": {"x": 2}}
    same = jac("eval", PROGRAM, f"x={text(x)}", f"w={text(W)}", "--batch", "x:2")[1]
    assert obj["jacobians"] == same["jacobians"] and obj["outputs"] == same["outputs"]


def test_shape_predicts_every_block_of_several_batched_outputs():
    code, obj, _ = jac("shape", PROGRAM, "x:3x2x2", "w:2", "--batch", "x")
    assert code == 0 and obj["batch"] == {"size": 3, "inputs": {"x": 0}}
    assert [(o["name"], o["shape"]) for o in obj["outputs"]] == [("a", [2, 2]), ("b", [])]
    d = obj["derivatives"]
    assert (d["a"]["x"]["shape"], d["a"]["x"]["math_shape"]) == ([2, 2, 2, 2], [2, 2, 2, 2])
    assert (d["a"]["w"]["shape"], d["a"]["w"]["math_shape"]) == ([2, 2, 2], [2, 2, 2])
    assert (d["b"]["x"]["shape"], d["b"]["x"]["math_shape"]) == ([2, 2], [2, 2])  # scalar by matrix: (k, n)
    assert (d["b"]["w"]["shape"], d["b"]["w"]["math_shape"]) == ([2], [1, 2])
    code, ev, _ = jac("eval", PROGRAM, f"x={text(X)}", f"w={text(W)}", "--batch", "x")
    for out in ("a", "b"):
        for name in ("x", "w"):
            block = ev["jacobians"][out][name]
            assert block["shape"] == d[out][name]["shape"] and block["math_shape"] == d[out][name]["math_shape"]
            assert values(block["value"]).shape == (3, *block["shape"])


def test_the_numerator_layout_under_a_batch_is_each_example_permuted():
    x = np.array([[[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]], [[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]]])  # 2 examples of (2, 3)
    args = ("eval", "a = torch.sum(X * w); a, X.T", f"X={text(x)}", "w=[1, 2, 3]", "--batch", "X")
    arr = jac(*args)[1]["jacobians"]
    num = jac(*args, "--layout", "numerator")[1]["jacobians"]
    assert num["a"]["X"]["layout"] == "numerator" and num["a"]["X"]["math_shape"] == [3, 2]
    np.testing.assert_array_equal(values(num["a"]["X"]["value"]), np.swapaxes(values(arr["a"]["X"]["value"]), 1, 2))
    np.testing.assert_array_equal(values(num["a"]["w"]["value"]), values(arr["a"]["w"]["value"])[:, None, :])
    np.testing.assert_array_equal(values(num["y1"]["X"]["value"]),
                                  np.swapaxes(values(arr["y1"]["X"]["value"]), 3, 4))
    got = api.jacobian("a = torch.sum(X * w); a, X.T", {"X": x, "w": [1.0, 2.0, 3.0]}, batch=["X"],
                       layout="numerator")
    np.testing.assert_array_equal(got["a"]["X"], values(num["a"]["X"]["value"]))


def test_out_files_hold_the_json_values_of_several_batched_outputs(tmp_path):
    args = ("eval", PROGRAM, f"x={text(X)}", f"w={text(W)}", "--batch", "x")
    blocks = jac(*args)[1]["jacobians"]
    want = {f"{o},{n}": values(b["value"]) for o, bl in blocks.items() for n, b in bl.items()}
    assert jac(*args, "--out", tmp_path / "J.npz")[0] == 0
    with np.load(tmp_path / "J.npz") as f:
        assert sorted(f.files) == sorted(want)
        for k, v in want.items():
            np.testing.assert_array_equal(f[k], v)
    assert jac(*args, "--out", tmp_path / "J.json")[0] == 0
    saved = json.loads((tmp_path / "J.json").read_text())
    assert sorted(saved) == sorted(want)
    for k, v in want.items():
        np.testing.assert_array_equal(values(saved[k]), v)


# ---------------------------------------------------------------------------------------------- orders
def test_orders_one_and_two_are_eval_and_hessian_blocks_under_a_batch():
    base = (PROGRAM, f"x={text(X)}", f"w={text(W)}", "--batch", "x")
    ev = jac("eval", *base)[1]["jacobians"]
    he = jac("hessian", *base)[1]["hessians"]
    d1 = jac("derivative", *base, "--wrt", "x", "--order", "1")[1]["derivatives"]
    d2 = jac("derivative", *base, "--wrt", "x", "--order", "2")[1]["derivatives"]
    for out in ("a", "b"):
        np.testing.assert_array_equal(values(d1[out]["x"]["value"]), values(ev[out]["x"]["value"]))
        np.testing.assert_allclose(values(d2[out]["x"]["value"]), values(he[out]["x,x"]["value"]),
                                   rtol=1e-14, atol=1e-14)
    assert sorted(he["a"]) == ["w,w", "w,x", "x,w", "x,x"]
    assert he["a"]["x,w"]["shape"] == [2, 2, 2, 2, 2]  # y.shape + x.shape + w.shape, one example's


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_a_batched_sparse_derivative_is_the_dense_tensors_diagonal(order):
    base = ("torch.exp(x) * w", "x=[[1, 2], [3, 4]]", "w=[0.5, 0.25]", "--batch", "x", "--wrt", "x",
            "--order", order)
    dense = values(jac("derivative", *base)[1]["derivative"]["x"]["value"])
    sparse = jac("derivative", *base, "--sparse")[1]["derivative"]["x"]
    assert sparse["structure"] == "diagonal" and dense.shape == (2,) + (2,) * (order + 1)
    at = (slice(None),) + (np.arange(2),) * (order + 1)
    np.testing.assert_array_equal(values(sparse["diagonal"]), dense[at])
    np.testing.assert_allclose(values(sparse["diagonal"]), np.exp([[1, 2], [3, 4]]) * [0.5, 0.25], rtol=1e-15)
    off = dense.copy()
    off[at] = 0
    assert not off.any()


def test_a_shared_inputs_higher_derivative_is_per_example():
    code, obj, _ = jac("derivative", "a = w ** 3; a, x * w", "x=[1, 2, 3]", "w=2", "--batch", "x", "--wrt", "w",
                       "--order", "3")
    assert code == 0
    assert values(obj["derivatives"]["a"]["w"]["value"]).tolist() == [6.0, 6.0, 6.0]  # broadcast to every example
    assert values(obj["derivatives"]["y1"]["w"]["value"]).tolist() == [0.0, 0.0, 0.0]
    assert [o["value"] for o in obj["outputs"]] == [[8.0, 8.0, 8.0], [2.0, 4.0, 6.0]]


def test_a_batch_of_one_along_the_last_axis_at_order_four():
    x = np.array([[[0.3], [-0.7]], [[0.9], [0.2]]])  # (2, 2, 1): one example of (2, 2)
    code, obj, _ = jac("derivative", "torch.sum(torch.sin(x) * x ** 2)", f"x={text(x)}", "--batch", "x:2",
                       "--order", "4")
    assert code == 0 and obj["batch"] == {"size": 1, "inputs": {"x": 2}}
    d = values(obj["derivative"]["x"]["value"])
    assert d.shape == (1,) + (2, 2) * 4
    t = x[:, :, 0]  # f = sum(sin(t) t²): only the diagonal D[i,j,i,j,i,j,i,j] = f''''(t_ij) is nonzero
    f4 = t ** 2 * np.sin(t) - 8 * t * np.cos(t) - 12 * np.sin(t)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(d[(0,) + (i, j) * 4], f4[i, j], rtol=1e-12)
    assert np.count_nonzero(d) == 4


# ---------------------------------------------------------------------------------------------- vjp, jvp
def test_vjp_of_several_batched_outputs_counts_an_omitted_one_as_zero():
    vb = np.array([0.5, -1.0, 2.0])
    base = (PROGRAM, f"x={text(X)}", f"w={text(W)}", "--batch", "x")
    only_b = values(jac("vjp", *base, "--v", f"b={text(vb)}")[1]["vjp"]["x"]["value"])
    np.testing.assert_allclose(only_b, 3 * X ** 2 * vb[:, None, None], rtol=1e-15)
    va = np.ones((3, 2, 2))
    both = jac("vjp", *base, "--v", f"b={text(vb)}", "--v", f"a={text(va)}")[1]["vjp"]
    np.testing.assert_allclose(values(both["x"]["value"]), only_b + np.cos(X) * W, rtol=1e-14)
    np.testing.assert_allclose(values(both["w"]["value"]), np.sin(X).sum(axis=1), rtol=1e-14)


def test_vjp_without_v_of_batched_one_element_outputs_seeds_each_with_one():
    code, obj, _ = jac("vjp", "a = torch.sum(x ** 2); b = torch.sum(torch.sin(x)); a, b", "x=[[1, 2], [3, 4]]",
                       "--batch", "x")
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert code == 0
    np.testing.assert_allclose(values(obj["vjp"]["x"]["value"]), 2 * x + np.cos(x), rtol=1e-15)


def test_jvp_of_a_shared_input_takes_a_tangent_per_example():
    code, obj, _ = jac("jvp", "torch.sin(x) * w", "x=[[1, 2], [3, 4]]", "w=[0.5, 0.25]", "--batch", "x",
                       "--tangent", "w=[[1, 0], [0, 1]]")
    assert code == 0
    np.testing.assert_allclose(values(obj["jvp"]["value"]), [[np.sin(1), 0], [0, np.sin(4)]], rtol=1e-15)


# ---------------------------------------------------------------------------------------------- float32
def test_float32_orders_are_within_float32_rounding_of_float64():
    base = (PROGRAM, f"x={text(X)}", f"w={text(W)}", "--batch", "x", "--wrt", "x", "--order", "3")
    d64 = jac("derivative", *base)[1]["derivatives"]
    d32 = jac("derivative", *base, "--dtype", "float32")[1]["derivatives"]
    for out in ("a", "b"):
        a, b = values(d32[out]["x"]["value"]), values(d64[out]["x"]["value"])
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(b).max())


# ---------------------------------------------------------------------------------------------- parity
def _nest(tf, f, argnum, order):
    g = tf.jacrev(f, argnums=argnum)
    for _ in range(order - 1):
        g = tf.jacfwd(g, argnums=argnum)
    return g


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_several_batched_outputs_at_every_order_against_torch_func(order):
    torch = pytest.importorskip("torch")
    import torch.func as tf
    x = X[:2, :, :1]  # keep order 4 small: examples of (2, 1)
    code, obj, _ = jac("derivative", PROGRAM, f"x={text(x)}", f"w={text(W[:1])}", "--batch", "x", "--wrt", "x",
                       "--order", order)
    assert code == 0
    ref = tf.vmap(_nest(tf, _torch_tuple(torch), 0, order), in_dims=(0, None))(
        torch.tensor(x), torch.tensor(W[:1]))
    for k, out in enumerate(("a", "b")):
        got = values(obj["derivatives"][out]["x"]["value"])
        assert obj["derivatives"][out]["x"]["shape"] == list(ref[k].shape[1:])
        np.testing.assert_allclose(got, ref[k].numpy(), rtol=1e-12, atol=1e-12)


def test_batched_hessians_of_several_outputs_against_torch_func():
    torch = pytest.importorskip("torch")
    import torch.func as tf
    code, obj, _ = jac("hessian", PROGRAM, f"x={text(X)}", f"w={text(W)}", "--batch", "x")
    assert code == 0
    H = tf.vmap(tf.jacfwd(tf.jacrev(_torch_tuple(torch), argnums=(0, 1)), argnums=(0, 1)), in_dims=(0, None))(
        torch.tensor(X), torch.tensor(W))
    names = ("x", "w")
    for k, out in enumerate(("a", "b")):
        for i, p in enumerate(names):
            for j, q in enumerate(names):
                np.testing.assert_allclose(values(obj["hessians"][out][f"{p},{q}"]["value"]), H[k][i][j].numpy(),
                                           rtol=1e-12, atol=1e-14)


GRAD_IN_TEXT = ("def f(x):\n    return torch.sum(torch.sin(x) * torch.cumsum(x, dim=-1) * w)\n"
                "g = torch.func.grad(f)(x)\ng, f(x)")


def test_a_gradient_written_in_the_text_differentiated_to_order_three_under_a_batch():
    torch = pytest.importorskip("torch")
    import torch.func as tf
    x = X[:, 0, :]  # 3 examples of (2,)
    code, obj, _ = jac("derivative", GRAD_IN_TEXT, f"x={text(x)}", f"w={text(W)}", "--batch", "x", "--wrt", "x",
                       "--order", "3")
    assert code == 0 and [o["name"] for o in obj["outputs"]] == ["g", "y1"]

    def program(x, w):
        def f(x):
            return torch.sum(torch.sin(x) * torch.cumsum(x, dim=-1) * w)
        return tf.grad(f)(x), f(x)
    ref = tf.vmap(_nest(tf, program, 0, 3), in_dims=(0, None))(torch.tensor(x), torch.tensor(W))
    for k, out in enumerate(("g", "y1")):
        np.testing.assert_allclose(values(obj["derivatives"][out]["x"]["value"]), ref[k].numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_a_numpy_program_with_a_shared_input_at_order_four_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    text_np = "h = np.tanh(x @ A); h, np.sum(h ** 2)"
    x = np.array([[0.3, -0.5], [0.8, 0.1]])  # 2 examples of (2,)
    A = np.array([[0.4, -0.2], [0.7, 0.3]])
    code, obj, _ = jac("derivative", text_np, f"x={text(x)}", f"A={text(A)}", "--batch", "x", "--wrt", "A",
                       "--order", "2")
    assert code == 0

    def f(x, A):
        h = jnp.tanh(x @ A)
        return h, jnp.sum(h ** 2)
    ref = jax.vmap(jax.jacfwd(jax.jacrev(f, argnums=1), argnums=1), in_axes=(0, None))(x, A)
    for k, out in enumerate(("h", "y1")):
        np.testing.assert_allclose(values(obj["derivatives"][out]["A"]["value"]), np.asarray(ref[k]), rtol=1e-12,
                                   atol=1e-13)
    code, obj, _ = jac("derivative", text_np, f"x={text(x)}", f"A={text(A)}", "--batch", "x", "--wrt", "x",
                       "--order", "4")
    g = jax.jacrev(f, argnums=0)
    for _ in range(3):
        g = jax.jacfwd(g, argnums=0)
    ref = jax.vmap(g, in_axes=(0, None))(x, A)
    for k, out in enumerate(("h", "y1")):
        np.testing.assert_allclose(values(obj["derivatives"][out]["x"]["value"]), np.asarray(ref[k]), rtol=1e-11,
                                   atol=1e-12)
