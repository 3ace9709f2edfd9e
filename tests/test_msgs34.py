"""Session 34 (h34-msgs): refusals of a name that end with the refused library's own alternative and point at the
name; the by_value warning on one short line."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from jacobi_cli.cli import entry
from jacobi_cli.tools.report import by_value_warning


def refusal(expression: str, *bindings: str) -> tuple:
    """(message, position) of the one JSON error of ``jac eval``, which exits 2 with one message on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["eval", expression, *bindings, "--json"])
    assert code == 2 and err.getvalue().count("jac: error") == 1 and "Traceback" not in err.getvalue()
    error = json.loads(out.getvalue())["error"]
    return error["message"], error["position"]


ENDINGS = [  # (expression, the name refused, what the message must say, what it must not)
    ("scipy.linalg.schur(A)", "schur", "or with np.linalg's functions (solve,", "jnp"),
    ("jax.scipy.linalg.schur(A)", "schur", "or with jnp.linalg's functions (solve,", "NumPy"),
    ("scipy.special.foo(A)", "foo", "or with NumPy's functions", "jnp"),
    ("jax.scipy.special.foo(A)", "foo", "or with jnp's functions", "NumPy"),
    ("jax.nn.foo(A)", "foo", "or with jnp's functions", "NumPy"),
    ("jax.lax.foo(A)", "foo", "or with jnp's functions", "NumPy"),
    ("torch.distributions.Foo(A)", "Foo", "or with torch's functions", "jnp"),
    ("scipy.stats.norm.foo(A)", "foo", "or with NumPy's and scipy.special's functions", "jnp"),
    ("jax.scipy.stats.norm.foo(A)", "foo", "or with jnp's and jax.scipy.special's functions", "NumPy"),
    ("scipy.stats.cauchy.cdf(A)", "stats", "formula with scipy.special:", "jax"),
    ("jax.scipy.stats.cauchy.cdf(A)", "stats", "formula with jax.scipy.special:", "NumPy"),
]


@pytest.mark.parametrize("expression, name, says, never", ENDINGS, ids=[e[0] for e in ENDINGS])
def test_a_refused_name_ends_with_its_own_librarys_alternative_and_the_caret_is_under_it(expression, name, says,
                                                                                        never):
    message, position = refusal(expression, "A:3x3")
    assert says in message and never not in message, message
    assert expression[position:].startswith(name), (position, message)


def test_a_short_list_names_what_jac_reads_apart_from_what_it_refuses():
    message, _ = refusal("scipy.linalg.schur(A)", "A:3x3")
    read, refused = message.split("jac reads ")[1].split("; it refuses ")
    assert "solve_triangular" in read and "sqrtm" not in read and "eig," not in read  # eigh and eigvalsh are read
    assert refused.startswith("cdf2rdf, eig, eigvals, kron, logm, lu, sqrtm, saying why)"), refused
    message, _ = refusal("jax.scipy.linalg.schur(A)", "A:3x3")
    assert "it refuses cho_factor, cholesky, polar, sqrtm, saying why" in message


def test_a_long_list_is_counted_with_the_names_nearest_the_one_written():
    message, _ = refusal("scipy.special.erfc_inv(A)", "A:3")
    assert "jac reads 186 functions, listed in docs/expressions.md; the nearest to 'erfc_inv': erfcinv" in message
    assert len(message) < 300 and "bdtr" not in message
    message, _ = refusal("jax.lax.erfc_inv(A)", "A:3")
    assert "the nearest to 'erfc_inv': erf_inv, erfc)" in message
    message, _ = refusal("jax.scipy.special.psi(A)", "A:3")
    assert "write jax.scipy.special.digamma(x)" in message


@pytest.mark.parametrize("expression, name", [
    ("jax.random.normal(k, (3,)) * A", "random"), ("jax.tree_util.tree_all(A)", "tree_all"),
    ("optax.adam(1e-3) * A", "adam"), ("flax.linen.gelu(A)", "gelu"), ("jax.hvp(f, A)", "hvp"),
    ("jax.scipy.signal.foo(A)", "signal"), ("jax.scipy.stats.cauchy.logpdf(A)", "stats"),
    ("y = 1.0\nz = jax.random.normal(k, (3,))\nA * z", "random")])
def test_a_path_refused_before_its_arguments_points_at_the_name_it_refuses(expression, name):
    message, position = refusal(expression, "A:3", "k=[0, 0]")
    assert expression[position:].startswith(name), (position, message)


def test_the_tree_refusal_lists_jaxs_spellings_only():
    message, _ = refusal("jax.tree_util.tree_all(A)", "A:3")
    assert "jax.tree.map" in message and "torch" not in message


@pytest.mark.parametrize("places", [1, 2, 5, 100_000])
def test_the_by_value_warning_is_one_short_line_with_its_keys(places):
    warning = by_value_warning(tuple(range(3, 3 + places)))
    assert set(warning) == {"kind", "in", "op", "position", "message"} and warning["position"] == 3
    assert warning["kind"] == "by_value" and warning["in"] == "value" and warning["op"] == "input"
    assert len(warning["message"]) <= 160 and "\n" not in warning["message"], warning["message"]
    assert warning["message"].startswith("the result holds at these values only")
    assert (f"and at {places - 1:,} more place" in warning["message"]) == (places > 1) or places > 10_000


def test_the_by_value_warning_on_stderr_is_two_lines_and_a_caret():
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert entry.main(["eval", "x[x > 0].sum()", "x=[1, -2, 3]"]) == 0
    line, text, caret = err.getvalue().splitlines()
    assert line.startswith("jac: warning (by_value): ") and len(line) <= 160 + 25
    assert text.strip() == "x[x > 0].sum()" and caret.index("^") == text.index("x > 0")
