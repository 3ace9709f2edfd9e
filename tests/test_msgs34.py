"""Session 34 (h34-msgs): refusals of a name that end with the refused library's own alternative and point at the
name; the by_value warning on one short line; value_of's memo trimmed oldest first in amortised O(1) per value."""
from __future__ import annotations

import contextlib
import io
import json
import random
from collections import OrderedDict

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.engine.compiled import Compiled
from jacobi_cli.lang.memo import ValueMemo
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
    ("jax.lax.igamma_grad_a(A)", "igamma_grad_a", "or with jnp's functions", "NumPy"),
    ("torch.distributions.Foo(A)", "Foo", "or with torch's functions", "jnp"),
    ("scipy.stats.norm.foo(A)", "foo", "or with NumPy's and scipy.special's functions", "jnp"),
    ("jax.scipy.stats.norm.foo(A)", "foo", "or with jnp's and jax.scipy.special's functions", "NumPy"),
    ("scipy.stats.pareto.cdf(A)", "stats", "formula with scipy.special:", "jax"),
    ("jax.scipy.stats.pareto.cdf(A)", "stats", "formula with jax.scipy.special:", "NumPy"),
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
    message, _ = refusal("jax.lax.igamma_grad_a(A, A)", "A:3")  # JAX's, unread (scipy.special.ellipj until session 36)
    assert "jac reads 163 functions, listed in docs/expressions.md; the nearest to 'igamma_grad_a': igamma, igammac" \
        in message
    assert len(message) < 300 and "bessel_i0e" not in message
    message, _ = refusal("jax.lax.erfc_inv(A)", "A:3")  # no name of jax.lax: a typo, the one meant and no list
    assert message == "unknown function 'jax.lax.erfc_inv' (jax.lax has no such name); did you mean 'jax.lax.erf_inv'?"
    message, _ = refusal("jax.scipy.special.psi(A)", "A:3")
    assert "write jax.scipy.special.digamma(x)" in message


@pytest.mark.parametrize("expression, name", [
    ("jax.random.normal(k, (3,)) * A", "random"), ("jax.tree_util.tree_all(A)", "tree_all"),
    ("optax.adam(1e-3) * A", "adam"), ("flax.linen.gelu(A)", "gelu"), ("jax.hvp(f, A)", "hvp"),
    ("jax.scipy.optimize.foo(A)", "optimize"), ("jax.scipy.stats.pareto.logpdf(A)", "stats"),
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


# -- value_of's memo ------------------------------------------------------------------------------------------------

class Counted(OrderedDict):
    """An OrderedDict counting the values taken off its front."""
    taken = 0

    def popitem(self, last=True):
        Counted.taken += 1
        return super().popitem(last)


def rescanning(memo: dict, held: dict, uses: dict, keep: int, cap: int, total: int):
    """The trim jac had before session 34, rescanning from the oldest each time: (total, within cap)."""
    for i in list(held):
        if total <= cap:
            return total, True
        if i != keep and uses.get(i, 0) <= 0:
            total -= held.pop(i)
            del memo[i]
    return total, total <= cap


def walks(seed: int):
    """Random walks of value_of: each computes new nodes (bytes, arguments among all earlier nodes), the last its
    target."""
    rng = random.Random(seed)
    made = 0
    for _ in range(40):
        walk = []
        for _ in range(rng.randint(1, 12)):
            args = [rng.randrange(made) for _ in range(rng.randint(0, 3))] if made else []
            walk.append((made, rng.choice([0, 8, 8, 80, 800]), args))
            made += 1
        yield walk


@pytest.mark.parametrize("seed", range(30))
def test_the_memo_drops_what_the_rescanning_trim_dropped_in_the_same_order(seed):
    cap = random.Random(seed).choice([800, 1600, 3000])
    memo, reference, held, total = ValueMemo(), {}, {}, 0
    for walk in walks(seed):
        keep = walk[-1][0]
        uses, theirs = {}, {}
        for _, _, args in walk:
            for a in args:
                uses[a] = uses.get(a, 0) + 1
        theirs = dict(uses)
        refused = [None, None]
        for i, nbytes, args in walk:
            if refused[0] is None:
                memo.add(i, np.zeros(nbytes // 8))
                for a in args:
                    uses[a] -= 1
                    if not uses[a]:
                        memo.released(a)
                if memo.total > cap and not memo.trim(uses, keep, cap):
                    refused[0] = i
            if refused[1] is None:
                reference[i] = held[i] = nbytes
                total += nbytes
                for a in args:
                    theirs[a] -= 1
                if total > cap:
                    total, within = rescanning(reference, held, theirs, keep, cap, total)
                    refused[1] = None if within else i
            assert list(memo.values) == list(reference) and memo.total == total
        memo.end_walk()
        assert refused[0] == refused[1]
        assert list(memo.held) == list(held)  # the order the next walk drops in
        if refused[0] is not None:
            return


def test_the_memo_takes_each_value_off_its_front_once_per_walk_that_still_needs_it():
    # one walk: 2,000 steps of a carry of 100 bytes, each step's sum (8 bytes) kept until the end (a Python loop
    # appending x.sum() to a list stacked at the end): the trim rescanning the memo met every kept sum at each step
    memo = ValueMemo()
    memo.held = Counted()
    Counted.taken = 0
    steps, cap = 2000, 20_000
    uses = {2 * k + 1: 1 for k in range(steps)}  # the sums, read by the stack
    uses.update({2 * k: 2 for k in range(steps)})  # each carry: the next step and its sum
    def read(a):
        uses[a] -= 1
        if not uses[a]:
            memo.released(a)

    for k in range(steps):
        carry, total = 2 * k, 2 * k + 1
        memo.add(carry, np.zeros(100 // 8))  # v = v * 1.01
        if k:
            read(carry - 2)
        assert memo.trim(uses, -1, cap) and memo.total <= cap
        memo.add(total, np.zeros(1))  # xs.append(v.sum())
        read(carry)
        assert memo.trim(uses, -1, cap) and memo.total <= cap
    assert Counted.taken <= 2 * 2 * steps, Counted.taken  # each value met at most twice, not once per step
    memo.end_walk()
    assert list(memo.held)[:3] == [1, 3, 5] and len(memo.held) == len(memo.values)


def test_a_long_loop_keeping_every_steps_sum_is_within_the_limit_and_answers_as_numpy():
    text = ("xs = []\nv = x\nfor i in range(200):\n    v = v * 1.01\n    xs.append(v.sum())\n"
            "t = np.stack(xs)\nif t.max() > 0:\n    out = v.sum()\nelse:\n    out = -v.sum()\nout")
    x = np.full(100, 0.5)
    compiled = Compiled(text, {"x": (100,)}, values={"x": x}, max_bytes=8000)
    expected = x
    for _ in range(200):
        expected = expected * 1.01
    assert compiled.value({"x": x}) == expected.sum()
