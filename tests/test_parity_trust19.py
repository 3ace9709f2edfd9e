"""The nineteenth session's silent differences and refusals of masks (boolean arrays) that were moved.

A mask moved without arithmetic (indexed, reshaped, transposed, broadcast, a ``where`` of masks) is a mask
in NumPy and PyTorch: ``m[0] + m[0]`` is True (their logical or), not 2; ``~m.reshape(-1)`` and ``m.T & m``
are logic. jac tracked such a node's dtype as bool but did not hold it as a mask, so ``+`` added its 0s and
1s (a silent 2) and ``~``, ``&``, ``x[m.T]`` were refused as if it were a float (ir/dtypes.track). A bool
matmul (``m @ m``, ``np.einsum`` of masks) is a bool in NumPy too: its or of ands, now cast as such.
Joining masks (``np.stack([x > 0, x < -1])``, ``np.concatenate``) was refused ("boolean negative": the
join negated its parts to keep -0's sign, functions._assemble); masks are joined by their or, and a mask
beside numbers joins as its 0s and 1s. ``np.select([0.75 > 0], [x], y)``, whose list of constant
conditions is folded into one constant, was refused as if no list had been written. A list of arrays given to
a NumPy function (``np.sum([x, y], axis=0)``, ``np.logical_or.reduce([m, n])``) was refused; NumPy makes one
array of it. The diff of a mask is its neighbours' exclusive or (it was refused as a boolean subtraction).

The power of an exponent known only at run time: PyTorch's ``x ** s`` of a tensor ``s`` (0-d or not) and
JAX's always are C's pow, +inf at -inf and +0 at -0 where s = 0.5; NumPy's of a one-element exponent and
PyTorch's of a number are the square root (NaN, -0). jac read every tensor exponent as NumPy does
(functions.c_power, torch_power). PyTorch's ``x ** -0.5`` of the number is its rsqrt: -inf at -0, NaN at -inf.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import jax_process, jax_reference  # noqa: F401 - the fixture is used by name
from test_parity_trust17 import assert_same

A = np.array([[1.0, -2.0, 0.5], [-0.0, 3.0, -1.5]])
x = np.array([1.0, -2.0, 0.0, 2.5])
INPUTS = {"A": A, "x": x}

NUMPY_TEXTS = [
    "(x > 0)[0] + (x > 0)[0] + x",  # True | True: 1, not 2
    "((x > 0).reshape(2, 2) + (x > 0).reshape(2, 2)) * x.reshape(2, 2)",
    "((A > 0).T + (A < 0).T) * A.T",
    "(~(x > 0).reshape(4)) * x",
    "((A > 0).T & (A.T < 2)) * A.T",
    "((A > 0)[:, :1] | (A < 0)[:, 1:2]) * A",
    "x[(x > 0).reshape(4)].sum() + 0 * x",
    "A[(A > 0).T.T].sum() + 0 * A",
    "((x > 0) @ (x > -3)) * x",  # a bool matmul: the or of the ands, True
    "np.einsum('i,i->', x > 0, x > -3) * x",
    "np.where((x > 0)[::-1], True, False) + np.where(x < 0, True, False) + x",
    "np.broadcast_to(x > 0, (2, 4)) * x",
    "np.stack([x > 0, x < -1]) * x",
    "np.stack([x > 0, x < -1], axis=1).sum(axis=1) * x",
    "np.concatenate([x > 0, x < 0]) * np.concatenate([x, x])",
    "np.hstack([A > 0, A < 0]).sum() + 0 * A",
    "np.vstack([A > 0, A < 0]) * np.vstack([A, A])",
    "np.stack([x > 0, x])",  # a mask beside numbers: its 0s and 1s
    "np.concatenate([x, x < 1]) * 2",
    "np.select(np.stack([x > 0, x < -1]) if False else [x > 0, x < -1], [x, 3 * x], 2 * x)",
    "np.select([np.float64(0.75) > 0], [x], -x)",
    "np.select([0.75 < 0], [x], -x)",
    "np.select([True, False], [x, 2 * x], -x)",
    "np.select([x > 1, True], [x, 2 * x], -x)",
    "np.pad(x > 0, 1) * np.pad(x, 1)",
    # a list of arrays given to a NumPy function is the array NumPy makes of it (np.asarray)
    "np.any([x > 0, x < -1], axis=0) * x",
    "np.sum([x > 0, x < -1], axis=0) * x",
    "np.mean([x, 2 * x], axis=0)",
    "np.max([x, -x], axis=0)",
    "np.sum([x, 2 * x])",
    "np.dot([x, x], x)",
    "np.median([x, 2 * x, 3 * x], axis=0)",
    "np.logical_or.reduce([x > 0, x < -1]) * x",
    "np.add.reduce([x, 2 * x])",
    "np.maximum.accumulate([x, -x, 2 * x])",
    # the diff of a mask is its neighbours' exclusive or, a mask
    "np.diff(x > 0) * x[1:]",
    "np.diff(x > 0, n=2) * x[2:]",
    "np.diff(x > 0, prepend=True) * x",
    "np.diff(x > 0, append=False) * np.append(x[1:], 7)",
]


def _numpy(code: str, inputs: dict):
    return eval(code, {"np": np, **inputs})  # noqa: S307 - the test's own texts, NumPy's reference


@pytest.mark.parametrize("code", NUMPY_TEXTS)
def test_a_moved_or_joined_mask_is_a_mask_as_numpy_has_it(code):
    used = {k: v for k, v in INPUTS.items() if k in code.replace("np.", "")}
    assert_same(api.evaluate(code, used), _numpy(code, used))


@pytest.mark.parametrize("code", [c for c in NUMPY_TEXTS if "x" in c.replace("np.", "").replace("axis", "")])
def test_the_derivative_through_a_moved_mask_is_the_central_difference(code):
    value = x + np.array([0.25, 0.125, 0.375, -0.25])  # off the kinks
    J = np.asarray(api.jacobian(code, {"x": value}, wrt=["x"])["x"])
    h = 1e-6
    for k in range(value.size):
        e = np.zeros_like(value)
        e[k] = h
        fd = (np.asarray(_numpy(code, {"x": value + e}), dtype=float)
              - np.asarray(_numpy(code, {"x": value - e}), dtype=float)) / (2 * h)
        np.testing.assert_allclose(J[..., k], fd, rtol=1e-6, atol=1e-8, err_msg=code)


@pytest.mark.parametrize("code, message", [
    ("np.select(x > 0, x)", "a list of conditions"),  # an input's mask: a slip for np.where, refused
    ("np.select([1.0], [x], x)", "boolean"),
    ("(x > 0).T - (x > 0)", "boolean subtract"),  # as NumPy refuses it
    ("-np.stack([x > 0, x < 0])", "boolean negative"),
    ("torch.sum([x, x])", "needs one array"),  # PyTorch's and JAX's functions take no list of arrays
    ("jnp.sum([x, x])", "needs one array"),
    ("jnp.add.reduce([x, x])", "needs one array"),
    ("np.sum([x, x[:2]])", "one shape only"),  # a ragged list: NumPy's error
])
def test_what_numpy_refuses_of_masks_is_refused(code, message):
    with pytest.raises(JacError, match=message):
        api.evaluate(code, {"x": x})


TORCH_TEXTS = [
    "(x > 0)[0] + (x > 0)[0] + x",
    "torch.stack([x > 0, x < -1]).float() * x",
    "torch.cat([x > 0, x < 0]).sum() + 0 * x",
    "torch.where((x > 0).flip(0), True, False) + x",
    "(~(x > 0).reshape(2, 2)).float() * x.reshape(2, 2)",
    "((x > 0).view(2, 2).T & (x < 2).view(2, 2)) * x.view(2, 2)",
    "torch.diff(x > 0).float() * x[1:]",
]


@pytest.mark.parametrize("code", TORCH_TEXTS)
def test_a_moved_or_joined_mask_is_a_mask_as_pytorch_has_it(code):
    torch = pytest.importorskip("torch")
    theirs = eval(code, {"torch": torch, "x": torch.tensor(x)})  # noqa: S307 - the test's own texts
    assert_same(api.evaluate(code, {"x": x}), theirs.numpy())


# --- the power of a tensor exponent ----------------------------------------------------------------------

EDGES = np.array([-np.inf, -0.0, 0.0, 4.0, -2.0, np.inf, 0.25])
EXPONENTS = [0.5, -0.5, 2.0, 1.5]
TORCH_POWERS = [
    ("torch.pow(x, s)", lambda t, x, s: torch_pow(t, x, t.tensor(s, dtype=t.float64))),
    ("x ** s + torch.zeros(7)", lambda t, x, s: x ** t.tensor(s, dtype=t.float64) + t.zeros(7, dtype=t.float64)),
    ("x.pow(s)", lambda t, x, s: x.pow(t.tensor(s, dtype=t.float64))),
    ("torch.pow(x, {s})", lambda t, x, s: t.pow(x, s)),
    ("x ** {s} + torch.zeros(7)", lambda t, x, s: x ** s + t.zeros(7, dtype=t.float64)),
    ("torch.pow(x, torch.tensor({s}))", lambda t, x, s: t.pow(x, t.tensor(s, dtype=t.float64))),
    ("x ** torch.tensor([{s}]) + torch.zeros(7)",
     lambda t, x, s: x ** t.tensor([s], dtype=t.float64) + t.zeros(7, dtype=t.float64)),
]


def torch_pow(t, x, s):
    return t.pow(x, s)


@pytest.mark.parametrize("s", EXPONENTS)
@pytest.mark.parametrize("code, reference", TORCH_POWERS, ids=[c for c, _ in TORCH_POWERS])
def test_a_power_is_pytorchs_at_minus_zero_and_minus_infinity(code, reference, s):
    torch = pytest.importorskip("torch")
    text = code.format(s=s)
    inputs = {"x": EDGES, "s": np.array(s)} if "{s}" not in code else {"x": EDGES}
    assert_same(api.evaluate(text, inputs), reference(torch, torch.tensor(EDGES), s).numpy())


@pytest.mark.parametrize("s", EXPONENTS)
@pytest.mark.parametrize("code", ["np.power(x, s)", "x ** s + np.zeros(7)", "np.power(x, np.array([{s}]))",
                                  "x ** np.full(7, {s})", "x ** {s}"])
def test_a_numpy_power_is_numpys_own(code, s):
    text = code.format(s=s)
    with np.errstate(all="ignore"):
        theirs = eval(text, {"np": np, "x": EDGES, "s": np.array(s)})  # noqa: S307 - the test's own texts
    assert_same(api.evaluate(text, {"x": EDGES, "s": np.array(s)} if "{s}" not in code else {"x": EDGES}), theirs)


@pytest.mark.parametrize("s", EXPONENTS)
@pytest.mark.parametrize("code", ["jnp.power(x, s)", "x ** s + jnp.zeros(7)", "jnp.power(x, jnp.array([{s}]))",
                                  "x ** jnp.full(7, {s})"])
def test_a_jax_power_is_cs_pow(jax_process, code, s):  # noqa: F811 - the fixture
    text = code.format(s=s)
    inputs = {"x": EDGES, "s": np.array(s)} if "{s}" not in code else {"x": EDGES}
    theirs = jax_process.submit(jax_reference, text, inputs).result()
    assert_same(api.evaluate(text, inputs), theirs["value"])


@pytest.mark.parametrize("code", ["torch.pow(x, s)", "x ** s", "x ** -0.5", "torch.pow(x, torch.tensor([0.5]))"])
def test_the_derivative_of_a_pytorch_power_is_pytorchs_away_from_the_edges(code):
    torch = pytest.importorskip("torch")
    x = np.array([0.3, 1.7, 4.0])
    inputs = {"x": x, "s": np.array(0.5)} if "s" in code.replace("torch", "") else {"x": x}
    theirs = torch.autograd.functional.jacobian(
        lambda *args: eval(code, {"torch": torch, **dict(zip(inputs, args))}),  # noqa: S307 - the test's own
        tuple(torch.tensor(v) for v in inputs.values()))
    ours = api.jacobian(code, inputs, wrt=list(inputs))
    for k, j in zip(inputs, theirs):
        np.testing.assert_allclose(ours[k], j.numpy().reshape(np.shape(ours[k])), rtol=1e-14, atol=0, err_msg=k)


def test_a_bool_matmul_has_a_symbolic_derivative_as_jac_eval_gives():
    """The bool matmul's cast (the or of the ands) translates to SymPy: jac diff agrees with jac eval."""
    code = "((x > 0) @ (x > 1)) * x"
    for value in ([1.5, -2.0, 0.5], [0.5, -2.0, 0.25]):
        found = api.diff(code, {"x": ":3"}, at={"x": value})["x"].value
        np.testing.assert_array_equal(np.asarray(found, dtype=float),
                                      api.jacobian(code, {"x": np.array(value)}, wrt=["x"])["x"])


# --- integers joined: no -0 -----------------------------------------------------------------------------

JOINS = [
    "x / np.append(np.arange(3), 2.5)[:3]",  # an integer constant beside a float: its 0 was -0
    "x / np.concatenate([np.zeros(1, int), x])[:3]",
    "1 / np.hstack([np.array([0, 1]), x])",
    "1 / np.concatenate([(x * 0).astype(int), -x * 0])",  # integers from the inputs beside floats
    "1 / np.concatenate([(x * 0).astype(int), (x * 0).astype(int)])",  # integers alone: they were -0 too
    "np.concatenate([(x * 2).astype(int), (x * 0).astype(int)]) // 4",
    "1 / np.pad((x * 0).astype(int), 1)",
    "1 / np.stack([np.arange(3), (x * 0).astype(int)])",
    "np.concatenate([np.arange(2), x > 1]) // 2",  # integers and a mask: integers
    "1 / np.concatenate([np.arange(2), np.arange(2)])",
]


@pytest.mark.parametrize("code", JOINS)
def test_integers_joined_keep_their_zeros_positive_as_numpy(code):
    value = np.array([1.0, 2.0, 3.0])
    with np.errstate(all="ignore"):
        theirs = eval(code, {"np": np, "x": value})  # noqa: S307 - the test's own texts
    assert_same(api.evaluate(code, {"x": value}), theirs)


@pytest.mark.parametrize("code", ["1 / torch.cat([torch.arange(2), x])", "1 / torch.cat([(x * 0).long(), -x * 0])",
                                  "1 / torch.stack([torch.arange(3), (x * 0).long()]).double()"])
def test_integers_joined_keep_their_zeros_positive_as_pytorch(code):
    torch = pytest.importorskip("torch")
    value = np.array([1.0, 2.0, 3.0])
    theirs = eval(code, {"torch": torch, "x": torch.tensor(value)})  # noqa: S307 - the test's own texts
    assert_same(api.evaluate(code, {"x": value}), theirs.numpy())


@pytest.mark.parametrize("code", ["(~torch.eye(4, dtype=torch.bool)).double() @ x",
                                  "torch.logical_not(torch.eye(4, dtype=torch.bool)[1]).double() * x",
                                  "(~torch.tensor([True, False, True, False])).double() * x",
                                  "torch.bitwise_not(x > 1).double() * x", "(~(x > 0)).double() * x"])
def test_the_not_of_a_bool_constant_is_pytorchs(code):
    """~ of a PyTorch bool constant was refused as a subtraction of a bool tensor (jac's not was 1 - m)."""
    torch = pytest.importorskip("torch")
    theirs = eval(code, {"torch": torch, "x": torch.tensor(x)})  # noqa: S307 - the test's own texts
    assert_same(api.evaluate(code, {"x": x}), theirs.numpy())


@pytest.mark.parametrize("code", ["t2 = jnp.linalg.eigvalsh(jnp.full((4, 4), jnp.inf)); x",
                                  "np.linalg.svd(np.full((3, 3), np.nan))[1] + x[0]",
                                  "torch.linalg.eigvalsh(torch.full((3, 3), float('inf'))) + x[0]"])
def test_lapack_refusing_a_constant_is_a_jac_error(code):
    """A constant folded at parse time whose LAPACK call fails raised NumPy's LinAlgError from the API (the CLI
    caught it); it is a JacError naming the op, as at run time (numpy_fuzz --jax, seed 97)."""
    with pytest.raises(JacError, match="linear algebra failed"):
        api.evaluate(code, {"x": x})
