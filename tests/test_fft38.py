"""Fourier transforms, session 38: the derivative's route chosen by cost (cos / sin matrices only while they hold at
most fourier.MATRIX_BYTES, the fftmap op's FFTs past it), the two routes equal within a few units in the last place at
the crossover, full Jacobians of long transforms within the memory budget; torch.istft and scipy.signal.stft / istft;
jac diff of transforms (the DFT sums of a few points, refused past them saying what to use)."""

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.errors import JacLimitError
from jacobi_cli.ir.ops import OPS
from jacobi_cli.ir import ops as ops_module
from jacobi_cli.lang import fourier

EPS = np.finfo(float).eps


def _ops_of(text, x):
    graph = jacobi_cli.compile(text, {"x": x}).graph
    return graph, {node.op for node in graph.nodes}


def _constant_bytes(graph):
    return sum(np.asarray(node.value).nbytes for node in graph.nodes if node.op == "const")


@pytest.mark.parametrize("n,route", [(8, "matmul"), (64, "matmul"), (65, "fftmap"), (89, "matmul"), (90, "fftmap"),
                                     (4096, "fftmap")])
def test_the_route_is_the_cheaper_one(n, route):
    """A full transform of 64 points keeps its matrices (64 KiB), of 65 the FFTs; rfft's matrices are half as wide
    (89 points); 4,096 points hold no length² constant (session 37 held 268 MB there)."""
    text = "torch.fft.rfft(x).abs()" if n in (89, 90) else "torch.fft.fft(x).abs()"
    graph, found = _ops_of(text, np.linspace(-1, 1, n))
    assert route in found and ({"matmul", "fftmap"} - {route}).isdisjoint(found)
    assert _constant_bytes(graph) <= fourier.MATRIX_BYTES + 64 * n  # the matrices, and a few scalars and masks


TEXTS = ["torch.fft.fft(x).real", "torch.fft.fft(x).imag", "torch.fft.rfft(x, norm='ortho').imag",
         "torch.fft.ifft(x).real", "torch.fft.irfft(torch.fft.rfft(x) * 1j)", "torch.fft.hfft(torch.fft.rfft(x))",
         "np.fft.ihfft(x, norm='forward').imag", "torch.fft.ifft(torch.fft.rfft(x), n=70).imag",
         "torch.fft.fft(x * (1 + 2j), n=50).abs()"]


def _both_routes(monkeypatch, fn, text):
    monkeypatch.setattr(fourier, "MATRIX_BYTES", 10 ** 12)
    matrix = fn(f"({text}) * 1")  # the compile cache keys by the text: one text per route
    monkeypatch.setattr(fourier, "MATRIX_BYTES", 0)
    return matrix, fn(f"({text}) * 1.0")


@pytest.mark.parametrize("n", [2, 31, 63, 64, 65, 90, 91])
@pytest.mark.parametrize("text", TEXTS)
def test_both_routes_agree_to_a_few_ulps(text, n, monkeypatch):
    """The same input through the matrices and through the FFTs: the value to the bit (NumPy's, either way), the
    Jacobian within 8 units in the last place of its largest element (measured: at most 5.04)."""
    x = {"x": np.random.default_rng(n).standard_normal(n)}
    values = _both_routes(monkeypatch, lambda t: jacobi_cli.evaluate(t, x), text)
    assert np.array_equal(*values)
    matrix, fft = _both_routes(monkeypatch, lambda t: jacobi_cli.jacobian(t, x)["x"], text)
    assert np.abs(matrix - fft).max() <= 8 * EPS * np.abs(matrix).max()


@pytest.mark.parametrize("text", ["sum(torch.fft.rfft(x).abs() ** 2)", "sum(torch.fft.fft(x).real * x)"])
def test_both_routes_give_the_same_hessian(text, monkeypatch):
    x = {"x": np.random.default_rng(3).standard_normal(64)}
    matrix, fft = _both_routes(monkeypatch, lambda t: jacobi_cli.hessian(t, x)[("x", "x")], text)
    assert np.abs(matrix - fft).max() <= 64 * EPS * np.abs(matrix).max()


def test_the_fft_route_is_at_least_as_close_to_the_exact_matrix(monkeypatch):
    """∂ Im fft(x) / ∂x = -sin(2π jk / n), computed in long double: the FFTs' slopes are within 3 units of it, the
    matrices' (np.sin of a rounded angle) within 6; PyTorch's are the FFTs' too."""
    for n in (31, 90, 91):
        x = {"x": np.random.default_rng(n).standard_normal(n)}
        jk = (np.arange(n)[:, None] * np.arange(n)[None, :]) % n
        exact = -np.sin(np.longdouble("6.28318530717958647692528676655900577") * jk / n)
        matrix, fft = _both_routes(monkeypatch, lambda t: jacobi_cli.jacobian(t, x)["x"], "torch.fft.fft(x).imag")
        errors = [float(np.abs(j - exact).max() / EPS) for j in (matrix, fft)]
        assert errors[1] <= 3 and errors[0] <= 6 and errors[1] <= errors[0], (n, errors)


def test_fftmap_writes_its_chunks_into_one_real_array(monkeypatch):
    """The rows of a batch go through np.fft in chunks of FFTMAP_CHUNK_BYTES: the same numbers as in one call, in a
    contiguous real array (no view of a complex one, which would hold twice the bytes the planner counted)."""
    rng = np.random.default_rng(0)
    op = OPS["fftmap"]
    for kind, adjoint, m, n in [("rfft", False, 40, 40), ("fft", True, 40, 33), ("irfft", True, 21, 40),
                                ("ihfft", False, 40, 50)]:
        length = m if not adjoint else n // 2 + 1 if kind in ("rfft", "ihfft") else n
        x = rng.standard_normal((37, length))
        params = dict(kind=kind, axis=1, n=n, m=m, norm=None, part="im" if kind != "irfft" else "re", imag=False,
                      adjoint=adjoint)
        whole = op.impl(x, **params)
        monkeypatch.setattr(ops_module, "FFTMAP_CHUNK_BYTES", 1000)
        chunked = op.impl(x, **params)
        monkeypatch.setattr(ops_module, "FFTMAP_CHUNK_BYTES", 1 << 22)
        assert np.array_equal(whole, chunked) and chunked.flags.c_contiguous and chunked.base is None
        assert chunked.dtype == np.float64


def test_dft_values_own_their_bytes():
    value = OPS["dft"].impl(np.arange(8.0), kind="rfft", axis=0, n=8, norm=None, part="im")
    assert value.base is None and value.flags.c_contiguous and np.array_equal(value, np.fft.rfft(np.arange(8.0)).imag)


def test_the_full_jacobian_of_a_long_transform_is_refused_before_it_is_made():
    x = {"x": np.random.default_rng(0).standard_normal(65_536)}
    with pytest.raises(JacLimitError, match="Jacobian"):
        jacobi_cli.jacobian("torch.fft.rfft(x).real", x, max_memory="1G")
    v = np.random.default_rng(1).standard_normal(32_769)
    got = jacobi_cli.vjp("torch.fft.rfft(x).real", x, v=v, max_memory="64M")["x"]
    want = np.fft.fft(np.r_[v, np.zeros(65_536 - 32_769)]).real  # Σ_k v_k cos(2π jk / n): the real part's transpose
    assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()


def test_a_3000_point_jacobian_now_fits_where_its_matrices_did_not():
    """Session 37's route held 144 MB of matrices at 3,000 points besides the 72 MB Jacobian."""
    x = {"x": np.random.default_rng(0).standard_normal(3000)}
    J = jacobi_cli.jacobian("torch.fft.fft(x).real", x, max_memory="120M")["x"]
    jk = (np.arange(3000)[:, None] * np.arange(3000)[None, :]) % 3000
    assert np.abs(J - np.cos(2 * np.pi * jk / 3000)).max() <= 1e-12


# -- torch.istft ------------------------------------------------------------------------------------------------------

def _hann(n):
    return f"torch.hann_window({n})"


ISTFT = [  # (text of x, x's shape): istft of an stft (PyTorch's round trip) and of spectrograms made otherwise
    (f"torch.istft(torch.stft(x, 8, hop_length=2, window={_hann(8)}, return_complex=True), 8, hop_length=2, "
     f"window={_hann(8)})", (40,)),
    ("torch.istft(torch.stft(x, 8, return_complex=True), 8)", (40,)),
    (f"torch.istft(torch.stft(x, 16, hop_length=4, window={_hann(16)}, return_complex=True) * (x[0] + 1j), 16, "
     f"hop_length=4, window={_hann(16)}, length=50)", (45,)),
    ("torch.istft(torch.stft(x, 8, hop_length=3, win_length=6, window=torch.hamming_window(6), return_complex=True, "
     "normalized=True), 8, hop_length=3, win_length=6, window=torch.hamming_window(6), normalized=True)", (2, 30)),
    ("torch.istft(torch.stft(x, 8, hop_length=2, return_complex=True, center=False), 8, hop_length=2, center=False)",
     (30,)),
    ("torch.istft(torch.stft(x, 8, hop_length=2, return_complex=True, onesided=False), 8, hop_length=2, "
     "onesided=False)", (30,)),
    ("torch.istft(torch.stft(x, 8, hop_length=2, return_complex=True, onesided=False) * (1 + 1j), 8, hop_length=2, "
     "return_complex=True).imag", (30,)),
    ("torch.istft(torch.complex(x.reshape(5, 6), x.reshape(5, 6).flip(0)), 8, hop_length=2)", (30,)),
    ("torch.istft(torch.complex(x.reshape(5, 6), x.reshape(5, 6) ** 2), 8, hop_length=2, window=torch.ones(8), "
     "length=12, center=False)", (30,)),
    ("torch.istft(torch.stft(x, 7, hop_length=2, return_complex=True), 7, hop_length=2, length=40)", (33,)),
    ("torch.stft(x, 8, hop_length=2, return_complex=True, onesided=False).abs()", (30,)),
]


@pytest.mark.parametrize("text,shape", ISTFT, ids=[t[:60] for t, _ in ISTFT])
def test_istft_is_pytorchs(text, shape):
    """The value and the Jacobian against PyTorch's float64 autograd (1e-12 of the largest)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(len(text)).standard_normal(shape)
    source = text
    for window in ("hann_window(8)", "hann_window(16)", "hamming_window(6)", "ones(8)"):
        source = source.replace(window, window[:-1] + ", dtype=torch.float64)")

    def f(t):
        return eval(source, {"torch": torch}, {"x": t})  # noqa: S307 - the test's own texts
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's rectangular-window and padded-tail warnings
        want = f(torch.tensor(x)).resolve_neg().numpy()
        J = torch.autograd.functional.jacobian(f, torch.tensor(x)).numpy()
    got, jac = jacobi_cli.evaluate(text, {"x": x}), jacobi_cli.jacobian(text, {"x": x})["x"]
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-12 * np.abs(want).max()
    assert np.abs(jac - J).max() <= 1e-12 * np.abs(J).max()


def test_istft_inverts_stft_without_torch():
    """istft(stft(x)) is x (a hann window at a quarter hop: the overlap-add is constant), and its Jacobian the
    identity, against NumPy alone."""
    x = np.random.default_rng(5).standard_normal(64)
    text = ("torch.istft(torch.stft(x, 16, hop_length=4, window=torch.hann_window(16), return_complex=True), 16, "
            "hop_length=4, window=torch.hann_window(16), length=64)")
    assert np.abs(jacobi_cli.evaluate(text, {"x": x}) - x).max() <= 1e-14
    assert np.abs(jacobi_cli.jacobian(text, {"x": x})["x"] - np.eye(64)).max() <= 1e-14


def test_istft_gradients_against_central_differences():
    x = np.random.default_rng(6).standard_normal(30)
    text = "torch.istft(torch.complex(x.reshape(5, 6), torch.sin(x.reshape(5, 6))), 8, hop_length=3)"
    J, h = jacobi_cli.jacobian(text, {"x": x})["x"], 1e-6
    columns = [(jacobi_cli.evaluate(text, {"x": x + h * e}) - jacobi_cli.evaluate(text, {"x": x - h * e})) / (2 * h)
               for e in np.eye(30)]
    assert np.allclose(J, np.stack(columns, axis=-1), atol=1e-8)


ISTFT_REFUSED = [
    ("torch.istft(x.reshape(5, 6), 8)", "complex-valued input"),
    ("torch.istft(torch.complex(x.reshape(5, 6), x.reshape(5, 6)), 10)", "needs 6 frequencies"),
    ("torch.istft(torch.complex(x.reshape(5, 6), x.reshape(5, 6)), 8, return_complex=True).real", "onesided"),
    # a hann window that starts at 0 leaves the first point unrecoverable without the centre padding (PyTorch raises)
    ("torch.istft(torch.complex(x.reshape(5, 6), x.reshape(5, 6)), 8, hop_length=2, window=torch.hann_window(8), "
     "center=False)", "overlap-add"),
    ("torch.istft(torch.complex(x.reshape(5, 6), x.reshape(5, 6)), 8, win_length=9)", "win_length"),
    ("x.istft(8)", "torch.istft(X, n_fft"),
]


@pytest.mark.parametrize("text,words", ISTFT_REFUSED, ids=[t for t, _ in ISTFT_REFUSED])
def test_istft_refuses_what_pytorch_refuses(text, words):
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError) as err:
        jacobi_cli.evaluate(text, {"x": np.random.default_rng(0).standard_normal(30)})
    assert words in str(err.value)


# -- jac diff of transforms -------------------------------------------------------------------------------------------

DIFF = ["torch.fft.rfft(x).imag", "torch.fft.fft(x, norm='ortho').real", "torch.fft.ifft(x, n=6).imag",
        "torch.fft.irfft(torch.fft.rfft(x) * (1 + 2j), n=5)", "torch.fft.hfft(torch.fft.rfft(x), n=7)",
        "np.fft.ihfft(x, norm='forward').imag", "sum(torch.fft.rfft(x).real ** 2)",
        "torch.view_as_real(torch.fft.fft2(x.reshape(2, 4)))", "np.fft.fft(x * (1 - 1j)).real * x"]


@pytest.mark.parametrize("n", [4, 5, 8])
@pytest.mark.parametrize("text", DIFF)
def test_jac_diff_of_a_transform_is_its_dft_sums(text, n, monkeypatch):
    """The symbolic derivative (exact DFT sums) at a point equals autodiff's, through either route."""
    pytest.importorskip("sympy")
    if "reshape(2, 4)" in text and n != 8:
        return
    x = np.random.default_rng(n).standard_normal(n)
    for matrix_bytes in (fourier.MATRIX_BYTES, 0):
        monkeypatch.setattr(fourier, "MATRIX_BYTES", matrix_bytes)
        found = jacobi_cli.diff(f"({text}) * 1" if matrix_bytes else text, {"x": f":{n}"}, at={"x": x})["x"]
        want = jacobi_cli.jacobian(text, {"x": x})["x"]
        assert found.form == "components"
        assert np.allclose(np.asarray(found.value, dtype=float), want, rtol=1e-12, atol=1e-12)


def test_jac_diff_writes_the_dft_matrix_exactly():
    sp = pytest.importorskip("sympy")
    d = jacobi_cli.diff("torch.fft.fft(x).imag", {"x": ":8"})["x"]
    J = sp.Matrix(np.asarray(d.expr).tolist())
    assert J[1, 1] == -sp.sqrt(2) / 2 and J[2, 1] == -1 and J[4, 1] == 0 and J[0, 3] == 0


def test_jac_diff_refuses_a_long_transform_saying_what_to_use():
    pytest.importorskip("sympy")
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError) as err:
        jacobi_cli.diff("torch.fft.rfft(x).imag", {"x": ":17"})
    assert "up to 16 points" in str(err.value) and "vjp()" in str(err.value)  # the API's words


# -- scipy.signal.stft / istft ----------------------------------------------------------------------------------------

SCIPY = [  # (text, SciPy's function of x, length of x)
    ("f, t, Z = scipy.signal.stft(x, nperseg=16); abs(Z)",
     lambda s, x: np.abs(s.stft(x, nperseg=16)[2]), 50),
    ("f, t, Z = scipy.signal.stft(x, fs=100, nperseg=8, noverlap=6, window='hamming', scaling='psd'); Z.imag",
     lambda s, x: s.stft(x, fs=100, nperseg=8, noverlap=6, window="hamming", scaling="psd")[2].imag, 37),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, nfft=12, boundary=None, padded=False, return_onesided=False); Z.real",
     lambda s, x: s.stft(x, nperseg=8, nfft=12, boundary=None, padded=False, return_onesided=False)[2].real, 37),
    ("scipy.signal.stft(x, nperseg=8)[1] + 0 * x[0]", lambda s, x: s.stft(x, nperseg=8)[1], 30),
    ("scipy.signal.stft(x, fs=3.0, nperseg=8, return_onesided=False)[0] + 0 * x[0]",
     lambda s, x: s.stft(x, fs=3.0, nperseg=8, return_onesided=False)[0], 30),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, window=np.arange(1.0, 9.0)); Z.real",
     lambda s, x: s.stft(x, nperseg=8, window=np.arange(1.0, 9.0))[2].real, 30),
    ("f, t, Z = scipy.signal.stft(x, nperseg=16); t2, y = scipy.signal.istft(Z, nperseg=16); y",
     lambda s, x: s.istft(s.stft(x, nperseg=16)[2], nperseg=16)[1], 50),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, noverlap=5, window='hamming'); "
     "scipy.signal.istft(Z * (1 + 1j), nperseg=8, noverlap=5, window='hamming')[1]",
     lambda s, x: s.istft(s.stft(x, nperseg=8, noverlap=5, window="hamming")[2] * (1 + 1j), nperseg=8, noverlap=5,
                          window="hamming")[1], 41),
    ("scipy.signal.istft(x.reshape(5, 6), nperseg=8, boundary=False)[1]",
     lambda s, x: s.istft(x.reshape(5, 6), nperseg=8, boundary=False)[1], 30),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, return_onesided=False); "
     "scipy.signal.istft(Z, nperseg=8, input_onesided=False)[1].real",
     lambda s, x: s.istft(s.stft(x, nperseg=8, return_onesided=False)[2], nperseg=8, input_onesided=False)[1].real,
     30),
    ("f, t, Z = scipy.signal.stft(x.reshape(2, 20), nperseg=8, scaling='psd', fs=10.0); "
     "scipy.signal.istft(Z, nperseg=8, scaling='psd', fs=10.0)[1]",
     lambda s, x: s.istft(s.stft(x.reshape(2, 20), nperseg=8, scaling="psd", fs=10.0)[2], nperseg=8, scaling="psd",
                          fs=10.0)[1], 40),
    # the window's overlap-add is 0 at the first point: SciPy divides by 1 there (and warns NOLA fails)
    ("scipy.signal.istft(x.reshape(5, 6), nperseg=8, noverlap=2, window='hann', boundary=False)[1]",
     lambda s, x: s.istft(x.reshape(5, 6), nperseg=8, noverlap=2, window="hann", boundary=False)[1], 30),
    ("scipy.signal.istft(x.reshape(5, 6), nperseg=8, noverlap=2, window='boxcar')[0] + 0 * x[0]",
     lambda s, x: s.istft(x.reshape(5, 6), nperseg=8, noverlap=2, window="boxcar")[0], 30),
]


@pytest.mark.parametrize("text,f,n", SCIPY, ids=[t[:70] for t, _, _ in SCIPY])
def test_scipy_signal_stft_and_istft_are_scipys(text, f, n):
    """The value against SciPy's (1e-14 of the largest), the Jacobian against central differences of SciPy's."""
    import warnings
    signal = pytest.importorskip("scipy.signal")
    x = np.random.default_rng(n).standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NOLA
        want = f(signal, x)
        h = 1e-6
        numeric = np.stack([(f(signal, x + h * e) - f(signal, x - h * e)) / (2 * h) for e in np.eye(n)], axis=-1)
    got = jacobi_cli.evaluate(text, {"x": x})
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-14 * max(np.abs(want).max(), 1.0)
    assert np.abs(jacobi_cli.jacobian(text, {"x": x})["x"] - numeric).max() <= 1e-8


SCIPY_REFUSED = [
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, detrend='constant'); Z.real", "detrend=False"),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, boundary='even'); Z.real", "boundary='zeros'"),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, noverlap=8); Z.real", "noverlap"),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8, window='bogus'); Z.real", "SciPy's error"),
    ("f, t, Z = scipy.signal.stft(x, fs=x[0], nperseg=8); Z.real", "fs"),
    ("f, t, Z = scipy.signal.stft(x, nperseg=8); Z", "outputs are real"),
]


@pytest.mark.parametrize("text,words", SCIPY_REFUSED, ids=[t for t, _ in SCIPY_REFUSED])
def test_scipy_signal_refusals_say_what_is_read(text, words):
    pytest.importorskip("scipy.signal")
    from jacobi_cli.errors import JacError
    with pytest.raises(JacError) as err:
        jacobi_cli.evaluate(text, {"x": np.random.default_rng(0).standard_normal(30)})
    assert words in str(err.value)
