"""What the vocabulary probes left (session 54): the keywords of functions taking ``**kwargs`` (np.clip,
scipy.special.softplus, torch.lu: lang/kwnames.py now holds the names they pass them on to), ``dtype=`` of NumPy's
and JAX's joins, cov / corrcoef / trace / nancumsum / nancumprod and NumPy's matvec / vecmat / conjugate / spacing
(the operands cast, as --dtype does), np.median / nanmedian(keepdims=True) without an axis, np.vecdot(keepdims=True),
and the refusals that now say what to write (unique(axis=), x.indices() / x.values() / x.index())."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

A = np.array([[0.31, 0.47, 0.73], [0.89, 0.17, 0.29], [0.61, 0.53, 0.11]])
B = np.array([[0.93, -0.23, 0.41], [0.13, 1.37, -0.53], [0.71, 0.29, 1.17]])
C = (np.arange(24.0).reshape(2, 3, 4) * 0.37) % 1.9
V = np.array([0.43, np.nan, 1.13])
E = np.array([[0.31, 0.47], [0.89, np.nan]])
VALUES = {"A": A, "B": B, "C": C, "V": V, "E": E}
NP = "import numpy as np\nimport scipy.special\n"


def used(text: str) -> dict:
    return {n: v for n, v in VALUES.items() if n in text.replace("np.", "").replace("dtype", "")}


def numpy_value(text: str):
    import warnings

    import scipy.special
    warnings.simplefilter("ignore", DeprecationWarning)  # np.row_stack
    return eval(text, {"np": np, "scipy": scipy, **{n: v.copy() for n, v in VALUES.items()}})  # noqa: S307


def central(text: str, name: str, h: float = 1e-6) -> np.ndarray:
    """d text / d name by central differences of jac's own values."""
    inputs = used(text)
    x = inputs[name]
    out = np.asarray(api.evaluate(NP + text, inputs))
    found = np.zeros(out.shape + x.shape)
    for i in np.ndindex(x.shape):
        if np.isnan(x[i]):
            continue
        up, down = dict(inputs), dict(inputs)
        up[name], down[name] = x.copy(), x.copy()
        up[name][i] += h
        down[name][i] -= h
        step = np.asarray(api.evaluate(NP + text, up)) - np.asarray(api.evaluate(NP + text, down))
        found[(...,) + i] = step / (2 * h)
    return found


# answered now, NumPy's value (float32: to float32's rounding) and a Jacobian central differences confirm
ANSWERED = [
    "np.concatenate([A, B], dtype=np.float64)", "np.concatenate((A, B), axis=1, dtype=np.float32)",
    "np.stack([A, B], axis=1, dtype=np.float32)", "np.hstack((A, B), dtype=np.float64)",
    "np.vstack([A, B], dtype=np.float32)", "np.concat([A, B], dtype=np.float32)",
    "np.row_stack((A, B), dtype=np.float64)",
    "np.cov(A, dtype=np.float64)", "np.cov(A, B, dtype=np.float32)",
    "np.cov(A, ddof=0, dtype=np.float64)", "np.corrcoef(A, dtype=np.float64)",
    "np.corrcoef(A, B, rowvar=False, dtype=np.float32)", "np.trace(A, dtype=np.float64)",
    "np.trace(A, 1, dtype=np.float32)", "np.nancumsum(A * V, axis=1, dtype=np.float64)",
    "np.nancumprod(A * V, 0, dtype=np.float32)", "np.matvec(A, B[0], dtype=np.float64)",
    "np.vecmat(B[0], A, dtype=np.float32)", "np.conjugate(A, dtype=np.float64)",
    "np.median(A, keepdims=True)", "np.nanmedian(A, keepdims=True)", "np.median(C, keepdims=True)",
    "np.nanmedian(E, keepdims=True)", "np.median(A[:2], axis=None, keepdims=True)",
    "np.vecdot(A, B, keepdims=True)", "np.vecdot(A, B, axis=0, keepdims=True)",
    "np.vecdot(C, C, axis=1, keepdims=True)", "np.vecdot(A, B[0], keepdims=True)",
    "scipy.special.softplus(x=A)", "scipy.special.softplus(A, dtype=np.float64)",
]


@pytest.mark.parametrize("text", ANSWERED)
def test_answered_as_numpy_answers(text):
    theirs = np.asarray(numpy_value(text))
    ours = np.asarray(api.evaluate(NP + text, used(text)))
    assert ours.shape == theirs.shape
    tol = 1e-6 if theirs.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    name = next(n for n in ("A", "C", "E") if n in used(text))
    if "float32" in text:
        return  # a float32 cast's derivative is the identity, its differences are float32's steps
    found = api.jacobian(NP + text, used(text), wrt=[name])[name]
    np.testing.assert_allclose(np.nan_to_num(np.asarray(found)), central(text, name), atol=1e-6)


# refused, each in words that say what to write (and NumPy's own refusal where it raises)
REFUSED = [
    ("np.clip(A, a_max=0.5)", True, "needs a_min too (NumPy raises TypeError: clip() missing 1 required positional "
                                    "argument: 'a_min'): write np.clip(x, None, a_max)"),
    ("np.clip(input=A, a_max=0.5)", True, "np.clip() has no argument 'input': NumPy's np.clip takes a, a_min, a_max"),
    ("np.clip(x=A, a_min=0.1, a_max=0.5)", True, "has no argument 'x'"),
    ("scipy.special.softplus(input=A)", True, "SciPy's scipy.special.softplus takes x, out, where, casting"),
    ("scipy.special.softplus(a=A)", True, "has no argument 'a'"),
    ("np.concatenate(arrays=[A, B], dtype=np.float64)", True, "takes arrays by position only"),
    ("np.concatenate([A, B], dtype=np.int32)", True, "a float array has no same_kind cast to it; jac refuses an "
                                                     "integer or bool dtype"),
    ("np.trace(A, dtype=np.int64)", False, "NumPy's result would be truncated"),
    ("np.cov(A, dtype=np.complex128)", False, "complex dtypes (complex128) are not supported by jac"),
    ("np.spacing(A, dtype=np.float32)", False, "is the spacing of float32 numbers"),
    ("np.unique(A, axis=-1)", False, "write unique(x) without it"),
]


@pytest.mark.parametrize("text,numpy_raises,words", REFUSED, ids=[t for t, _, _ in REFUSED])
def test_refused_saying_what_to_write(text, numpy_raises, words):
    if numpy_raises:
        with pytest.raises(TypeError):
            numpy_value(text)
    with pytest.raises(JacError) as err:
        api.evaluate(NP + text, used(text))
    assert words in err.value.message
    assert err.value.position is not None


def test_spacing_in_its_own_dtype_is_answered():
    ours = api.evaluate(NP + "np.spacing(A, dtype=np.float32)", {"A": A}, dtype="float32")
    np.testing.assert_array_equal(np.asarray(ours), np.spacing(A.astype(np.float32)))


@pytest.mark.parametrize("method,words", [("indices", "reads a sparse tensor"), ("values", "reads a sparse tensor"),
                                          ("index", "functorch's first-class dimensions")])
def test_the_bare_method_refusals_say_why(method, words):
    with pytest.raises(JacError) as err:
        api.evaluate(f"import torch\nx = torch.tensor([0.3, 0.5])\nx.{method}()", {})
    assert words in err.value.message and "is not supported by jac" not in err.value.message


def test_the_table_holds_the_names_a_kwargs_function_passes_on():
    from jacobi_cli.lang import argspec
    assert argspec.library_signature("numpy", "clip") == \
        " / a a_min a_max out / min max where casting order dtype subok signature"
    assert argspec.library_signature("scipy.special", "softplus") == \
        " / x / out where casting order dtype subok signature"
    assert argspec.library_signature("torch", "lu") == " / A pivot get_infos out / "
    assert argspec.library_signature("numpy", "concatenate").startswith("arrays / axis out / dtype casting")
    assert "arrays" not in argspec.library_signature("numpy", "concatenate").split(" / ")[2].split()


def test_each_forwarded_keyword_is_taken_and_another_refused_by_the_library():
    """kwtable.FORWARDS' entries are what the functions take: each named keyword reaches them (no TypeError naming
    it), a name outside refused by name."""
    scipy_special = pytest.importorskip("scipy.special")
    x = np.array([0.2, 1.5])
    for k in ("where", "casting", "order", "dtype", "subok"):
        value = {"where": True, "casting": "same_kind", "order": "K", "dtype": np.float64, "subok": True}[k]
        scipy_special.softplus(x, **{k: value})
        np.clip(x, 0.1, 0.5, **{k: value})
    for call in (lambda: scipy_special.softplus(x, input=x), lambda: np.clip(x, 0.1, 0.5, input=x)):
        with pytest.raises(TypeError, match="input"):
            call()
