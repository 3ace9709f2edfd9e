"""Argument validation as the library named (session 41, benchmarks/raises41_fuzz.py): where NumPy or PyTorch
raises, jac refuses (exit 2, the argument named, a caret); where they answer, jac answers the same.

Each refusal is checked against the library itself: the test fails if the library stops raising."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[0.5, 0.6, 0.7], [0.2, 0.9, 0.4]])
S = np.array(0.7)

# (text, inputs, what jac's message names): the library raises, jac refuses
REFUSED = [
    # a float literal where an integer is needed (jac answered with int(1.0))
    ("torch.sum(x, 1.0)", {"x": X}, "float 1.0"),
    ("torch.sum(x, dim=(0, 1.0))", {"x": X}, "float"),
    ("x.sum(dim=1.0)", {"x": X}, "float 1.0"),
    ("np.sum(x, axis=1.0)", {"x": X}, "float 1.0"),
    ("np.mean(x, 0.0)", {"x": X}, "float 0.0"),
    ("np.cumsum(x, axis=-1.0)", {"x": X}, "float -1.0"),
    ("np.argmin(x, axis=1.0)", {"x": X}, "float 1.0"),
    ("np.round(x, 1.0)", {"x": X}, "float 1.0"),
    ("np.flip(x, 1.0)", {"x": X}, "float 1.0"),
    ("x.reshape(3.0, 2)", {"x": X}, "float 3.0"),
    ("torch.reshape(x, (3.0, 2))", {"x": X}, "float"),
    ("x.flip(0.0)", {"x": X}, "float 0.0"),
    ("torch.roll(x, 1.0)", {"x": X}, "float 1.0"),
    ("torch.matrix_power(x[:, :2], 2.0)", {"x": X}, "float 2.0"),
    ("np.linalg.matrix_power(x[:, :2], 2.0)", {"x": X}, "float 2.0"),
    ("torch.topk(x, 2.0).values", {"x": X}, "float 2.0"),
    ("torch.diag(x[0], 1.0)", {"x": X}, "float 1.0"),
    ("np.trace(x, 1.0)", {"x": X}, "float 1.0"),
    ("np.partition(x, 1.0)", {"x": X}, "float 1.0"),
    # keepdim(s) of a type the library refuses (jac read its truth)
    ("torch.sum(x, 0, keepdim=1)", {"x": X}, "keepdims must be True or False, not the int 1"),
    ("torch.mean(x, dim=0, keepdim=None)", {"x": X}, "not None"),
    ("x.sum(dim=0, keepdim=2)", {"x": X}, "the int 2"),
    ("np.sum(x, axis=0, keepdims=None)", {"x": X}, "not None"),
    ("np.max(x, axis=0, keepdims='yes')", {"x": X}, "'yes'"),
    ("np.mean(x, 0, keepdims=1.0)", {"x": X}, "the float 1.0"),
    ("x.sum(axis=0, keepdims=None)", {"x": X}, "not None"),
    # a repeated dim (jac flipped or squeezed once)
    ("torch.flip(x, (0, 0))", {"x": X}, "repeated axis in (0, 0)"),
    ("torch.flip(x, (0, -2))", {"x": X}, "repeated axis"),
    ("np.flip(x, (1, -1))", {"x": X}, "repeated axis"),
    ("x.flip(1, -1)", {"x": X}, "repeated axis"),
    ("torch.squeeze(x[None], (0, 0))", {"x": X}, "repeated axis"),
    # torch.unsqueeze takes one int (jac read the tuple as np.expand_dims does)
    ("torch.unsqueeze(x, (0, 1))", {"x": X}, "not a tuple"),
    ("x.unsqueeze((0,))", {"x": X}, "not a tuple"),
    # NumPy's AxisError for an axis of a 0-d array (jac read it as np.sum does)
    ("np.mean(s, axis=0)", {"s": S}, "out of bounds for array of dimension 0"),
    ("np.var(s, -1)", {"s": S}, "dimension 0"),
    ("np.std(s, axis=0)", {"s": S}, "dimension 0"),
    ("np.median(s, axis=-1)", {"s": S}, "dimension 0"),
    ("np.average(s, axis=0)", {"s": S}, "dimension 0"),
    ("np.sort(s)", {"s": S}, "dimension 0"),
    ("np.flip(s, 0)", {"s": S}, "dimension 0"),
    ("np.linalg.norm(s, axis=0)", {"s": S}, "dimension 0"),
]

# the library answers: jac must answer the same (the checks above must not over-reach)
ANSWERED = [
    ("x.reshape(max(3, 1), -1)", {"x": X}),  # an int computed by Python: folded as a float, still an int
    ("x.reshape(sum([1, 2]), 2)", {"x": X}),
    ("x.reshape(x.shape[0] * 3 // 2, 2)", {"x": X}),
    ("import math\nx.reshape(math.floor(3.5), -1)", {"x": X}),
    ("x.reshape(int(6 / 2), -1)", {"x": X}),
    ("np.roll(x, 1.0)", {"x": X}),  # NumPy's Python-level functions call int()
    ("np.rot90(x, 1.0)", {"x": X}),
    ("np.tril(x, 1.0)", {"x": X}),
    ("np.repeat(x, 2.0)", {"x": X}),
    ("np.linalg.norm(x, axis=1.0)", {"x": X}),
    ("np.sum(x, axis=0, keepdims=2)", {"x": X}),  # operator.index(2): its truth
    ("np.argmax(x, axis=0, keepdims=None)", {"x": X}),  # Python-level: bool(keepdims)
    ("np.median(x, axis=0, keepdims='yes')", {"x": X}),
    ("torch.sum(x, 0, keepdim=True)", {"x": X}),
    ("torch.var(x, correction=1.0)", {"x": X}),
    ("np.std(x, ddof=1.0)", {"x": X}),
    ("torch.split(x, [1, 1])[0]", {"x": X}),
    ("np.split(x, [1], axis=1)[1]", {"x": X}),
    ("np.expand_dims(x, (0, 1))", {"x": X}),
    ("torch.flip(x, (0, 1))", {"x": X}),
    ("np.sum(s, axis=0)", {"s": S}),  # NumPy's ufunc reductions take axis 0 of a 0-d
    ("np.max(s, axis=-1)", {"s": S}),
    ("np.cumsum(s, axis=0)", {"s": S}),
    ("np.argsort(s)", {"s": S}),
    ("np.sort(s, axis=None)", {"s": S}),
    ("np.squeeze(s, axis=0)", {"s": S}),
]


def _library(text: str, inputs: dict):
    import torch
    import torch.nn.functional as F
    torchy = "torch." in text or "F." in text or any(m in text for m in (".flip(", "keepdim=", ".unsqueeze(",
                                                                         "sum(dim="))
    scope = {"np": np, "torch": torch, "F": F}
    scope.update({k: torch.tensor(v) if torchy else np.asarray(v) for k, v in inputs.items()})
    *statements, last = text.split("\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for statement in statements:
            exec(statement, scope)  # noqa: S102 - the test's own texts
        y = eval(last, scope)  # noqa: S307
    return y.detach().numpy() if hasattr(y, "detach") else np.asarray(y)


@pytest.mark.parametrize("text,inputs,words", REFUSED, ids=[t for t, _, _ in REFUSED])
def test_jac_refuses_what_the_library_refuses(text, inputs, words):
    pytest.importorskip("torch")
    with pytest.raises(Exception):  # noqa: B017 - the library's own TypeError / AxisError / RuntimeError
        _library(text, inputs)
    with pytest.raises(JacError) as err:
        api.evaluate(text, inputs)
    assert words in str(err.value)
    assert err.value.position is not None  # a caret under the call


@pytest.mark.parametrize("text,inputs", ANSWERED, ids=[t for t, _ in ANSWERED])
def test_jac_answers_what_the_library_answers(text, inputs):
    pytest.importorskip("torch")
    want = _library(text, inputs)
    got = api.evaluate(text, inputs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("p,q", [([0.5, 0.6, 0.7], [0.0, -1.0]), ([0.0, 0.6, 0.7], [1.0, 2.0]),
                                 ([0.0, 0.0], [0.0, 3.0]), ([1.0, 2.0], [3.0])])
def test_polymul_drops_leading_zeros_as_numpy(p, q):
    """np.polymul makes a poly1d of each operand: jac gave a longer result with a leading 0 (WRONG shape)."""
    inputs = {"p": np.array(p), "q": np.array(q)}
    want = np.polymul(inputs["p"], inputs["q"])
    got = api.evaluate("np.polymul(p, q)", inputs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-14)
    assert api.evaluate("np.polymul(p, (0, -1))", inputs).shape == np.polymul(inputs["p"], (0, -1)).shape
    # the Jacobian at those values against central differences of NumPy's own polymul
    J = api.jacobian("np.polymul(p, q)", inputs)
    for name in ("p", "q"):
        h, columns = 1e-6, []
        for i in range(inputs[name].size):
            up, down = dict(inputs), dict(inputs)
            up[name] = inputs[name] + h * np.eye(inputs[name].size)[i]
            down[name] = inputs[name] - h * np.eye(inputs[name].size)[i]
            a, b = np.polymul(up["p"], up["q"]), np.polymul(down["p"], down["q"])
            if a.shape != want.shape or b.shape != want.shape:  # a perturbed leading zero changes the length
                columns = None
                break
            columns.append((a - b) / (2 * h))
        if columns is not None:
            np.testing.assert_allclose(J[name], np.stack(columns, axis=-1), atol=1e-8)


def test_jnp_polymul_keeps_leading_zeros():
    jnp = pytest.importorskip("jax.numpy")
    import jax
    jax.config.update("jax_enable_x64", True)
    p, q = np.array([0.0, 0.6, 0.7]), np.array([1.0, 2.0])
    want = np.asarray(jnp.polymul(p, q))
    got = api.evaluate("import jax.numpy as jnp\njnp.polymul(p, q)", {"p": p, "q": q})
    assert got.shape == want.shape == (4,)


def test_command_line_refusal_names_the_argument_with_a_caret():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    result = CliRunner().invoke(app, ["eval", "torch.sum(x, 1.0)", "x=[1, 2]"])
    assert result.exit_code == 2
    assert "axis must be an integer, not the float 1.0" in result.output
    assert "^" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["eval", "np.mean(s, axis=0)", "s=2.0", "--json"])
    assert result.exit_code == 2
    assert '"kind": "shape"' in result.stdout and "dimension 0" in result.stdout
