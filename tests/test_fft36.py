"""Fourier transforms of real signals (session 36, lang/fourier.py): complex values held as pairs of real graph
values, the transforms' values NumPy's (the ``dft`` op) and their derivatives those of the same map as products with
cos / sin matrices. Each text is run by its own library too (tests/fft36.py): PyTorch's and JAX's values and
Jacobians (float64, real inputs and real outputs, so no convention of complex gradients is involved), NumPy's value
and central differences of it."""

import numpy as np
import pytest

from jacobi_cli import evaluate, hessian, jacobian, jvp, vjp
from jacobi_cli.errors import JacError

from fft36 import JAX, NUMPY, TORCH, ZERO, central, inputs, jax_reference, numpy_value, run, torch_reference


def _close(got, want, tol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = 1.0 + np.abs(want).max(initial=0.0)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("text", TORCH)
def test_value_and_jacobian_are_pytorchs(text):
    pytest.importorskip("torch")
    values = inputs(text)
    want, J = torch_reference(text, values)
    _close(evaluate(text, values), want, 1e-12)
    got = jacobian(text, values)
    for name in values:
        _close(got[name], J[name], 1e-10)


@pytest.mark.parametrize("text", NUMPY)
def test_value_is_numpys_and_the_jacobian_central_differences(text):
    values = inputs(text)
    _close(evaluate(text, values), numpy_value(text, values), 1e-12)
    got, fd = jacobian(text, values), central(text, values)
    for name in values:
        _close(got[name], fd[name], 1e-6)


@pytest.mark.parametrize("text", JAX)
def test_value_and_jacobian_are_jaxs(text):
    pytest.importorskip("jax")
    values = inputs(text)
    want, J = jax_reference(text, values)
    _close(evaluate(text, values), want, 1e-12)
    got = jacobian(text, values)
    for name in values:
        _close(got[name], J[name], 1e-10)


@pytest.mark.parametrize("kind", ["fft", "ifft", "rfft", "ihfft"])
@pytest.mark.parametrize("n", [None, 3, 8, 13])
def test_a_transforms_parts_are_numpys_to_the_bit(kind, n):
    """The values are np.fft's own (signed zeros included: np.angle reads them), not products' roundings."""
    for x in (np.arange(1.0, 9.0), np.ones(8), np.random.default_rng(2).standard_normal(8), np.array([1.0, -1] * 4)):
        want = getattr(np.fft, kind)(x, n=n)
        for part in ("real", "imag"):
            got = evaluate(f"np.fft.{kind}(x, n={n}).{part}", {"x": x})
            assert np.array_equal(np.signbit(got), np.signbit(getattr(want, part)))
            assert np.array_equal(got, getattr(want, part))
        on_cut = (want.real < 0) & (np.abs(want.imag) <= 2 ** 14 * np.finfo(float).eps * np.abs(want.real))
        if kind == "rfft" or kind == "fft":  # bin 0 of a real signal (and rfft's n / 2) is +0 in every library
            on_cut[0] = False
        if kind == "rfft" and (n or 8) % 2 == 0:
            on_cut[-1] = False
        if on_cut.any():
            with pytest.raises(JacError, match="negative real axis"):
                evaluate(f"np.angle(np.fft.{kind}(x, n={n}))", {"x": x})
        else:
            assert np.array_equal(evaluate(f"np.angle(np.fft.{kind}(x, n={n}))", {"x": x}), np.angle(want))


@pytest.mark.parametrize("kind", ["irfft", "hfft"])
def test_a_real_results_are_numpys_to_the_bit(kind):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    for n in (None, 4, 7, 8, 11):
        got = evaluate(f"np.fft.{kind}(a + 1j * b, n={n})", {"a": a, "b": b})
        assert np.array_equal(got, getattr(np.fft, kind)(a + 1j * b, n=n))


@pytest.mark.parametrize("text", ZERO)
@pytest.mark.parametrize("signal", ["zeros", "ones", "alternating", "spike"])
def test_abs_and_angle_at_zero_are_pytorchs(text, signal):
    """|z| and angle(z) at z = 0 (a spectrum's exact zeros: a constant or alternating signal) have PyTorch's
    derivative 0 there, not the NaN of hypot's or atan2's own rule, nor a direction read off rounding."""
    pytest.importorskip("torch")
    x = {"zeros": np.zeros(8), "ones": np.ones(8), "alternating": np.array([1.0, -1] * 4),
         "spike": np.eye(8)[0]}[signal]
    want, J = torch_reference(text, {"x": x})
    _close(evaluate(text, {"x": x}), want, 1e-12)
    got = jacobian(text, {"x": x})["x"]
    assert np.isfinite(got).all()
    _close(got, J["x"], 1e-12)


@pytest.mark.parametrize("text", ["(torch.fft.rfft(x).abs() ** 2).sum()", "torch.fft.rfft(x).abs().sum()",
                                  "torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(x), n=8).pow(2).sum()",
                                  "torch.fft.fft(x)[1:4].angle().sum()", "(torch.fft.fft(x) ** 3).real.sum()",
                                  "(torch.fft.rfft(x) / torch.fft.rfft(x).sum()).imag.sum()"])
def test_hessians_are_pytorchs(text):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal(8)
    want = torch.autograd.functional.hessian(lambda t: run(text, {"torch": torch, "x": t}), torch.tensor(x))
    _close(hessian(text, {"x": x})[("x", "x")], want.numpy(), 1e-9)


def test_the_hessian_of_abs_at_a_zero_of_the_spectrum_is_pytorchs():
    torch = pytest.importorskip("torch")
    text = "torch.fft.rfft(x).abs().sum()"
    for x in (np.zeros(8), np.ones(8)):
        want = torch.autograd.functional.hessian(lambda t: run(text, {"torch": torch, "x": t}), torch.tensor(x))
        _close(hessian(text, {"x": x})[("x", "x")], want.numpy(), 1e-12)


def test_jvp_and_vjp_agree():
    rng = np.random.default_rng(6)
    text = "torch.fft.irfft(torch.fft.rfft(x) * torch.complex(a, b), n=8)"
    values = {"x": rng.standard_normal(8), "a": rng.standard_normal(5), "b": rng.standard_normal(5)}
    u, t = rng.standard_normal(8), {k: rng.standard_normal(v.shape) for k, v in values.items()}
    back = vjp(text, values, u)
    assert float(u @ jvp(text, values, t)) == pytest.approx(sum(float(back[k] @ t[k]) for k in values), rel=1e-12)


def test_float32_follows_float64():
    x = np.random.default_rng(8).standard_normal(16)
    for text in ("torch.fft.rfft(x).abs()", "np.fft.irfft(np.fft.rfft(x) * 0.5, n=16)", "np.angle(np.fft.rfft(x))"):
        single = evaluate(text, {"x": x}, dtype="float32")
        assert single.dtype == np.float32
        _close(single, evaluate(text, {"x": x}), 1e-5)
        J = jacobian(text, {"x": x}, dtype="float32")["x"]
        assert J.dtype == np.float32
        _close(J, jacobian(text, {"x": x})["x"], 1e-4)


def test_a_compiled_text_gives_the_interpreters_answers_call_after_call():
    import jacobi_cli
    f = jacobi_cli.compile("torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(y), n=8).abs()",
                           {"x": ":8", "y": ":8"})
    rng = np.random.default_rng(9)
    for k in range(4):
        env = {"x": rng.standard_normal(8) if k != 2 else np.ones(8), "y": rng.standard_normal(8)}
        text = "torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(y), n=8).abs()"
        assert np.array_equal(f.value(env), evaluate(text, env))
        for name, block in f.jacobian(env).items():
            assert np.array_equal(block, jacobian(text, env)[name])


def test_angle_on_the_negative_real_axis_is_refused_where_the_libraries_differ():
    """angle jumps by 2π across the negative real axis: at a zero imaginary part whose sign the libraries' FFTs set
    differently (PyTorch's ifft of a real signal: -0 at bin 0 where NumPy has +0), or a rounding error (NumPy's fft
    at n / 2), jac refuses; rfft's bins 0 and n / 2 and fft's bin 0 of a real signal are +0 in all three: π."""
    torch = pytest.importorskip("torch")
    x = np.arange(1.0, 9.0) - 10
    for text in ("torch.fft.ifft(x).angle()", "torch.fft.fft(x).angle()", "torch.fft.fft(torch.fft.fft(x).real).angle()"):
        with pytest.raises(JacError, match="negative real axis"):
            evaluate(text, {"x": x})
    for text in ("torch.fft.rfft(x).angle()", "torch.fft.fft(x[:7]).angle()", "torch.fft.rfft(x[:7]).angle()"):
        want = run(text, {"torch": torch, "x": torch.tensor(x)}).numpy()
        got = evaluate(text, {"x": x})
        np.testing.assert_allclose(got, want, rtol=1e-14)
        assert got[0] == want[0] == np.pi


REFUSED = [
    ("torch.fft.fft(x)", "value", "outputs are real"),
    ("X = torch.fft.rfft(x)\nX", "value", "outputs are real"),
    ("torch.fft.rfft(x).abs().sum(), torch.fft.rfft(x)", "value", "output 1 (y1) is complex"),
    ("1j * x", "value", "outputs are real"),
    ("torch.fft.rfft(x) > 0", "value", "not ordered"),
    ("torch.fft.fft(x) == torch.fft.fft(x)", "value", "not ordered"),
    ("torch.sin(torch.fft.fft(x))", "value", "an argument of torch.sin() is complex"),
    ("np.log(np.fft.fft(x)).real", "value", "an argument of np.log() is complex"),
    ("[torch.fft.fft(x), x]", "value", "tuple or list"),
    ("torch.fft.rfft(torch.fft.fft(x))", "value", "takes a real signal"),
    ("(torch.fft.fft(x) ** 0.5).real", "value", "integer powers"),
    ("(2 ** torch.fft.fft(x)).real", "value", "an exponent is complex"),
    ("X = torch.fft.rfft(x)\nY = X\nX[0] = 0\nY.abs()", "value", "'Y' shares its memory"),
    ("X = torch.fft.rfft(x)\nY = X[1:]\nX[0] = 0\nY.abs()", "value", "'Y' shares its memory"),
    ("X = torch.fft.rfft(x)\nr = X.real\nX *= 2\nr", "value", "'r' shares its memory"),
    ("X = torch.fft.rfft(x)\nX[1] += 1\nX.abs()", "value", "with = only"),
    ("def f(X):\n    X[0] = 0\n    return X.real\nf(torch.fft.rfft(x))", "value", "not made inside this function"),
    ("X = jnp.fft.rfft(x)\nX[0] = 0\nX.real", "value", "JAX arrays are immutable"),
    ("torch.fft.fft(x, norm='bogus').real", "value", "norm='backward', 'ortho' or 'forward'"),
    ("np.fft.rfft(x, n=0).real", "value", "at least 1"),
    ("np.fft.fft(np.sum(x)).real", "value", "0-d"),
    ("np.fft.rfft(x, axis=3).real", "value", "out of range"),
    ("np.fft.fft2(x).real", "value", "out of range"),
    ("torch.fft.fft(x).float()", "value", "is complex"),
    ("torch.fft.fft(x).to(torch.complex128).real", "value", "is complex"),
    ("torch.fft.rfft(x)[0].item()", "value", "is complex"),
    ("torch.fft.rfft(x)[torch.fft.rfft(x)]", "value", "an index is complex"),
    ("torch.where(torch.fft.fft(x), x, x)", "value", "is complex"),
    ("torch.fft.fft(x).dtype", "value", "is complex"),
    ("jax.lax.fft(x, 'FFT', (8,))", "name", "jnp.fft"),
]


@pytest.mark.parametrize("text, kind, words", REFUSED)
def test_what_jac_does_not_read_of_a_complex_value_is_refused(text, kind, words):
    with pytest.raises(JacError) as caught:
        evaluate(text, {"x": np.arange(1.0, 9.0)})
    assert caught.value.kind == kind
    assert words in str(caught.value)


def test_a_symbolic_size_is_refused():
    from jacobi_cli.cli.app import app
    from typer.testing import CliRunner
    result = CliRunner().invoke(app, ["shape", "torch.fft.rfft(x).abs()", "x:n"])
    assert result.exit_code == 2
    assert "symbolic size" in result.output


def test_the_command_line_prints_the_spectrum_and_its_jacobian():
    import json
    from jacobi_cli.cli.app import app
    from typer.testing import CliRunner
    result = CliRunner().invoke(app, ["eval", "np.abs(np.fft.rfft(x)) ** 2", "x=[1, 2, 3, 4]", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert np.allclose(out["output"]["value"], [100.0, 8.0, 4.0], rtol=1e-15)
    assert np.allclose(out["jacobian"]["x"]["value"], [[20, 20, 20, 20], [-4, -4, 4, 4], [-4, 4, -4, 4]])
