"""Session 35's names (lang/names35.py), without PyTorch or JAX: torch.as_strided of an input against NumPy's
``as_strided`` of the same contiguous storage and its Jacobian against central differences; NumPy's array methods
(x.compress, x.choose, x.searchsorted, x.argpartition, x.conjugate) against NumPy; x.short() / x.char(); and the
refusals that say why (random draws and state, files, configuration, devices, memory, in-place methods)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.tools import api

X = np.array([0.5, 1.5, -2.5, 3.7, 0.25, -1.0])
A = np.arange(12.0).reshape(3, 4) / 7 - 0.6


def central(f, x, eps=1e-6):
    cols = [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size).reshape((x.size,) + x.shape)]
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(x)) + x.shape)


STRIDED = [  # (text, value, size, stride, offset)
    ("torch.as_strided(x, (4, 3), (1, 1))", X, (4, 3), (1, 1), 0),
    ("torch.as_strided(x, (2, 3), (3, 1))", X, (2, 3), (3, 1), 0),
    ("x.as_strided((3, 2), (1, 3))", X, (3, 2), (1, 3), 0),
    ("torch.as_strided(x, (2, 2), (0, 2), 1)", X, (2, 2), (0, 2), 1),
    ("torch.as_strided_copy(x, size=(3,), stride=(2,), storage_offset=1)", X, (3,), (2,), 1),
    ("torch.as_strided(x, (2, 2, 2), (4, 1, 2))", A, (2, 2, 2), (4, 1, 2), 0),
    ("x.as_strided((4, 3), (1, 4))", A, (4, 3), (1, 4), 0),
    ("torch.as_strided(x, (0, 3), (1, 1))", X, (0, 3), (1, 1), 0),
]


@pytest.mark.parametrize("text,x,size,stride,offset", STRIDED)
def test_as_strided_is_numpys_view_of_the_storage_and_its_jacobian_central_differences(text, x, size, stride,
                                                                                          offset):
    def numpy_view(v):
        flat = np.ascontiguousarray(v).reshape(-1)[offset:]
        return np.lib.stride_tricks.as_strided(flat, size, tuple(s * flat.itemsize for s in stride)).copy()
    np.testing.assert_array_equal(api.evaluate(text, {"x": x}), numpy_view(x))
    if 0 not in size:
        np.testing.assert_allclose(api.jacobian(text, {"x": x})["x"], central(numpy_view, x), atol=1e-8)


def test_overlapping_windows_add_their_cotangents():
    v = api.vjp("torch.as_strided(x, (4, 3), (1, 1))", {"x": X}, v=np.ones((4, 3)))["x"]
    np.testing.assert_array_equal(v, [1, 2, 3, 3, 2, 1])


@pytest.mark.parametrize("text,words", [
    ("torch.as_strided(x * 2, (2,), (1,))", "as_strided of an input only"),
    ("torch.as_strided(x.reshape(2, 3).T, (2,), (1,))", "as_strided of an input only"),
    ("torch.as_strided(x, (4, 2), (1, 3))", "need a storage of 7 elements, and the input holds 6"),
    ("torch.as_strided(x, (2,), (-1,), 2)", "negative sizes, strides or offset"),
    ("torch.as_strided(x, (2, 2), (1,))", "mismatch in length of strides and shape"),
    ("torch.as_strided_scatter(x, x[:2], (2,), (2,))", "disagrees with its own values"),
    ("x.as_strided_scatter(x[:2], (2,), (2,))", "disagrees with its own values"),
])
def test_as_strided_refusals_say_why(text, words):
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)")):
        api.evaluate(text, {"x": X})


@pytest.mark.parametrize("text,numpy", [
    ("x.compress([True, False, True, True, False, True])", lambda x: x.compress([True, False, True, True, False,
                                                                                    True])),
    ("x.compress(condition=[True, True, False, False, True, False])",
     lambda x: x.compress(condition=[True, True, False, False, True, False])),
    ("x.choose([x, 2 * x, x ** 2])", None),
    ("np.sort(x).searchsorted(0.3)", lambda x: np.sort(x).searchsorted(0.3)),
    ("np.sort(x).searchsorted([0.3, -2.0], side='right')", lambda x: np.sort(x).searchsorted([0.3, -2.0],
                                                                                                side="right")),
    ("x.argpartition(2)", lambda x: x.argpartition(2)),
    ("x.conjugate() * x", lambda x: x.conjugate() * x),
])
def test_numpy_array_methods_are_numpys(text, numpy):
    if numpy is None:  # x.choose: indices 0..2 of the choices
        idx = np.array([0, 1, 2, 1, 0, 2])
        text, numpy = "idx.choose([x, 2 * x, x ** 2])", lambda x: idx.choose([x, 2 * x, x ** 2])
        got = api.evaluate("import numpy as np\nidx = np.array([0, 1, 2, 1, 0, 2])\n" + text, {"x": X})
    else:
        got = api.evaluate("import numpy as np\n" + text, {"x": X})
    np.testing.assert_array_equal(got, numpy(X))
    if got.dtype.kind == "f" and "arg" not in text and "search" not in text:
        code = ("import numpy as np\nidx = np.array([0, 1, 2, 1, 0, 2])\n" if "idx" in text else "") + text
        np.testing.assert_allclose(api.jacobian(code, {"x": X})["x"], central(numpy, X), atol=1e-8)


def test_short_and_char_cast_toward_zero_and_refuse_what_they_cannot_hold():
    np.testing.assert_array_equal(api.evaluate("x.short()", {"x": X * 10}), [5, 15, -25, 37, 2, -10])
    np.testing.assert_array_equal(api.evaluate("x.char()", {"x": X * 10}), [5, 15, -25, 37, 2, -10])
    np.testing.assert_array_equal(api.jacobian("x.short() * x", {"x": X})["x"], np.diag(np.trunc(X)))
    with pytest.raises(JacValueError, match="int8"):
        api.evaluate("x.char()", {"x": X * 100})
    with pytest.raises(JacValueError, match="int16"):
        api.evaluate("x.short()", {"x": X * 1e4})


def test_tensor_questions_of_a_real_tensor():
    assert api.evaluate("x.is_complex()", {"x": X}) == 0
    assert api.evaluate("x.is_conj() + x.is_neg()", {"x": X}) == 0
    np.testing.assert_array_equal(api.evaluate("x.to_dense() * 2", {"x": X}), 2 * X)
    np.testing.assert_array_equal(api.jacobian("x.to_dense()", {"x": X})["x"], np.eye(6))
    np.testing.assert_array_equal(api.evaluate("(x > 0).nonzero_static(size=5)", {"x": X}),
                                  [[0], [1], [3], [4], [-1]])


REFUSED = [
    ("torch.manual_seed(0)", "random state"),
    ("torch.Generator()", "random state"),
    ("torch.normal(x, 1.0)", "random numbers"),
    ("torch.bernoulli(x)", "random numbers"),
    ("torch.randperm(4)", "random numbers"),
    ("torch.set_default_dtype(torch.float64)", "as a statement of its own only"),  # read so since session 37
    ("torch.set_num_threads(2)", "threads"),
    ("torch.save(x, 'a.pt')", "files"),
    ("torch.sparse_coo_tensor(x, x)", "dense and real"),
    ("torch.cudnn_convolution(x, x)", "backend kernel"),
    ("torch.native_norm(x)", "torch.linalg.vector_norm"),
    ("torch.empty_strided((2,), (1,))", "uninitialised"),
    ("F.has_torch_function(x)", "helper of PyTorch's own code"),
    ("np.save('a', x)", "files"),
    ("np.loadtxt('a.txt')", "files"),
    ("np.seterr(all='raise')", "NumPy's configuration"),
    ("np.linalg.test()", "NumPy's configuration"),
    ("np.isnat(x)", "datetime"),
    ("np.packbits(x)", "not bits"),
    ("np.shares_memory(x, x)", "dtypes or memory"),
    ("jnp.save('a', x)", "files"),
    ("x.half()", "half tensor's rounding"),
    ("x.bfloat16()", "rounding"),
    ("x.cfloat()", "no complex dtype"),
    ("x.byte()", "undefined"),
    ("x.stride()", "strides"),
    ("x.element_size()", "memory"),
    ("x.is_contiguous()", "memory"),
    ("x.to_sparse()", "dense and real"),
    ("x.fill(2.0)", "in place"),
    ("x.partition(2)", "in place"),
    ("x.resize(3, 2)", "in place"),
    ("x.tofile('a')", "file"),
    ("x.new_empty(3)", "uninitialised"),
    ("x.geqrf()", "Householder"),
    ("x.stft(4)", "complex"),
    ("x.mtia()", "CPU"),
    ("x.register_post_accumulate_grad_hook(None)", "autograd"),
]


@pytest.mark.parametrize("text,words", REFUSED)
def test_refusals_say_why_and_name_the_call(text, words):
    with pytest.raises(JacNameError) as err:
        api.evaluate("import torch, torch.nn.functional as F, numpy as np, jax.numpy as jnp\n" + text, {"x": X})
    assert words in err.value.message
    called = text.split("(")[0].replace("x.", ".")
    assert err.value.message.startswith(called + ("()" if called.startswith(".") else "") + ":"), err.value.message


def test_in_place_statements_keep_their_own_message():
    with pytest.raises(JacError, match=r"y = np.full_like\(y, v\)"):
        api.evaluate("import numpy as np\ny = np.asarray(x) * 1\ny.fill(2.0)\ny", {"x": X})
