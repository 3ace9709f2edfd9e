"""Session 47 (h47-newcomer): what a PyTorch/JAX user stumbled on in an hour with batches, several outputs,
higher orders and suites (benchmarks/newcomer47_probe.py; benchmarks/RESULTS.md, "Forty-seventh session: a
newcomer's hour ...")."""
import numpy as np
import pytest


def test_derivative_is_importable_from_the_package_as_docs_api_lists_it():
    # docs/api.md lists derivative among the functions that take timeout=; `from jacobi_cli import derivative`
    # raised ImportError (only jacobi_cli.tools.api had it)
    from jacobi_cli import derivative
    from jacobi_cli.tools import api

    assert derivative is api.derivative
    assert [float(derivative("x**3", {"x": 2.0}, k)) for k in (1, 2, 3)] == [12.0, 12.0, 6.0]
    d = derivative("a = sin(x); b = sum(x**4); a, b", {"x": [1.0, 2.0]}, 3)
    assert set(d) == {"a", "b"} and d["b"].shape == (2, 2, 2)
    assert np.allclose(np.einsum("iii->i", d["b"]), 24 * np.array([1.0, 2.0]))


HAND_BACKWARD = '''import torch

class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.where(x > 2.5, 3.03 * x ** 2, 3 * x ** 2)   # wrong by 1 % where x > 2.5

x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
y = Cube.apply(x).sum()
y.backward()
'''


def run(*argv):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, [str(a) for a in argv])
    return result.exit_code, result.output


def test_check_of_a_slightly_wrong_hand_backward_says_which_entry_fails(tmp_path):
    # the table said "x ... 0.48 ... FAIL" and no more: which of x's entries was wrong was the user's to find,
    # while a suite's failure says "worst at [1]"
    path = tmp_path / "cube.py"
    path.write_text(HAND_BACKWARD)
    code, out = run("check", f"@{path}")
    assert code == 1
    assert "∂y/∂x[3] is the farthest of 2 failing entries: jac gives 48.48 (reverse and forward mode), the finite " \
           "differences 48 " in out
    import json
    code, out = run("check", f"@{path}", "--json")
    worst = json.loads(out)["inputs"]["x"]
    assert code == 1 and worst["failing"] == 2
    assert worst["worst"]["input_index"] == [3] and worst["worst"]["output_index"] == []
    assert worst["worst"]["reverse"] == pytest.approx(48.48) and worst["worst"]["numeric"] == pytest.approx(48.0)


def test_check_names_the_example_and_the_output_of_the_worst_entry():
    code, out = run("check", "a = sin(x) * w; b = sum(x * exp(x.detach())); a, b", "x=[[1, 2], [3, 5]]", "w=[0.5, 2]",
                    "--batch", "x")
    assert code == 1
    # the relative error x / (1 + x) is largest in example 1, at x[1] = 5: exp(5) against 6 exp(5)
    assert "∂b/∂x[1] in example 1 of the batch is the farthest of 2 failing entries: jac gives 148.4131591 " \
           "(reverse and forward mode), the finite differences 890.47895" in out
    import json
    data = json.loads(run("check", "a = sin(x) * w; b = sum(x * exp(x.detach())); a, b", "x=[[1, 2], [3, 5]]",
                          "w=[0.5, 2]", "--batch", "x", "--json")[1])
    assert data["inputs"]["x"]["worst"]["example"] == 1 and data["inputs"]["x"]["worst"]["output"] == "b"
    assert data["inputs"]["w"]["worst"] is None and data["inputs"]["w"]["failing"] == 0


def test_a_passing_check_has_no_worst_entry_and_a_kink_keeps_its_own_note():
    import json
    data = json.loads(run("check", "sin(x)", "x=[1, 2]", "--json")[1])
    assert data["inputs"]["x"]["worst"] is None and data["inputs"]["x"]["failing"] == 0
    code, out = run("check", "relu(x)", "x=0")
    assert code == 1 and "farthest" not in out and "only failing entry" not in out and "has a kink here" in out


def test_a_suite_check_of_a_hand_backward_says_where_it_fails(tmp_path):
    body = HAND_BACKWARD.split("x = torch.tensor")[0] + "Cube.apply(x)\n"
    suite = tmp_path / "s.toml"
    suite.write_text(f'[[case]]\nname = "hand"\nexpr = """\n{body}"""\nbindings = {{ x = [1.0, 2.0, 3.0, 4.0] }}\n'
                     "check = true\n")
    code, out = run("run", str(suite), "--jobs", "1")
    assert code == 1
    assert "worst at x[3] of output element [3] (of 2 failing): jac gives 48.48, the differences 48" in out


@pytest.mark.parametrize("argv", [["a = x * 2; b = sum(x * x.detach()); a, b", "x=[1, 2]"],
                                  ["sum(x * x.detach())", "x=[[1, 2]]", "--batch", "x"]])
def test_check_with_a_batch_or_several_outputs_says_the_failure_is_a_detached_value(argv):
    # one output without a batch said "reads x through a detached value (column ...)"; with --batch or several
    # outputs the same failure came with no reason
    import json
    code, out = run("check", *argv)
    assert code == 1 and "reads x through a detached value (column " in out
    data = json.loads(run("check", *argv, "--json")[1])
    assert data["inputs"]["x"]["detached"] == [argv[0].index("detach")]


def test_derivative_help_shows_the_diagonal_the_range_of_order_and_one_wrt():
    # rich read "[i, i, ..., i]" of --sparse's help as markup and dropped it ("the diagonal D (shaped like y)");
    # --order said "K >= 1" (50 is refused: 1 to 32) and hid that its default, 2, is not jac diff's 1; --wrt said
    # "repeatable; default: every bound input", which jac derivative refuses
    code, out = run("derivative", "--help")
    flat = " ".join(out.replace("│", " ").split())
    assert code == 0
    assert "the diagonal D[i, i, ..., i] (shaped like y)" in flat
    assert "K from 1 to 32" in flat and "jac diff's default is 1" in flat
    assert "The one input the derivative is taken by" in flat and "every bound input" not in flat


def test_batch_written_name_equals_axis_is_told_the_colon():
    # JAX's in_axes / a binding's NAME=VALUE lead to --batch x=1; the message listed the inputs (x) without
    # saying that x=1 was meant as x:1
    code, out = run("eval", "x * 2", "x=[[1, 2], [3, 4]]", "--batch", "x=1")
    assert code == 2 and "the axis follows a colon: --batch x:1" in out


def test_derivative_sparse_of_an_output_that_is_not_element_wise_warns_that_it_is_dense():
    # --sparse on softmax gave the dense tensor ("value", not "diagonal") without a word
    import json
    code, out = run("derivative", "a = tanh(x); b = softmax(x); a, b", "x=[1, 2]", "--order", "3", "--sparse",
                    "--json")
    data = json.loads(out.split("\njac: warning")[0])
    assert "jac: warning (sparse): --sparse: b is not element-wise in x" in out
    assert code == 0 and "diagonal" in data["derivatives"]["a"]["x"] and "value" in data["derivatives"]["b"]["x"]
    assert [(w["kind"], w["in"]) for w in data["warnings"]] == [("sparse", "∂³b/∂x³")]
    code, out = run("derivative", "tanh(x)", "x=[1, 2]", "--order", "3", "--sparse", "--json")
    assert code == 0 and "warnings" not in json.loads(out)


def test_a_batch_of_one_is_one_example():
    code, out = run("check", "sum(x * x)", "x=[[1, 2]]", "--batch", "x")
    assert code == 0 and "batch  1 example: shapes" in out and "over 1 example; every example passed" in out
    code, out = run("eval", "sum(x * x)", "x=[[1, 2], [3, 4]]", "--batch", "x")
    assert code == 0 and "batch  2 examples: shapes" in out


@pytest.mark.parametrize("key", ["derivative.x = 6", "order = 3"])
def test_a_suite_asking_for_a_higher_derivative_is_told_what_it_can_pin(tmp_path, key):
    # `derivative.x` (jac derivative --order K's) was no suite key: the message listed 21 keys and left the user
    # to guess that orders past 2 cannot be pinned; since session 48 it is [[case.derivative]] (test_suite48.py)
    suite = tmp_path / "d.toml"
    suite.write_text(f'[[case]]\nname = "third"\nexpr = "x**3"\nbindings = {{ x = 2.0 }}\n{key}\n')
    code, out = run("run", str(suite))
    assert code == 2 and "[[case.derivative]] table" in out and "order = K" in out and "did you mean" not in out


def test_several_outputs_with_positional_v_are_shown_the_named_form():
    # torch.autograd.backward([a, b], [va, vb]) pairs by position; `--v [1,1] --v 2` was refused without showing
    # what to write
    code, out = run("vjp", "sin(x), sum(x)", "x=[1, 2]", "--v", "[1, 1]", "--v", "2")
    assert code == 2 and "(in the outputs' order, as torch.autograd.backward([outs], [vs]) pairs them: " \
                         "--v 'y0=[1, 1]' --v y1=2)" in " ".join(out.split())
    code, out = run("vjp", "sin(x), sum(x)", "x=[1, 2]", "--v", "y0=[1, 1]", "--v", "y1=2")
    assert code == 0


def test_shape_and_diff_under_batch_do_not_promise_values():
    # jac shape --batch said "every value and result carries the batch axis first" and its --help "results per
    # example, batch axis first": it prints no value, only one example's shapes
    code, out = run("shape", "softmax(x)", "x:4x3", "--batch", "x")
    assert code == 0 and "batch  4 examples: shapes are one example's\n" in out and "carries" not in out
    code, out = run("shape", "--help")
    flat = " ".join(out.replace("│", " ").split())
    assert "what is printed is one example's, the same for every example" in flat and "results per example" not in flat
    code, out = run("eval", "softmax(x)", "x:4x3", "--batch", "x")
    assert "every value and result carries the batch axis first" in out
