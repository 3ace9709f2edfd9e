"""Session 27 on main, without PyTorch: torch's window functions are NumPy's windows (periodic: one point more,
the last dropped), and what they refuse; the max pools' *_with_indices spellings are the pair of values and
indices. Their parity with PyTorch itself is tests/test_parity_lead27.py."""

import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api


@pytest.mark.parametrize("torch_name, numpy_name", [("hann_window", "hanning"), ("bartlett_window", "bartlett"),
                                                    ("blackman_window", "blackman"), ("hamming_window", "hamming")])
def test_a_periodic_window_is_the_symmetric_one_a_point_longer(torch_name, numpy_name):
    np.testing.assert_allclose(api.evaluate(f"torch.{torch_name}(6) + 0 * x", {"x": np.zeros(6)}),
                               getattr(np, numpy_name)(7)[:-1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(api.evaluate(f"torch.{torch_name}(6, periodic=False) + 0 * x", {"x": np.zeros(6)}),
                               getattr(np, numpy_name)(6), rtol=0, atol=1e-15)


def test_kaiser_window_beta_and_the_derivative_through_a_window():
    np.testing.assert_allclose(api.evaluate("torch.kaiser_window(5, False, 3.0) + 0 * x", {"x": np.zeros(5)}),
                               np.kaiser(5, 3.0), rtol=0, atol=1e-15)
    jac = api.jacobian("(torch.hann_window(4) * x).sum()", {"x": np.ones(4)})["x"]
    np.testing.assert_allclose(np.asarray(jac).ravel(), [0.0, 0.5, 1.0, 0.5], atol=1e-15)


@pytest.mark.parametrize("text, says", [
    ("torch.hann_window(-1)", "window_length must be non-negative"),
    ("torch.hann_window(x)", "window_length must be a constant"),
    ("torch.hamming_window(4, alpha=x[0])", "alpha must be a constant"),
    ("torch.hann_window(10 ** 12)", "over the limit"),
])
def test_window_refusals(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": np.ones(3)})


def test_max_pool_with_indices_is_the_pair():
    x = np.array([[[1.0, 3.0, 2.0, 2.0, 0.0, 5.0]]])
    assert api.evaluate("F.max_pool1d_with_indices(x, 2)[1]", {"x": x}).tolist() == [[[1, 2, 5]]]
    assert api.evaluate("F.adaptive_max_pool1d_with_indices(x, 4)[1]", {"x": x}).tolist() == [[[1, 1, 3, 5]]]
    jac = np.asarray(api.jacobian("F.adaptive_max_pool1d(x, 4, return_indices=True)[0]", {"x": x})["x"])
    assert jac.reshape(4, 6).tolist() == [[0, 1, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0],
                                          [0, 0, 0, 0, 0, 1]]


@pytest.mark.parametrize("text, says", [
    # a range is counted before anything is made: 10**18 elements could never be allocated, so reaching the
    # refusal at all shows that nothing of that size was (before, range(10**9) in a generator took 21 s)
    ("sum(x for i in range(10 ** 18))", "a comprehension over more than 10,000 elements"),
    ("s = x\nfor i in range(0, 10 ** 18, 3):\n    s = s + x\ns", "a for loop over more than 10,000 elements"),
    ("{i: x for i in range(10 ** 18)}[0]", "a comprehension over more than 10,000 elements"),
    ("torch.tensor(range(10 ** 18)) + x[0]", "range() would hold"),
    ("sum(x for i in range(3, step=1))", "range() takes 1 to 3 integers"),
    ("sum(x for i in range(1, 2, 0))", "arg 3 must not be zero"),
    # a Python list repeated: counted before it is made (before, [x] * 10**9 ran for minutes)
    ("torch.stack([x] * 10 ** 18).sum(0)", "a list of 1,000,000,000,000,000,000 arrays (more than 10,000)"),
    ("torch.tensor([0.0] * 10 ** 18) + x[0]", "the repeated sequence would hold"),
    # '*' of a long sequence: counted before each element is made a node (x.reshape(*[1] * 10**6) took 10 s and
    # printed a 3 MB message naming the million sizes)
    ("x.reshape(*[1] * 10 ** 6)", "'*' unpacks 1,000,000 elements (more than 10,000)"),
    ("x.reshape([1] * 10 ** 6)", "into (1, 1, 1, 1, 1, 1, 1, 1, ... 1,000,000 dimensions)"),
    # a library loop jac writes out per element: its nodes counted first (np.polyval of 10**6 coefficients took
    # 25 s to reach the graph's node limit)
    ("np.polyval(np.ones(10 ** 6), x)", "polyval of 1,000,000 coefficients would need 3,000,000 graph nodes"),
    ("np.vander(x, 10 ** 7)", "vander with N = 10,000,000 would need"),
    ("torch.linalg.vander(x, N=10 ** 7)", "vander with N = 10,000,000 would need"),
    ("import torch.nn as nn\nrnn = nn.GRU(3, 3, num_layers=2)\nrnn(torch.ones(10 ** 5, 3))[0].sum() * x",
     "nn.GRU over 100,000 time steps, 2 layer(s) would need 4,000,000 graph nodes"),
])
def test_a_huge_range_is_refused_before_it_is_made(text, says):
    with pytest.raises(JacError, match=re.escape(says)):
        api.evaluate(text, {"x": np.ones(3)})


def test_repeated_lists_read_as_python():
    x = np.array([1.0, 2.0, 3.0])
    assert api.evaluate("torch.tensor([[1.0, 2.0]] * 3).sum(0) * x[:2]", {"x": x}).tolist() == [3.0, 12.0]
    assert api.evaluate("torch.tensor((1, 2) * 2) * x[0]", {"x": x}).tolist() == [1.0, 2.0, 1.0, 2.0]
    assert api.evaluate("torch.tensor([1.0] * -2).sum() + x", {"x": x}).tolist() == [1.0, 2.0, 3.0]
    assert api.evaluate("torch.stack([x] * 2).sum(0)", {"x": x}).tolist() == [2.0, 4.0, 6.0]


def test_ranges_in_loops_read_as_python():
    x = np.array([1.0, 2.0, 3.0])
    assert api.evaluate("sum(x * i for i in range(1, 7, 2))", {"x": x}).tolist() == [9.0, 18.0, 27.0]
    assert api.evaluate("[x[i] for i in range(-1, -4, -1)][2]", {"x": x}) == 1.0
    assert api.evaluate("s = x\nfor i in range(3):\n    s = s * x\ns", {"x": x}).tolist() == [1.0, 16.0, 81.0]


def test_aliasing_of_many_inputs_is_may_share_memory():
    """engine.compiled._bisecting over many inputs (merged byte bounds, bisection) answers as np.may_share_memory
    pair by pair: views, slices with steps, transposes, empty arrays, arrays of other buffers."""
    from jacobi_cli.engine.compiled import _bisecting
    rng = np.random.default_rng(27)
    bases = [np.arange(60.0).reshape(6, 10) for _ in range(5)]
    env = {}
    for k in range(40):  # more than the pairwise path's 16
        b = bases[k % 5]
        r, c = rng.integers(0, 5, 2)
        env[f"p{k}"] = b[r:r + rng.integers(0, 3), c::rng.integers(1, 4)] if k % 3 else b.T[c:c + 2]
    shares = _bisecting(env)
    candidates = [b[i:i + 2, j::2] for b in bases for i in range(6) for j in range(10)]
    candidates += [np.ones(3), np.ones(0), bases[0][0, :0], bases[1].T, bases[2][5, 9:]]
    candidates += [o[i:i + 2] for o in [np.arange(60.0).reshape(6, 10) for _ in range(3)] for i in range(5)]
    assert 0 < sum(map(shares, candidates)) < len(candidates)
    for a in candidates:
        assert shares(a) == any(np.may_share_memory(a, v) for v in env.values()), a


def test_inputs_the_sizes_decide_share_one_reverse_dry_run(monkeypatch):
    """A scalar output's inputs are all reverse mode by their sizes: the plan makes one reverse dry run for them,
    not one each (a model of n parameters was n dry runs of the whole graph: 250 nn.Linear layers took 5 s to
    plan, 1,000 took 39 s), and each input's plan (structure, stored entries, bytes) is what its own dry run
    gives."""
    from jacobi_cli.engine import planner
    names = [f"x{i}" for i in range(30)]
    text = "sum(" + " + ".join(f"{a} * {b}" for a, b in zip(names, names[1:] + names[:1])) + ")"
    env = {n: np.arange(1.0, 4.0) * (i + 1) for i, n in enumerate(names)}
    calls = []
    real = planner.probe_reverse
    monkeypatch.setattr(planner, "probe_reverse", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    plan = api.plan(text, env)
    assert len(calls) == 1 and all(p.mode == "reverse" for p in plan.inputs.values())
    problem = api.prepare(text, env)
    for n in names:  # the same facts as a dry run of that input alone
        own = real(problem.graph.with_wrt([n]), problem.values, [n])
        assert (plan.inputs[n].structure, plan.inputs[n].nnz, plan.inputs[n].result_bytes) == \
            (own.structures[n], own.nnz[n], own.result_bytes[n])


@pytest.mark.parametrize("text, name, other", [
    # a write into an array a list, a dict or a loop variable also holds: PyTorch's xs[0] changes with a (15 here,
    # where jac read 12 before: a silent wrong answer), so jac refuses it
    ("xs = [x * 2, x * 3]\na = xs[0]\na[0] = 5.0\nxs[0].sum()", "a", "xs"),
    ("d = {'a': x * 2}\na = d['a']\na[0] = 5.0\nd['a'].sum()", "a", "d"),
    ("d = {'a': [x * 2]}\na = d['a'][0]\na += 1\nd['a'][0].sum()", "a", "d"),
    ("y = x * 2\nxs = [y]\ny[0] = 5.0\nxs[0].sum()", "y", "xs"),
    # a loop variable written into: PyTorch changes the list's array (this was an internal error, KeyError 'r')
    ("xs = [x * 2]\nfor r in xs:\n    r[0] = 5.0\nxs[0].sum()", "r", "xs"),
    # a list filled by append / extend, a dict by item: they hold the arrays too
    ("xs = []\nxs.append(x * 2)\na = xs[0]\na[0] = 5.0\nxs[0].sum()", "a", "xs"),
    ("xs = []\nxs.extend([x * 2, x])\na = xs[0]\na[0] = 5.0\nxs[0].sum()", "a", "xs"),
    ("d = {}\ny = x * 2\nd['a'] = y\ny[0] = 5.0\nd['a'].sum()", "y", "d"),
    ("xs = [x * 2]\nxs += [x * 3]\na = xs[1]\na[0] = 5.0\nxs[1].sum()", "a", "xs"),
    ("y = x * 2\nd = {k: y for k in ['a']}\ny[0] = 5.0\nd['a'].sum()", "y", "d"),
    ("y = x * 2\nxs = [y]\nfor i, r in enumerate(xs):\n    r[0] = 5.0\ny.sum()", "r", "(y|xs)"),
])
def test_a_write_into_an_array_a_container_holds_is_refused(text, name, other):
    with pytest.raises(JacError, match=f"'{name}' shares its memory with '{other}'"):
        api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})


@pytest.mark.parametrize("text, want", [
    ("xs = [x * 2, x * 3]\na = xs[0].clone()\na[0] = 5.0\nxs[0].sum() + a.sum()", 27.0),
    ("d = {'a': x * 2}\na = d['a'].clone()\na[0] = 5.0\nd['a'].sum() + a.sum()", 27.0),
    ("xs = [x * 2]\nfor r in xs:\n    r = r.clone()\n    r[0] = 5.0\nxs[0].sum() + r.sum()", 27.0),
    ("y = torch.zeros(3)\nfor i in range(3):\n    y[i] = x[i] * 2\ny.sum()", 12.0),
    ("s = sum(r for r in [x * 2])\ny = x * 3\ny[0] = 1.0\ns.sum() + y.sum()", 28.0),
    ("xs = []\nxs.append(x * 2)\na = xs[0].clone()\na[0] = 5.0\nxs[0].sum() + a.sum()", 27.0),
    ("d = {}\ny = x * 2\nd['a'] = y.clone()\ny[0] = 5.0\nd['a'].sum() + y.sum()", 27.0),
    ("xs = []\ny = x * 2\nxs.append(y.clone())\ny[0] = 5.0\nxs[0].sum() + y.sum()", 27.0),
])
def test_writes_into_copies_are_read(text, want):
    assert api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])}) == want


def test_a_function_of_the_texts_inplace_parameter_is_its_own():
    """inplace=True (or True at F.relu's position) writes into the argument only for the library's functions: a def
    of the text with a parameter of that name or position computes what it says, and y stays as it was."""
    x = np.array([1.0, 2.0, 3.0])
    for text in ("def relu(v, flag):\n    return v * 2\ny = x * 1\nz = relu(y, True)\ny.sum() + z.sum()",
                 "def act(v, inplace=False):\n    return v * 2\ny = x * 1\nz = act(y, inplace=True)\ny.sum() + z.sum()"):
        assert api.evaluate(text, {"x": x}) == 18.0


@pytest.mark.parametrize("text, where", [("y = x * 2\ntorch.add(x, 1.0, out=y)\ny.sum()", "y = torch.add(...)"),
                                         ("y = x * 2\nnp.add(x, 1.0, out=y)\ny.sum()", "y = np.add(...)")])
def test_out_as_a_statement_says_to_assign(text, where):
    """torch.add(x, 1.0, out=y) as a statement was refused as 'a value never used': it says what out= is and what to
    write."""
    with pytest.raises(JacError, match=re.escape(f"out= writes the result into an array") + ".*" + re.escape(where)):
        api.evaluate(text, {"x": np.ones(3)})
