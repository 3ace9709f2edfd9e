"""Session 45: inputs as the bounds of linspace / logspace / geomspace (NumPy's and JAX's, array bounds with
``axis=``) and as np.interp's knots. The values are NumPy's own bit for bit (its formula written in ops); jnp's
follow JAX's formula (XLA's CPU code rounds a few of them an ulp apart, so to a few ulps); the Jacobians agree with
central differences and with ``jax.jacfwd``. torch.linspace of an input is refused: PyTorch detaches it."""

import json
import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

rng = np.random.default_rng(45)
A3 = rng.uniform(-2, 2, 3)
C23 = rng.uniform(0.5, 2, (2, 3))
S = np.array(0.3)
POS3 = np.abs(A3) + 0.5

# (text, NumPy's function of the bindings, bindings): every count, endpoint and axis below is tried
GRIDS = [
    ("np.linspace(s, 1.5, {n}, endpoint={ep})", lambda e, n, ep: np.linspace(e["s"], 1.5, n, endpoint=ep), {"s": S}),
    ("np.linspace(a, 1.5, {n}, endpoint={ep})", lambda e, n, ep: np.linspace(e["a"], 1.5, n, endpoint=ep),
     {"a": A3}),
    ("np.linspace(a, c, {n}, endpoint={ep}, axis=-1)",
     lambda e, n, ep: np.linspace(e["a"], e["c"], n, endpoint=ep, axis=-1), {"a": A3, "c": C23}),
    ("np.linspace(c, a, {n}, endpoint={ep}, axis=1)",
     lambda e, n, ep: np.linspace(e["c"], e["a"], n, endpoint=ep, axis=1), {"a": A3, "c": C23}),
    ("np.linspace(-2.0, c, {n}, endpoint={ep}, axis=-3)",
     lambda e, n, ep: np.linspace(-2.0, e["c"], n, endpoint=ep, axis=-3), {"c": C23}),
    ("np.logspace(a, c, {n}, endpoint={ep}, axis=2)",
     lambda e, n, ep: np.logspace(e["a"], e["c"], n, endpoint=ep, axis=2), {"a": A3, "c": C23}),
    ("np.logspace(s, a, {n}, endpoint={ep}, base=p)",
     lambda e, n, ep: np.logspace(e["s"], e["a"], n, endpoint=ep, base=e["p"]), {"s": S, "a": A3, "p": POS3}),
    ("np.logspace(a, c, {n}, endpoint={ep}, axis=-2, base=2.0)",
     lambda e, n, ep: np.logspace(e["a"], e["c"], n, endpoint=ep, axis=-2, base=2.0), {"a": A3, "c": C23}),
    ("np.geomspace(p, c, {n}, endpoint={ep}, axis=1)",
     lambda e, n, ep: np.geomspace(e["p"], e["c"], n, endpoint=ep, axis=1), {"p": POS3, "c": C23}),
    ("np.geomspace(-c, -p, {n}, endpoint={ep}, axis=-1)",
     lambda e, n, ep: np.geomspace(-e["c"], -e["p"], n, endpoint=ep, axis=-1), {"p": POS3, "c": C23}),
]
COUNTS = [(0, True), (1, True), (1, False), (2, True), (2, False), (5, False), (50, True)]


def _cases():
    for text, numpy_fn, env in GRIDS:
        for n, ep in COUNTS:
            yield pytest.param(text.format(n=n, ep=ep), numpy_fn, env, n, ep, id=text.format(n=n, ep=ep))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("text, numpy_fn, env, n, ep", list(_cases()))
def test_grid_values_are_numpys_to_the_bit(text, numpy_fn, env, n, ep, dtype):
    env = {k: v.astype(dtype) for k, v in env.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = numpy_fn(env, n, ep)
    got = np.asarray(api.evaluate(text, env, dtype=dtype))
    assert got.shape == want.shape
    if "geomspace" in text and dtype == "float32":  # NumPy's geomspace computes in float64 whatever its inputs
        np.testing.assert_allclose(got, want.astype(dtype), rtol=3e-7)
        return
    assert got.dtype == want.dtype
    assert np.array_equal(got, want, equal_nan=True)


def _central(text, env, name, h=1e-6):
    """d text / d env[name] by central differences, shaped (*out, *in)."""
    x = np.asarray(env[name], dtype=float)
    cols = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        up = api.evaluate(text, {**env, name: x + step.reshape(x.shape)})
        down = api.evaluate(text, {**env, name: x - step.reshape(x.shape)})
        cols.append((np.asarray(up) - np.asarray(down)) / (2 * h))
    out_shape = np.shape(api.evaluate(text, env))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


@pytest.mark.parametrize("text, numpy_fn, env, n, ep",
                         [c for c in _cases() if c.values[3] in (1, 2, 5)])
def test_grid_jacobians_agree_with_central_differences(text, numpy_fn, env, n, ep):
    J = api.jacobian(text, env)
    for name in env:
        assert np.allclose(np.asarray(J[name]), _central(text, env, name), rtol=1e-6, atol=1e-7), name


def test_linspace_derivative_is_the_interpolation_weights():
    J = api.jacobian("np.linspace(s, t, 5)", {"s": 1.0, "t": 3.0})
    np.testing.assert_array_equal(J["s"], [1, 0.75, 0.5, 0.25, 0])
    np.testing.assert_array_equal(J["t"], [0, 0.25, 0.5, 0.75, 1])


def test_linspace_of_equal_bounds_takes_numpys_step_zero_branch():
    # step == 0: NumPy computes arange / div * delta; the values and the weights are still right
    env = {"s": np.array([2.0, 1.0]), "t": np.array([2.0, 3.0])}
    np.testing.assert_array_equal(api.evaluate("np.linspace(s, t, 4)", env), np.linspace(env["s"], env["t"], 4))
    J = api.jacobian("np.linspace(s, t, 4)", env)
    np.testing.assert_allclose(np.asarray(J["t"])[:, 1, 1], [0, 1 / 3, 2 / 3, 1])


def test_retstep_gives_the_step_and_its_derivative():
    env = {"a": A3}
    got = api.evaluate("np.linspace(a, 1.5, 5, retstep=True)[1]", env)
    np.testing.assert_array_equal(got, np.linspace(A3, 1.5, 5, retstep=True)[1])
    J = api.jacobian("np.linspace(a, 1.5, 5, retstep=True)[1]", env)
    np.testing.assert_allclose(J["a"], -np.eye(3) / 4)
    assert np.isnan(api.evaluate("np.linspace(s, 1.5, 1, retstep=True)[1] + s", {"s": S}))


def test_an_integer_dtype_floors_as_numpy():
    for text, want in [("np.linspace(s, -2.5, 7, dtype=int)", np.linspace(0.3, -2.5, 7, dtype=int)),
                       ("np.linspace(-2.5, 0, 3, dtype=int)", np.linspace(-2.5, 0, 3, dtype=int))]:
        np.testing.assert_array_equal(api.evaluate(text, {"s": S} if "s" in text else {}), want)


def test_axis_zero_written_as_a_float_is_numpys_axis_0():
    # NumPy tests axis != 0 before it reads the axis: axis=0.0 answers, axis=1.0 raises
    np.testing.assert_array_equal(api.evaluate("np.linspace(a, 2.0, 3, axis=0.0)", {"a": A3}),
                                  np.linspace(A3, 2.0, 3, axis=0.0))
    with pytest.raises(JacError, match="integer"):
        api.evaluate("np.linspace(a, 2.0, 3, axis=1.0)", {"a": A3})
    with pytest.raises(JacError, match="out of range"):
        api.evaluate("np.linspace(a, 2.0, 3, axis=2)", {"a": A3})
    with pytest.raises(JacError, match="out of range"):
        api.evaluate("np.linspace(a, 2.0, 3, axis=-3)", {"a": A3})


def test_geomspace_refuses_a_zero_bound_at_evaluation():
    assert np.all(np.isfinite(api.evaluate("np.geomspace(a, 2.0, 4)", {"a": POS3})))
    with pytest.raises(JacError, match="cannot include zero"):
        api.evaluate("np.geomspace(a, 2.0, 4)", {"a": np.array([1.0, 0.0, 2.0])})
    with pytest.raises(JacError, match="cannot include zero"):
        api.jacobian("np.geomspace(2.0, a, 4)", {"a": np.array([1.0, 0.0, 2.0])})
    with pytest.raises(JacError, match="cannot include zero"):
        api.evaluate("np.geomspace(a, 0.0, 4)", {"a": POS3})


def test_a_count_read_off_the_inputs_is_refused():
    with pytest.raises(JacError, match="constant"):
        api.evaluate("np.linspace(0.0, 1.0, x)", {"x": 3.0})
    with pytest.raises(JacError, match="must not be negative"):
        api.evaluate("np.linspace(a, 1.0, -1)", {"a": A3})


# --- JAX ------------------------------------------------------------------------------------------------------------

JAX_GRIDS = [
    ("jnp.linspace(a, c, {n}, endpoint={ep}, axis=-1)",
     lambda jnp, a, c, n, ep: jnp.linspace(a, c, n, endpoint=ep, axis=-1)),
    ("jnp.linspace(c, a, {n}, endpoint={ep}, axis=0)",
     lambda jnp, a, c, n, ep: jnp.linspace(c, a, n, endpoint=ep, axis=0)),
    ("jnp.logspace(a, c, {n}, endpoint={ep}, axis=1)",
     lambda jnp, a, c, n, ep: jnp.logspace(a, c, n, endpoint=ep, axis=1)),
    ("jnp.geomspace(c, a + 3, {n}, endpoint={ep}, axis=-2)",
     lambda jnp, a, c, n, ep: jnp.geomspace(c, a + 3, n, endpoint=ep, axis=-2)),
    ("np.linspace(a, c, {n}, endpoint={ep}, axis=-1)",
     lambda jnp, a, c, n, ep: jnp.linspace(a, c, n, endpoint=ep, axis=-1)),
    ("np.logspace(c, a, {n}, endpoint={ep}, axis=2, base=3.0)",
     lambda jnp, a, c, n, ep: jnp.logspace(c, a, n, endpoint=ep, axis=2, base=3.0)),
    ("np.geomspace(c, a + 3, {n}, endpoint={ep}, axis=1)",
     lambda jnp, a, c, n, ep: jnp.geomspace(c, a + 3, n, endpoint=ep, axis=1)),
]


@pytest.fixture(scope="module")
def jax64():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("n, ep", [(1, True), (1, False), (2, True), (5, False), (50, True)])
@pytest.mark.parametrize("text, jax_fn", JAX_GRIDS, ids=[g[0] for g in JAX_GRIDS])
def test_grid_values_and_jacobians_agree_with_jax(jax64, text, jax_fn, n, ep):
    jnp = jax64.numpy
    text = text.format(n=n, ep=ep)
    env = {"a": A3, "c": C23}
    with jax64.disable_jit():  # JAX's ops one by one: jax.jit lets XLA fuse them, rounding an ulp apart
        want = np.asarray(jax_fn(jnp, A3, C23, n, ep))
    got = np.asarray(api.evaluate(text, env))
    assert got.shape == want.shape
    if text.startswith("jnp.linspace"):  # JAX's formula op for op, bit for bit
        np.testing.assert_array_equal(got, want)
    else:  # np.: NumPy's formula; XLA's pow and log10 are not the C library's: a few ulps
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    J = api.jacobian(text, env)
    JA = jax64.jacfwd(lambda a, c: jax_fn(jnp, a, c, n, ep), argnums=(0, 1))(A3, C23)
    np.testing.assert_allclose(np.asarray(J["a"]), JA[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(np.asarray(J["c"]), JA[1], rtol=1e-12, atol=1e-13)


def test_jnp_linspace_is_jaxs_formula_not_numpys(jax64):
    # start * (1 - t) + stop * t, as JAX writes it, differs from NumPy's start + i * step in the last bits here
    env = {"a": A3, "c": C23}
    numpy_made = np.asarray(api.evaluate("np.linspace(a, c, 50, axis=-1)", env))
    jax_made = np.asarray(api.evaluate("jnp.linspace(a, c, 50, axis=-1)", env))
    assert not np.array_equal(numpy_made, jax_made)
    np.testing.assert_array_equal(numpy_made, np.linspace(A3, C23, 50, axis=-1))
    t = np.arange(49) * (1 / 49)  # iota / 49 as XLA computes it, a product by the inverse
    np.testing.assert_array_equal(jax_made[..., :-1], A3[:, None] * (1 - t) + C23[..., None] * t)


def test_jnp_geomspace_does_not_refuse_a_zero_bound(jax64):
    got = api.evaluate("jnp.geomspace(a, 2.0, 3)", {"a": np.array([1.0, 0.0])})
    want = np.asarray(jax64.numpy.geomspace(np.array([1.0, 0.0]), 2.0, 3))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


# --- interp ---------------------------------------------------------------------------------------------------------

XP = np.array([-1.0, 0.2, 0.5, 1.3])
FP = np.array([0.3, -1.0, 2.0, 0.7])
X_KNOTS = np.array([-2.0, -1.0, -0.3, 0.2, 0.4, 0.9, 1.3, 2.0, 0.5])  # knots included, both ends
X_AWAY = np.array([-2.0, -0.3, 0.4, 0.9, 1.7])  # no knot: central differences hold


@pytest.mark.parametrize("text, kwargs", [("np.interp(x, xp, fp)", {}), ("jnp.interp(x, xp, fp)", {}),
                                          ("np.interp(x, xp, fp, left=-5.0, right=fp[1])", {"left": -5.0}),
                                          ("np.interp(x, xp, [1.0, 2.0, 0.0, 4.0])", {})])
def test_interp_values_are_numpys_to_the_bit(text, kwargs):
    fp = np.array([1.0, 2.0, 0.0, 4.0]) if "[1.0" in text else FP
    env = {"x": X_KNOTS, "xp": XP, "fp": FP}
    want = np.interp(X_KNOTS, XP, fp, **({"left": -5.0, "right": FP[1]} if kwargs else {}))
    np.testing.assert_array_equal(api.evaluate(text, {k: v for k, v in env.items() if k in text}), want)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_jnp_interp_values_are_jaxs_op_for_op(jax64, dtype):
    x = np.concatenate([X_KNOTS, [np.nan], np.random.default_rng(1).uniform(-1.5, 1.5, 100)]).astype(dtype)
    env = {"x": x, "xp": XP.astype(dtype), "fp": FP.astype(dtype)}
    with jax64.disable_jit():
        want = np.asarray(jax64.numpy.interp(x, env["xp"], env["fp"]))
    np.testing.assert_array_equal(api.evaluate("jnp.interp(x, xp, fp)", env, dtype=dtype), want)


@pytest.mark.parametrize("x, f", [([0.0, 0.5, 1.0], [0, "np.inf", 1]), ([0.0, 0.5, 1.0, 1.5], ["np.inf", "np.inf", 1]),
                                  ([0.5, 0.0, 1.0, 2.0], ["-np.inf", "-np.inf", 3]), ([0.0, 1.0, 2.0], ["-0.0", 1, 1])])
def test_interp_keeps_numpys_special_cases_for_constant_values(x, f):
    # fp[k] at a knot, the line from the next knot where the first is NaN, fp[k] where both are (NumPy's C code)
    text = f"np.interp(x, [0, 1, 2], [{', '.join(map(str, f))}])"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.interp(np.array(x), [0, 1, 2], [eval(str(v), {"np": np}) for v in f])  # noqa: S307
    got = api.evaluate(text, {"x": np.array(x)})
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_interp_refuses_values_of_the_inputs_whose_slope_is_not_finite():
    # NumPy's special cases there are followed for constants only: an input's refused, never answered otherwise
    x = np.array([0.0, 0.5, 1.0])
    for f in ([0, np.inf, 1], [0, np.nan, 1], [0, 1e308, -1e308]):
        with pytest.raises(JacError, match="not finite|is (inf|-inf|nan)"):
            api.evaluate("np.interp(x, [0, 1, 2], f)", {"x": x, "f": np.array(f)})
    with pytest.raises(JacError, match="is (inf|-inf|nan)"):
        api.evaluate("np.interp(x, xp, [0.0, 1.0, 2.0])", {"x": x, "xp": np.array([0, 1e-320, 2])})


def test_interp_of_one_knot_is_numpys_even_at_nan():
    x = np.array([0.0, 0.5, 1.0, np.nan])
    np.testing.assert_array_equal(api.evaluate("np.interp(x, [0.5], f)", {"x": x, "f": np.array([2.0])}),
                                  np.interp(x, [0.5], [2.0]))


def test_interp_float32_values_are_numpys():
    env = {k: v.astype(np.float32) for k, v in {"x": X_KNOTS, "xp": XP, "fp": FP}.items()}
    got = api.evaluate("np.interp(x, xp, fp)", env, dtype="float32")
    np.testing.assert_allclose(got, np.interp(env["x"], env["xp"], env["fp"]), rtol=1e-6)


def test_interp_jacobians_agree_with_central_differences_away_from_knots():
    env = {"x": X_AWAY, "xp": XP, "fp": FP}
    J = api.jacobian("np.interp(x, xp, fp)", env)
    for name in env:
        np.testing.assert_allclose(np.asarray(J[name]), _central("np.interp(x, xp, fp)", env, name), atol=1e-7)


@pytest.mark.parametrize("text", ["np.interp(x, xp, fp)", "jnp.interp(x, xp, fp)",
                                  "np.interp(x, xp, fp, left=2 * fp[0], right=-1.0)"])
def test_interp_jacobians_agree_with_jax_at_the_knots_too(jax64, text):
    jnp = jax64.numpy
    env = {"x": X_KNOTS, "xp": XP, "fp": FP}
    fn = (lambda x, xp, fp: jnp.interp(x, xp, fp, left=2 * fp[0], right=-1.0)) if "left" in text else jnp.interp
    J = api.jacobian(text, env)
    JA = jax64.jacfwd(fn, argnums=(0, 1, 2))(X_KNOTS, XP, FP)
    for name, ja in zip(("x", "xp", "fp"), JA):
        np.testing.assert_allclose(np.asarray(J[name]), ja, rtol=1e-12, atol=1e-12, err_msg=name)


def test_interp_refuses_knots_not_strictly_increasing_at_evaluation():
    for xp in (XP[::-1].copy(), np.array([-1.0, 0.2, 0.2, 1.3]), np.array([-1.0, np.nan, 0.5, 1.3])):
        with pytest.raises(JacError, match="strictly increasing"):
            api.evaluate("np.interp(x, xp, fp)", {"x": X_AWAY, "xp": xp, "fp": FP})


# --- PyTorch ----------------------------------------------------------------------------------------------------------

def test_pytorch_answers_torch_linspace_of_a_grad_tensor_but_detached():
    torch = pytest.importorskip("torch")
    s = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = torch.linspace(s, 2.0, 5)
    assert not y.requires_grad and y.grad_fn is None  # what jac's refusal says; if PyTorch changes, revisit
    assert not torch.logspace(s, 2.0, 5).requires_grad


@pytest.mark.parametrize("text", ["torch.linspace(s, 2.0, 5)", "torch.linspace(0.0, s * 2, 5)",
                                  "torch.logspace(s, 2.0, 5)", "torch.logspace(0.0, 1.0, 5, base=s + 2)"])
def test_torch_grid_of_an_input_is_refused_saying_pytorch_detaches(text):
    with pytest.raises(JacError, match="detached"):
        api.evaluate(text, {"s": S})


def test_torch_linspace_of_constants_is_still_pytorchs():
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(api.evaluate("torch.linspace(-1.0, 1.0, 7)"),
                                  torch.linspace(-1.0, 1.0, 7, dtype=torch.float64).numpy())


# --- the command line -------------------------------------------------------------------------------------------------

def _jac(capsys, *args):
    from jacobi_cli.cli.entry import main
    code = main(list(args))
    return code, capsys.readouterr()


def test_cli_json_gives_the_grid_and_its_jacobian(capsys):
    code, out = _jac(capsys, "eval", "np.linspace(a, b, 3)", "a=1", "b=2", "--json")
    assert code == 0
    doc = json.loads(out.out)
    assert doc["output"]["value"] == [1.0, 1.5, 2.0]
    assert doc["jacobian"]["a"]["value"] == [1.0, 0.5, 0.0]
    assert doc["jacobian"]["b"]["value"] == [0.0, 0.5, 1.0]


def test_cli_interp_with_knots_as_inputs(capsys):
    code, out = _jac(capsys, "eval", "np.interp(0.35, xp, fp)", "xp=[0, 0.2, 0.5]", "fp=[1, 3, 2]", "--json")
    assert code == 0
    doc = json.loads(out.out)
    assert doc["output"]["value"] == np.interp(0.35, [0, 0.2, 0.5], [1, 3, 2])
    np.testing.assert_allclose(doc["jacobian"]["fp"]["value"], [0, 0.5, 0.5])


@pytest.mark.parametrize("args, words", [
    (("eval", "np.geomspace(a, 2.0, 3)", "a=[1, 0]", "--json"), "cannot include zero"),
    (("eval", "np.interp(0.3, xp, fp)", "xp=[0, 1, 0.5]", "fp=[1, 2, 3]", "--json"), "strictly increasing"),
    (("eval", "torch.linspace(a, 2.0, 3)", "a=1", "--json"), "detached"),
])
def test_cli_refusals_are_exit_2_with_a_json_error(capsys, args, words):
    code, out = _jac(capsys, *args)
    assert code == 2
    error = json.loads(out.out)["error"]
    assert words in error["message"] and "Traceback" not in out.err


@pytest.mark.parametrize("text, fn", [
    ("np.sum(np.geomspace(a, c, 5, axis=-1) ** 2)", lambda jnp, a, c: jnp.sum(jnp.geomspace(a, c, 5, axis=-1) ** 2)),
    ("np.sum(np.logspace(a, c, 4, base=2.0) * c)", lambda jnp, a, c: jnp.sum(jnp.logspace(a, c, 4, base=2.0) * c)),
    ("np.sum(np.interp(a, c, c ** 3) ** 2)", lambda jnp, a, c: jnp.sum(jnp.interp(a, c, c ** 3) ** 2)),
])
def test_hessians_agree_with_jax(jax64, text, fn):
    jnp = jax64.numpy
    a, c = np.array([0.7, 1.1, 1.9]), np.array([1.0, 1.5, 2.5])
    H = api.hessian(text, {"a": a, "c": c})
    HJ = jax64.hessian(lambda a, c: fn(jnp, a, c), argnums=(0, 1))(a, c)
    for i, p in enumerate("ac"):
        for j, q in enumerate("ac"):
            block = H[(p, q)]
            np.testing.assert_allclose(np.asarray(block), HJ[i][j], rtol=1e-10, atol=1e-10, err_msg=p + q)
