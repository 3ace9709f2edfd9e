"""Session 52: the everyday calls and keyword spellings jac refused where the library answers (vocab41_probe,
kwforms52_probe), each against the library's value, its autodiff (PyTorch's autograd.functional.jacobian, JAX's
jacrev) or NumPy's central differences, and the Hessian where the function is smooth; and the spellings PyTorch
raises at, refused saying why."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
F = torch.nn.functional

M = np.array([[0.23, 0.71, -0.43, 1.13], [0.91, -0.37, 0.53, 0.61], [-0.83, 0.59, 1.31, 0.17]])
X = np.array([0.31, 0.47, 0.73, 0.89])
Y = np.array([0.83, 0.41, 0.62, 0.19])
HEADS = {"torch": "import torch\nimport torch.nn.functional as F\n", "numpy": "import numpy as np\n",
         "jax": "import jax\nimport jax.numpy as jnp\n"}


def torch_reference(text: str, inputs: dict):
    names = list(inputs)
    scope = {"torch": torch, "F": F}

    def f(*values):
        return eval(text, {**scope, **dict(zip(names, values))})  # noqa: S307 - the test's own texts
    values = tuple(torch.tensor(inputs[n], dtype=torch.float64) for n in names)
    jac = torch.autograd.functional.jacobian(f, values)
    return f(*values).numpy(), {n: j.numpy() for n, j in zip(names, jac)}


def central(f, inputs: dict, name: str, h: float = 1e-6) -> np.ndarray:
    base = inputs[name]
    cols = []
    for i in np.ndindex(base.shape):
        e = np.zeros(base.shape)
        e[i] = h
        cols.append((np.asarray(f(**{**inputs, name: base + e})) - np.asarray(f(**{**inputs, name: base - e})))
                    / (2 * h))
    out = np.stack(cols, -1)
    return out.reshape(out.shape[:-1] + base.shape)


def agrees_with_torch(text: str, inputs: dict, rtol: float = 1e-12):
    value, jac = torch_reference(text, inputs)
    ours = api.evaluate(HEADS["torch"] + text, inputs)
    assert ours.shape == value.shape
    np.testing.assert_allclose(ours, value, rtol=rtol, atol=1e-15)
    ours_j = api.jacobian(HEADS["torch"] + text, inputs)
    for n in inputs:
        np.testing.assert_allclose(ours_j[n], jac[n], rtol=1e-10, atol=1e-13)
    return ours_j


def refused(text: str, inputs: dict, lib: str = "torch") -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEADS[lib] + text, inputs)
    return err.value.message


# --- the tensor by keyword: torch.softmax(input=x, dim=-1) ------------------------------------------------------

@pytest.mark.parametrize("text", ["torch.softmax(input=M, dim=-1)", "torch.log_softmax(input=M, dim=0)",
                                  "torch.logsumexp(input=M, dim=-1)", "torch.special.softmax(input=M, dim=1)",
                                  "torch.special.log_softmax(input=M, dim=-1)",
                                  "torch.logsumexp(input=M, dim=(0, 1), keepdim=True)"])
def test_the_tensor_by_keyword_is_read_with_its_dim(text):
    agrees_with_torch(text, {"M": M})  # was "needs dim (PyTorch raises TypeError without it)"


def test_the_tensor_by_keyword_without_dim_is_still_refused_as_pytorch():
    with pytest.raises(TypeError):
        torch.softmax(input=torch.tensor(M))
    assert "needs dim" in refused("torch.softmax(input=M)", {"M": M})


# --- dim=None: sum / mean keep every axis, the rest raise in PyTorch ---------------------------------------------

@pytest.mark.parametrize("text", ["torch.sum(M, dim=None, keepdim=True)", "torch.mean(M, dim=None, keepdim=True)",
                                  "M.sum(dim=None, keepdim=True)", "M.mean(None, keepdim=True)",
                                  "torch.sum(M, None, True)"])
def test_sum_and_mean_over_dim_none_keep_every_axis_as_pytorch(text):
    jac = agrees_with_torch(text, {"M": M})  # was "keepdim= needs a dim (PyTorch raises TypeError ...)"
    assert jac["M"].shape == (1, 1, 3, 4)


def test_sum_with_keepdim_and_no_dim_is_still_refused_as_pytorch():
    with pytest.raises(TypeError):
        torch.sum(torch.tensor(M), keepdim=True)
    assert "keepdim= needs a dim" in refused("torch.sum(M, keepdim=True)", {"M": M})


@pytest.mark.parametrize("text", ["torch.prod(M, dim=None)", "torch.max(M, None)", "M.min(dim=None)",
                                  "torch.logsumexp(M, dim=None)", "torch.softmax(M, dim=None)",
                                  "M.log_softmax(None)", "torch.median(M, dim=None)", "torch.nanmedian(M, dim=None)",
                                  "torch.sort(M, dim=None)[0]", "M.argsort(dim=None)", "torch.squeeze(M, dim=None)",
                                  "torch.special.softmax(M, None)", "torch.special.logsumexp(M, dim=None)"])
def test_dim_none_where_pytorch_raises_is_refused(text):
    with pytest.raises(TypeError):
        eval(text, {"torch": torch, "M": torch.tensor(M)})  # noqa: S307
    assert "dim=None is no dim to PyTorch's" in refused(text, {"M": M})  # jac answered every element before


def test_dim_none_of_f_softmax_is_still_its_implicit_dim():
    with pytest.warns(UserWarning):
        expected = F.softmax(torch.tensor(M), dim=None).numpy()
    np.testing.assert_allclose(api.evaluate(HEADS["torch"] + "F.softmax(M, dim=None)", {"M": M}), expected,
                               rtol=1e-14)


# --- F.normalize(x, dim=None) ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", ["2.0", "1", "3.0", "'fro'", "'nuc'"])
def test_normalize_over_every_element(p):
    agrees_with_torch(f"F.normalize(M, p={p}, dim=None)", {"M": M})  # was "dim must be an integer, got None"


def test_normalize_over_every_element_of_a_3d_tensor_and_its_hessian():
    T = np.linspace(-1.1, 0.9, 24).reshape(2, 3, 4)
    agrees_with_torch("F.normalize(T, dim=None)", {"T": T})
    ours = api.hessian(HEADS["torch"] + "F.normalize(T, dim=None)[0, 1, 2]", {"T": T})[("T", "T")]
    theirs = torch.autograd.functional.hessian(lambda t: F.normalize(t, dim=None)[0, 1, 2],
                                               torch.tensor(T)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


# --- NumPy's dtype= of a ufunc and of std / var -------------------------------------------------------------------

@pytest.mark.parametrize("text,f", [
    ("np.tanh(M, dtype=np.float64)", lambda M: np.tanh(M, dtype=np.float64)),
    ("np.exp(M, dtype='float64')", lambda M: np.exp(M, dtype="float64")),
    ("np.add(M, M * M, dtype=np.float64)", lambda M: np.add(M, M * M, dtype=np.float64)),
    ("np.hypot(M, 2.0, dtype=np.float64)", lambda M: np.hypot(M, 2.0, dtype=np.float64)),
    ("np.std(M, axis=0, dtype=np.float64)", lambda M: np.std(M, axis=0, dtype=np.float64)),
    ("np.var(M, axis=-1, keepdims=True, dtype=np.float64)",
     lambda M: np.var(M, axis=-1, keepdims=True, dtype=np.float64)),
    ("M.std(dtype=np.float64)", lambda M: M.std(dtype=np.float64)),
])
def test_numpy_dtype_of_a_ufunc_and_of_std_var(text, f):
    ours = api.evaluate(HEADS["numpy"] + text, {"M": M})  # was "has no argument 'dtype'"
    np.testing.assert_allclose(ours, f(M), rtol=1e-14)
    np.testing.assert_allclose(api.jacobian(HEADS["numpy"] + text, {"M": M})["M"], central(f, {"M": M}, "M"),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text", ["np.exp(M, dtype=int)", "np.std(M, dtype=np.int64)"])
def test_numpy_integer_dtype_of_a_ufunc_or_std_is_refused(text):
    assert "integer or bool dtype" in refused(text, {"M": M}, "numpy")


def test_torch_std_takes_no_dtype_still():
    with pytest.raises(TypeError):
        torch.std(torch.tensor(M), dtype=torch.float64)
    refused("torch.std(M, dtype=torch.float64)", {"M": M})


# --- out= -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,lib", [("torch.sum(M, 0, out=torch.empty(4))", "torch"),
                                      ("torch.exp(M, out=torch.empty(3, 4))", "torch"),
                                      ("np.exp(M, out=None)", "numpy"), ("np.tanh(M, out=np.empty((3, 4)))", "numpy")])
def test_out_is_refused_saying_what_to_write(text, lib):
    assert "out= writes the result into an array given" in refused(text, {"M": M}, lib)  # was "has no argument"


# --- mvlgamma below (p - 1)/2: PyTorch 2.13 and JAX answer ----------------------------------------------------------

V = np.array([1.6, 0.31, 0.77, -0.3, 2.4])


@pytest.mark.parametrize("text", ["torch.mvlgamma(V, 2)", "torch.special.multigammaln(V, 5)", "V.mvlgamma(p=3)"])
def test_mvlgamma_below_half_p_minus_one_is_pytorchs(text):
    jac = agrees_with_torch(text, {"V": V})  # was "mvlgamma: all elements must be greater than (p-1)/2"
    assert np.all(np.isfinite(jac["V"]))
    ours = api.hessian(HEADS["torch"] + f"({text}).sum()", {"V": V})[("V", "V")]
    theirs = torch.autograd.functional.hessian(
        lambda v: eval(text, {"torch": torch, "V": v}).sum(), torch.tensor(V)).numpy()  # noqa: S307
    # PyTorch's polygamma(1, x) is 1e-9 off (test_parity_trust13); jac's is SciPy's
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)
    from scipy import special

    p = int(text[-2])
    exact = sum(special.polygamma(1, V - j / 2) for j in range(p))
    np.testing.assert_allclose(np.diag(ours), exact, rtol=1e-13)


def test_mvlgamma_at_a_pole_is_pytorchs_inf():
    P = np.array([0.5, 1.0, 2.0])
    ours = api.evaluate(HEADS["torch"] + "torch.mvlgamma(P, 3)", {"P": P})
    np.testing.assert_array_equal(ours, torch.mvlgamma(torch.tensor(P), 3).numpy())
    assert np.isinf(ours[:2]).all()


def test_jax_multigammaln_below_half_p_minus_one_is_jaxs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.scipy.special import multigammaln

    text = "import jax\njax.scipy.special.multigammaln(V, 2)"
    np.testing.assert_allclose(api.evaluate(text, {"V": V}), np.asarray(multigammaln(jax.numpy.asarray(V), 2)),
                               rtol=1e-13)
    np.testing.assert_allclose(api.jacobian(text, {"V": V})["V"],
                               np.asarray(jax.jacrev(lambda v: multigammaln(v, 2))(jax.numpy.asarray(V))),
                               rtol=1e-12)


def test_scipy_multigammaln_below_half_p_minus_one_is_still_refused_as_scipy():
    from scipy import special

    with pytest.raises(ValueError):
        special.multigammaln(0.31, 2)
    message = refused("scipy.special.multigammaln(V, 2)", {"V": V}, "numpy")
    assert "SciPy raises ValueError" in message


# --- nextafter: PyTorch 2.13's derivative ----------------------------------------------------------------------------

U = np.array([0.5, 0.5, 2.0, -1.0, 0.0, np.inf, 3.0, 1e-310])
W = np.array([0.5, 0.7, 2.0, -3.0, 1.0, 0.0, np.nan, -1.0])


@pytest.mark.parametrize("text", ["torch.nextafter(U, W)", "U.nextafter(W)", "torch.nextafter(U, W) - U"])
def test_nextafter_derivative_is_pytorchs(text):
    value, jac = torch_reference(text, {"U": U, "W": W})
    ours = api.evaluate(HEADS["torch"] + text, {"U": U, "W": W})
    np.testing.assert_array_equal(ours.view(np.int64)[:6], value.view(np.int64)[:6])  # to the bit, -0.0 included
    ours_j = api.jacobian(HEADS["torch"] + text, {"U": U, "W": W})  # was "nextafter has no derivative in jac"
    for n in ("U", "W"):
        np.testing.assert_array_equal(ours_j[n], jac[n])
    hess = api.hessian(HEADS["torch"] + f"({text}).sum()", {"U": U, "W": W})
    assert not np.any(hess[("U", "U")]) and not np.any(hess[("W", "U")])  # PyTorch's where(...) has no slope


def test_numpy_nextafter_derivative_agrees_with_central_differences():
    inputs = {"x": X, "y": Y}
    jac = api.jacobian(HEADS["numpy"] + "np.nextafter(x, y)", inputs)
    for n in inputs:
        np.testing.assert_allclose(jac[n], central(lambda x, y: np.nextafter(x, y), inputs, n), atol=1e-9)


@pytest.mark.parametrize("text", ["jnp.nextafter(x, y)", "jax.lax.nextafter(x, y)"])
def test_jax_nextafter_derivative_is_refused_as_jax_has_none(text):
    jax = pytest.importorskip("jax")
    with pytest.raises(NotImplementedError):
        jax.jacrev(jax.numpy.nextafter)(jax.numpy.asarray(X), jax.numpy.asarray(Y))
    assert "JAX has no derivative rule for nextafter" in refused(text, {"x": X, "y": Y}, "jax")
    np.testing.assert_array_equal(api.evaluate(HEADS["jax"] + text, {"x": X, "y": Y}), np.nextafter(X, Y))


# --- full / full_like of a fill that depends on the inputs (NumPy, JAX) -------------------------------------------

@pytest.mark.parametrize("text,f", [
    ("np.full_like(x, y)", lambda x, y: np.full_like(x, y)),
    ("np.full_like(M, y)", lambda x, y: np.full_like(M, y)),
    ("np.full_like(x, y[0] * x[1])", lambda x, y: np.full_like(x, y[0] * x[1])),
    ("np.full((3, 4), y)", lambda x, y: np.full((3, 4), y)),
    ("np.full(2, fill_value=y[1] ** 2, dtype=np.float64)", lambda x, y: np.full(2, fill_value=y[1] ** 2,
                                                                                 dtype=np.float64)),
])
def test_numpy_full_of_an_input_fill(text, f):
    inputs = {"x": X, "y": Y}
    ours = api.evaluate(HEADS["numpy"] + text, {**inputs, "M": M})  # was "fill_value must be a constant"
    np.testing.assert_array_equal(ours, f(X, Y))
    jac = api.jacobian(HEADS["numpy"] + text, {**inputs, "M": M}, wrt=["x", "y"])
    for n in inputs:
        np.testing.assert_allclose(jac[n], central(f, inputs, n), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("text", ["jnp.full_like(x, y)", "jnp.full((3, 4), y)", "jnp.full_like(M, y[2] * 3.0)"])
def test_jax_full_of_an_input_fill(text):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    scope = {"jnp": jnp, "M": jnp.asarray(M)}
    f = (lambda y: eval(text, {**scope, "x": jnp.asarray(X), "y": y}))  # noqa: S307, E731
    np.testing.assert_array_equal(api.evaluate(HEADS["jax"] + text, {"x": X, "y": Y, "M": M}),
                                  np.asarray(f(jnp.asarray(Y))))
    np.testing.assert_array_equal(api.jacobian(HEADS["jax"] + text, {"x": X, "y": Y, "M": M}, wrt=["y"])["y"],
                                  np.asarray(jax.jacrev(f)(jnp.asarray(Y))))


def test_full_like_fill_that_does_not_broadcast_or_truncates_is_refused():
    with pytest.raises(ValueError):
        np.full_like(M, X[:3])
    assert "does not broadcast" in refused("np.full_like(M, x[:3])", {"M": M, "x": X}, "numpy")
    assert "integer or bool dtype" in refused("np.full_like(x, y, dtype=int)", {"x": X, "y": Y}, "numpy")
    with pytest.raises(TypeError):
        torch.full_like(torch.tensor(X), torch.tensor(Y))
    assert "must be a constant" in refused("torch.full_like(x, y[0])", {"x": X, "y": Y})


def test_the_hessian_of_a_full_like_product():
    text = "(np.full_like(x, y[0]) * x ** 2).sum()"
    ours = api.hessian(HEADS["numpy"] + text, {"x": X, "y": Y})
    expected = np.zeros((4, 4))
    expected[:, 0] = 2 * X  # d²/dx_i dy_0 of y_0 Σ x_i²
    np.testing.assert_allclose(ours[("x", "y")], expected, rtol=1e-14)
    np.testing.assert_allclose(ours[("x", "x")], np.diag(np.full(4, 2 * Y[0])), rtol=1e-14)


# --- vsplit: JAX splits a vector, NumPy and PyTorch need 2 dimensions ---------------------------------------------

def test_jax_vsplit_of_a_vector_and_numpys_message():
    jax = pytest.importorskip("jax")
    parts = jax.numpy.vsplit(jax.numpy.asarray(X), 2)
    np.testing.assert_array_equal(api.evaluate(HEADS["jax"] + "jnp.vsplit(x, 2)[1]", {"x": X}), np.asarray(parts[1]))
    jac = api.jacobian(HEADS["jax"] + "jnp.vsplit(x, 2)[1]", {"x": X})["x"]
    np.testing.assert_array_equal(jac, np.eye(4)[2:])
    with pytest.raises(ValueError):
        np.vsplit(X, 2)
    assert "vsplit needs at least 2 dimensions" in refused("np.vsplit(x, 2)[0]", {"x": X}, "numpy")  # said 3


# --- torch.adaptive_max_pool1d: ATen's pair ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["torch.adaptive_max_pool1d(X, 3)[0]", "torch.adaptive_max_pool1d(X, output_size=2)[0]",
                                  "torch.adaptive_max_pool1d(X, (4,))[0] * 2.0"])
def test_aten_adaptive_max_pool1d_is_the_pair_of_f(text):
    X3 = np.random.default_rng(52).normal(size=(2, 3, 7))
    agrees_with_torch(text, {"X": X3})  # was "it returns the pair (values, indices)"
    indices = api.evaluate(HEADS["torch"] + text.split("[0]")[0] + "[1]", {"X": X3})
    np.testing.assert_array_equal(indices, eval(text.split("[0]")[0] + "[1]",  # noqa: S307
                                                {"torch": torch, "X": torch.tensor(X3)}).numpy())


# --- the operands' keyword names: PyTorch's own read, the ones the library raises at refused ------------------------

A = np.array([[2.03, 0.51, 0.33], [0.51, 1.57, 0.21], [0.33, 0.21, 1.87]])
B = np.array([[0.93, -0.23, 0.41], [0.13, 1.37, -0.53], [0.71, 0.29, 1.17]])
C = np.array([0.43, -0.71, 1.13])


@pytest.mark.parametrize("text", ["torch.mm(input=A, mat2=B)", "torch.mv(input=A, vec=C)", "torch.dot(input=C, tensor=C)",
                                  "torch.bmm(input=A[None], mat2=B[None])", "A.mm(mat2=B)", "torch.mv(A, vec=C)"])
def test_pytorchs_names_of_the_second_operand_are_read(text):
    agrees_with_torch(text, {"A": A, "B": B, "C": C})  # was "mm() has no argument 'mat2' (it takes x, y)"


@pytest.mark.parametrize("text,name", [("torch.pow(input=A, other=B)", "exponent"), ("torch.mm(input=A, other=B)", "mat2"),
                                       ("torch.mv(A, other=C)", "vec"), ("A.pow(other=B)", "exponent"),
                                       ("torch.outer(C, other=C)", "vec2"), ("torch.dot(C, other=C)", "tensor")])
def test_other_where_pytorch_names_the_operand_otherwise_is_refused(text, name):
    with pytest.raises(TypeError):
        eval(text, {"torch": torch, **{k: torch.tensor(v) for k, v in {"A": A, "B": B, "C": C}.items()}})  # noqa: S307
    assert f"names its second operand '{name}'" in refused(text, {"A": A, "B": B, "C": C})  # was answered


@pytest.mark.parametrize("text", ["np.tanh(a=A)", "np.exp(x=A)", "np.add(A, b=B)", "np.linalg.norm(a=A)"])
def test_numpy_operands_by_a_keyword_numpy_raises_at_are_refused(text):
    with pytest.raises(TypeError):
        eval(text, {"np": np, "A": A, "B": B})  # noqa: S307
    refused(text, {"A": A, "B": B}, "numpy")  # was answered
    np.testing.assert_allclose(api.evaluate(HEADS["numpy"] + "np.linalg.norm(x=A)", {"A": A}), np.linalg.norm(x=A),
                               rtol=1e-15)


@pytest.mark.parametrize("text,f", [("jnp.matmul(a=A, b=B)", lambda j: j.matmul(a=A, b=B)),
                                    ("jnp.dot(a=A, b=B[0])", lambda j: j.dot(a=A, b=B[0])),
                                    ("np.dot(a=A, b=B)", lambda j: np.dot(a=A, b=B)),
                                    ("jnp.std(A, axis=0, dtype=jnp.float64)", lambda j: j.std(A, axis=0, dtype=j.float64)),
                                    ("jnp.var(A, dtype=jnp.float64)", lambda j: j.var(A, dtype=j.float64))])
def test_numpy_and_jax_keywords_a_b_and_jax_std_dtype(text, f):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    lib = "numpy" if text.startswith("np.") else "jax"
    ours = api.evaluate(HEADS[lib] + text, {"A": A, "B": B})  # was "has no argument 'b'" / "'dtype'"
    np.testing.assert_allclose(ours, np.asarray(f(jax.numpy)), rtol=1e-13)
    if lib == "jax":
        g = jax.jacrev(lambda a: eval(text, {"jnp": jax.numpy, "A": a, "B": jax.numpy.asarray(B)}))  # noqa: S307
        np.testing.assert_allclose(api.jacobian(HEADS[lib] + text, {"A": A, "B": B})["A"],
                                   np.asarray(g(jax.numpy.asarray(A))), rtol=1e-12, atol=1e-14)
