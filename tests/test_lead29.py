"""Session 29, main: running statistics a batch norm moves in place. ``F.batch_norm(x, rm, rv, training=True)``
writes the moved statistics into ``rm`` and ``rv`` as PyTorch does, and ``bn.running_mean`` of a norm module is
read; where jac cannot write the array (an input, a view), reading it afterwards is refused rather than given from
before the call. tests/test_parity_lead29.py compares the values with PyTorch's."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
MEAN, VAR = X.mean(axis=0), X.var(axis=0, ddof=1)


def _moved(before, stat, m=0.1):
    return (1 - m) * before + m * stat


def test_f_batch_norm_in_training_moves_the_running_statistics_it_is_given():
    text = "rm = torch.zeros(3); rv = torch.ones(3); y = F.batch_norm(x, rm, rv, training=True); rm, rv"
    rm, rv = api.evaluate(text, {"x": X})
    np.testing.assert_allclose(rm, _moved(0, MEAN), rtol=1e-15)
    np.testing.assert_allclose(rv, _moved(1, VAR), rtol=1e-15)
    twice = "rm = torch.zeros(3); rv = torch.ones(3)\nfor _ in range(2):\n    y = F.batch_norm(x, rm, rv, None, None, " \
            "True, 0.5)\nrm"
    np.testing.assert_allclose(api.evaluate(twice, {"x": X}), _moved(_moved(0, MEAN, 0.5), MEAN, 0.5), rtol=1e-15)


def test_the_moved_statistics_carry_no_derivative_and_eval_mode_reads_them():
    text = ("rm = torch.zeros(3); rv = torch.ones(3); y = F.batch_norm(x, rm, rv, training=True); "
            "F.batch_norm(x, rm, rv)")
    value = api.evaluate(text, {"x": X})
    np.testing.assert_allclose(value, (X - _moved(0, MEAN)) / np.sqrt(_moved(1, VAR) + 1e-5), rtol=1e-14)
    jac = api.jacobian(text, {"x": X})["x"]  # the statistics are constants: the diagonal 1 / sqrt(rv + eps)
    expected = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            expected[i, j, i, j] = 1 / np.sqrt(_moved(1, VAR[j]) + 1e-5)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)


@pytest.mark.parametrize("text", [
    "y = F.batch_norm(x, rm, rv, training=True); rm",  # inputs: jac does not write into them
    "st = torch.zeros(2, 3); y = F.batch_norm(x, st[0], st[1] + 1, training=True); st",  # a view of st
    "rm = torch.zeros(3); y = F.batch_norm(x, rm, rm, training=True); rm",  # one array for both
])
def test_a_moved_array_jac_cannot_write_is_refused_where_read(text):
    with pytest.raises(JacError, match=r"changed in place by batch_norm\(\.\.\.\), which moves"):
        api.evaluate(text, {"x": X, "rm": np.zeros(3), "rv": np.ones(3)})


def test_the_call_itself_still_answers_when_the_moved_arrays_are_not_read():
    for text in ("y = F.batch_norm(x, rm, rv, training=True); y",
                 "st = torch.zeros(2, 3); y = F.batch_norm(x, st[0], st[1] + 1, training=True); y"):
        value = api.evaluate(text, {"x": X, "rm": np.zeros(3), "rv": np.ones(3)})
        np.testing.assert_allclose(value, (X - MEAN) / np.sqrt(X.var(axis=0) + 1e-5), rtol=1e-14)


def test_momentum_none_is_refused_as_pytorch_refuses_it():
    with pytest.raises(JacError, match="momentum must be a number"):
        api.evaluate("rm = torch.zeros(3); rv = torch.ones(3); F.batch_norm(x, rm, rv, training=True, momentum=None)",
                     {"x": X})


def test_a_norm_modules_running_statistics_are_read():
    np.testing.assert_allclose(api.evaluate("bn = nn.BatchNorm1d(3); y = bn(x); bn.running_mean", {"x": X}),
                               _moved(0, MEAN), rtol=1e-15)
    np.testing.assert_allclose(api.evaluate("bn = nn.BatchNorm1d(3); bn.running_var", {"x": X}), np.ones(3))
    cumulative = "bn = nn.BatchNorm1d(3, momentum=None); y = bn(x); y = bn(x * 2); bn.running_mean"
    np.testing.assert_allclose(api.evaluate(cumulative, {"x": X}), 1.5 * MEAN, rtol=1e-15)
    with pytest.raises(JacError, match="no parameter 'running_mean'"):  # a norm that does not track them: None
        api.evaluate("bn = nn.BatchNorm1d(3, track_running_stats=False); bn.running_mean", {"x": X})


def test_a_running_statistic_read_before_a_training_call_is_refused():
    with pytest.raises(JacError, match="after the text read its running_mean"):
        api.evaluate("bn = nn.BatchNorm1d(3); m = bn.running_mean; y = bn(x); m", {"x": X})


@pytest.mark.parametrize("text,says", [  # a list's y.sort() of numbers: read since session 34 (test_lists34)
    ("y = x.copy(); y.sort(); y", "y = np.sort(y)"),
    ("y = x.copy(); y.fill(2.0); y", "np.full_like(y, v)"),
    ("y = x.copy(); y.partition(1); y", "np.partition(y, k)"),
    ("y = x.copy(); y.resize(3); y", "y.reshape"),
    ("y = np.zeros(3); np.put(y, [0, 2], x[:2]); y", "torch.put(a, ind, v)"),
    ("w = torch.zeros(3); nn.init.constant_(w, 2.0); w * x", "nn.init.constant_(w, ...) writes new values"),
    ("w = torch.zeros(3); torch.nn.init.zeros_(w); w * x", "torch.nn.init.zeros_(w, ...)"),
])
def test_numpys_writes_in_place_that_jac_does_not_read_say_what_to_write(text, says):
    """They were "this statement's value is never used"; NumPy changes the array, so jac says what to write."""
    with pytest.raises(JacError) as err:
        api.evaluate(text, {"x": np.array([3.0, 1.0, 2.0])})
    assert says in err.value.message


def test_what_the_hints_say_to_write_is_read():
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(api.evaluate("y = x.copy(); y = np.sort(y); y", {"x": x}), np.sort(x))
    np.testing.assert_array_equal(api.evaluate("y = np.zeros(3); y = torch.put(y, torch.tensor([0, 2]), x[:2]); y",
                                               {"x": x}), [3.0, 0.0, 1.0])
    np.testing.assert_array_equal(api.evaluate("y = np.zeros(3); y[np.unravel_index([0, 2], y.shape)] = x[:2]; y",
                                               {"x": x}), [3.0, 0.0, 1.0])


ALIASES = [  # a write into one name seen through another: NumPy's value, or a refusal, never the value from before
    "a = np.zeros((3, 3)); d = np.diagonal(a); a[0, 0] = 5.0; d + x",  # a view of a constant, folded by a copy
    "a = np.zeros((3, 3)); d = a.diagonal(); a[1, 1] += 2.0; d * x",
    "a = np.zeros((2, 3)); r = np.split(a, 2); a[0, 0] = 5.0; r[0][0] + x",
    "a = np.zeros(3); l = [a]; a += 1.0; l[0] + x",  # a list holds the array itself
    "a = np.zeros(3); l = [a, a * 2]; a[1] = 5.0; l[0] + x",
    "a = np.zeros(3); t = (a,); a += 1.0; t[0] + x",
    "a = np.zeros(3); l = [[a.T]]; a += 1.0; l[0][0] + x",
    "a = np.zeros(3); l = [a]; l[0][0] = 4.0; a + x",
    "a = np.zeros(3); d = {'k': a}; a += 1.0; d['k'] + x",
    "a = np.zeros(3); b = np.asarray(a); b[0] = 1.0; a + x",
    "a = np.zeros(3); b = a.view(); b[0] = 1.0; a + x",
    "a = np.zeros(4); r = a.reshape(2, 2).T; a[1] = 5.0; r[0] + x[:2]",
    "a = np.zeros(3); b = np.array(a); b[0] = 1.0; a + x",  # copies: answered
    "a = np.zeros(3); b = np.array(a); b[0] = 1.0; b + x",
    "a = np.zeros(3); b = a.astype(np.float64); b[0] = 1.0; a + b + x",
    "a = np.zeros(3); b = np.array(a, copy=False) if False else a; b[0] = 1.0; a + x",
]
ANSWERED = {ALIASES[12], ALIASES[13], ALIASES[14]}


@pytest.mark.parametrize("text", ALIASES)
def test_a_write_seen_through_another_name_is_numpys_or_refused(text):
    x = np.array([1.0, 2.0, 3.0])
    env = {"np": np, "x": x}
    *statements, last = text.split("; ")
    for statement in statements:
        exec(statement, env)  # noqa: S102 - the test's own text
    expected = eval(last, env)  # noqa: S307
    try:
        value = api.evaluate(text, {"x": x})
    except JacError as err:
        assert text not in ANSWERED, err.message
        assert "shares its memory" in err.message or "only a name can be written into" in err.message
        return
    np.testing.assert_array_equal(value, expected)


def test_numpys_view_without_arguments_and_a_dtype_view():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(api.evaluate("y = x.view(); y * 2", {"x": x}), x * 2)
    with pytest.raises(JacError, match="reinterprets the elements' bytes"):
        api.evaluate("x.view(np.int64)", {"x": x})


LISTS = [  # Python's lists are shared objects: what Python computes, or a refusal, never a list from before a change
    "a = [x]\nb = a\na.append(x * 2)\nlen(b) * x",
    "a = [x]\nb = a\na.append(x * 2)\nb[1]",
    "a = []\nb = a\na.append(x * 2)\nb[0]",
    "a = [x]\nb = a\na.extend([x * 2, x])\nsum(b)",
    "a = [x]\nb = a\na += [x * 2]\nsum(b)",
    "a = [x]\nb = a\na *= 2\nlen(b) * x",
    "s = [1, 2]\nt = s\ns += [3]\nlen(t) * x",
    "a = (x,)\nb = a\na += (x * 2,)\nlen(b) * x",  # a tuple's += makes a new one
    "s = x.shape\nt = s\ns += (1,)\nlen(t) * x",
    "a = [x]\nb = a\na = a + [x * 2]\nsum(b)",
    "a = [x]\nb = list(a)\na.append(x * 2)\nsum(b)",
    "a = [x]\nb = a[:]\na.append(x * 2)\nsum(b)",
    "a = [x]\nb = [a]\na.append(x * 2)\nlen(b[0]) * x",
    "a = [x]\nd = {'k': a}\na.append(x * 2)\nlen(d['k']) * x",
    "def f(l):\n    l.append(x * 2)\n    return x\na = [x]\ny = f(a)\nlen(a) * y",
    "def f(t):\n    l = [t]\n    l.append(t * 2)\n    return sum(l)\nf(x)",
    "def f(t):\n    l = [t]\n    m = l\n    l += [t]\n    return sum(m)\nf(x)",
]


def _pythons_or_refused(text: str, refused_where: tuple):
    """jac's value of ``text`` is Python's (run here with NumPy), or a refusal saying the object is held elsewhere,
    in a text holding one of ``refused_where``."""
    x = np.array([1.0, 2.0, 3.0])
    env = {"np": np, "x": x}
    *statements, last = text.split("\n")
    exec("\n".join(statements), env)  # noqa: S102 - the test's own text
    expected = eval(last, env)  # noqa: S307
    try:
        value = api.evaluate(text, {"x": x})
    except JacError as err:
        assert "holds too" in err.message and any(part in text for part in refused_where), err.message
        return
    np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("text", LISTS)
def test_a_lists_change_in_place_is_pythons_or_refused(text):
    _pythons_or_refused(text, ("[a]", "{'k': a}", "def f(l)"))


ITEMS = [  # an item of a list or a dict written: Python's value, every name holding the one object seeing it
    "a = [x, 2 * x]\na[0] = 3 * x\na[0] + a[1]",
    "a = [x, 2 * x]\nb = a\na[-1] += x\nb[1]",
    "a = [x, 2 * x]\ni = 1\na[i] = x * 5\na[1]",
    "outs = [x, x]\nfor i in range(2):\n    outs[i] = outs[i] * (i + 2)\nouts[0] + outs[1]",
    "d = {}\ne = d\nd['k'] = x\ne['k']",
    "d = {'k': x * 1}\ne = d\nd['k'] += x\ne['k']",
    "d = {'k': x}\nl = [d]\nd['k'] = 2 * x\nl[0]['k']",
]


@pytest.mark.parametrize("text", ITEMS)
def test_an_item_written_into_a_list_or_dict_is_pythons_or_refused(text):
    _pythons_or_refused(text, ("l = [d]",))


def test_a_list_item_written_out_of_range_or_at_a_computed_index_or_into_an_input_is_refused():
    for text, says in (("a = [x, x]\na[2] = x\na[0]", "out of range"),
                       ("a = [x, x]\na[x > 1] = x\na[0]", "one constant integer index"),
                       ("d = {'k': x}\nd['k'] += x\nx", "the item is the input 'x'"),  # NumPy would add into x
                       ("y = x * 1\na = [y]\na[0] *= 2\ny", "the item is 'y'")):
        with pytest.raises(JacError, match=says):
            api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})


@pytest.mark.parametrize("text,says", [  # a list of numbers' insert, pop and clear: read since session 34
    ("a = [x, 2 * x]\na.remove(x)\na[0]", "without v"),
])
def test_a_lists_other_changes_in_place_say_what_to_write(text, says):
    with pytest.raises(JacError) as err:
        api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})
    assert says in err.value.message


def test_pythons_own_syntax_message_is_not_said_twice():
    with pytest.raises(JacError) as err:
        api.evaluate("sin(x)", {"x": "[1 2 3]"})
    assert "forgot a comma" in err.value.message and err.value.message.count("invalid syntax") == 1


def test_tied_parameters_are_refused_saying_what_to_write():
    text = "fc1 = nn.Linear(3, 3)\nfc2 = nn.Linear(3, 3)\nfc2.weight = fc1.weight\nfc2(fc1(x)).sum()"
    with pytest.raises(JacError, match=r"tied parameters \('fc2.weight = fc1.weight'"):
        api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})
    tied = "fc1 = nn.Linear(3, 3)\nh = fc1(x)\n(F.linear(h, fc1.weight)).sum()"  # what it says to write is read
    assert np.isfinite(api.evaluate(tied, {"x": np.array([1.0, 2.0, 3.0])}))


def test_numpy_of_a_tensor_that_requires_grad_is_refused_and_tolist_has_no_derivative():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(JacError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        api.evaluate("(x * x.numpy().sum()).sum()", {"x": x})
    jac = api.jacobian("(x * x.detach().numpy().sum()).sum()", {"x": x})["x"]
    np.testing.assert_array_equal(jac, [6.0, 6.0, 6.0])
    for text, expected in (("(x * sum(x.tolist())).sum()", 6.0), ("(x * x.tolist()[0]).sum()", 1.0)):
        np.testing.assert_array_equal(api.jacobian(text, {"x": x})["x"], [expected] * 3)  # PyTorch's: no derivative
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert api.evaluate("A.tolist()[1][0] * A", {"A": A})[0, 0] == 3.0


@pytest.mark.parametrize("command", ["eval", "vjp", "hessian"])
def test_a_batched_refusal_names_the_example(capsys, command):
    from jacobi_cli.cli import entry

    for value, b in (("[[[1,0],[0,1]],[[1,2],[2,1]],[[2,0],[0,2]]]", 1), ("[[[1,2],[2,1]],[[1,0],[0,1]]]", 0)):
        assert entry.main([command, "torch.linalg.cholesky(A).sum()", f"A={value}", "--batch", "A"]) == 2
        assert f"example {b} of the batch (A[{b}]): cholesky: the matrix is not positive definite" in \
            capsys.readouterr().err


@pytest.mark.parametrize("content,says", [
    ("1;2;3\n4;5;6\n", "line 1, column 1: '1;2;3' is not a number (a .csv file separates its cells by commas, and "
                       "this one by semicolons"),
    ("1\t2\t3\n", "and this one by tabs"),
])
def test_a_csv_of_semicolons_or_tabs_says_so_and_its_first_line_is_no_header(tmp_path, content, says):
    """The first line ``1;2;3`` was skipped as a header, and a one-line file said only "contains no numbers"."""
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(JacError) as err:
        api.evaluate("sum(x)", {"x": f"@{path}"})
    assert says in err.value.message
    (tmp_path / "h.csv").write_text("a;b\n1,2\n")  # a header with letters is still a header
    assert api.evaluate("sum(x)", {"x": f"@{tmp_path / 'h.csv'}"}) == 3.0


@pytest.mark.parametrize("text,name", [("{'z': x}", "y['z']"), ("{'z': sin(x)}", "y['z']"),
                                       ("a = sin(x)\n{'z': a}", "y['z']"), ("grads = {'w': x}\ngrads", "grads['w']"),
                                       ("{'z': (x,)}", "y['z'][0]"), ("x", "y")])
def test_a_pytree_of_one_leaf_is_named_by_its_path_whatever_the_leaf(capsys, text, name):
    """``{'z': x}`` was named y and ``{'z': a}`` a, where ``{'z': sin(x)}`` was y['z'] (h29-contract's finding)."""
    from jacobi_cli.cli import entry

    assert entry.main(["eval", text, "x=1,2", "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["output"]["name"] == name


@pytest.mark.parametrize("text,want", [  # refused until session 39 (lang/views.py): PyTorch's values
    ("y = x.clone()\nv = y[:2]\nv += 1\ny", [2.0, 3.0, 3.0]),
    ("y = x.clone()\nv = y.T[:2]\nw = v[:1]\nw += 1\ny", [2.0, 2.0, 3.0]),
])
def test_a_write_through_a_view_of_a_copy_changes_the_copy(text, want):
    np.testing.assert_array_equal(api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])}), want)


@pytest.mark.parametrize("text,says", [
    ("y = x.clone()\nv = x[:2]\nv += 1\nx", "'v' is the input 'x' or a view of it"),
    ("y = x[:]\nv = y[:2]\nv += 1\ny", "'v' is the input 'x' or a view of it"),
])
def test_a_write_through_a_view_of_a_copy_names_the_copy(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})


def test_a_view_of_a_copy_no_other_name_holds_is_written():
    text = "y = x.clone()\nv = y[:2]\ny = y + 1\nv += 1\nv"  # NumPy: the old copy's view, which v alone holds
    np.testing.assert_array_equal(api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])}), [2.0, 3.0])


@pytest.mark.parametrize("text,says", [
    # session 52: the values set by fc.weight.data.fill_(1.0), fc.bias.data.zero_(), a write under torch.no_grad(),
    # fc.weight.data *= 2 and nn.init.zeros_(fc.bias) are answered (tests/test_setparams52.py)
    ("fc = nn.Linear(3, 2)\nfc.weight.mul_(2)\nfc(x).sum()", "write inside 'with torch.no_grad():'"),
    ("fc = nn.Linear(3, 2)\nh = fc(x)\nnn.init.zeros_(fc.bias)\nfc(x).sum() + h.sum()", "before its first use"),
    ("fc = nn.Linear(3, 2)\nnn.init.orthogonal_(fc.weight)\nfc(x).sum()", "F.linear(x, W, b) with W=... b=..."),
    # session 53: fc.weight.requires_grad = False is answered (tests/test_freeze53.py); a flag not written out is not
    ("fc = nn.Linear(3, 2)\nfc.weight.requires_grad = not True\nfc(x).sum()", "jac reads a literal True or False"),
])
def test_a_parameters_initialization_in_place_says_what_to_write(text, says):
    """Pasted initialization code said "this statement's value is never used" or "not assignments to an attribute";
    the advice to bind a layer's parameter as an input was wrong (fc.weight is no name a binding can give)."""
    with pytest.raises(JacError) as err:
        api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})
    assert says in err.value.message
