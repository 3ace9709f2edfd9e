"""PyTorch's copies, views and (values, indices) pairs, and models holding dicts (session 37, h37-views).

A write in place after a call PyTorch answers with a copy (flip, roll, tile, cat, index_select, ``.contiguous()`` of a
non-contiguous tensor, ``.float()`` of float64, ...) is answered as PyTorch answers it (the source unchanged), and
one after a call that returns a view or the tensor itself (``.contiguous()`` of a contiguous one, ``.double()`` of
float64; dropout in eval mode: followed as an alias since session 56) still refused; a write into what a call of several results keeps (``torch.cummax``'s
operand, ``eigh``'s eigenvalues, ``max(0)``'s indices) refused exactly where PyTorch's backward raises; models built
with ``setattr``, read with ``getattr``, holding ``nn.ParameterDict`` / ``nn.ParameterList``, f-string names and
dicts of functions answered as PyTorch answers them. Parity tests skip without torch;
benchmarks/views37_probe.py is the wider differential probe."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.ir import saved
from jacobi_cli.lang import copies
from jacobi_cli.tools import api

INPUTS = {"x": [0.5, -1.5, 2.0], "y": [1.0, 2.0, -0.5],
          "A": [[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0], [2.0, -0.5, 1.0]]}
PYTORCH_WORDS = "modified by an inplace operation"
VECTOR, MATRIX, TRANSPOSED = "u = torch.sin(x) * 2", "u = torch.sin(A) + 1", "u = (torch.sin(A) + 1).T"
READ = "torch.cat([(g * g).reshape(-1), u.reshape(-1)])"


def names(text: str) -> list:
    found = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    return [k for k in INPUTS if k in found]


def jac_run(text: str):
    """jac's (value, Jacobians) of ``text``, or its refusal's message."""
    bindings = {k: np.array(INPUTS[k]) for k in names(text)}
    try:
        return np.asarray(api.evaluate(text, bindings)), api.jacobian(text, bindings)
    except JacError as err:
        return err.message


def torch_run(text: str):
    """PyTorch's (value, Jacobians) of ``text`` (float64 leaves), or its RuntimeError's words."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    tree = ast.parse(text)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<text>", "eval")
    leaves = {k: torch.tensor(INPUTS[k], dtype=torch.float64, requires_grad=True) for k in names(text)}
    scope = {"torch": torch, "F": F, "nn": torch.nn, **leaves}
    try:
        exec(body, scope)  # noqa: S102 - the test's own texts
        out = eval(last, scope)  # noqa: S307
        flat = out.reshape(-1)
        rows = {k: np.zeros((flat.numel(), v.numel())) for k, v in leaves.items()}
        if out.requires_grad:
            for i in range(flat.numel()):
                grads = torch.autograd.grad(flat[i], list(leaves.values()), retain_graph=True, allow_unused=True)
                for k, g in zip(leaves, grads):
                    if g is not None:
                        rows[k][i] = g.reshape(-1).numpy()
    except RuntimeError as err:
        return str(err)
    return out.detach().double().numpy(), {k: r.reshape(tuple(out.shape) + tuple(leaves[k].shape))
                                           for k, r in rows.items()}


def agree(ours, theirs, rtol=1e-12) -> bool:
    (value, jac), (lib_value, lib_jac) = ours, theirs
    return np.allclose(value, lib_value, rtol=rtol, atol=1e-12) and all(
        np.allclose(np.asarray(jac[k]), lib_jac[k], rtol=rtol, atol=1e-12) for k in lib_jac)


# PyTorch's calls that copy, where jac's graph shows a view or the operand itself (each was refused before)
COPIES = [(VECTOR, c) for c in [
    "torch.flip(u, [0])", "u.flip(0)", "torch.roll(u, 1)", "u.roll(-1)", "u.repeat_interleave(2)",
    "torch.repeat_interleave(u, 2)", "u.repeat(2)", "torch.tile(u, (2,))", "u.tile((2,))", "torch.cat([u])",
    "torch.hstack([u])", "torch.index_select(u, 0, torch.tensor([2, 0]))", "u.index_select(0, torch.tensor([1]))",
    "torch.masked_select(u, u > 0)", "u.masked_select(u > -5)", "torch.take(u, torch.tensor([2, 1]))",
    "torch.gather(u, 0, torch.tensor([1, 1, 0]))", "u.to(torch.float64, copy=True)",
]] + [(MATRIX, c) for c in [
    "torch.fliplr(u)", "torch.flipud(u)", "torch.rot90(u)", "torch.roll(u, 1, 0)", "u.flip(0, 1)", "torch.diag(u)",
    "u.diag()", "u.T.contiguous()", "u[:, 0].contiguous()", "u.T.reshape(9)", "u.T.flatten()", "u.T.ravel()",
    "torch.ravel(u.T)", "u.t().reshape(-1)", "u[:, :2].reshape(6)", "torch.reshape(u.T, (9,))",
    "u.mT.contiguous()", "u.permute(1, 0).contiguous()", "u.transpose(0, 1).reshape(9)", "u[::2].reshape(6)",
    "torch.tril(u)", "u.repeat(2, 1)",
]] + [(TRANSPOSED, c) for c in ["u.contiguous()", "u.reshape(9)", "u.flatten()"]]
# calls that return a view of u or u itself: a write through them changes u, which jac's values do not follow
VIEWS = [(VECTOR, c) for c in ["u.double()", "u.to(torch.float64)", "u.contiguous()", "u.reshape(3)", "u.flatten()",
                               "F.dropout(u, 0.0)", "F.dropout(u, 0.5, training=False)", "u[1:]", "u.detach()",
                               "torch.nn.Dropout(0.3).eval()(u)", "u.type(torch.float64)"]] + \
    [(MATRIX, c) for c in ["u.contiguous()", "u[0].contiguous()", "u.reshape(9)", "u.flatten()", "u.T",
                           "torch.diagonal(u)", "u.T.reshape(3, 3)", "u.view(9)"]] + \
    [(TRANSPOSED, c) for c in ["u.T.contiguous()", "u.reshape(3, 3)"]]
WRITES = ["g.add_(1.0)", "g[0] = 5.0", "u.add_(1.0)"]


@pytest.mark.parametrize("source, call", COPIES)
def test_parity_a_write_after_a_copy_is_answered_as_pytorch_answers_it(source, call):
    for write in WRITES:
        text = f"{source}; g = {call}; {write}; {READ}"
        theirs, ours = torch_run(text), jac_run(text)
        if isinstance(theirs, str):  # masked_select, take, gather keep u: a write into u makes backward raise
            assert write == "u.add_(1.0)" and PYTORCH_WORDS in theirs, (text, theirs)
            assert isinstance(ours, str) and PYTORCH_WORDS in ours, (text, ours)
            continue
        assert not isinstance(ours, str), (text, ours)
        assert agree(ours, theirs), text


# session 39 (lang/views.py): a write through a view PyTorch makes, written out, is followed; a call jac lowers onto its
# operand's node (which the library may answer with a copy or the tensor itself) stays refused
FOLLOWED = {"u[1:]", "u.T", "torch.diagonal(u)", "u.view(9)", "u.reshape(3)", "u.flatten()", "u.reshape(9)",
            "u.T.reshape(3, 3)", "u.reshape(3, 3)",
            "u.detach()",  # h39-views2: the values change, the derivative stays u's (tests/test_views2_39.py)
            "F.dropout(u, 0.0)", "F.dropout(u, 0.5, training=False)"}  # h56-copies: PyTorch's u itself, an alias


@pytest.mark.parametrize("source, call", VIEWS)
def test_a_write_through_a_view_is_answered_as_pytorch_or_refused(source, call):
    for write in WRITES:
        text = f"{source}; g = {call}; {write}; {READ}"
        ours = jac_run(text)
        if isinstance(ours, str):
            assert call not in FOLLOWED and "shares its memory" in ours, (text, ours)
        else:
            assert call in FOLLOWED or call.endswith(".contiguous()"), (text, ours)
            assert agree(ours, torch_run(text)), text


def test_pytorchs_view_calls_change_the_source_so_the_refusals_above_are_pytorchs_behaviour():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    for source, call in VIEWS:
        scope = {"torch": torch, "F": F, **{k: torch.tensor(v, dtype=torch.float64) for k, v in INPUTS.items()}}
        exec(f"{source}; before = u.clone(); g = {call}; g.add_(1.0)", scope)  # noqa: S102
        assert not torch.equal(scope["u"], scope["before"]), call
    for source, call in COPIES:
        scope = {"torch": torch, "F": F, **{k: torch.tensor(v, dtype=torch.float64) for k, v in INPUTS.items()}}
        exec(f"{source}; before = u.clone(); g = {call}; g.add_(1.0)", scope)  # noqa: S102
        assert torch.equal(scope["u"], scope["before"]), call


@pytest.mark.parametrize("text", [
    "u = torch.sin(x) * 2; g = u.float(); g.add_(1.0); g * 1",  # float64 -> float32: a copy
    "u = torch.sin(x) * 2; g = u.to(torch.float32); g[0] = 5.0; torch.cat([g, u])",
    "u = torch.sin(A) + 1; g = u.T.float(); u.add_(1.0); g.reshape(-1)",
    "u = torch.sin(x) * 2; g, k = torch.flip(u, [0]), u[1:]; g.add_(1.0); torch.cat([g, u, k])",
    "u = torch.sin(x) * 2; torch.roll(u, 1).add_(1.0).sum() + u.sum()",
])
def test_parity_conversions_and_tuples_of_copies_agree_to_float32s_rounding(text):
    theirs, ours = torch_run(text), jac_run(text)
    assert not isinstance(ours, str), ours
    assert agree(ours, theirs, rtol=1e-6)


def test_a_float_conversion_to_the_dtype_jac_computes_in_is_the_tensor_itself():
    """``.float()`` of a tensor already float32 returns it: under --dtype float32 a write through it is refused (jac
    lowers it onto the operand's node, and does not know it is no copy: lang/views.py's ``Memory.second``)."""
    bindings = {"x": np.array(INPUTS["x"], dtype=np.float32)}
    with pytest.raises(JacError, match="shares its memory"):
        api.evaluate("u = torch.sin(x) * 2; g = u.float(); g.add_(1.0); g + u", bindings, dtype="float32")
    text = "u = torch.sin(x) * 2; g = u.double(); g.add_(1.0); g + u"
    assert np.allclose(api.evaluate(text, bindings, dtype="float32"), 2 * np.sin(bindings["x"]) * 2 + 1, rtol=1e-6)


def test_a_second_spelling_of_the_target_dtype_leaves_the_conversion_unknown_and_refused():
    """``v = w.float()`` elsewhere in the text: ``u`` may be float32 already, so ``u.float()`` may return ``u``."""
    message = jac_run("u = torch.sin(x) * 2; w = y.float(); g = u.float(); g.add_(1.0); g + u + w")
    assert isinstance(message, str) and "shares its memory" in message


@pytest.mark.parametrize("text, numpy_copies", [
    ("h = x * 1; g = np.flip(h); g[0] = 5.0; g + h", False),  # NumPy's flip is a view
    ("h = A * 1; g = np.diag(h); g[0] = 5.0; g", False),
    ("h = x * 1; g = np.roll(h, 1); g[0] = 5.0; g + h", True),
    ("h = x * 1; g = np.concatenate([h]); g[0] = 5.0; g + h", True),
    ("h = A * 1; g = h.T.reshape(9); g[0] = 5.0; g + h.reshape(9)", True),
    ("h = x * 1; g = np.tile(h, 1); g[0] = 5.0; g + h", True),
])
def test_numpys_copies_and_views_are_its_own(text, numpy_copies):
    ours = jac_run(text)
    if not numpy_copies:
        assert isinstance(ours, str) and ("shares its memory" in ours or "read-only" in ours), ours
        return
    scope = {"np": np, **{k: np.array(v) for k, v in INPUTS.items()}}
    *body, last = text.split("; ")
    exec("\n".join(body), scope)  # noqa: S102
    assert np.allclose(ours[0], eval(last, scope))  # noqa: S307


def test_a_jax_text_still_refuses_the_write_after_a_copy():
    text = "import jax.numpy as jnp\ng = jnp.roll(x, 1)\ng[0] = 5.0\ng"
    message = jac_run(text)
    assert isinstance(message, str) and "immutable" in message


def test_the_copy_table_has_no_name_twice():
    assert not copies.ALWAYS & copies.TORCH_ONLY


# --- what calls of several results keep --------------------------------------------------------------------------

PART_CALLS = {  # spelling of saved.PARTS -> the call on u (a matrix), and how many results it gives
    "max": "u.max(0)", "min": "torch.min(u, 1)", "sort": "u.sort(0)", "topk": "u.topk(2)",
    "median": "torch.median(u, 0)", "nanmedian": "torch.nanmedian(u, 0)", "mode": "u.mode(0)",
    "kthvalue": "u.kthvalue(2, 0)", "cummax": "torch.cummax(u, 0)", "cummin": "u.cummin(1)",
    "var_mean": "torch.var_mean(u, 0)", "std_mean": "torch.std_mean(u, 0)", "aminmax": "torch.aminmax(u, dim=0)",
    "slogdet": "torch.linalg.slogdet(u)", "eigh": "torch.linalg.eigh(u + u.T)", "qr": "torch.linalg.qr(u)",
    "svd": "torch.linalg.svd(u)",
}


def part_texts(spelling: str) -> list:
    """Writes into the operand and into each part (float parts scaled, integer ones shifted), each part read."""
    call = PART_CALLS[spelling]
    count = 3 if spelling == "svd" else 2
    parts = ", ".join(f"r{k}" for k in range(count))
    texts = []
    # U, V and eigenvectors are read squared (jac refuses what depends on their signs); slogdet's sign alone is left
    # out: PyTorch raises after a write into u though its derivative is 0 (jac answers 0, its op being nondiff)
    power = "** 2" if spelling in ("svd", "eigh") else "* 1"
    for written in ["u"] + [f"r{k}" for k in range(count)]:
        for read in range(1 if spelling == "slogdet" else 0, count):
            change = "u.add_(1.0)" if written == "u" else f"{written}.mul_(1)" if spelling in (
                "max", "min", "sort", "topk", "median", "nanmedian", "mode", "kthvalue", "cummax", "cummin") \
                and written == "r1" else f"{written}.mul_(2.0)"
            texts.append(f"{MATRIX}; {parts} = {call}; {change}; r{read} {power}")
    return texts


def test_every_spelling_of_the_parts_table_has_a_call_here():
    assert set(PART_CALLS) == set(saved.PARTS)


@pytest.mark.parametrize("spelling", sorted(saved.PARTS))
def test_parity_a_write_into_what_a_call_of_several_results_keeps_is_refused_where_pytorch_raises(spelling):
    for text in part_texts(spelling):
        theirs, ours = torch_run(text), jac_run(text)
        if isinstance(theirs, str):
            assert PYTORCH_WORDS in theirs, (text, theirs)
            assert isinstance(ours, str) and PYTORCH_WORDS in ours, (text, ours)
        else:
            assert not isinstance(ours, str), (text, ours)
            assert agree(ours, theirs, rtol=1e-9), text


def test_a_write_between_the_call_and_the_part_read_is_seen():
    """``p = torch.cummax(u, 0); u.add_(1); p.values``: PyTorch saved ``u`` at the call, before the write."""
    text = f"{MATRIX}; p = torch.cummax(u, 0); u.add_(1.0); p.values * 1"
    assert PYTORCH_WORDS in torch_run(text)
    message = jac_run(text)
    assert isinstance(message, str) and "cummax saved 'u' (its argument)" in message
    assert not isinstance(jac_run(f"{MATRIX}; p = torch.cummax(u, 0); u.add_(1.0); p.indices * 1"), str)


# --- models ------------------------------------------------------------------------------------------------------

HEAD = "import torch\nimport torch.nn as nn\n"
W = "torch.linspace(0.5, 1.5, 3, dtype=torch.float64)"
MODELS = {
    "setattr in a loop, getattr with an f-string": f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        for i in range(2):
            setattr(self, f'act{{i}}', nn.Tanh() if i == 0 else nn.Softplus())
        setattr(self, 'w', nn.Parameter({W}))
    def forward(self, x):
        for i in range(2):
            x = getattr(self, f'act{{i}}')(x * self.w)
        return x * getattr(self, 'scale', 2.0) + hasattr(self, 'w')
""",
    "ParameterDict and ParameterList": f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterDict({{'w': nn.Parameter({W}), 'b': nn.Parameter(torch.full((3,), 0.25,
                                                                                        dtype=torch.float64))}})
        self.scale = nn.Parameter(torch.full((3,), 3.0, dtype=torch.float64))
        self.pl = nn.ParameterList([nn.Parameter({W} * (k + 1)) for k in range(2)])
    def forward(self, x):
        ps = list(self.parameters())
        out = x * ps[0] + ps[1] * ps[2] - ps[4] * len(ps)
        for k, p in self.ps.items():
            out = torch.tanh(out * p)
        return out + sum(p for p in self.pl)
""",
    "dicts: a config, modules, functions": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cfg = {'scale': 2.0, 'act': 'tanh'}
        self.mods = nn.ModuleDict({'a': nn.Tanh(), 'b': nn.Softplus()})
        self.fns = {'tanh': torch.tanh, 'sig': torch.sigmoid}
    def forward(self, x):
        h = self.mods['a'](x) * self.cfg['scale'] + self.mods['b'](x)
        return self.fns[self.cfg['act']](h) + self.fns['sig'](x)
""",
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_parity_models_built_with_setattr_getattr_and_dicts_are_answered_as_pytorch_answers_them(name):
    text = f"{HEAD}{MODELS[name]}net = Net()\nnet(x)"
    theirs, ours = torch_run(text), jac_run(text)
    assert not isinstance(ours, str), ours
    assert agree(ours, theirs)


def test_parameter_containers_make_inputs_named_as_pytorch_names_them():
    text = f"{HEAD}{MODELS['ParameterDict and ParameterList']}net = Net()\nnet(x)"
    made = api.jacobian(text, {"x": np.array(INPUTS["x"])})
    assert {"net.ps.w", "net.ps.b", "net.scale", "net.pl.0", "net.pl.1"} <= set(made)


def test_a_parameter_container_of_other_items_is_refused_saying_how_it_is_read():
    text = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterDict({'w': torch.ones(3)})
    def forward(self, x):
        return x * self.ps['w']
net = Net()
net(x)"""
    message = jac_run(text)
    assert isinstance(message, str) and "nn.Parameter(...)" in message and "net.ps.w" in message


def test_getattr_of_a_missing_attribute_is_pythons_attribute_error():
    text = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
    def forward(self, x):
        return x * getattr(self, 'scale')
net = Net()
net(x)"""
    message = jac_run(text)
    assert isinstance(message, str) and "AttributeError" in message and "'scale'" in message


@pytest.mark.parametrize("text, expected", [
    ("d = {'a0': 1.0, 'a1': 2.0}\nt = x * 0\nfor i in range(2):\n    t = t + d[f'a{i}']\nt", 3.0),
    ("d = {'k6': 2.0}; n = 2 * 3; x * 0 + d[f'k{n}']", 2.0),
    ("d = {'k1.5': 2.0}; n = 3 / 2; x * 0 + d[f'k{n}']", 2.0),
    ("d = {'k_b': 4.0}; s = 'b'; x * 0 + d[f'k_{s}']", 4.0),
])
def test_fstrings_format_values_known_as_the_text_is_read_as_python_does(text, expected):
    assert np.allclose(api.evaluate(text, {"x": np.array(INPUTS["x"])}), expected)


@pytest.mark.parametrize("text, words", [
    ("d = {'a': 1.0}; x * d[f'{x}']", "not an array or a value of the inputs"),
    ("d = {'a': 1.0}; x * d[f'{2:03d}']", "format spec"),
    ("d = {'a': 1.0}; x * d[f'{2!r}']", "format spec or !r"),
])
def test_fstrings_of_arrays_or_formats_are_refused(text, words):
    message = jac_run(text)
    assert isinstance(message, str) and words in message


@pytest.mark.parametrize("expr", ["int(3.7)", "round(2.4)", "abs(-2)", "max(1, 2)", "len([1, 2])", "x.ndim",
                                  "x.shape[0] // 2", "sum([1, 2])", "2 ** 3", "-3", "True + 1", "7 % 3",
                                  "min(3, 4) * 2", "int(x.shape[0] / 2)", "3.0", "1e3", "2 * 1.5", "0.1 + 0.2", "1/3",
                                  "10 ** 20", "float(2)", "x.shape[-1] - 1", "len(x)", "4 / 2", '"b" if True else "c"'])
def test_an_fstring_is_pythons_string_or_refused_never_another(expr):
    """jac holds a whole number as a float where Python may hold an int (``max(1, 2)`` is 2, ``float(2)`` 2.0):
    those are refused; every other value formats as Python formats it."""
    x = np.array(INPUTS["x"])
    want = eval(f"f'{{{expr}}}'", {"x": x})  # noqa: S307 - the test's own expressions
    text = f"d = {{{want!r}: 2.0}}\nx * d[f'{{{expr}}}']"
    try:
        found = api.evaluate(text, {"x": x})
    except JacError as err:
        assert "whole number" in err.message, err.message
        return
    assert np.allclose(found, 2 * x)
