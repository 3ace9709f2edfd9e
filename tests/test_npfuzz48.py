"""Session 48 (h48-npfuzz): what the NumPy / JAX differential fuzzers found with seeds 48xx, each checked
against the library where it is installed."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api


# np.linalg.tensorinv of an empty array: NumPy raises (its reshape(prod, -1) of size 0, or inv of an (n, 0)
# matrix); JAX and PyTorch answer the empty inverse, so only NumPy's spelling is refused.
@pytest.mark.parametrize("shape, ind", [((0, 0), 1), ((0, 2, 2, 0), 1), ((0, 2, 2, 0), 2), ((2, 0, 0), 2)])
def test_numpy_tensorinv_of_an_empty_array_is_refused_as_numpy_raises(shape, ind):
    with pytest.raises((ValueError, np.linalg.LinAlgError)):
        np.linalg.tensorinv(np.zeros(shape), ind)
    with pytest.raises(JacError, match="tensorinv of an empty array"):
        api.evaluate(f"np.linalg.tensorinv(A, {ind})", {"A": np.zeros(shape)})


@pytest.mark.parametrize("call", ["jnp.linalg.tensorinv", "torch.linalg.tensorinv"])
def test_jax_and_torch_tensorinv_of_an_empty_array_answer(call):
    torch = pytest.importorskip("torch")
    expected = torch.linalg.tensorinv(torch.zeros(0, 2, 2, 0), 2).shape
    assert api.evaluate(f"{call}(A, 2)", {"A": np.zeros((0, 2, 2, 0))}).shape == tuple(expected) == (2, 0, 0, 2)


def test_numpy_tensorinv_of_a_full_array_still_answers():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert np.allclose(api.evaluate("np.linalg.tensorinv(A, 1)", {"A": a}), np.linalg.tensorinv(a, 1))


# A boolean mask beside other index parts (x[None, mask], x[:, mask], x[0, mask], x[..., mask], two masks): NumPy,
# JAX and PyTorch read it as the mask's nonzero arrays where it stands; jac refused every such index ("a boolean
# mask must be the whole index"), and JAX's x.at[None, mask] (the forty-seventh session's leftover) with it.
A = np.arange(12.0).reshape(3, 4) / 7 - 0.6
B = np.arange(24.0).reshape(2, 3, 4) / 7 - 1.6
M3, M4 = "np.array([True, False, True])", "np.array([False, True, True, False])"
MASKED = [f"A[None, {M3}]", f"A[{M3}, None]", f"A[:, {M4}]", f"A[0, {M4}]", f"A[{M3}, 1:]", f"A[..., {M4}]",
          f"B[..., {M4}]", f"B[:, {M3}, None]", f"B[1, :, {M4}]", f"B[np.array([True, False]), :, {M4}]",
          f"A[{M3}, {M4}]", "A[None, A > 0]", f"A[None, ..., {M4}]", "B[:, A > 0]"]


@pytest.mark.parametrize("text", MASKED)
def test_a_mask_among_other_parts_is_read_as_numpy_reads_it(text):
    expected = eval(text, {"np": np, "A": A, "B": B})
    got = api.evaluate("import numpy as np\n" + text, {"A": A, "B": B})
    assert got.shape == expected.shape and np.array_equal(got, expected)


@pytest.mark.parametrize("text", [f"A[:, {M3}]", "B[None, A > 0]", f"B[A[:2] > 0, 1:]", f"A[None, {M4}]"])
def test_a_mask_that_does_not_fit_the_axes_where_it_stands_is_refused_as_numpy_raises(text):
    with pytest.raises(IndexError):
        eval(text, {"np": np, "A": A, "B": B})
    with pytest.raises(JacError, match="boolean mask has shape"):
        api.evaluate("import numpy as np\n" + text, {"A": A, "B": B})


def test_the_jacobian_through_a_mask_after_none():
    got = api.jacobian(f"import numpy as np\nnp.sin(A[None, {M3}]) * 2", {"A": A})["A"]
    expected = np.zeros((1, 2, 4, 3, 4))
    for k, row in enumerate((0, 2)):
        for j in range(4):
            expected[0, k, j, row, j] = 2 * np.cos(A[row, j])
    assert np.allclose(got, expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("text", [
    "A.at[None, jnp.array([True, False, True])].set(1.0)",
    "A.at[None, jnp.array([True, False, True])].add(jnp.ones((1, 2, 4)))",
    "A.at[:, jnp.array([False, True, True, False])].mul(2.0)",
    "A.at[jnp.array([True, False, True]), None].set(jnp.arange(4.0))",
    "B.at[1, :, jnp.array([False, True, True, False])].add(5.0)",
    "B.at[0, jnp.array([True, False, True]), 1:].set(-1.0)",
    "A.at[None, jnp.array([True, False, True]), jnp.array([0, 0])].get()",
])
def test_jax_at_with_a_mask_among_other_parts_answers_as_jax(text):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    expected = np.asarray(eval(text, {"jnp": jax.numpy, "A": jax.numpy.asarray(A), "B": jax.numpy.asarray(B)}))
    got = api.evaluate("import jax.numpy as jnp\n" + text, {"A": A, "B": B})
    assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("text", [
    "y = A.copy()\ny[None, np.array([True, False, True])] = 1.0\ny",
    "y = A.copy()\ny[:, np.array([False, True, True, False])] *= 2.0\ny",
    "y = B.copy()\ny[1, :, np.array([False, True, True, False])] = np.arange(3.0)\ny",
])
def test_numpy_writes_through_a_mask_among_other_parts(text):
    scope = {"np": np, "A": A.copy(), "B": B.copy()}
    exec(text.rsplit("\n", 1)[0], scope)
    got = api.evaluate("import numpy as np\n" + text, {"A": A, "B": B})
    assert np.array_equal(got, scope["y"])


@pytest.mark.parametrize("text", ["B[1, :, torch.tensor([False, True, True, False])]",
                                  "B[None, 1, torch.tensor([True, False, True])]",
                                  "B[1, None, :, torch.tensor([False, True, True, False])]"])
def test_torch_reads_a_mask_among_other_parts_as_pytorch(text):
    torch = pytest.importorskip("torch")
    expected = eval(text, {"torch": torch, "B": torch.tensor(B)}).numpy()
    got = api.evaluate("import torch\n" + text, {"B": B})
    assert got.shape == expected.shape and np.array_equal(got, expected)


def test_a_mask_of_the_inputs_after_none_under_jit_is_refused_as_jax_raises():
    with pytest.raises(JacError, match="NonConcreteBooleanIndexError"):
        api.evaluate("import jax, jax.numpy as jnp\n@jax.jit\ndef f(x):\n    return x[None, x > 0]\nf(x)",
                     {"x": np.array([1.0, -1.0, 2.0])})


# QR's derivative at a matrix of lost column rank (nprog38_fuzz seed 4834: the rank-1 product t1 @ t1 @ t1 of a
# meshgrid): R's diagonal holds 1e-16-sized entries, not exact zeros, so the rules' solve with R answered numbers
# of size 1/eps (a Hessian entry -11.05 where JAX's was -5e-31, each a rounding artefact); refused now, as an
# exactly singular R always was.
RANK_ONE = np.outer([0.992, 0.482, -0.23, -0.592], [1.0, 1.0, 1.0, 1.0]) @ np.ones((4, 4))


@pytest.mark.parametrize("text", ["np.linalg.qr(A).R ** 2", "np.linalg.qr(A)[0]", "jnp.linalg.qr(A).R"])
def test_qr_derivative_at_a_rank_deficient_matrix_is_refused(text):
    assert np.linalg.matrix_rank(RANK_ONE) == 1
    with pytest.raises(JacError, match="rank deficient"):
        api.jacobian(text, {"A": RANK_ONE})


def test_qr_hessian_of_the_fuzz_program_is_refused():
    text = ("import jax.numpy as jnp\nt1 = jnp.meshgrid(x, x)[0]\nt2 = jnp.einsum('ij,jk,kl->il', t1, t1, t1)\n"
            "jnp.linalg.qr(t2).R ** 2")
    with pytest.raises(JacError, match="rank deficient"):
        api.hessian(text, {"x": np.array([0.992, 0.482, -0.23, -0.592])})


def test_qr_derivative_of_a_full_rank_matrix_still_answers():
    a = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [1.0, 0.0, 4.0], [0.0, 1.0, 1.0]])
    jac = api.jacobian("np.linalg.qr(A).R", {"A": a})["A"]
    step, central = 1e-6, np.zeros((3, 3) + a.shape)
    for i in np.ndindex(a.shape):
        d = np.zeros_like(a)
        d[i] = step
        central[(...,) + i] = (np.linalg.qr(a + d)[1] - np.linalg.qr(a - d)[1]) / (2 * step)
    assert np.allclose(jac, central, atol=1e-7)
    assert api.evaluate("np.linalg.qr(A).R", {"A": RANK_ONE}).shape == (4, 4)  # the value itself answers
