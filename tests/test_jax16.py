"""What JAX and SciPy users paste, found wrong or refused by benchmarks/jax16_sweep.py and fixed.

The JAX parts run each snippet with JAX itself (float64, ``jax.jacrev``) as the reference and skip when JAX
is not installed; the rest compare with SciPy's values (skipped without SciPy), with NumPy formulas and with
central differences, so they run without JAX. The fixes: ``jax.nn.log_softmax(x, axis=None)`` is over every
element (it was over the last axis), ``scipy.special.kl_div`` is SciPy's element-wise function (it was PyTorch's
reduced ``F.kl_div``), a name a library does not have is refused rather than read as PyTorch's
(``jax.nn.normalize``), ``jax.scipy.special``, ``jax.numpy.linalg``, ``jax.lax`` (``stop_gradient`` and a few
element-wise and shape ops, ``lax.clamp(min, x, max)``, ``lax.max`` element-wise), ``@jax.jit``, new spellings
(``jax.nn.standardize squareplus sparse_plus sparse_sigmoid``, ``logsumexp(..., b=w)``, ``scipy.special.rel_entr
log_expit huber pseudo_huber``), and refusals that say what to write (``jax.grad(f)(x)`` names ``f(x)``, optax's
losses their formula, flax, ``lax.cond``, ``jax.random``)."""

from __future__ import annotations

import ast
import importlib.util
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

rng = np.random.default_rng(1616)
X5 = rng.standard_normal(5)
A34 = rng.standard_normal((3, 4))
T3 = rng.standard_normal((2, 3, 4))
P3, POS3 = rng.uniform(0.1, 0.9, 3), rng.uniform(0.5, 3.0, 3)


@pytest.fixture(scope="module")
def jax_process():
    """A process of its own for JAX, started fresh (spawn): JAX's threads in the test process would make every
    later test that forks (jac run's workers) risk a deadlock, as JAX warns."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("could not import 'jax': the references of these tests are JAX's own answers")
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy  # noqa: F401
    import jax.scipy.special  # noqa: F401
    return jax


def jax_reference(code: str, inputs: dict) -> dict:
    """The value of the snippet's last statement and its Jacobians by every float input, run by JAX."""
    jax = _jax()
    jnp = jax.numpy
    floats = [k for k, v in inputs.items() if np.asarray(v).dtype.kind == "f"]
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(*xs):
        scope = {"jax": jax, "jnp": jnp, "lax": jax.lax, "np": np, "jit": jax.jit}
        scope.update({k: jnp.asarray(v) for k, v in inputs.items()})
        scope.update(dict(zip(floats, xs)))
        exec(compile(body, "<snippet>", "exec"), scope)
        return jnp.asarray(eval(compile(last, "<snippet>", "eval"), scope), dtype=jnp.float64)

    args = tuple(jnp.asarray(inputs[k], dtype=jnp.float64) for k in floats)
    jac = jax.jacrev(f, argnums=tuple(range(len(args))))(*args)
    return {"value": np.asarray(f(*args)), "jacobian": {k: np.asarray(j) for k, j in zip(floats, jac)}}


def assert_agrees_with_jax(jax_process, code: str, inputs: dict, ref: str | None = None) -> None:
    """jac's value, Jacobians and a VJP equal those of the snippet (or ``ref``) run by JAX (in ``jax_process``)."""
    theirs = jax_process.submit(jax_reference, ref or code, inputs).result()
    floats = list(theirs["jacobian"])
    value = api.evaluate(code, inputs)
    np.testing.assert_allclose(value, theirs["value"], rtol=1e-10, atol=1e-12)
    ours = api.jacobian(code, inputs, wrt=floats)
    v = np.random.default_rng(0).standard_normal(np.shape(value))
    grads = api.vjp(code, inputs, v=v, wrt=floats)
    for k in floats:
        np.testing.assert_allclose(ours[k], theirs["jacobian"][k], rtol=1e-10, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(grads[k], np.tensordot(v, theirs["jacobian"][k], axes=np.ndim(value)),
                                   rtol=1e-10, atol=1e-12, err_msg=k)


def central(code: str, inputs: dict, name: str, h: float = 1e-6) -> np.ndarray:
    """The Jacobian of ``code`` by ``name`` by central differences of jac's own values."""
    x0 = np.asarray(inputs[name], dtype=np.float64)
    y0 = np.asarray(api.evaluate(code, inputs))
    J = np.zeros(y0.shape + x0.shape)
    for i in np.ndindex(x0.shape):
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        J[(...,) + i] = (np.asarray(api.evaluate(code, {**inputs, name: xp}))
                         - np.asarray(api.evaluate(code, {**inputs, name: xm}))) / (2 * h)
    return J


def assert_derivatives_are_central_differences(code: str, inputs: dict) -> None:
    floats = [k for k, v in inputs.items() if np.asarray(v).dtype.kind == "f"]
    ours = api.jacobian(code, inputs, wrt=floats)
    for k in floats:
        np.testing.assert_allclose(ours[k], central(code, inputs, k), rtol=1e-6, atol=1e-7, err_msg=k)


def refused(capsys, code: str, bindings: list, *words) -> str:
    """``jac eval CODE BINDINGS --json``: exit 2, one ``jac: error`` line, the message holding ``words``."""
    code_ = entry.main(["eval", code, *bindings, "--json"])
    out, err = capsys.readouterr()
    assert code_ == 2 and err.count("jac: error") == 1 and "Traceback" not in err, (code_, err)
    message = json.loads(out)["error"]["message"]
    for word in words:
        assert word in message, (word, message)
    return message


# --- against JAX itself ------------------------------------------------------------------------------------

JAX_AGREES = [
    # the silently wrong answers: over every element with axis=None
    ("jax.nn.log_softmax(x, axis=None)", {"x": A34}, None),
    ("jax.nn.softmax(x, axis=None)", {"x": A34}, None),
    ("jax.nn.log_softmax(x, axis=(0, 1))", {"x": A34}, None),
    ("jax.nn.log_softmax(x)", {"x": T3}, None),
    ("jax.scipy.special.kl_div(p, q)", {"p": P3, "q": POS3}, None),
    ("jax.scipy.special.rel_entr(p, q)", {"p": P3, "q": POS3}, None),
    # new spellings
    ("jax.nn.standardize(x)", {"x": A34}, None),
    ("jax.nn.standardize(x, axis=0, epsilon=1e-3)", {"x": A34}, None),
    ("jax.nn.squareplus(x) + jax.nn.squareplus(x, b=2.0)", {"x": X5}, None),
    ("jax.nn.sparse_plus(x * 2)", {"x": X5}, None),
    ("jax.nn.sparse_sigmoid(x * 2)", {"x": X5}, None),
    ("jax.nn.logsumexp(x, b=w)", {"x": X5, "w": rng.uniform(0.5, 2, 5)}, None),
    ("jax.scipy.special.logsumexp(x, axis=0, b=w, keepdims=True)", {"x": A34, "w": rng.uniform(0.5, 2, (3, 4))},
     None),
    ("jax.scipy.special.gammaln(q) + jax.scipy.special.expit(x[:3])", {"q": POS3, "x": X5}, None),
    ("jax.numpy.linalg.norm(x)", {"x": X5}, None),
    # jax.lax
    ("jax.lax.stop_gradient(x) * x", {"x": X5}, None),
    ("from jax import lax\nlax.stop_gradient(x.max()) + x", {"x": X5}, None),
    ("jax.lax.clamp(-0.5, x, 0.5)", {"x": X5}, None),
    ("jax.lax.max(x, y) + jax.lax.min(x, y)", {"x": X5, "y": rng.standard_normal(5)}, None),
    ("jax.lax.select(x > 0, x, y)", {"x": X5, "y": rng.standard_normal(5)}, None),
    ("jax.lax.integer_pow(x, 3) + jax.lax.logistic(x) + jax.lax.rsqrt(q).sum()", {"x": X5, "q": POS3}, None),
    ("jax.lax.dot(A, x)", {"A": A34, "x": rng.standard_normal(4)}, None),
    ("jax.lax.cumsum(x, axis=1, reverse=True)", {"x": A34}, None),
    ("jax.lax.reduce_sum(x, axes=(0,)) + jax.lax.reduce_max(x, axes=(0,))", {"x": A34}, None),
    ("jax.lax.transpose(x, (1, 0)) * 2", {"x": A34}, None),
    # JAX's functional writes, linspace's endpoint, fill_diagonal's inplace=False
    ("x.at[idx].min(v) + x.at[idx].max(v)", {"x": X5, "idx": np.array([0, 2, 4]), "v": rng.standard_normal(3)}, None),
    ("x.at[idx].divide(v)", {"x": X5, "idx": np.array([2, 0, 4]), "v": POS3},
     "x.at[idx].divide(v, unique_indices=True)"),
    ("x.at[1:3].power(2.0)", {"x": rng.uniform(0.5, 2, 5)}, None),
    ("jnp.linspace(0.0, 1.0, num=4, endpoint=False) * x[:4]", {"x": X5}, None),
    ("jnp.fill_diagonal(x, 0.5, inplace=False)", {"x": rng.standard_normal((3, 3))}, None),
    # @jax.jit changes no value
    ("@jax.jit\ndef f(x):\n    return jnp.sin(x) * 2\nf(x)", {"x": X5}, None),
    ("from jax import jit\n@jit\ndef f(x):\n    return jnp.tanh(x)\nf(x)", {"x": X5}, "jnp.tanh(x)"),
]


@pytest.mark.parametrize("code, inputs, ref", JAX_AGREES, ids=[" ".join(c[0].split())[:60] for c in JAX_AGREES])
def test_pasted_jax_code_agrees_with_jax_running_it(jax_process, code, inputs, ref):
    assert_agrees_with_jax(jax_process, code, inputs, ref)


# --- without JAX: SciPy's values, NumPy formulas, central differences ------------------------------------


def test_log_softmax_over_every_element_with_axis_none():
    got = api.evaluate("jax.nn.log_softmax(x, axis=None)", {"x": A34})
    np.testing.assert_allclose(got, A34 - np.log(np.exp(A34).sum()), rtol=1e-12)
    got = api.evaluate("jax.nn.softmax(x, axis=None)", {"x": A34})
    np.testing.assert_allclose(got, np.exp(A34) / np.exp(A34).sum(), rtol=1e-12)
    # the default is still the last axis, of any rank (PyTorch's implicit dim is refused for 3-d)
    got = api.evaluate("jax.nn.log_softmax(x)", {"x": T3})
    np.testing.assert_allclose(got, T3 - np.log(np.exp(T3).sum(-1, keepdims=True)), rtol=1e-12)


SCIPY_CASES = [
    ("kl_div", "scipy.special.kl_div(x, y)", {"x": P3, "y": POS3}),
    ("rel_entr", "scipy.special.rel_entr(x, y)", {"x": P3, "y": POS3}),
    ("log_expit", "scipy.special.log_expit(x)", {"x": X5}),
    ("huber", "scipy.special.huber(d, r)", {"d": np.array([0.5, 1.0, 2.0]), "r": np.array([0.3, -1.7, 1.2])}),
    ("pseudo_huber", "scipy.special.pseudo_huber(d, r)", {"d": np.array([0.5, 1.0, 2.0]),
                                                          "r": np.array([0.3, -1.7, 1e-5])}),
    ("logsumexp", "scipy.special.logsumexp(x, b=w)", {"x": X5, "w": np.array([0.5, 1.0, 2.0, 0.1, 1.5])}),
    ("logsumexp", "scipy.special.logsumexp(x, axis=1, b=w, keepdims=True)", {"x": A34, "w": rng.uniform(0.1, 1, 4)}),
]


@pytest.mark.parametrize("fname, code, inputs", SCIPY_CASES, ids=[c[1] for c in SCIPY_CASES])
def test_scipy_special_spellings_are_scipys_functions(fname, code, inputs):
    special = pytest.importorskip("scipy.special")
    if fname != "logsumexp":
        expected = getattr(special, fname)(*inputs.values())
    else:
        expected = special.logsumexp(inputs["x"], b=inputs["w"], **({"axis": 1, "keepdims": True} if "axis" in code
                                                                    else {}))
    np.testing.assert_allclose(api.evaluate(code, inputs), expected, rtol=1e-12, atol=1e-15)
    assert_derivatives_are_central_differences(code, inputs)


def test_kl_div_and_rel_entr_at_the_edges_of_their_domain():
    x, y = np.array([0.0, 0.0, 1.0, -1.0, 0.5, np.nan]), np.array([0.0, 2.0, 0.0, 1.0, -1.0, 1.0])
    # SciPy: y where x = 0 and y >= 0 (0 for rel_entr), inf where x > 0 = y or either is negative, NaN with NaN
    np.testing.assert_array_equal(api.evaluate("scipy.special.kl_div(x, y)", {"x": x, "y": y}),
                                  [0.0, 2.0, np.inf, np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(api.evaluate("scipy.special.rel_entr(x, y)", {"x": x, "y": y}),
                                  [0.0, 0.0, np.inf, np.inf, np.inf, np.nan])
    # the derivatives where both are positive: log(x/y) and 1 - x/y
    x, y = np.array([0.3, 1.5]), np.array([0.7, 0.4])
    jac = api.jacobian("scipy.special.kl_div(x, y)", {"x": x, "y": y})
    np.testing.assert_allclose(np.diag(jac["x"]), np.log(x / y), rtol=1e-12)
    np.testing.assert_allclose(np.diag(jac["y"]), 1 - x / y, rtol=1e-12)


def test_weighted_logsumexp_at_infinities_and_zero_weights():
    w = np.array([1.0, 0.0, 2.0])
    assert api.evaluate("scipy.special.logsumexp(x, b=w)", {"x": np.full(3, -np.inf), "w": w}) == -np.inf
    assert api.evaluate("scipy.special.logsumexp(x, b=w)", {"x": np.array([1.0, np.inf, 0.0]), "w": w}) == np.inf \
        or np.isnan(api.evaluate("scipy.special.logsumexp(x, b=w)", {"x": np.array([1.0, np.inf, 0.0]), "w": w}))
    got = api.evaluate("scipy.special.logsumexp(x, b=w)", {"x": np.array([1000.0, 0.0, 999.0]), "w": w})
    np.testing.assert_allclose(got, 1000.0 + np.log(1 + 2 * np.exp(-1.0)), rtol=1e-14)
    assert np.isnan(api.evaluate("scipy.special.logsumexp(x, b=w)", {"x": np.zeros(2), "w": np.array([1.0, -2.0])}))


JAX_NN_FORMULAS = [
    ("jax.nn.standardize(x)", {"x": A34},
     lambda x: (x - x.mean(-1, keepdims=True)) / np.sqrt(np.clip((x * x).mean(-1, keepdims=True)
                                                                 - x.mean(-1, keepdims=True) ** 2, 0, None) + 1e-5)),
    ("jax.nn.standardize(x, algorithm='stable')", {"x": A34},
     lambda x: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)),
    ("jax.nn.squareplus(x)", {"x": X5}, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("jax.nn.sparse_plus(x)", {"x": np.array([-2.0, -0.5, 0.3, 1.5])},
     lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("jax.nn.sparse_sigmoid(x)", {"x": np.array([-2.0, -0.5, 0.3, 1.5])}, lambda x: np.clip(x + 1, 0, 2) / 2),
    ("jax.lax.clamp(-0.5, x, 0.3)", {"x": np.array([-2.0, -0.1, 0.2, 1.5])}, lambda x: np.clip(x, -0.5, 0.3)),
    ("jax.lax.max(x, 0.2)", {"x": np.array([-2.0, -0.1, 0.3, 1.5])}, lambda x: np.maximum(x, 0.2)),
    ("jax.lax.cumsum(x, reverse=True)", {"x": X5}, lambda x: np.cumsum(x[::-1])[::-1]),
    ("jax.lax.integer_pow(x, 3)", {"x": X5}, lambda x: x ** 3),
]


@pytest.mark.parametrize("code, inputs, formula", JAX_NN_FORMULAS, ids=[c[0] for c in JAX_NN_FORMULAS])
def test_jax_spellings_follow_their_formula_and_central_differences(code, inputs, formula):
    np.testing.assert_allclose(api.evaluate(code, inputs), formula(*inputs.values()), rtol=1e-12, atol=1e-15)
    assert_derivatives_are_central_differences(code, inputs)


def test_lax_max_is_element_wise_and_its_clamp_takes_the_bounds_first():
    x, y = np.array([1.0, -2.0, 3.0]), np.array([0.0, 0.0, 5.0])
    np.testing.assert_array_equal(api.evaluate("jax.lax.max(x, y)", {"x": x, "y": y}), [1.0, 0.0, 5.0])
    np.testing.assert_array_equal(api.evaluate("jax.lax.clamp(0.0, x, 2.0)", {"x": x}), [1.0, 0.0, 2.0])
    assert not api.jacobian("jax.lax.stop_gradient(x) * 2", {"x": x})["x"].any()


REFUSED = [
    # a name of another library is not read as PyTorch's (F.normalize is another function)
    ("jax.nn.normalize(x)", ["x:3x4"], "'jax.nn.normalize' is not supported by jac", "standardize"),
    ("scipy.special.cross_entropy(x)", ["x:3"], "'scipy.special.cross_entropy' is not supported by jac"),
    ("jax.scipy.special.psi(x)", ["x:3"], "not supported by jac", "digamma"),
    # transforms: jax.grad and its kin are read (tests/test_grad24.py); what JAX refuses is refused
    ("def f(x):\n    return x ** 2\njax.grad(f)(x)", ["x:3"], "a gradient is only for a scalar output", "jacrev"),
    ("jax.grad(lambda w: jnp.sum(w ** 2), argnums=2)(w)", ["w:3"], "argnums counts the positional arguments"),
    # jax.vmap and jax.jit are read (tests/test_vmap25.py), and vmap imported by name; vmap never imported is not
    ("vmap(jnp.sin)(X)", ["X:2x3"], "jax.vmap(f, in_axes)(x)", "--batch", "jnp.sin(X)"),
    ("y, vjp_fn = jax.vjp(jnp.sin, x)\nvjp_fn(v)", ["x:3", "v:2"], "cotangent has shape (2,)", "must match"),
    ("jax.random.normal(key, (3,)) * x", ["x:3", "key=[0, 0]"], "jax.random", "eps:3"),
    ("jax.tree_util.tree_all(x)", ["x:3"], "it reads jax.tree.flatten"),  # tree_map etc. are read (session 26)
    # jax.lax beyond its element-wise ops
    # lax.map, scan, fori_loop are read (tests/test_vmap25.py); lax.cond and while_loop of the values are taken at
    # the given values since session 33 (tests/test_cond33.py)
    ("jax.lax.psum(x, 'i')", ["x:3"], "no devices or named axes", "jnp.sum(x)"),  # lax.div is read (laxnames)
    ("jax.lax.erfc_inv(x)", ["x:3"], "unknown function 'jax.lax.erfc_inv' (jax.lax has no such name); did you mean"),
    # optax, flax: the formula to write
    ("optax.l2_loss(p, t).mean()", ["p:3", "t:3"], "optax", "0.5 * (predictions - targets) ** 2"),
    ("optax.softmax_cross_entropy_with_integer_labels(z, y).mean()", ["z:4x5", "y=[0, 3, 1, 4]"],
     "jax.nn.log_softmax", "take_along_axis"),
    ("optax.losses.sigmoid_binary_cross_entropy(z, y)", ["z:3", "y:3"], "log_sigmoid"),
    ("import optax\noptax.adam(1e-3)", ["x:3"], "optax is not supported", "paste the loss alone"),
    ("import flax.linen as nn\nnn.Dense(3)(x)", ["x:3"], "flax", "x @ W + b", "jax.nn.relu"),
    ("flax.linen.gelu(x)", ["x:3"], "flax", "jax.nn.gelu"),
    # norm and multivariate_normal are read since session 33 (h33d-dists); the other distributions are not
    ("jax.scipy.stats.pareto.logpdf(x)", ["x:3"], "jax.scipy.stats", "norm, multivariate_normal", "gammaln"),
    ("scipy.stats.pareto.cdf(x)", ["x:3"], "scipy.stats", "norm, multivariate_normal", "log_ndtr"),
    ("jax.scipy.linalg.schur(L)", ["L:3x3"], "jax.scipy.linalg", "block_diag", "jnp.linalg's functions (solve"),
    ("jax.scipy.linalg.cho_factor(L)", ["L:3x3"], "jnp.linalg.cholesky(a)", "(L, True)"),
    ("jax.scipy.linalg.cholesky(L)", ["L:3x3"], "jnp.linalg.cholesky(a).mT"),
    # jax.nn.softmax(x, where=m) is read since session 39 (h39-jaxprog, tests/test_jaxprog39.py)
]


@pytest.mark.parametrize("case", REFUSED, ids=[" ".join(r[0].split())[:50] for r in REFUSED])
def test_what_jac_cannot_read_is_refused_saying_what_to_write(capsys, case):
    code, bindings, *words = case
    refused(capsys, code, bindings, *words)


def test_a_decorator_line_on_the_command_line_says_what_to_do(capsys):
    assert entry.main(["eval", "@jax.jit\ndef f(x):\n    return x\nf(x)", "x:3"]) == 2
    assert "a text that begins with a decorator line (@jax.jit) must begin otherwise" in capsys.readouterr().err
    # functools.cache is read since session 37 (h37-builtins): an array argument is refused as unhashable
    with pytest.raises(JacError, match="unhashable"):
        api.evaluate("@functools.cache\ndef f(x):\n    return x\nf(x)", {"x": X5})
    with pytest.raises(JacError, match="a decorator"):  # decorators jac does not read are still refused
        api.evaluate("@contextlib.contextmanager\ndef f(x):\n    return x\nf(x)", {"x": X5})


def test_scipy_kl_div_is_not_pytorchs_loss():
    x, y = P3, POS3
    value = api.evaluate("scipy.special.kl_div(x, y)", {"x": x, "y": y})
    np.testing.assert_allclose(value, x * np.log(x / y) - x + y, rtol=1e-12)
    # PyTorch's F.kl_div(input, target) is still the reduced loss
    assert np.ndim(api.evaluate("F.kl_div(x, y)", {"x": x, "y": y})) == 0


def test_jax_writes_without_jax():
    x, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0])
    idx = np.array([1, 1])
    # .divide and .power as JAX: x / (or **) the values multiplied into ones at the positions
    np.testing.assert_allclose(api.evaluate("x.at[idx].divide(v)", {"x": x, "idx": idx, "v": v}), [1, 2 / 8, 3, 4])
    np.testing.assert_allclose(api.evaluate("x.at[idx].power(v)", {"x": x, "idx": idx, "v": v}), [1, 2.0 ** 8, 3, 4])
    np.testing.assert_array_equal(api.evaluate("x.at[idx].min(v)", {"x": x, "idx": idx, "v": v}), [1, 2, 3, 4])
    np.testing.assert_array_equal(api.evaluate("x.at[idx].max(v)", {"x": x, "idx": idx, "v": v}), [1, 4, 3, 4])
    inputs = {"x": x, "idx": idx, "v": v}
    assert_derivatives_are_central_differences("x.at[idx].divide(v)", inputs)
    assert_derivatives_are_central_differences("x.at[idx].power(v)", inputs)
    np.testing.assert_array_equal(api.evaluate("jnp.linspace(0, 1, 4, endpoint=False)", {}), [0, 0.25, 0.5, 0.75])
    A = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(api.evaluate("jnp.fill_diagonal(A, 0.0, inplace=False)", {"A": A}),
                                  A * (1 - np.eye(3)))
