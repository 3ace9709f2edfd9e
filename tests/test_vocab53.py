"""Each library's own keyword names (session 53, benchmarks/kwforms53_probe.py): jac's lowerings share aliases across
NumPy, PyTorch and JAX (``a=`` / ``input=`` for ``x``, ``dim=`` for ``axis``, ``y=`` for ``other``); a call spelled
in one library now takes the keywords that library takes (``lang/kwnames.py``, read off its signatures; PyTorch's
builtins off their ATen schemas, with the NumPy names its argument parser reads), refusing the others in the
library's own words, and passing the operands the library names by keyword on by position."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.31, 0.47, 0.73, 0.89])
Y = np.array([0.83, 0.41, 0.62, 0.19])
A = np.array([[2.03, 0.51, 0.33], [0.51, 1.57, 0.21], [0.33, 0.21, 1.87]])
B = np.array([[0.93, -0.23, 0.41], [0.13, 1.37, -0.53], [0.71, 0.29, 1.17]])
HEADS = {"jax": "import jax\nimport jax.numpy as jnp\nimport jax.nn\nimport jax.scipy.special\n",
         "torch": "import torch\nimport torch.nn.functional as F\n",
         "numpy": "import numpy as np\nimport scipy.special\n"}
VALUES = {"x": X, "y": Y, "A": A, "B": B}

# (library, text, words of jac's refusal): each answered by jac before this session, where the library raises
REFUSED = [
    ("jax", "jnp.tanh(a=x)", "JAX's jnp.tanh takes x by position only"),
    ("jax", "jnp.tanh(x=x)", "takes x by position only"),
    ("jax", "jnp.abs(input=x)", "has no argument 'input'"),
    ("jax", "jax.nn.relu(a=x)", "JAX's jax.nn.relu takes x (it raises TypeError): write x="),
    ("jax", "jax.nn.relu(input=x)", "write x="),
    ("jax", "jax.nn.softmax(x, dtype=jnp.float64)", "JAX's jax.nn.softmax takes x, axis, where"),
    ("jax", "jax.nn.log_softmax(x, dim=-1)", "write axis="),
    ("jax", "jax.nn.logsumexp(x=x)", "has no argument 'x'"),
    ("jax", "jnp.sum(x, dim=0)", "write axis="),
    ("jax", "jnp.sum(input=x)", "write a="),
    ("jax", "jnp.all(x > 0.5, keepdim=True)", "write keepdims="),
    ("jax", "jnp.add(x, other=y)", "its operands by position"),
    ("jax", "jnp.add(x, y=y)", "has no argument 'y'"),
    ("jax", "jnp.power(x, exponent=y)", "pass it by position"),
    ("jax", "jnp.flip(x, dims=(-1,))", "write axis="),
    ("jax", "jnp.linalg.norm(x, p=2)", "write ord="),
    ("jax", "jnp.linalg.cholesky(input=A)", "has no argument 'input'"),
    ("jax", "jax.scipy.special.logsumexp(x, keepdim=True)", "write keepdims="),
    ("jax", "jax.scipy.special.log_softmax(x, dtype=jnp.float64)", "drop dtype="),
    ("jax", "jax.scipy.special.gammaln(a=x)", "has no argument 'a'"),
    ("numpy", "np.all(input=x > 0.5)", "NumPy's np.all takes a, axis"),
    ("numpy", "np.linalg.cholesky(a=A)", "takes a by position only"),
    ("numpy", "np.linalg.cross(A, y=B)", "has no argument 'y'"),
    ("numpy", "np.cross(A, y=B)", "write b="),
    ("numpy", "scipy.special.log_softmax(x, dtype=np.float64)", "SciPy's scipy.special.log_softmax takes x, axis"),
    ("numpy", "scipy.special.expit(a=x)", "has no argument 'a'"),
    ("torch", "torch.add(x, y=y)", "PyTorch's torch.add takes input, other, alpha, out (it raises TypeError): "
                                  "write other="),
    ("torch", "torch.add(x, exponent=y)", "write other="),
    ("torch", "x.add(y=y)", "PyTorch's x.add takes other, alpha, out"),
    ("torch", "torch.clamp(x, a_max=0.75)", "write max="),
    ("torch", "torch.linalg.cross(A, y=B)", "write other="),
    ("torch", "torch.linalg.det(a=A)", "PyTorch's torch.linalg.det takes A"),
    ("torch", "torch.special.gammainc(x, y=y)", "write other="),
    ("torch", "F.celu(a=x)", "PyTorch's F.celu takes input, alpha, inplace"),
    ("torch", "F.softmax(x, axis=0)", "write dim="), ("torch", "torch.sum(A, keepdims=True)", "needs a dim"),
    ("numpy", "np.greater(x, y, dtype=np.float64)", "no loop of that signature"),
    ("torch", "torch.cdist(A, B, ord=2)", "write p="),
]

# (library, text): keywords the library takes, read as it reads them (refused before this session)
ANSWERED_NOW = [
    ("torch", "torch.abs(x1=x)"), ("torch", "torch.add(x, x2=y)"),
    ("torch", "x.add(x2=y)"), ("torch", "torch.sum(x1=A, axis=0)"), ("torch", "torch.fliplr(a=A)"),
    ("torch", "torch.fliplr(input=A)"), ("torch", "torch.linalg.cholesky(x1=A)"), ("torch", "torch.mul(x1=x, x2=y)"),
    ("torch", "torch.linalg.cross(A, x2=B)"), ("torch", "torch.special.expit(x1=x)"),
    ("torch", "F.cosine_similarity(A, B, axis=-1)"), ("torch", "F.pairwise_distance(A, B, keepdims=True)"),
    ("torch", "torch.max(A, x2=B)"), ("torch", "torch.linalg.lstsq(A, b=B)[0]"),
]

# (library, text): keywords the library takes that jac answered before and answers still
ANSWERED_STILL = [
    ("jax", "jnp.sum(a=A, axis=0, keepdims=True)"), ("jax", "jax.nn.softmax(x=A, axis=0)"),
    ("jax", "jnp.matmul(a=A, b=B)"), ("jax", "jax.nn.relu(x)"), ("jax", "jnp.linalg.norm(x=A, ord=2)"),
    ("numpy", "np.sum(a=A, axis=0)"), ("numpy", "np.tanh(A, dtype=np.float64)"), ("numpy", "np.dot(a=A, b=B)"),
    ("torch", "torch.sum(A, axis=0, keepdims=True)"), ("torch", "torch.softmax(input=A, dim=-1)"),
    ("torch", "F.softmax(A, dim=-1, dtype=torch.float64)"), ("torch", "torch.sum(a=A)"),
    ("torch", "torch.mm(A, mat2=B)"), ("torch", "torch.clamp(x, min=0.4, max=0.8)"),
    ("torch", "torch.pow(x, exponent=y)"), ("torch", "A.sum(axis=0)"),
    ("torch", "torch.ones((2, 3), dtype=torch.float64) * x.sum()"), ("torch", "torch.tanh(a=x)"),
]


def used(text: str) -> dict:
    import re
    words = set(re.findall(r"[A-Za-z_]\w*", text))
    return {n: v for n, v in VALUES.items() if n in words}


def library(lib: str, text: str):
    values = used(text)
    if lib == "torch":
        torch = pytest.importorskip("torch")
        import torch.nn.functional as F
        scope = {"torch": torch, "F": F, **{n: torch.tensor(v, requires_grad=True) for n, v in values.items()}}
    elif lib == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
        import jax.nn
        import jax.numpy as jnp
        import jax.scipy.special
        scope = {"jax": jax, "jnp": jnp, **{n: jnp.asarray(v) for n, v in values.items()}}
    else:
        scipy = pytest.importorskip("scipy")
        import scipy.special
        scope = {"np": np, "scipy": scipy, **{n: v.copy() for n, v in values.items()}}
    return eval(text, scope)  # noqa: S307 - the test's own texts


@pytest.mark.parametrize("lib,text,words", REFUSED, ids=[t for _, t, _ in REFUSED])
def test_a_keyword_the_library_does_not_take_is_refused_in_its_words(lib, text, words):
    with pytest.raises(TypeError):  # the library's own refusal
        library(lib, text)
    with pytest.raises(JacError) as err:
        api.evaluate(HEADS[lib] + text, used(text))
    assert words in err.value.message
    assert err.value.kind in ("parse", "value") and err.value.position is not None


def _torch_jacobian(text: str) -> tuple:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    names = sorted(used(text))

    def f(*vals):
        return eval(text, {"torch": torch, "F": F, **dict(zip(names, vals))})  # noqa: S307

    given = [torch.tensor(VALUES[n]) for n in names]
    value = f(*given).detach().numpy()
    jacs = torch.autograd.functional.jacobian(f, tuple(given))
    return names, value, [j.numpy() for j in jacs]


@pytest.mark.parametrize("lib,text", ANSWERED_NOW, ids=[t for _, t in ANSWERED_NOW])
def test_the_library_own_keyword_of_an_operand_is_read_as_it_reads_it(lib, text):
    names, value, jacs = _torch_jacobian(text)
    inputs = {n: VALUES[n] for n in names}
    ours = api.evaluate(HEADS[lib] + text, inputs)
    np.testing.assert_allclose(np.asarray(ours), value, rtol=1e-12, atol=1e-14)
    found = api.jacobian(HEADS[lib] + text, inputs, wrt=names)
    found = found if isinstance(found, dict) else {names[0]: found}
    for n, theirs in zip(names, jacs):
        np.testing.assert_allclose(np.asarray(found[n]).reshape(theirs.shape), theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lib,text", ANSWERED_STILL, ids=[t for _, t in ANSWERED_STILL])
def test_a_keyword_the_library_takes_keeps_working(lib, text):
    theirs = library(lib, text)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = api.evaluate(HEADS[lib] + text, used(text))
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-12, atol=1e-14)


def test_every_jac_module_path_keys_a_namespace_of_the_table():
    from jacobi_cli.lang import argspec, kwnames
    from jacobi_cli.tools import kwtable
    assert set(argspec.KEYWORD_TABLES.values()) <= set(kwnames.TABLES)
    for space, names in kwtable.parsed(kwnames.TABLES).items():
        for name, text in names.items():
            assert text.count(" / ") == 2, (space, name, text)
            assert argspec.library_signature(space, name) == text


def test_the_table_is_the_installed_libraries_own():
    """kwnames.py is what tools/kwtable.py reads off the libraries it names (regenerate it when they change)."""
    for module in ("jax", "torch", "scipy"):
        pytest.importorskip(module)
    from jacobi_cli.lang import kwnames
    from jacobi_cli.tools import kwtable
    if kwtable.versions() != kwnames.VERSIONS:
        pytest.skip(f"the table is of {kwnames.VERSIONS}, these libraries are {kwtable.versions()}")
    assert kwtable.table() == kwtable.parsed(kwnames.TABLES)
