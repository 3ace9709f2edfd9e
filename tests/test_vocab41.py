"""Session 41's everyday calls (lang/names41.py, benchmarks/vocab41_probe.py): PyTorch's top-level losses with
ATen's int reduction, atleast_Nd of several arrays, np.permute_dims(x), np.clip(x) without bounds, x.to(other),
and np.histogramdd of a tuple of coordinate arrays. Values and Jacobians against PyTorch / JAX / NumPy (skipped
without them) and central differences, forward and reverse mode, Hessians; the refusals that stay."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(4141)
X, Y = rng.uniform(0.2, 0.9, 5), rng.uniform(0.2, 0.9, 5)
T = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
A, B, C = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
S = np.array([1.0, -1.0, 1.0])
HEAD = "import torch\n"

ATEN = [  # every loss, its default (every element's loss), each code, ATen's positional parameters
    ("torch.kl_div(x, y)", {"x": X, "y": Y}),
    ("torch.kl_div(x, y, 1)", {"x": X, "y": Y}),
    ("torch.kl_div(x, y, 2, log_target=True)", {"x": X, "y": Y}),
    ("torch.kl_div(x, y, reduction=0)", {"x": X, "y": Y}),
    ("torch.binary_cross_entropy_with_logits(x, y)", {"x": X, "y": Y}),
    ("torch.binary_cross_entropy_with_logits(x, y, torch.full((5,), 0.5), None, 1)", {"x": X, "y": Y}),
    ("torch.binary_cross_entropy_with_logits(x, y, pos_weight=torch.full((5,), 2.0), reduction=2)",
     {"x": X, "y": Y}),
    ("torch.hinge_embedding_loss(x, t)", {"x": X, "t": T}),
    ("torch.hinge_embedding_loss(x, t, 0.5, 1)", {"x": X, "t": T}),
    ("torch.margin_ranking_loss(x, y, t)", {"x": X, "y": Y, "t": T}),
    ("torch.margin_ranking_loss(x, y, t, 0.1, 2)", {"x": X, "y": Y, "t": T}),
    ("torch.cosine_embedding_loss(a, b, s)", {"a": A, "b": B, "s": S}),
    ("torch.cosine_embedding_loss(a, b, s, 0.2, 1)", {"a": A, "b": B, "s": S}),
    ("torch.triplet_margin_loss(a, b, c)", {"a": A, "b": B, "c": C}),
    ("torch.triplet_margin_loss(a, b, c, 0.5, 1.0, 1e-6, True, 1)", {"a": A, "b": B, "c": C}),
    ("torch.poisson_nll_loss(x, y, True, False, 1e-8, 0)", {"x": X, "y": Y}),
    ("torch.poisson_nll_loss(x, y, False, True, 1e-8, 1)", {"x": X, "y": Y}),
]


@pytest.mark.parametrize("text,inputs", ATEN, ids=[t for t, _ in ATEN])
def test_aten_losses_agree_with_pytorch(torch64, text, inputs):
    assert_agrees_with_pytorch(torch64, HEAD + text, inputs, torch_code=text)


@pytest.mark.parametrize("text,inputs", ATEN, ids=[t for t, _ in ATEN])
def test_aten_losses_forward_mode_is_reverse_mode_and_central_differences(text, inputs):
    reverse = api.jacobian(HEAD + text, inputs, mode="reverse")
    forward = api.jacobian(HEAD + text, inputs, mode="forward")
    for name in inputs:
        np.testing.assert_allclose(forward[name], reverse[name], rtol=1e-12, atol=1e-14)
        if name in ("t", "s"):  # the ±1 targets: the loss is piecewise in them
            continue
        np.testing.assert_allclose(reverse[name], _central(HEAD + text, inputs, name), rtol=1e-6, atol=1e-8)


def _central(text: str, inputs: dict, name: str, h: float = 1e-6) -> np.ndarray:
    base = np.asarray(inputs[name], dtype=float)
    cols = []
    for i in np.ndindex(base.shape):
        e = np.zeros(base.shape)
        e[i] = h
        up = api.evaluate(text, {**inputs, name: base + e})
        down = api.evaluate(text, {**inputs, name: base - e})
        cols.append((up - down) / (2 * h))
    out = np.stack(cols, -1)
    return out.reshape(out.shape[:-1] + base.shape)


@pytest.mark.parametrize("text", ["torch.kl_div(x, y, 2)", "torch.binary_cross_entropy_with_logits(x, y, None, None, 1)",
                                  "torch.poisson_nll_loss(x, y, False, True, 1e-8, 2)"])
def test_aten_loss_hessians_are_pytorchs(torch64, text):
    torch = torch64
    ty = torch.tensor(Y)
    theirs = torch.autograd.functional.hessian(lambda x: eval(text, {"torch": torch, "x": x, "y": ty}),  # noqa: S307
                                               torch.tensor(X))
    ours = api.hessian(HEAD + text, {"x": X, "y": Y}, wrt=["x"])[("x", "x")]
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text,words", [
    ("torch.kl_div(x, y, 3)", "reduction=3 is none of ATen's codes"),
    ("torch.kl_div(x, y, 'mean')", "reduction"),
    ("torch.poisson_nll_loss(x, y)", "log_input"),
    ("torch.hinge_embedding_loss(x, y, 1.0, 0, 5)", "at most 4 positional"),
    ("torch.clamp(x)", "PyTorch raises"),
])
def test_what_pytorch_refuses_stays_refused(text, words):
    with pytest.raises(JacError) as err:
        api.evaluate(HEAD + text, {"x": X, "y": Y})
    assert words in err.value.message


# -- atleast_Nd of several arrays, np.permute_dims, clip without bounds, x.to(other) ----------------------------

SEVERAL = [("atleast_1d", (X, A)), ("atleast_2d", (X, A)), ("atleast_3d", (X, A)), ("atleast_3d", (X, Y, A))]


@pytest.mark.parametrize("fname,arrays", SEVERAL)
def test_atleast_of_several_arrays_is_numpys_tuple(fname, arrays):
    names = "xyz"[:len(arrays)]
    inputs = dict(zip(names, arrays))
    theirs = getattr(np, fname)(*arrays)
    for k, want in enumerate(theirs):
        text = f"import numpy as np\nnp.{fname}({', '.join(names)})[{k}]"
        np.testing.assert_array_equal(api.evaluate(text, inputs), want)
        jac = api.jacobian(text, inputs)[names[k]]
        np.testing.assert_array_equal(jac.reshape(want.size, -1), np.eye(want.size))


@pytest.mark.parametrize("fname,arrays", SEVERAL)
def test_atleast_of_several_tensors_is_pytorchs(torch64, fname, arrays):
    torch = torch64
    names = "xyz"[:len(arrays)]
    theirs = getattr(torch, fname)(*(torch.tensor(a) for a in arrays))
    as_tuple = getattr(torch, fname)(tuple(torch.tensor(a) for a in arrays))
    for k, want in enumerate(theirs):
        for call in (f"torch.{fname}({', '.join(names)})[{k}]", f"torch.{fname}(({', '.join(names)}))[{k}]"):
            assert_agrees_with_pytorch(torch, HEAD + call, dict(zip(names, arrays)), torch_code=call)
        np.testing.assert_array_equal(as_tuple[k].numpy(), want.numpy())


def test_atleast_of_several_arrays_is_jaxs():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    for k, want in enumerate(jnp.atleast_2d(jnp.asarray(X), jnp.asarray(A))):
        got = api.evaluate(f"import jax.numpy as jnp\njnp.atleast_2d(x, a)[{k}]", {"x": X, "a": A})
        np.testing.assert_array_equal(got, np.asarray(want))


def test_a_list_given_to_numpys_atleast_is_one_array():
    got = api.evaluate("import numpy as np\nnp.atleast_3d([x, y])", {"x": X, "y": Y})
    np.testing.assert_array_equal(got, np.atleast_3d([X, Y]))


def test_np_permute_dims_without_axes_reverses_them():
    D = rng.standard_normal((2, 3, 4))
    for text, want in [("np.permute_dims(d)", np.permute_dims(D)), ("np.permute_dims(d, (1, 0, 2))",
                                                                     np.permute_dims(D, (1, 0, 2)))]:
        got = api.evaluate("import numpy as np\n" + text, {"d": D})
        np.testing.assert_array_equal(got, want)
        jac = api.jacobian("import numpy as np\n(" + text + " * np.arange(24.0).reshape(" + ", ".join(
            map(str, want.shape)) + ")).sum()", {"d": D})["d"]
        np.testing.assert_array_equal(np.permute_dims(jac, np.argsort([2, 1, 0] if "(1, 0, 2)" not in text else
                                                                      [1, 0, 2])).ravel(), np.arange(24.0))


@pytest.mark.parametrize("text", ["np.clip(x)", "jnp.clip(x)", "np.clip(x, None, None)"])
def test_numpy_and_jax_clip_without_bounds_is_x(text):
    head = "import jax.numpy as jnp\n" if text.startswith("jnp") else "import numpy as np\n"
    np.testing.assert_array_equal(api.evaluate(head + text, {"x": X}), np.clip(X))
    np.testing.assert_array_equal(api.jacobian(head + "(" + text + ") ** 2", {"x": X})["x"], np.diag(2 * X))


def test_jax_clip_without_bounds_is_jaxs():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    theirs = jax.jacrev(lambda x: jnp.clip(x) ** 2)(jnp.asarray(X))
    np.testing.assert_array_equal(api.jacobian("import jax.numpy as jnp\njnp.clip(x) ** 2", {"x": X})["x"],
                                  np.asarray(theirs))


def test_to_other_is_type_as(torch64):
    for text in ("x.to(y) * y", "x.to(y, non_blocking=True).exp()", "torch.sin(x).to(y)"):
        assert_agrees_with_pytorch(torch64, HEAD + text, {"x": X, "y": Y}, torch_code=text)
    integer = api.evaluate(HEAD + "x.to(torch.tensor([1, 2, 3, 4, 5]))", {"x": X * 3})
    np.testing.assert_array_equal(integer, torch64.tensor(X * 3).to(torch64.tensor([1, 2, 3, 4, 5])).numpy())


# -- np.histogramdd of a tuple of coordinates (a wrong answer before session 41) ----------------------------------

@pytest.mark.parametrize("text", ["np.histogramdd((x, y))[0]", "np.histogramdd([x, y], bins=3)[0]",
                                  "np.histogramdd((x, y, x * y), bins=(2, 3, 4))[0]",
                                  "np.histogramdd((x, y), bins=3, weights=x)[0]",
                                  "np.histogramdd((x, y), bins=3, density=True)[0]",
                                  "np.histogramdd((x, y), bins=3)[1][1]",
                                  "np.histogramdd(np.stack([x, y], axis=1), bins=3)[0]"])
def test_histogramdd_of_a_tuple_reads_one_array_per_coordinate(text):
    want = eval(text, {"np": np, "x": X, "y": Y})  # noqa: S307
    got = api.evaluate("import numpy as np\n" + text, {"x": X, "y": Y})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_histogramdd_of_numbers_written_as_a_list_is_refused():
    for text in ("np.histogramdd([[0.1, 0.2, 0.3], [0.4, 0.5, 0.9]], bins=2)[0]",
                 "np.histogramdd(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.9]]), bins=2)[0]"):
        with pytest.raises(JacError, match="one row of values per coordinate"):
            api.evaluate("import numpy as np\n" + text, {})
    with pytest.raises(JacError, match="one 1-d array of values per coordinate"):
        api.evaluate("import numpy as np\nnp.histogramdd((x, y[:3]))[0]", {"x": X, "y": Y})


def test_the_command_line_reads_an_aten_loss_and_refuses_a_bad_code(capsys):
    from jacobi_cli.cli import entry
    assert entry.main(["eval", "torch.kl_div(x, y, 2)", "x=[0.3, 0.5]", "y=[0.8, 0.4]", "--json"]) in (0, None)
    out = capsys.readouterr().out
    assert '"value"' in out
    code = entry.main(["eval", "torch.kl_div(x, y, 7)", "x=[0.3, 0.5]", "y=[0.8, 0.4]"])
    assert code == 2
    assert "none of ATen's codes" in capsys.readouterr().err
