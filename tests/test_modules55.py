"""Session 55 (benchmarks/modules55_probe.py): whole modules as users paste them, against PyTorch itself.

nn.TransformerEncoderLayer / DecoderLayer and their stacks, a convolution's padding_mode, and
nn.Transformer.generate_square_subsequent_mask were refused; each text here is run by PyTorch with its parameters
set to jac's values and every ``.grad`` compared (tests/torch_models.py). The refusals kept say why."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from torch_models import assert_grads_are_pytorchs, float64  # noqa: F401 - a fixture

RNG = np.random.default_rng(55)


def _normal(*shape):
    return RNG.normal(0.0, 0.8, shape)


def _loss(expr: str, shape: tuple) -> str:
    """``loss``: the output weighed by fixed numbers, so every element's derivative counts."""
    weights = np.round(np.linspace(-1.0, 1.3, int(np.prod(shape))), 3).reshape(shape).tolist()
    return f"y = {expr}\nloss = (y * torch.tensor({weights})).sum()"


CONV = [
    ("conv = nn.Conv1d(2, 3, 3, padding=1, padding_mode='reflect')", (1, 2, 6), (1, 3, 6)),
    ("conv = nn.Conv1d(2, 2, 3, padding=2, padding_mode='circular', stride=2)", (2, 2, 6), (2, 2, 4)),
    ("conv = nn.Conv1d(2, 2, 4, padding='same', padding_mode='replicate')", (1, 2, 6), (1, 2, 6)),
    ("conv = nn.Conv1d(2, 2, 3, padding='same', padding_mode='reflect', dilation=2)", (1, 2, 7), (1, 2, 7)),
    ("conv = nn.Conv1d(2, 4, 3, padding=1, padding_mode='circular', groups=2)", (2, 6), (4, 6)),
    ("conv = nn.Conv2d(1, 2, 3, padding=1, padding_mode='reflect')", (1, 1, 4, 4), (1, 2, 4, 4)),
    ("conv = nn.Conv2d(2, 1, (3, 2), padding=(1, 0), padding_mode='replicate', stride=(2, 1))", (1, 2, 5, 4),
     (1, 1, 3, 3)),
    ("conv = nn.Conv2d(1, 1, 3, padding='valid', padding_mode='circular')", (1, 1, 4, 4), (1, 1, 2, 2)),
    ("conv = nn.Conv3d(1, 1, 2, padding=1, padding_mode='circular')", (1, 1, 2, 3, 3), (1, 1, 3, 4, 4)),
]


@pytest.mark.parametrize("setup, x_shape, y_shape", CONV)
def test_a_convolutions_padding_mode_is_pytorchs(setup, x_shape, y_shape, float64):
    """Refused before ("write F.pad(x, ..., mode=...)"): PyTorch pads with F.pad and convolves with padding 0."""
    assert_grads_are_pytorchs(setup, _loss("conv(x)", y_shape), {"x": _normal(*x_shape)})


def test_a_padding_mode_pytorch_refuses_is_refused():
    for text, words in (("conv = nn.Conv1d(1, 1, 3, padding_mode='mirror')\nconv(x)", "padding_mode must be"),
                        ("conv = nn.Conv1d(1, 1, 3, padding='same', stride=2, padding_mode='reflect')\nconv(x)",
                         "strided")):
        with pytest.raises(JacError, match=words):
            api.evaluate(text, {"x": np.ones((1, 1, 6))})


ENCODER = "layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0{})"
TRANSFORMERS = [
    (ENCODER.format(", batch_first=True"), "layer(x)", (1, 3, 4), (1, 3, 4)),
    (ENCODER.format(""), "layer(x)", (3, 2, 4), (3, 2, 4)),
    (ENCODER.format(", activation='gelu', norm_first=True"), "layer(x)", (3, 4), (3, 4)),
    (ENCODER.format(", activation=nn.GELU(), batch_first=True, layer_norm_eps=1e-3"),
     "layer(x, src_mask=nn.Transformer.generate_square_subsequent_mask(3))", (2, 3, 4), (2, 3, 4)),
    (ENCODER.format(", batch_first=True, bias=False"),
     "layer(x, src_key_padding_mask=torch.tensor([[False, False, True], [False, False, False]]))",
     (2, 3, 4), (2, 3, 4)),
    ("layer = nn.TransformerEncoderLayer(4, 2, 6, batch_first=True)\nlayer.eval()",
     "layer(x, src_mask=torch.triu(torch.ones(3, 3, dtype=torch.bool), 1), is_causal=True)", (1, 3, 4), (1, 3, 4)),
    ("enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True), 2, "
     "norm=nn.LayerNorm(4), enable_nested_tensor=False)", "enc(x)", (1, 3, 4), (1, 3, 4)),
    ("encoder_layer = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=6, dropout=0.0)\n"
     "encoder = nn.TransformerEncoder(encoder_layer, num_layers=2)",
     "encoder(x, mask=nn.Transformer.generate_square_subsequent_mask(3))", (3, 1, 4), (3, 1, 4)),
    ("dec = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, batch_first=True)\nmem = torch.linspace(-1, 1, 8)"
     ".reshape(1, 2, 4)", "dec(x, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(3))",
     (1, 3, 4), (1, 3, 4)),
    ("dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True), 2)\n"
     "mem = torch.linspace(-1, 1, 8).reshape(2, 1, 4)", "dec(x, mem)", (3, 1, 4), (3, 1, 4)),
]


@pytest.mark.parametrize("setup, call, x_shape, y_shape", TRANSFORMERS)
def test_a_transformer_layer_is_pytorchs(setup, call, x_shape, y_shape, float64):
    """Refused before ("holds parameters drawn at random ... which jac cannot see"): every parameter's and the
    input's gradient as PyTorch's, the layer's parameters named as its named_parameters() names them."""
    assert_grads_are_pytorchs(setup, _loss(call, y_shape), {"x": _normal(*x_shape)})


def test_a_transformer_in_a_model_class_is_pytorchs(float64):
    setup = """class Model(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.embed = nn.Linear(3, d)
        layer = nn.TransformerEncoderLayer(d, 2, 2 * d, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Linear(d, 1)
    def forward(self, x):
        return self.head(self.encoder(self.embed(x)).mean(dim=1))
model = Model(4)"""
    assert_grads_are_pytorchs(setup, _loss("model(x)", (2, 1)), {"x": _normal(2, 3, 3)})


def test_the_parameters_are_named_and_listed_as_pytorchs(float64):
    import torch

    f = api.compile("layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0)\nlayer(x).sum()", {"x": ":3x4"})
    made = torch.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0)
    assert list(f.declared) == [n for n, _ in made.named_parameters(prefix="layer")]


@pytest.mark.parametrize("text, words", [
    ("layer = nn.TransformerEncoderLayer(4, 2, 6)\nlayer(x)", "dropout=0.1\\) in training mode"),
    ("nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0)(x)", "assign it at the text's top level"),
    ("layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation='tanh')\nlayer(x)", "relu/gelu"),
    ("enc = nn.TransformerEncoder(nn.Linear(4, 4), 2)\nenc(x)", "takes an nn.TransformerEncoderLayer"),
])
def test_what_pytorch_would_not_compute_the_same_is_refused_saying_why(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"x": np.ones((3, 4))})


def test_the_square_subsequent_mask_is_pytorchs():
    import torch

    found = api.evaluate("nn.Transformer.generate_square_subsequent_mask(4) + x", {"x": np.zeros(())})
    np.testing.assert_array_equal(np.asarray(found), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())


BAGS = [
    ("bag = nn.EmbeddingBag(5, 3)", "bag(torch.tensor([[0, 2], [4, 2]])) * w", (2, 3)),
    ("bag = nn.EmbeddingBag(5, 3, mode='sum')", "bag(torch.tensor([0, 2, 4, 2, 1]), torch.tensor([0, 1, 3])) * w",
     (3, 3)),
    ("bag = nn.EmbeddingBag(5, 3, mode='max', padding_idx=1)", "bag(torch.tensor([[0, 1], [4, 2]])) * w", (2, 3)),
    ("bag = nn.EmbeddingBag(5, 3, mode='sum', include_last_offset=True)",
     "bag(torch.tensor([0, 2, 4, 2]), torch.tensor([0, 1, 4]), per_sample_weights=torch.tensor([0.5, 1.0, 2.0, "
     "-1.0])) * w", (2, 3)),
    ("bag = nn.EmbeddingBag(6, 3, padding_idx=-1)", "bag(torch.tensor([[5, 2, 5], [1, 5, 0]])) * w", (2, 3)),
]


@pytest.mark.parametrize("setup, call, y_shape", BAGS)
def test_an_embedding_bag_is_pytorchs(setup, call, y_shape, float64):
    """Refused before ("holds parameters ... which jac cannot see"): drawn as nn.Embedding's table, called as
    F.embedding_bag with the module's options."""
    assert_grads_are_pytorchs(setup, _loss(call, y_shape), {"w": _normal(3)})


LOGSUMEXP = [
    "jax.nn.logsumexp(x, axis=-1, where=jnp.array([[True, False, True], [False, True, True], [True, True, True]]))",
    "jax.scipy.special.logsumexp(x, axis=1, b=jnp.array([1.0, 2.0, 0.5]), where=jnp.array([True, True, False]))",
    "jax.nn.logsumexp(x, where=x < 2.0)",
    "jax.nn.logsumexp(x, axis=0, keepdims=True, where=jnp.array([[True, False, True], [False, False, True], "
    "[True, False, True]]))",
]


@pytest.mark.parametrize("text", LOGSUMEXP)
def test_logsumexp_where_is_jaxs(text):
    """Refused before ("logsumexp() has no argument 'where'"): the elements left out shift nothing, not even a
    1000 among them, and get derivative 0; a reduction of none is -inf, as JAX's."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    x = np.array([[0.3, -1.2, 2.0], [1000.0, 0.5, -0.7], [0.1, 0.2, 0.3]])
    f = lambda v: eval(text, {"jax": jax, "jnp": jnp, "x": v})  # noqa: E731, S307 - the test's own texts
    found = api.jacobian(text, {"x": x})
    np.testing.assert_allclose(api.evaluate(text, {"x": x}), np.asarray(f(jnp.asarray(x))), rtol=1e-12)
    np.testing.assert_allclose(found["x"], np.asarray(jax.jacrev(f)(jnp.asarray(x))), rtol=1e-12, atol=1e-15)


def test_scipys_logsumexp_still_has_no_where():
    with pytest.raises(JacError, match="where"):
        api.evaluate("scipy.special.logsumexp(x, where=x > 0)", {"x": np.ones(3)})


FUNCTION_LISTS = [
    ("jax", "acts = [jax.nn.silu, jax.nn.elu, jax.nn.celu]\nh = x\nfor W, act in zip([W1, W2, W1], acts):\n"
            "    h = act(h @ W)\nh"),
    ("jax", "fs = (jnp.sin, jnp.tanh)\njnp.stack([f(x @ W1) for f in fs]) + fs[-1](x @ W2)[None]"),
    ("torch", "acts = [torch.tanh, F.gelu, F.softplus]\nh = x\nfor i, act in enumerate(acts):\n"
              "    h = act(h @ (W1 if i % 2 == 0 else W2))\nh"),
]


@pytest.mark.parametrize("library, text", FUNCTION_LISTS)
def test_a_list_of_library_functions_is_called_as_the_library_calls_it(library, text):
    """Refused before ("'jax.nn.silu' is a function: call it"): a list of a library's functions, iterated and
    indexed, each called where the text calls it; against JAX's jacrev / PyTorch's jacobian."""
    values = {"x": _normal(2, 3), "W1": _normal(3, 3), "W2": _normal(3, 3)}
    found = api.jacobian(text, values)
    lib = pytest.importorskip(library)
    body, last = text.rsplit("\n", 1)
    if library == "jax":
        lib.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def f(*args):
            scope = {"jax": lib, "jnp": jnp, **dict(zip(values, args))}
            exec(body, scope)  # noqa: S102 - the test's own texts
            return eval(last, scope)  # noqa: S307
        want = [lib.jacrev(f, argnums=i)(*(jnp.asarray(v) for v in values.values())) for i in range(3)]
    else:
        import torch.nn.functional as F

        def f(*args):
            scope = {"torch": lib, "F": F, **dict(zip(values, args))}
            exec(body, scope)  # noqa: S102
            return eval(last, scope)  # noqa: S307
        want = lib.autograd.functional.jacobian(f, tuple(lib.tensor(v) for v in values.values()))
    for key, block in zip(values, want):
        np.testing.assert_allclose(found[key], np.asarray(block), rtol=1e-10, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("text, words", [
    ("x + [np.sin][0]", "not a number"),
    ("[np.sin, np.cos]", "array expression"),
    ("np.array([np.sin, np.cos])", "not one array"),
    ("max([np.sin, np.cos])(x)", "only named functions"),
])
def test_a_list_of_functions_used_as_numbers_is_refused(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"x": np.ones(2)})
