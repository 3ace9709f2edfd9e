"""Drawn programs of helpers changing their callers' lists (h34b-lists): a list (numbers, arrays, or rows), names and
snapshots of it (an alias, a copy, a tuple, a list holding it), helpers that append, pop, write an item or a row's
item, called directly, through another helper, or on a row, then a read of every name. Each program is run by Python
and by jac (values at rtol 1e-12, the Jacobian against central differences); a refusal is counted, never a wrong
answer.

    /work/benchvenv/bin/python benchmarks/lists34b_fuzz.py TREE [COUNT] [SEED]
"""
import collections
import random
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import jacobi_cli  # noqa: E402
from jacobi_cli import errors  # noqa: E402

X = np.array([0.5, -1.5, 2.0])
HELPERS = {
    "push": "def push(l, v):\n    l.append(v)\n",
    "put": "def put(l, v):\n    l[0] = v\n",
    "bump": "def bump(l, v):\n    l[-1] += v\n    return 0.0\n",
    "pop": "def pop(l):\n    l.pop()\n",
    "cell": "def cell(R, v):\n    R[0][0] = v\n",
    "grow": "def grow(R, v):\n    R[-1].append(v)\n",
    "twice": "def twice(l, v):\n    push(l, v)\n    push(l, -v)\n",
}
MAKERS = {
    "numbers": "l = [1.0, 2.0, 3.0]",
    "arrays": "l = [x[0], x[1] * 2]",
    "rows": "l = [[1.0, x[0]] for _ in range(2)]",
    "shared": "r = [x[1], 2.0]\nl = [r, r]",
}
SNAPSHOTS = ["b = l", "t = l[:]", "t = tuple(l)", "S = [l, 1.0]", "t = list(l)", ""]


def draw(rng: random.Random) -> str:
    kind = rng.choice(list(MAKERS))
    fits = ["push", "pop", "twice", "put", "bump"] if kind in ("numbers", "arrays") else ["push", "pop", "cell",
                                                                                          "grow"]
    calls = [rng.choice(fits) for _ in range(rng.randint(1, 3))]
    lines = [HELPERS["push"]] if "twice" in calls else []
    lines += [HELPERS[c] for c in dict.fromkeys(calls) if not (c == "push" and "twice" in calls)]
    lines.append(MAKERS[kind])
    snap = rng.choice(SNAPSHOTS)
    if snap:
        lines.append(snap)
    for k, c in enumerate(calls):
        value = f"x[{k % 3}] * {k + 1}" if kind != "rows" or c in ("cell", "grow") else f"[x[{k % 3}], 1.0]"
        if c == "pop":
            lines.append("pop(l)")
        elif c == "bump":
            lines.append(f"z = bump(l, {value})")
        else:
            lines.append(f"{c}(l, {value})")
    reads = ["len(l)"]
    reads.append("l[0][0]" if kind in ("rows", "shared") else "l[0]")
    reads.append("(l[-1][0] if len(l[-1]) else 0.0)" if kind in ("rows", "shared") else "(l[-1] if l else 0.0)")
    if snap.startswith("b"):
        reads.append("len(b)")
    if snap.startswith("t"):
        reads.append("len(t) * 10")
        reads.append("(t[0][0] if len(t) else 0.0)" if kind in ("rows", "shared") else "(t[0] if len(t) else 0.0)")
    if snap.startswith("S"):
        reads.append("len(S[0]) * 100")
    lines.append(" + ".join(reads))
    return "\n".join(lines)


def python(text, x):
    *body, last = text.split("\n")
    env = {"np": np, "x": x.copy()}
    exec("\n".join(body), env)
    return np.asarray(eval(last, env), dtype=float)


def main():
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    tally = collections.Counter()
    for _ in range(count):
        text = draw(rng)
        try:
            want = python(text, X)
        except Exception as e:  # noqa: BLE001 - Python's own refusal, counted
            want = f"{type(e).__name__}: {e}"
        try:
            got = np.asarray(jacobi_cli.evaluate(text, {"x": X}), dtype=float)
            J = np.asarray(jacobi_cli.jacobian(text, {"x": X})["x"]).ravel()
        except errors.JacError as e:
            got = f"refused: {str(e).splitlines()[0][:200]}"
        if isinstance(want, str):
            tag = "both" if isinstance(got, str) else "ANSWERS-WHERE-PY-RAISES"
        elif isinstance(got, str):
            tag = "REF"
        elif not np.allclose(got, want, rtol=1e-12, atol=1e-14):
            tag = "WRONG"
        else:
            h = 1e-6
            fd = np.array([(python(text, X + h * e) - python(text, X - h * e)) / (2 * h) for e in np.eye(3)]).ravel()
            tag = "OK" if np.allclose(J, fd, rtol=1e-5, atol=1e-7) else "WRONG"
        tally[tag] += 1
        if tag not in ("OK", "both") or "-v" in sys.argv:
            print(f"{tag}: {text!r}\n   jac {got}\n   py  {want}")
    print(dict(tally), "of", count)


if __name__ == "__main__":
    main()
