"""The twenty-third session's keyword and position readings (benchmarks/torchkw23_sweep.py), against PyTorch 2.13:
F's losses by position in PyTorch's order, keepdim without a dim, the positional keepdim of std_mean / var_mean,
tensor_split at decreasing indices, other= and alpha= of the arithmetic functions, dtype= of the norms; and the
calls jac refuses where PyTorch reads another parameter (size_average) or refuses too."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(2323)
X, Y, Z = (rng.uniform(0.2, 0.9, (2, 3)) for _ in range(3))
ENV = {"x": X, "y": Y, "z": Z}


def _call(code: str):
    return lambda **t: eval(code, {"torch": torch, "F": F}, t)


@pytest.mark.parametrize("code", [
    "F.mse_loss(x, y, None, None, 'sum')", "F.l1_loss(x, y, None, None, 'none')",
    "F.smooth_l1_loss(x, y, None, None, 'sum', 0.5)", "F.kl_div(x, y, None, None, 'batchmean')",
    "F.kl_div(x, y, None, None, 'sum', True)",
    "F.binary_cross_entropy(x, y, None, None, None, 'sum')", "F.hinge_embedding_loss(x, y, 0.5, None, None, 'none')",
    "F.margin_ranking_loss(x, y, z, 0.1, None, None, 'sum')",
    "F.poisson_nll_loss(x, y, True, False, None, 1e-8, None, 'sum')",
    "F.triplet_margin_loss(x, y, z, 1.0, 1, 1e-6, False, None, None, 'sum')",
    "F.binary_cross_entropy_with_logits(x, y, None, None, None, 'none')",
])
def test_a_loss_by_position_reads_pytorchs_parameters(code):
    assert_parity(code, ENV if "z" in code else {"x": X, "y": Y}, _call(code))


@pytest.mark.parametrize("code", ["F.cross_entropy(x, torch.tensor([1, 2]), None, None, 1)",
                                  "F.nll_loss(x, torch.tensor([0, 2]), None, None, 0, None, 'sum')"])
def test_cross_entropy_and_nll_loss_read_ignore_index_fifth(code):
    assert_parity(code, {"x": X}, _call(code))


@pytest.mark.parametrize("code", ["F.mse_loss(x, y, 'sum')", "F.kl_div(x, y, 'sum')", "F.l1_loss(x, y, 'none')"])
def test_a_reduction_in_size_averages_place_is_pytorchs_mean_and_refused_by_jac(code):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warning of size_average
        theirs = _call(code)(x=torch.tensor(X), y=torch.tensor(Y))
        mean = _call(code.replace(", 'sum')", ")").replace(", 'none')", ")"))(x=torch.tensor(X), y=torch.tensor(Y))
    assert theirs.shape == () and float(theirs) == float(mean)  # not the sum, not every element's loss
    with pytest.raises(JacError, match="size_average"):
        api.evaluate(code, {"x": X, "y": Y})


@pytest.mark.parametrize("code", ["torch.quantile(x, 0.3, keepdim=True)", "x.quantile(0.7, None, True)",
                                  "torch.quantile(x, torch.tensor([0.25, 0.5], dtype=torch.float64), keepdim=True)",
                                  "torch.std_mean(x, None, True, True)[1]", "torch.var_mean(x, 1, False, True)[1]",
                                  "torch.std_mean(x, (0, 1), True, True)[0]",
                                  "torch.tensor_split(x, torch.tensor([2, 0]))[2]",
                                  "torch.tensor_split(x, (1, 0, 2), dim=1)[2]"])
def test_keepdim_and_split_readings(code):
    assert_parity(code, {"x": X}, _call(code))


def test_nanquantile_keepdim_without_a_dim():
    code = "torch.nanquantile(x, 0.4, keepdim=True)"
    assert_parity(code, {"x": np.where(np.eye(2, 3) > 0, np.nan, X)}, _call(code))


@pytest.mark.parametrize("code", ["torch.add(x, other=y)", "x.add(other=y, alpha=2)", "torch.subtract(x, y, alpha=3)",
                                  "x.subtract(y, alpha=0.5)", "torch.atan2(x, other=y)", "torch.xlogy(x, other=y)",
                                  "torch.where(x > 0.5, x, other=y)", "torch.softmax(x, -1, torch.float64)",
                                  "x.log_softmax(0, torch.float64)", "torch.isclose(input=x, other=y).double() * x"])
def test_other_and_alpha_of_the_binary_functions(code):
    assert_parity(code, {"x": X, "y": Y}, _call(code))


@pytest.mark.parametrize("code", ["torch.norm(x, dtype=torch.float64)",
                                  "torch.linalg.norm(x, 'fro', dtype=torch.float64)",
                                  "torch.linalg.vector_norm(x, 1, dtype=torch.float64)",
                                  "torch.linalg.matrix_norm(x, dtype=torch.float64)", "x.norm(dtype=torch.float64)"])
def test_dtype_of_the_norms(code):
    assert_parity(code, {"x": X}, _call(code))


@pytest.mark.parametrize("keepdim", [True, False])
def test_pairwise_distance_of_scalars(keepdim):
    code = f"F.pairwise_distance(a, b, keepdim={keepdim})"
    assert_parity(code, {"a": np.array(0.7), "b": np.array(0.25)}, _call(code))


@pytest.mark.parametrize("code", ["F.cross_entropy(x, y, ignore_index=1)",
                                  "torch.diagonal_scatter(x, torch.tensor([2.0, 0.0]), dim1=1)",
                                  "torch.norm(x, dtype=torch.int64)"])
def test_refused_by_both(code):
    with pytest.raises(Exception):
        _call(code)(x=torch.tensor(X), y=torch.tensor(Y))
    with pytest.raises(JacError):
        api.evaluate(code, {"x": X, "y": Y})
