"""Session 54's small leftovers (h54-left): everyday spellings jac refused where the library answers, or answered
where the library raises. Each checked against the library where it is installed."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name
from test_gradmodes53 import assert_as_pytorch  # (X is the same [1, 2, -0.5] there)

X = np.array([1.0, 2.0, -0.5])


# 1. several grad modes in one 'with': Python's nested withs, the left one outermost
def with_text(modes: str, body: str = "    c = x2.sum()\n", out: str = "(x2 * c).sum()") -> str:
    return f"import torch\nx2 = torch.sin(x) * 2\nwith {modes}:\n{body}{out}"


TOGETHER = ["torch.enable_grad(), torch.no_grad()", "torch.no_grad(), torch.set_grad_enabled(False)",
            "torch.set_grad_enabled(True), torch.enable_grad()", "torch.enable_grad(), torch.inference_mode()",
            "torch.no_grad(), torch.inference_mode()", "torch.enable_grad(), torch.enable_grad(), torch.no_grad()"]


def nested_text(modes: list, out: str) -> str:
    lines = ["import torch", "x2 = torch.sin(x) * 2"] + ["    " * k + f"with {m}:" for k, m in enumerate(modes)]
    return "\n".join(lines + ["    " * len(modes) + "c = x2.sum()", out])


def answer(text: str):
    try:
        return api.jacobian(text, {"x": X})["x"]
    except JacError as err:
        return type(err), str(err).splitlines()[0]


@pytest.mark.parametrize("modes", TOGETHER)
@pytest.mark.parametrize("out", ["(x2 * c).sum()", "(x2 + c).sum()"])
def test_several_grad_modes_in_one_with_are_the_nested_withs(modes, out):
    import ast
    items = [ast.unparse(item.context_expr) for item in ast.parse(f"with {modes}: pass").body[0].items]
    together, nested = answer(with_text(modes, out=out)), answer(nested_text(items, out))
    if isinstance(nested, tuple):
        assert together == nested  # the same refusal (inference tensors saved for backward)
    else:
        np.testing.assert_array_equal(together, nested)


def test_enable_grad_inside_no_grad_in_one_with_is_refused_as_nested():
    with pytest.raises(JacError, match="where gradients are off"):
        api.jacobian(with_text("torch.no_grad(), torch.enable_grad()"), {"x": X})


@pytest.mark.parametrize("mixture", ["torch.no_grad(), open('p')", "open('p'), torch.no_grad()",
                                     "torch.no_grad(), torch.enable_grad() as g"])
def test_a_grad_mode_beside_another_context_manager_is_refused(mixture):
    with pytest.raises(JacError, match="jac reads a 'with' of grad modes only"):
        api.jacobian(with_text(mixture), {"x": X})


@pytest.mark.parametrize("modes", TOGETHER)
@pytest.mark.parametrize("out", ["(x2 * c).sum()", "(x2 + c).sum()"])
def test_several_grad_modes_against_pytorch(torch64, modes, out):
    assert_as_pytorch(torch64, with_text(modes, out=f"y = {out}"), with_text(modes, out=out))


# 2. a chain of in-place methods through .data on a tensor that is not a leaf: its writes one by one, as PyTorch
DATA_CHAINS = [
    ("y = torch.sin(x) * 2\n", "y.data.mul_(2.).add_(1.)", "(y * y).sum()"),
    ("y = torch.sin(x) * 2\n", "y.data[0].mul_(2.).add_(1.)", "(y * y).sum()"),
    ("y = torch.sin(x) * 2\nz = torch.exp(y)\n", "y.data.mul_(2.).add_(1.)", "(z * y).sum()"),
    ("y = torch.sin(x) * 2\n", "y.data.clamp_(-1., 1.).mul_(3.).sub_(0.5)", "(y * x).sum()"),
    ("w = torch.randn(3, requires_grad=True)\n", "w.data.fill_(1.).add_(1.)", "(w * x).sum()"),
]
SAVED = ("y = torch.sin(x) * 2\nz = y * y\n", "y.data.mul_(2.).add_(1.)", "z.sum()")  # y * y saved the old y


def data_text(before: str, write: str, out: str) -> str:
    return f"import torch\n{before}{write}\n{out}"


def one_by_one(write: str) -> str:
    import ast
    calls, node = [], ast.parse(write).body[0].value
    while isinstance(node, ast.Call):
        calls.append(node)
        node = node.func.value
    base = ast.unparse(node)
    return "\n".join(f"{base}.{ast.unparse(c)[len(ast.unparse(c.func.value)) + 1:]}" for c in reversed(calls))


@pytest.mark.parametrize("case", DATA_CHAINS + [SAVED])
def test_a_data_chain_is_its_writes_one_by_one(case):
    before, write, out = case
    assert one_by_one(write).count("\n") == write.count("_(") - 1
    together, apart = answer(data_text(*case)), answer(data_text(before, one_by_one(write), out))
    if isinstance(apart, tuple):
        assert together == apart
    else:
        np.testing.assert_array_equal(together, apart)


def test_a_data_chain_on_a_tensor_an_op_saved_is_refused():
    with pytest.raises(JacError, match="a write through .data bumps no version counter"):
        api.jacobian(data_text(*SAVED), {"x": X})


@pytest.mark.parametrize("case", DATA_CHAINS[:4])
def test_a_data_chain_against_pytorch(torch64, case):
    torch = torch64
    t = torch.tensor(X, requires_grad=True)
    env = {"torch": torch, "x": t}
    before, write, out = case
    exec(data_text(before, write, f"out = {out}"), env)  # noqa: S102 - the test's own text, under PyTorch
    (want,) = torch.autograd.grad(env["out"], t)
    np.testing.assert_allclose(api.jacobian(data_text(*case), {"x": X})["x"], want.numpy(), rtol=1e-14)
    np.testing.assert_allclose(api.evaluate(data_text(*case), {"x": X}), env["out"].detach().numpy(), rtol=1e-14)


# 3. a 0-d tensor bound beside a number: PyTorch reads it as a Number where it requires no grad, else TypeError
A = np.array([[0.0, 0.3], [0.7, 1.0]])
S = np.array(0.2)
CLAMP_ANSWERED = ["torch.clamp(A, torch.tensor(0.1), 0.5)", "torch.clamp(A, 0.1, torch.tensor(0.5))",
                  "A.clamp(torch.tensor(0.1), 0.5)", "torch.clamp(A, s.detach(), 0.5)", "torch.clamp(A, s.item(), 0.5)",
                  "torch.clamp(A, s, torch.tensor(0.5))", "torch.clip(A, min=torch.tensor(0.1), max=0.5)"]
CLAMP_RAISED = ["torch.clamp(A, s, 0.5)", "A.clamp(s, 0.5)", "torch.clip(A, 0.1, max=s)",
                "torch.clamp(A, s * 0 + torch.tensor(0.1), 0.5)", "A.clip(min=s, max=0.5)"]


@pytest.mark.parametrize("expr", CLAMP_RAISED)
def test_a_0d_bound_that_requires_grad_beside_a_number_is_refused(expr):
    with pytest.raises(JacError, match="a 0-d tensor that requires grad is no Number to PyTorch"):
        api.jacobian(f"import torch\n{expr}", {"A": A, "s": S})


def test_a_0d_bound_made_under_no_grad_is_a_number():
    text = "import torch\nwith torch.no_grad():\n    m = torch.clamp(A, s * 2, 0.5)\n(m * A).sum()"
    np.testing.assert_allclose(api.jacobian(text, {"A": A, "s": S})["A"], np.clip(A, 0.4, 0.5), rtol=1e-15)


@pytest.mark.parametrize("expr", CLAMP_ANSWERED + CLAMP_RAISED)
def test_clamps_bounds_against_pytorch(torch64, expr):
    torch = torch64
    env = {"torch": torch, "A": torch.tensor(A, requires_grad=True), "s": torch.tensor(S, requires_grad=True)}
    try:
        want = eval(expr, env)  # noqa: S307 - the test's own text, under PyTorch
    except TypeError:
        with pytest.raises(JacError, match="min and max must both be tensors or both be numbers"):
            api.jacobian(f"import torch\n{expr}", {"A": A, "s": S})
        return
    (slope,) = torch.autograd.grad(want.sum(), env["A"])
    np.testing.assert_allclose(api.evaluate(f"import torch\n{expr}", {"A": A, "s": S}), want.detach().numpy())
    np.testing.assert_allclose(api.jacobian(f"import torch\n{expr}.sum()", {"A": A, "s": S})["A"], slope.numpy())


# 4. precision= of jnp's products: None, a member, a name, or a TUPLE of two members or two names (JAX's rule)
PRECISIONS = ["jax.lax.Precision.HIGHEST", "'highest'", "None", "(jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGH)",
              "('highest', 'bfloat16')", "[jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGH]", "['highest', 'high']",
              "(jax.lax.Precision.HIGHEST, 'high')", "('high', jax.lax.Precision.DEFAULT)",
              "(jax.lax.Precision.HIGHEST,)", "(None, None)", "'jax.lax.Precision.HIGH'", "'bogus'"]
PRODUCTS = ["jnp.matmul(A, B, precision={})", "jnp.dot(A, B, precision={})",
            "jnp.einsum('ij,jk->ik', A, B, precision={})"]
B = np.array([[1.0, -2.0], [0.5, 3.0]])


def jax_text(product: str, precision: str) -> str:
    return "import jax\nimport jax.numpy as jnp\n" + product.format(precision)


@pytest.mark.parametrize("product", PRODUCTS)
def test_a_list_precision_is_refused_saying_write_a_tuple(product):
    with pytest.raises(JacError, match=r"a list is no precision JAX takes .*write a tuple"):
        api.evaluate(jax_text(product, "[jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGH]"), {"A": A, "B": B})


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_precision_against_jax(product, precision):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    env = {"jax": jax, "jnp": jnp, "A": jnp.asarray(A, dtype=jnp.float32), "B": jnp.asarray(B, dtype=jnp.float32)}
    try:
        eval(product.format(precision), env)  # noqa: S307 - the test's own text, under JAX
    except (ValueError, TypeError):
        with pytest.raises(JacError, match="precision"):
            api.evaluate(jax_text(product, precision), {"A": A, "B": B})
        return
    np.testing.assert_allclose(api.evaluate(jax_text(product, precision), {"A": A, "B": B}), A @ B, rtol=1e-15)
    np.testing.assert_allclose(api.jacobian(jax_text(product, precision) + ".sum()", {"A": A, "B": B})["A"],
                               np.broadcast_to(B.sum(1), (2, 2)), rtol=1e-15)


# 5. jax.image.resize's method as a jax.image.ResizeMethod member, as JAX takes it
MEMBERS = ["NEAREST", "LINEAR", "LANCZOS3", "LANCZOS5", "CUBIC", "CUBIC_PYTORCH", "AREA"]
IMAGE = np.array([[0.0, 1.0, 3.0, 2.0], [1.5, -1.0, 0.5, 2.5], [0.25, 2.0, -0.5, 1.0]])


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("shape,antialias", [((5, 7), True), ((2, 3), True), ((2, 6), False)])
def test_a_resize_method_member_is_its_string(member, shape, antialias):
    name = {"CUBIC_PYTORCH": "cubic-pytorch"}.get(member, member.lower())
    common = f"import jax\nout = jax.image.resize(x, {shape}, %s, antialias={antialias})\n(out * out).sum()"
    enum = api.jacobian(common % f"jax.image.ResizeMethod.{member}", {"x": IMAGE})["x"]
    np.testing.assert_array_equal(enum, api.jacobian(common % f"'{name}'", {"x": IMAGE})["x"])
    keyword = common.replace(", jax.image", ", method=jax.image")
    np.testing.assert_array_equal(enum, api.jacobian(keyword % f"jax.image.ResizeMethod.{member}", {"x": IMAGE})["x"])


def test_an_unknown_member_and_the_enum_itself_are_refused():
    with pytest.raises(JacError, match="jax.image.ResizeMethod has no member 'BILINEAR'"):
        api.evaluate("import jax\njax.image.resize(x, (5, 7), jax.image.ResizeMethod.BILINEAR)", {"x": IMAGE})
    with pytest.raises(JacError, match="Unknown resize method"):
        api.evaluate("import jax\njax.image.resize(x, (5, 7), jax.image.ResizeMethod)", {"x": IMAGE})
    with pytest.raises(JacError, match="mode=jax.image.ResizeMethod.LINEAR is not supported"):
        api.evaluate("import jax.numpy as jnp\nimport jax\njnp.pad(x, 1, mode=jax.image.ResizeMethod.LINEAR)",
                     {"x": IMAGE})


@pytest.mark.parametrize("member", MEMBERS)
def test_resize_method_members_against_jax(member):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)  # as tests/test_parity_vocab54.py
    import jax.image  # noqa: F401
    import jax.numpy as jnp
    method = getattr(jax.image.ResizeMethod, member)
    want = jax.image.resize(jnp.asarray(IMAGE, dtype=jnp.float64), (5, 7), method)
    found = api.evaluate(f"import jax\njax.image.resize(x, (5, 7), jax.image.ResizeMethod.{member})", {"x": IMAGE})
    np.testing.assert_allclose(found, np.asarray(want), rtol=1e-12, atol=1e-14)
