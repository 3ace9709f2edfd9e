"""Fourier transforms, the rest (session 37): no 4,096-point cap (a transform's derivative past MATRIX_LENGTH points,
since session 38 past MATRIX_BYTES of matrices, is the fftmap op, its VJP the adjoint FFT), lists of complex values,
torch.view_as_complex, complex(a, b), torch.stft. PyTorch's autograd is the reference where it is installed (those
tests skip without it)."""

import warnings

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.errors import JacError
from jacobi_cli.ir.ops import OPS
from jacobi_cli.lang import fourier

KINDS = ("fft", "ifft", "rfft", "ihfft", "irfft", "hfft")
NORMS = (None, "backward", "ortho", "forward")


def _maps():
    for kind in KINDS:
        for m, n in [(5, 5), (5, 8), (8, 5), (6, 6), (7, 7), (3, 9), (9, 4), (1, 1), (2, 1)]:
            for part in (("re",) if kind in ("irfft", "hfft") else ("re", "im")):
                for imag in ((False,) if kind in ("rfft", "ihfft") else (False, True)):
                    yield dict(kind=kind, axis=1, n=n, m=m, part=part, imag=imag)


@pytest.mark.parametrize("kind", KINDS)
def test_fftmap_adjoint_is_the_transpose(kind):
    """⟨g, L x⟩ = ⟨Lᵀ g, x⟩ for every length, cut, pad, part and norm; and L itself is NumPy's transform."""
    rng = np.random.default_rng(0)
    op = OPS["fftmap"]
    for params in (p for p in _maps() if p["kind"] == kind):
        for norm in NORMS:
            x = rng.standard_normal((3, params["m"], 2))
            y = op.impl(x, norm=norm, adjoint=False, **params)
            g = rng.standard_normal(y.shape)
            back = op.impl(g, norm=norm, adjoint=True, **params)
            assert back.shape == x.shape
            assert np.isclose((g * y).sum(), (back * x).sum(), rtol=1e-12, atol=1e-12), (params, norm)
            signal = x * 1j if params["imag"] else x
            want = getattr(np.fft, kind)(signal, n=params["n"], axis=1, norm=norm)
            assert np.array_equal(y, want.imag if params["part"] == "im" else want.real)


FFT_PATH_TEXTS = [
    "torch.fft.rfft(x).abs()", "torch.fft.fft(x, norm='ortho').imag", "torch.fft.ifft(x, n=7).real",
    "torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(x.flip(0)))", "torch.fft.hfft(torch.fft.rfft(x), n=9)",
    "np.fft.ihfft(x, norm='forward').imag", "torch.view_as_real(torch.fft.fft(torch.fft.rfft(x), n=4))",
    "torch.fft.irfft(torch.fft.rfft(x) * 1j, n=5, norm='forward')",
    "torch.fft.fftn(x.reshape(2, 3), norm='ortho').abs()", "torch.fft.irfft2(torch.fft.rfft2(x.reshape(2, 3)))",
]


@pytest.mark.parametrize("text", FFT_PATH_TEXTS)
def test_the_fft_path_agrees_with_the_matrix_path(text, monkeypatch):
    """The same texts with MATRIX_BYTES 0 (every transform's derivative by fftmap): the value to the bit (NumPy's),
    the Jacobian and the Hessian within rounding of the cos / sin matrix path's (the text is parenthesized so that
    the compile cache holds the two apart)."""
    x = {"x": np.array([0.3, -1.2, 2.0, 0.7, -0.4, 1.1])}
    scalar = f"sum(({text}) ** 2)"
    value, jac, hess = (jacobi_cli.evaluate(text, x), jacobi_cli.jacobian(text, x)["x"],
                        jacobi_cli.hessian(scalar, x)[("x", "x")])
    monkeypatch.setattr(fourier, "MATRIX_BYTES", 0)
    assert np.array_equal(jacobi_cli.evaluate(f"({text})", x), value)
    assert np.allclose(jacobi_cli.jacobian(f"({text})", x)["x"], jac, rtol=1e-13, atol=1e-13)
    assert np.allclose(jacobi_cli.hessian(f"({scalar})", x)[("x", "x")], hess, rtol=1e-12, atol=1e-12)


def test_a_long_transform_is_read_and_its_value_is_numpys():
    x = np.random.default_rng(1).standard_normal(10_000)
    assert np.array_equal(jacobi_cli.evaluate("np.fft.rfft(x).real", {"x": x}), np.fft.rfft(x).real)
    assert np.array_equal(jacobi_cli.evaluate("np.fft.irfft(np.fft.rfft(x), n=20001)", {"x": x}),
                          np.fft.irfft(np.fft.rfft(x), n=20001))


def _torch_case(kind, norm):
    """(text, PyTorch's function of x) of a transform ``kind`` with ``norm``, read to a real array."""
    import torch
    ns = "" if norm is None else f", norm='{norm}'"
    return {
        "fft": (f"torch.fft.fft(x{ns}).imag", lambda t: torch.fft.fft(t, norm=norm).imag),
        "ifft": (f"torch.fft.ifft(x{ns}).abs()", lambda t: torch.fft.ifft(t, norm=norm).abs()),
        "rfft": (f"torch.fft.rfft(x{ns}).real", lambda t: torch.fft.rfft(t, norm=norm).real),
        "irfft": (f"torch.fft.irfft(torch.fft.rfft(x) * (1 + 2j){ns})",
                  lambda t: torch.fft.irfft(torch.fft.rfft(t) * (1 + 2j), norm=norm)),
        "hfft": (f"torch.fft.hfft(torch.fft.rfft(x) * (1 - 1j), n=9001{ns})",
                 lambda t: torch.fft.hfft(torch.fft.rfft(t) * (1 - 1j), n=9001, norm=norm)),
        "ihfft": (f"torch.fft.ihfft(x{ns}).imag", lambda t: torch.fft.ihfft(t, norm=norm).imag),
        "fftn": (f"torch.fft.fftn(x.reshape(2, -1){ns}).real",
                 lambda t: torch.fft.fftn(t.reshape(2, -1), norm=norm).real),
    }[kind]


@pytest.mark.parametrize("norm", (None, "ortho", "forward"))
@pytest.mark.parametrize("kind", ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn"))
def test_vjp_and_jvp_of_a_10000_point_transform_are_pytorchs(kind, norm):
    torch = pytest.importorskip("torch")
    text, f = _torch_case(kind, norm)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(10_000)
    value = jacobi_cli.evaluate(text, {"x": x})
    v, t = rng.standard_normal(value.shape), rng.standard_normal(x.shape)
    got_vjp = jacobi_cli.vjp(text, {"x": x}, v=v)["x"]
    got_jvp = jacobi_cli.jvp(text, {"x": x}, {"x": t})
    xt = torch.tensor(x, requires_grad=True)
    y = f(xt)
    y.backward(torch.tensor(v))
    want_jvp = torch.func.jvp(f, (torch.tensor(x),), (torch.tensor(t),))[1].resolve_neg().numpy()
    scale = np.abs(want_jvp).max()
    assert np.allclose(value, y.detach().resolve_neg().numpy(), rtol=0, atol=1e-12 * np.abs(value).max())
    assert np.allclose(got_vjp, xt.grad.numpy(), rtol=0, atol=1e-12 * np.abs(xt.grad.numpy()).max())
    assert np.allclose(got_jvp, want_jvp, rtol=0, atol=1e-12 * scale)


# -- lists of complex values, view_as_complex, complex() ------------------------------------------------------------

LISTS = [  # (text, PyTorch's function of x)
    ("torch.view_as_real(torch.tensor([1 + 2j, 3]) * x[0])",
     lambda torch, x: torch.view_as_real(torch.tensor([1 + 2j, 3], dtype=torch.complex128) * x[0])),
    ("(torch.tensor([[1j, 2], [3 - 1j, 0.5]]) @ torch.fft.fft(x[:2])).imag",
     lambda torch, x: (torch.tensor([[1j, 2], [3 - 1j, 0.5]], dtype=torch.complex128) @ torch.fft.fft(x[:2])).imag),
    ("abs(torch.tensor([1 + 2j, -3j]) * torch.fft.rfft(x)[:2])",
     lambda torch, x: abs(torch.tensor([1 + 2j, -3j], dtype=torch.complex128) * torch.fft.rfft(x)[:2])),
    ("torch.view_as_complex(torch.stack([x, 2 * x], -1)).imag * x",
     lambda torch, x: torch.view_as_complex(torch.stack([x, 2 * x], -1)).imag * x),
    ("torch.view_as_complex(x.reshape(2, 2)).abs()", lambda torch, x: torch.view_as_complex(x.reshape(2, 2)).abs()),
    ("torch.polar(x.abs() + 0.5, x.flip(0)).imag", lambda torch, x: torch.polar(x.abs() + 0.5, x.flip(0)).imag),
    ("torch.complex(x, x ** 2).abs()", lambda torch, x: torch.complex(x, x ** 2).abs()),
]


@pytest.mark.parametrize("text,f", LISTS, ids=[t for t, _ in LISTS])
def test_complex_lists_and_constructors_are_pytorchs(text, f):
    torch = pytest.importorskip("torch")
    x = np.array([1.5, -0.5, 2.0, 0.25])
    want = f(torch, torch.tensor(x)).numpy()
    J = torch.autograd.functional.jacobian(lambda t: f(torch, t), torch.tensor(x)).numpy()
    assert np.allclose(jacobi_cli.evaluate(text, {"x": x}), want, rtol=1e-14, atol=1e-14)
    assert np.allclose(jacobi_cli.jacobian(text, {"x": x})["x"], J, rtol=1e-13, atol=1e-13)


def test_numpy_lists_of_complex_values_are_numpys():
    x = np.array([1.5, -0.5])
    text = "abs(np.array([[1j, x[0]], [2 - 1j, x[1]]]) * x[1])"
    assert np.allclose(jacobi_cli.evaluate(text, {"x": x}), abs(np.array([[1j, x[0]], [2 - 1j, x[1]]]) * x[1]))
    J = jacobi_cli.jacobian(text, {"x": x})["x"]
    h = 1e-6  # central differences of NumPy's own
    for k in range(2):
        e = np.eye(2)[k] * h
        a, b = x + e, x - e
        fd = (abs(np.array([[1j, a[0]], [2 - 1j, a[1]]]) * a[1]) - abs(np.array([[1j, b[0]], [2 - 1j, b[1]]]) * b[1]))
        assert np.allclose(J[..., k], fd / (2 * h), rtol=1e-8, atol=1e-8)
    assert np.allclose(J[1, 0], [0.0, -np.sqrt(5)])  # |(2 - i) x1| by x1 at x1 < 0


def test_torch_tensor_of_a_list_copies_its_elements_without_derivative():
    x = np.array([1.5, -0.5])  # torch.tensor([.., x[0]]) is a copy: PyTorch's element carries no derivative
    assert np.array_equal(jacobi_cli.jacobian("abs(torch.tensor([1 + 2j, x[0]]))", {"x": x})["x"], np.zeros((2, 2)))


def test_python_complex_of_numbers_and_of_one_element():
    x = np.array([3.0, 4.0, 2.0])
    assert jacobi_cli.evaluate("abs(complex(3, 4)) * x[2]", {"x": x}) == 10.0
    assert jacobi_cli.evaluate("abs(complex(x[0], x[1])) * x[2]", {"x": x}) == 10.0
    # a Python number: no derivative (PyTorch's complex(t) is a Python complex)
    assert np.array_equal(jacobi_cli.jacobian("abs(complex(x[0], x[1])) * x[2]", {"x": x})["x"], [0.0, 0.0, 5.0])


REFUSED = [  # (text, words in the message)
    ("sum([1j, x[0]]).real", "read only as the one argument of torch.tensor"),
    ("abs([1j, x[0]] * 2)", "read only as the one argument"),
    ("abs(torch.tensor([1 + 2j, 3], dtype=torch.complex128)) * x[0]", "no dtype="),
    ("[torch.fft.fft(x), x]", "tuple or list holding a complex value"),
    ("abs(torch.view_as_complex(x))", "last axis must have length 2"),
    ("abs(complex('1+2j')) * x[0]", "complex(string)"),
    ("abs(complex(x)) * x[0]", "one element"),
    ("torch.stft(x, 4).abs()", "return_complex=True"),
    ("torch.polar(x, x).real", "abs is negative"),
    ("torch.stft(x, 4, return_complex=False)", "return_complex=True"),
    ("torch.stft(x, 4, pad_mode='bogus', return_complex=True).abs()", "pad_mode"),
    ("torch.stft(x, 16, return_complex=True).abs()", "reflect padding"),
    ("torch.stft(x, 4, win_length=3, window=torch.ones(4), return_complex=True).abs()", "win_length"),
    ("torch.stft(x, 9, center=False, return_complex=True).abs()", "longer than"),
    # reflect padding makes frame 0 even: its spectrum real, its phase ±π by rounding (jac refuses angle there)
    ("torch.angle(torch.stft(x, 4, return_complex=True))", "negative real axis"),
]


@pytest.mark.parametrize("text,words", REFUSED, ids=[t for t, _ in REFUSED])
def test_what_is_not_read_is_refused_saying_what(text, words):
    with pytest.raises(JacError) as err:
        jacobi_cli.evaluate(text, {"x": np.array([1.0, -2.0, 3.0, 0.5, 2.5, -1.0, 0.0, 4.0])})
    assert words in str(err.value)


# -- torch.stft --------------------------------------------------------------------------------------------------------

STFT = [  # (the arguments after x, read by .abs() / .real / .imag)
    ("8, return_complex=True).abs()", {}),
    ("8, hop_length=3, window=torch.hann_window(8), return_complex=True).abs()", {}),
    ("8, hop_length=2, win_length=5, window=torch.hann_window(5), return_complex=True).real", {}),
    ("8, center=False, return_complex=True).imag", {}),
    ("6, hop_length=4, pad_mode='constant', normalized=True, return_complex=True).abs()", {}),
    ("7, pad_mode='replicate', return_complex=True).imag", {}),
    ("7, hop_length=5, pad_mode='circular', return_complex=True).real", {}),
]


@pytest.mark.parametrize("rest", [r for r, _ in STFT])
@pytest.mark.parametrize("shape", [(37,), (2, 20)])
def test_stft_is_pytorchs(rest, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal(shape)
    text = f"torch.stft(x, {rest}"
    here = {"torch": torch}

    def f(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(text.replace("hann_window(8)", "hann_window(8, dtype=torch.float64)")  # noqa: S307
                        .replace("hann_window(5)", "hann_window(5, dtype=torch.float64)"), here, {"x": t})
    want = f(torch.tensor(x)).numpy()
    J = torch.autograd.functional.jacobian(f, torch.tensor(x)).numpy()
    assert np.allclose(jacobi_cli.evaluate(text, {"x": x}), want, rtol=1e-13, atol=1e-13)
    assert np.allclose(jacobi_cli.jacobian(text, {"x": x})["x"], J, rtol=1e-12, atol=1e-12)


def test_stft_without_torch_against_numpy_frames():
    """torch.stft(x, 4, hop_length=2, center=False): the rfft of x[0:4], x[2:6], ... as columns, with NumPy alone."""
    x = np.arange(1.0, 9.0) ** 2
    got = jacobi_cli.evaluate("torch.stft(x, 4, hop_length=2, center=False, return_complex=True).real", {"x": x})
    frames = np.stack([x[i:i + 4] for i in range(0, 5, 2)])
    assert np.allclose(got, np.fft.rfft(frames, axis=-1).real.T, rtol=1e-14, atol=1e-12)
