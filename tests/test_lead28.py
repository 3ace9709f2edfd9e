"""Session 28, main: a last statement that is a named tuple of the library (``torch.linalg.qr(A)``,
``torch.max(x, 1)``) has one output per field, named as the library names it, exactly as the text that unpacks
it into those names and lists them; tests/test_parity_lead28.py compares each output's Jacobian with PyTorch's."""

import json

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

A = "[[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]]"
S = "[[2.0, 0.5, -1.0], [0.3, 1.5, 0.2], [-0.4, 0.1, 3.0]]"
NAMED = [  # (call, bindings, the library's field names)
    ("torch.linalg.qr(A)", [f"A={A}"], ["Q", "R"]),
    ("np.linalg.svd(A, full_matrices=False)", [f"A={A}"], ["U", "S", "Vh"]),
    ("torch.linalg.slogdet(A)", [f"A={S}"], ["sign", "logabsdet"]),
    ("np.linalg.eigh(A @ A.T)", [f"A={A}"], ["eigenvalues", "eigenvectors"]),
    ("torch.max(A, 1)", [f"A={A}"], ["values", "indices"]),
    ("torch.sort(x, descending=True)", ["x=[3, 1, 2]"], ["values", "indices"]),
    ("torch.topk(x, 2)", ["x=[3, 1, 2]"], ["values", "indices"]),
    ("x.aminmax()", ["x=[3, 1, 2]"], ["min", "max"]),
    ("np.linalg.qr(A)", [f"A={A}"], ["Q", "R"]),
]


def _json(capsys, args):
    from jacobi_cli.cli import entry

    assert entry.main(args) == 0
    report = json.loads(capsys.readouterr().out)
    report.pop("expression")
    return report


@pytest.mark.parametrize("call,bindings,fields", NAMED, ids=[c for c, _, _ in NAMED])
def test_a_named_tuple_last_is_its_fields_as_outputs(capsys, call, bindings, fields):
    own = ", ".join(f + "_" for f in fields)
    listed = f"{own} = {call}\n{own}"
    name = bindings[0].split("=")[0]
    for command in (["eval"], ["vjp", "--v", f"{fields[0]}=ones"], ["jvp", "--tangent", f"{name}=ones"]):
        ours = _json(capsys, [command[0], call, *bindings, "--json", *command[1:]])
        assert [o["name"] for o in ours["outputs"]] == fields
        theirs = _json(capsys, [command[0], listed, *bindings, "--json",
                                *[a.replace(f"{fields[0]}=", f"{fields[0]}_=") if a.startswith(fields[0]) else a
                                  for a in command[1:]]])
        renamed = json.dumps(theirs, ensure_ascii=False)
        for field in fields:  # Q_ -> Q, in the names and the legends: the same outputs otherwise
            renamed = renamed.replace(field + "_", field)
        assert ours == json.loads(renamed), command


def test_a_field_named_as_an_input_is_refused_saying_what_to_write():
    with pytest.raises(JacError, match=r"parts are named U, S, Vh, and 'S' is already a name.*\(u, s_, vh = "):
        api.evaluate("torch.linalg.svd(S, full_matrices=False)", {"S": np.ones((3, 2)), "s": np.ones(2)})


def test_a_tuple_without_names_and_a_part_jac_refuses_are_refused_as_before():
    with pytest.raises(JacError, match=r"the pair \(std, mean\) that std_mean returns"):
        api.evaluate("torch.std_mean(x)", {"x": np.ones(3)})
    with pytest.raises(JacError, match="full_matrices=True of a non-square matrix"):
        api.evaluate("torch.linalg.svd(A)", {"A": np.ones((3, 2))})
    with pytest.raises(JacError, match="the last statement is a tuple of 2 arrays"):
        api.evaluate("torch.split(x, 2)", {"x": np.ones(4)})


def test_the_method_broadcast_to_takes_sizes_as_pytorch_does():
    v = np.array([1.0, -2.0, 3.0, 0.5])
    for text, shape in [("v.broadcast_to(3, 4)", (3, 4)), ("v.broadcast_to((3, 4))", (3, 4)),
                        ("v.broadcast_to(2, -1)", (2, 4)), ("np.broadcast_to(v, (2, 4))", (2, 4))]:
        np.testing.assert_array_equal(api.evaluate(text, {"v": v}), np.broadcast_to(v, shape))
        np.testing.assert_array_equal(api.jacobian(text, {"v": v})["v"],
                                      np.broadcast_to(np.eye(4), shape[:1] + (4, 4)))
    with pytest.raises(JacError, match="takes at most 2 argument"):  # torch.broadcast_to's function: a tuple only
        api.evaluate("torch.broadcast_to(v, 3, 4)", {"v": v})


@pytest.mark.parametrize("text,words,column", [
    ("x.^2", r"'\.\^' is MATLAB's element-wise operator; in Python write \*\*", 2),
    ("x .* y", r"'\.\*' is MATLAB's element-wise operator; in Python write \*", 3),
    ("x./y", r"'\./' is MATLAB's element-wise operator; in Python write /", 2),
    ("f(x) = x**2", r"a function is not defined by 'f\(x\) = \.\.\.' in Python", 0),
    ("sin x + 1", r"a function is called with parentheses: sin\(x\) for 'sin x'", 4),
    ("1 + np.exp 2", r"a function is called with parentheses: np.exp\(2\) for 'np.exp 2'", 11),
    ("ln(x)", r"unknown function 'ln': the natural logarithm is log\(x\)", 0),
    ("np.ln(x)", r"unknown function 'np.ln': the natural logarithm is log\(x\)", 3),
    ("gamma(x)", r"write scipy.special.gamma\(x\)", 0),
])
def test_notation_of_paper_and_other_languages_says_what_to_write(text, words, column):
    with pytest.raises(JacError, match=words) as caught:
        api.evaluate(text, {"x": np.ones(2), "y": np.ones(2)})
    assert caught.value.position == column


def test_a_name_before_an_operand_that_is_no_function_keeps_pythons_message():
    with pytest.raises(JacError, match=r"^invalid syntax$"):
        api.evaluate("x y", {"x": np.ones(2), "y": np.ones(2)})


@pytest.mark.parametrize("text", ["x[np.ones(2)]", "x[torch.zeros(2)]", "x[np.eye(2)]", "x[np.linspace(0, 1, 2)]"])
def test_an_index_made_by_a_float_constructor_is_refused_as_the_libraries_raise(text):
    with pytest.raises(JacError, match="an index array must have an integer"):
        api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])})


@pytest.mark.parametrize("text", ["x[np.ones(2, dtype=int)]", "x[np.ones(2, int)]", "x[torch.ones(2).long()]",
                                  "x[torch.ones(2, dtype=torch.long)]"])
def test_an_index_made_by_a_constructor_with_an_integer_dtype_reads(text):
    np.testing.assert_array_equal(api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])}), [2.0, 2.0])
