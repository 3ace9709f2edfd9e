"""Refusals of a name jac does not read (session 34, h34-msgs): each family of "is not supported by jac" message,
run through the CLI with --json, checked for exit 2, one error object, a caret under the name it refuses, and an
ending that names the refused library's own alternative (never jnp for a SciPy or PyTorch name).

    PYTHONPATH=. /work/venv/bin/python benchmarks/msgs34_probe.py          # the table and a summary line
    PYTHONPATH=. /work/venv/bin/python benchmarks/msgs34_probe.py --full   # each message whole
"""
from __future__ import annotations

import contextlib
import io
import json
import sys

# (expression, bindings, the name the caret must be under, words of the right library, words of a wrong one)
JNP = ("jnp", "jax.")
CASES = [
    # the libraries whose names jac lists (parser._library_message)
    ("scipy.linalg.schur(A)", ["A:3x3"], "schur", ("np.linalg",), JNP),
    ("scipy.linalg.sqrtm(A)", ["A:3x3"], "sqrtm", ("matrix square root",), JNP),
    ("scipy.linalg.signm(A)", ["A:3x3"], "signm", ("sqrtm", "refuse"), JNP),
    ("jax.scipy.linalg.schur(A)", ["A:3x3"], "schur", ("jnp.linalg",), ("NumPy",)),
    ("scipy.special.foo(A)", ["A:3x3"], "foo", ("NumPy",), JNP),
    ("scipy.special.erfc_inv(A)", ["A:3x3"], "erfc_inv", ("erfcinv",), JNP),
    ("jax.scipy.special.foo(A)", ["A:3x3"], "foo", ("jnp",), ("NumPy",)),
    ("jax.scipy.special.psi(A)", ["A:3x3"], "psi", ("digamma",), ("NumPy",)),
    ("jax.nn.foo(A)", ["A:3x3"], "foo", ("jnp",), ("NumPy", "torch")),
    ("jax.nn.normalize(A)", ["A:3x4"], "normalize", ("standardize",), ()),
    ("jax.lax.foo(A)", ["A:3x3"], "foo", ("jnp",), ("NumPy", "torch")),
    ("jax.lax.erfc_inv(A)", ["A:3x3"], "erfc_inv", ("erf_inv",), ("NumPy",)),
    ("jax.lax.fft(A)", ["A:3x3"], "fft", ("complex",), ()),
    ("torch.distributions.Foo(A)", ["A:3x3"], "Foo", ("torch",), JNP),
    ("scipy.stats.norm.foo(A)", ["A:3"], "foo", ("scipy.special",), JNP),
    ("jax.scipy.stats.norm.foo(A)", ["A:3"], "foo", ("jax.scipy.special",), ("NumPy",)),
    # torch.nn, np.random, another library's name, PyTorch's and NumPy's own (parser.lookup, unknown_message)
    ("torch.nn.Foo()(A)", ["A:3x3"], "Foo", ("torch.nn.functional",), JNP),
    ("np.random.foo(A)", ["A:3x3"], "foo", ("rand",), JNP),
    ("torch.stft(A)", ["A:3x3"], "stft", (), JNP),
    ("np.unique_consecutive(A)", ["A:3"], "unique_consecutive", ("torch",), JNP),
    ("A.foo_()\nA", ["A:3x3"], "foo_", (), JNP),
    ("torch.histogram(A)", ["A:3"], "histogram", (), JNP),
    # modules jac lacks (parser._module_message) and imports of them
    ("torch.fft.fft(A)", ["A:3x3"], "fft", ("complex",), ()),
    ("np.fft.fft(A)", ["A:3x3"], "fft", ("complex",), ()),
    ("scipy.stats.cauchy.cdf(A)", ["A:3"], "stats", ("scipy.special",), JNP),
    ("scipy.signal.foo(A)", ["A:3"], "signal", (), JNP),
    ("np.polynomial.foo(A)", ["A:3"], "polynomial", (), JNP),
    ("import scipy.sparse.linalg\nA", ["A:3"], "import", ("np.linalg",), ("jnp.linalg",)),
    # paths refused before their arguments (parser._foreign_path)
    ("jax.scipy.stats.cauchy.logpdf(A)", ["A:3"], "stats", ("jax.scipy.special",), ("NumPy",)),
    ("jax.scipy.signal.foo(A)", ["A:3"], "signal", (), ()),
    ("jax.lax.psum(A, 'i')", ["A:3"], "psum", ("jnp.sum",), ()),
    ("jax.random.normal(k, (3,)) * A", ["A:3", "k=[0, 0]"], "random", (), ()),
    ("jax.tree_util.tree_all(A)", ["A:3"], "tree_all", (), ()),
    ("optax.adam(1e-3)", ["A:3"], "adam", ("jnp",), ()),
    ("flax.linen.gelu(A)", ["A:3"], "gelu", ("jax.nn.gelu",), ()),
    ("jax.hvp(f, A)", ["A:3"], "hvp", (), ()),
    # arguments and methods of what jac reads (functions.py, ufuncs.py, jaxnames.py, laxnames.py)
    ("np.add.foo(A)", ["A:3"], "foo", (), JNP),
    ("np.interp(A, A, A, period=2.0)", ["A:3"], "interp", (), JNP),
    ("A.reshape(9, foo=1)", ["A:3x3"], "reshape", (), JNP),
    ("np.unique(A, axis=0)", ["A:3x3"], "unique", (), JNP),
    ("F.interpolate(A, size=4, antialias=True)", ["A:1x1x3"], "interpolate", (), JNP),
    ("jax.nn.softmax(A, where=m)", ["A:3", "m=np.array([1, 0, 1]) > 0"], "softmax", ("jnp.where",), ()),
    ("torch.range(0, 3, dtype=torch.float64)", [], "range", ("torch.arange",), JNP),
]


def run(expression: str, bindings: list) -> tuple:
    from jacobi_cli.cli import entry

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["eval", expression, *bindings, "--json"])
    return code, out.getvalue(), err.getvalue()


def check(case) -> tuple:
    expression, bindings, name, right, wrong = case
    code, out, err = run(expression, bindings)
    problems = []
    if code != 2 or "Traceback" in err or err.count("jac: error") != 1:
        problems.append(f"exit {code}")
    try:
        error = json.loads(out)["error"]
    except (ValueError, KeyError):
        return "NO-JSON", out[:200] + err[:200]
    message, position = error["message"], error["position"]
    if position is None or not expression[position:].startswith(name):
        problems.append(f"caret at {position}: {expression[position or 0:][:12]!r}")
    problems += [f"lacks {w!r}" for w in right if w not in message]
    problems += [f"says {w!r}" for w in wrong if w in message]
    return "; ".join(problems) or "OK", message


def main() -> None:
    full = "--full" in sys.argv
    bad = 0
    for case in CASES:
        status, message = check(case)
        bad += status != "OK"
        shown = message if full else (message[:150] + " ..." if len(message) > 150 else message)
        print(f"{status:32.32} {len(message):5} {case[0].splitlines()[0][:40]:40} {shown}")
    print(f"{len(CASES)} refusals: {len(CASES) - bad} OK, {bad} with a problem")


if __name__ == "__main__":
    main()
