"""A differential fuzz of Python's own control flow around NumPy arrays: random programs of assignments,
augmented assignments, aliases, lists (append, item writes, concatenation, aliases), Python ints, ``if`` /
``else`` on them, ``for`` over ``range`` with ``break`` / ``continue`` / ``else``, ``while`` with a counter,
``def`` with defaults and closures (read late, as Python reads them), ``lambda``, comprehensions and tuple
swaps, run by Python itself (NumPy) and by jac, compared.

    /work/venv/bin/python benchmarks/pyflow32_fuzz.py TREE [--n 1500] [--seed 0] [--show 10]

Each program is one of

- ``AGREE``: jac's value equals Python's (rtol 1e-12) and jac's Jacobian by ``x`` and ``y`` agrees with
  central differences of the program run by Python (h = 1e-6; to 1e-5 of the largest entry plus their
  rounding error, 1e-15 |f| / h);
- ``REFUSED``: jac raises a JacError (listed by message);
- ``SKIPPED``: Python raises (not a valid program), or its value is not a float array;
- ``WRONG``: a value, shape or derivative differs without a word (printed in full);
- ``CRASH``: jac raises anything but a JacError.

Exit 1 if any WRONG or CRASH. Run by hand, never as a test (see benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import warnings

import numpy as np

from fuzzkit import NamedLines

N = 4  # every array of a program has shape (N,)


class Program(NamedLines):
    """One random program: its lines, and the names it has bound so far by kind."""

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.arrays = ["x", "y"]  # names holding a float array of shape (N,)
        self.ints: list[str] = []  # names holding a Python int
        self.lists: list[str] = []  # names holding a list of arrays (at least two items, never shrunk)
        self.funcs: list[str] = []  # names of functions of one array (a second parameter defaulted)

    # --- expressions ---------------------------------------------------------------------

    def const(self) -> str:
        return self.rng.choice(["0.5", "2", "1.5", "-0.25", "3", "0.1"])

    def int_expr(self, depth: int = 0) -> str:
        r = self.rng
        choices = ["lit", "lit", "len"] + (["var"] * 3 if self.ints else []) + (["op"] if depth < 2 else [])
        kind = r.choice(choices)
        if kind == "lit":
            return str(r.randint(0, 5))
        if kind == "len":
            return f"len({r.choice(self.lists)})" if self.lists and r.random() < 0.5 else "x.shape[0]"
        if kind == "var":
            return r.choice(self.ints)
        a, b = self.int_expr(depth + 1), self.int_expr(depth + 1)
        return r.choice([f"({a} + {b})", f"({a} * {b})", f"({a} - {b})", f"({a} // 2)", f"({a} % 3)",
                         f"min({a}, {b})", f"max({a}, {b})", f"abs({a} - {b})"])

    def expr(self, depth: int = 0, loop: str | None = None) -> str:
        r = self.rng
        if depth >= 3 or r.random() < 0.25:
            leaf = r.choice(self.arrays)
            return leaf if r.random() < 0.8 else f"np.ones({N}) * {self.const()}"
        a = self.expr(depth + 1, loop)
        kind = r.randint(0, 19)
        if kind == 0:
            return f"np.sin({a})"
        if kind == 1:
            return f"np.tanh({a})"
        if kind == 2:
            return f"({a} * {self.const()})"
        if kind == 3:
            return f"({a} + {self.expr(depth + 1, loop)})"
        if kind == 4:
            return f"({a} - {self.expr(depth + 1, loop)})"
        if kind == 5:
            return f"({a} * {self.expr(depth + 1, loop)})"
        if kind == 6:
            return f"({a} / (1 + {a} * {a}))"
        if kind == 7:
            return f"{a}[::-1]"
        if kind == 8:
            return f"np.roll({a}, {r.randint(-2, 2)})"
        if kind == 9 and self.ints:
            return f"({a} * {r.choice(self.ints)})"
        if kind == 10:
            return f"(np.sum({a}) * {self.expr(depth + 1, loop)})"
        if kind == 11 and self.funcs:
            f = r.choice(self.funcs)
            return f"{f}({a})" if r.random() < 0.6 else f"{f}({a}, {self.const()})"
        if kind == 12 and self.lists:
            return f"{r.choice(self.lists)}[{r.choice(['0', '1', '-1', '-2'])}]"
        if kind == 13:
            return f"({a} if {self.int_expr()} > {self.int_expr()} else {self.expr(depth + 1, loop)})"
        if kind == 14:
            return f"np.cumsum({a})"
        if kind == 15:
            return f"({a} ** 2)"
        if kind == 16:
            return f"np.where({a} > 0, {a}, 0.5 * {a})"
        if kind == 17 and loop is not None:
            return f"({a} * {loop})"
        if kind == 18:
            return f"({a} @ {self.expr(depth + 1, loop)} * {a})"
        if kind == 19:
            return f"np.concatenate([{a}[2:], {a}[:2]])"
        return a

    # --- statements ----------------------------------------------------------------------

    def statement(self, indent: str = "", depth: int = 0, loop: str | None = None) -> None:
        r = self.rng
        kind = r.randint(0, 29)
        put = self.lines.append
        if kind <= 2 or (kind >= 9 and depth >= 2):
            name = r.choice(self.arrays[2:]) if len(self.arrays) > 2 and r.random() < 0.4 else self.fresh("a")
            put(f"{indent}{name} = {self.expr(0, loop)}")
            self.add(self.arrays, name)
        elif kind == 3 and len(self.arrays) > 2:
            name = r.choice(self.arrays[2:])
            put(f"{indent}{name} {r.choice(['+=', '-=', '*='])} {self.expr(1, loop)}")
        elif kind == 4:
            name = r.choice(self.ints) if self.ints and r.random() < 0.4 else self.fresh("k")
            op = "+=" if name in self.ints and r.random() < 0.5 else "="
            put(f"{indent}{name} {op} {self.int_expr()}")
            self.add(self.ints, name)
        elif kind == 5:
            name = self.fresh("L")
            put(f"{indent}{name} = [{self.expr(1, loop)}, {self.expr(1, loop)}]")
            self.add(self.lists, name)
        elif kind == 6 and self.lists:
            name = r.choice(self.lists)
            form = r.randint(0, 3)
            if form == 0:
                put(f"{indent}{name}.append({self.expr(1, loop)})")
            elif form == 1:
                put(f"{indent}{name}[{r.choice(['0', '1', '-1'])}] = {self.expr(1, loop)}")
            elif form == 2:
                alias = self.fresh("L")
                put(f"{indent}{alias} = {name}")
                self.add(self.lists, alias)
            else:
                put(f"{indent}{name} = {name} + [{self.expr(1, loop)}]")
        elif kind == 7 and len(self.arrays) > 3:
            a, b = r.sample(self.arrays[2:], 2)
            put(f"{indent}{a}, {b} = {b}, {a}")
        elif kind == 8:
            alias = self.fresh("a")
            put(f"{indent}{alias} = {r.choice(self.arrays)}")
            self.add(self.arrays, alias)
        elif kind == 9:
            put(f"{indent}if {self.int_expr()} {r.choice(['>', '<', '==', '>=', '!='])} {self.int_expr()}:")
            for _ in range(r.randint(1, 2)):
                self.statement(indent + "    ", depth + 1, loop)
            if r.random() < 0.6:
                put(f"{indent}else:")
                for _ in range(r.randint(1, 2)):
                    self.statement(indent + "    ", depth + 1, loop)
        elif kind == 10:
            i = self.fresh("i")
            put(f"{indent}for {i} in range({r.randint(0, 4)}):")
            if r.random() < 0.3:
                put(f"{indent}    if {i} {r.choice(['==', '>'])} {r.randint(0, 2)}:")
                put(f"{indent}        {r.choice(['break', 'continue'])}")
            for _ in range(r.randint(1, 2)):
                self.statement(indent + "    ", depth + 1, i)
            if r.random() < 0.2:
                put(f"{indent}else:")
                self.statement(indent + "    ", depth + 1, loop)
        elif kind == 11:
            k = self.fresh("k")
            a = self.fresh("a")
            put(f"{indent}{k} = 0")
            put(f"{indent}{a} = {self.expr(1, loop)}")
            put(f"{indent}while {k} < {r.randint(0, 3)}:")
            put(f"{indent}    {a} = {a} * 0.5 + {self.expr(2, k)}")
            put(f"{indent}    {k} += 1")
            self.add(self.ints, k)
            self.add(self.arrays, a)
        elif kind == 12 and depth == 0:
            f, p = self.fresh("f"), self.fresh("p")
            saved = self.arrays
            self.arrays = self.arrays + [p]  # the parameter, and the names outside (closures, read late)
            put(f"{indent}def {f}({p}, c={self.const()}):")
            if r.random() < 0.5:
                t = self.fresh("t")
                put(f"{indent}    {t} = {self.expr(1)}")
                self.arrays = self.arrays + [t]
            put(f"{indent}    return {self.expr(1)} * c")
            self.arrays = saved
            self.add(self.funcs, f)
        elif kind == 13 and depth == 0:
            f, p = self.fresh("g"), self.fresh("p")
            saved = self.arrays
            self.arrays = self.arrays + [p]
            body = self.expr(1)
            self.arrays = saved
            put(f"{indent}{f} = lambda {p}, c=1.0: {body} * c")
            self.add(self.funcs, f)
        elif kind == 14:
            name, i = self.fresh("a"), self.fresh("i")
            put(f"{indent}{name} = sum([{self.expr(1, i)} for {i} in range({r.randint(1, 3)})])")
            self.add(self.arrays, name)
        elif kind == 15 and self.lists:
            name = self.fresh("a")
            put(f"{indent}{name} = np.stack({r.choice(self.lists)}).sum(axis=0)")
            self.add(self.arrays, name)
        elif kind == 16:  # a copy, then writes into it through itself and through a view
            name, view = self.fresh("a"), self.fresh("v")
            put(f"{indent}{name} = {r.choice(self.arrays)}.copy()")
            form = r.randint(0, 3)
            if form == 0:
                put(f"{indent}{name}[{r.randint(0, N - 1)}] = {self.expr(1, loop)}[{r.randint(0, N - 1)}]")
            elif form == 1:
                put(f"{indent}{name}[1:3] = {self.expr(1, loop)}[:2]")
            elif form == 2:
                put(f"{indent}{view} = {name}[{r.choice(['::2', '1:', ':2', '::-1'])}]")
                put(f"{indent}{view} {r.choice(['+=', '*=', '-='])} {self.const()}")
            else:
                put(f"{indent}{view} = {name}")
                put(f"{indent}{view}[{r.randint(0, N - 1)}] = {self.const()}")
            self.add(self.arrays, name)
        elif kind == 17 and depth == 0:  # late binding of a loop variable in closures
            fs, i = self.fresh("fs"), self.fresh("i")
            put(f"{indent}{fs} = []")
            put(f"{indent}for {i} in range({r.randint(1, 3)}):")
            if r.random() < 0.5:
                put(f"{indent}    {fs}.append(lambda p, {i}={i}: p * {i} + {self.const()})")
            else:
                put(f"{indent}    {fs}.append(lambda p: p * {i} + {self.const()})")
            name = self.fresh("a")
            put(f"{indent}{name} = {fs}[{r.choice(['0', '-1'])}]({self.expr(1)})")
            self.add(self.arrays, name)
        elif kind == 18 and depth == 0:  # a function returning a tuple, with an early return
            f, p = self.fresh("f"), self.fresh("p")
            put(f"{indent}def {f}({p}, n=2):")
            put(f"{indent}    if n > {r.randint(0, 3)}:")
            put(f"{indent}        return {p} * n, {p}[::-1]")
            put(f"{indent}    return {p}, {p} + n")
            a, b = self.fresh("a"), self.fresh("a")
            put(f"{indent}{a}, {b} = {f}({self.expr(1, loop)}{r.choice(['', ', 1', ', 3', ', n=4'])})")
            self.add(self.arrays, a)
            self.add(self.arrays, b)
        elif kind == 19:  # a branch on the values
            name = self.fresh("a")
            put(f"{indent}if {self.expr(1, loop)}.sum() > 0:")
            put(f"{indent}    {name} = {self.expr(1, loop)}")
            put(f"{indent}else:")
            put(f"{indent}    {name} = {self.expr(1, loop)}")
            self.add(self.arrays, name)
        elif kind == 20 and self.lists:  # enumerate, zip and iterating a list
            name, i, v, w = self.fresh("a"), self.fresh("i"), self.fresh("v"), self.fresh("w")
            put(f"{indent}{name} = {r.choice(self.arrays)} * 0")
            form = r.randint(0, 2)
            if form == 0:
                put(f"{indent}for {i}, {v} in enumerate({r.choice(self.lists)}):")
                put(f"{indent}    {name} = {name} + {v} * ({i} + 1)")
            elif form == 1:
                put(f"{indent}for {v}, {w} in zip({r.choice(self.lists)}, {r.choice(self.lists)}):")
                put(f"{indent}    {name} = {name} + {v} * {w}")
            else:
                put(f"{indent}for {v} in {r.choice(self.lists)}[::-1]:")
                put(f"{indent}    {name} = {name} * 0.5 + {v}")
            self.add(self.arrays, name)
        elif kind == 21:  # Python ints: shifts, powers, divmod, augmented
            k = self.fresh("k")
            put(f"{indent}{k} = {r.choice(['2 ** 3', '1 << 2', '7 // 2', 'divmod(7, 3)[0]', '-7 % 3', 'abs(-2)', 'int(2.7)', 'round(2.5)', 'len(range(1, 5, 2))', '(3 > 2) + 1'])}")
            if r.random() < 0.5:
                put(f"{indent}{k} {r.choice(['+=', '*=', '//=', '-=', '%='])} {r.randint(1, 3)}")
            self.add(self.ints, k)
        elif kind == 22:  # a matrix made in the text, iterated by rows, indexed and reduced
            m, row = self.fresh("m"), self.fresh("r")
            put(f"{indent}{m} = np.stack([{self.expr(1, loop)}, {self.expr(1, loop)}, {self.expr(1, loop)}])")
            name = self.fresh("a")
            form = r.randint(0, 3)
            if form == 0:
                put(f"{indent}{name} = {m}[0] * 0")
                put(f"{indent}for {row} in {m}:")
                put(f"{indent}    {name} = {name} + np.tanh({row})")
            elif form == 1:
                put(f"{indent}{name} = {m}.sum(axis=0) + {m}[:, {r.randint(0, N - 1)}].sum() + {m}.T @ {m}[{r.randint(0, 2)}]")
            elif form == 2:
                put(f"{indent}{name} = ({m} @ {m}.T).sum() * {m}[-1] + {m}.max(axis=0)")
            else:
                put(f"{indent}{name} = {m}.reshape(-1)[{r.randint(0, 3)}::3][:{N}] * np.ones({N})")
            self.add(self.arrays, name)
        elif kind == 23 and len(self.arrays) > 2:  # an augmented write into an item of a copy
            name = self.fresh("a")
            put(f"{indent}{name} = {r.choice(self.arrays)} + 0")
            put(f"{indent}{name}[{r.randint(0, N - 1)}] {r.choice(['+=', '*=', '-='])} {self.expr(1, loop)}[0]")
            self.add(self.arrays, name)
        elif kind == 24:  # a dict of arrays
            d, name = self.fresh("d"), self.fresh("a")
            put(f"{indent}{d} = {{'u': {self.expr(1, loop)}, 'w': {self.expr(1, loop)}}}")
            put(f"{indent}{d}['u'] = {d}['u'] * {self.const()} + {d}.get('z', {self.const()})")
            put(f"{indent}{name} = sum({d}.values()) + {d}['w']")
            self.add(self.arrays, name)
        elif kind == 25 and depth == 0:  # a nested function closing over a name rebound after it is made
            f, g, p, q = self.fresh("f"), self.fresh("g"), self.fresh("p"), self.fresh("q")
            put(f"{indent}def {f}({p}):")
            put(f"{indent}    def {g}({q}):")
            put(f"{indent}        return {q} * {p}")
            put(f"{indent}    return {g}")
            name = self.fresh("a")
            put(f"{indent}{name} = {f}({self.expr(1, loop)})({self.expr(1, loop)})")
            self.add(self.arrays, name)
        elif kind == 26:  # a Python number accumulating arrays
            name, i = self.fresh("s"), self.fresh("i")
            put(f"{indent}{name} = {r.choice(['0', '0.0', '1', 'np.float64(0)'])}")
            put(f"{indent}for {i} in range({r.randint(1, 3)}):")
            put(f"{indent}    {name} {r.choice(['+=', '-=', '*='])} {self.expr(1, i)}")
            self.add(self.arrays, name)
        elif kind == 27:  # an empty list grown in a loop
            name, i, out = self.fresh("L"), self.fresh("i"), self.fresh("a")
            put(f"{indent}{name} = []")
            put(f"{indent}for {i} in range({r.randint(1, 3)}):")
            item = self.expr(1, i)
            put(f"{indent}    " + r.choice([f"{name} += [{item}]", f"{name}.append({item})", f"{name} = {name} + [{item}]"]))
            put(f"{indent}{out} = {r.choice(['sum(' + name + ')', 'np.stack(' + name + ').sum(axis=0)', name + '[-1]'])}")
            self.add(self.arrays, out)
        elif kind == 28 and depth == 0:  # a mutable default, taken once or given
            f, p, out = self.fresh("f"), self.fresh("p"), self.fresh("a")
            put(f"{indent}def {f}({p}, acc=[]):")
            put(f"{indent}    acc.append({p})")
            put(f"{indent}    return sum(acc)")
            put(f"{indent}{out} = {f}({self.expr(1)}){r.choice(['', f' + {f}({self.expr(1)}, [x])'])}")
            self.add(self.arrays, out)
        else:
            name = self.fresh("a")
            put(f"{indent}{name} = {self.expr(0, loop)}")
            self.add(self.arrays, name)


def draw(rng: random.Random) -> str:
    program = Program(rng)
    for _ in range(rng.randint(2, 7)):
        program.statement()
    last = program.arrays[-3:] if len(program.arrays) > 2 else ["x"]
    program.lines.append(" + ".join(f"{rng.choice(['1', '0.5', '2'])} * {name}" for name in last))
    return "\n".join(program.lines)


def python_value(text: str, x: np.ndarray, y: np.ndarray):
    """The value of ``text`` run by Python (its last line an expression), or None when Python raises."""
    *body, last = text.split("\n")
    env = {"np": np, "x": x.copy(), "y": y.copy()}
    try:
        with np.errstate(all="ignore"):
            exec("\n".join(body), env)
            value = eval(last, env)
    except Exception:  # noqa: BLE001 - not a valid program: skipped
        return None
    value = np.asarray(value)
    return value if value.dtype.kind == "f" else None


def central(text: str, x: np.ndarray, y: np.ndarray, name: str, h: float = 1e-6):
    base = {"x": x, "y": y}
    cols = []
    for j in range(N):
        up, down = {k: v.copy() for k, v in base.items()}, {k: v.copy() for k, v in base.items()}
        up[name][j] += h
        down[name][j] -= h
        fu, fd = python_value(text, up["x"], up["y"]), python_value(text, down["x"], down["y"])
        if fu is None or fd is None:
            return None
        cols.append((fu - fd) / (2 * h))
    return np.stack(cols, axis=-1)


def run_one(text: str, jac, errors, rng: np.random.Generator) -> tuple:
    x, y = rng.standard_normal(N), rng.standard_normal(N)
    want = python_value(text, x, y)
    if want is None or not np.all(np.isfinite(want)):
        return "SKIPPED", ""
    try:
        got = np.asarray(jac.evaluate(text, {"x": x.copy(), "y": y.copy()}))
        J = jac.jacobian(text, {"x": x.copy(), "y": y.copy()})
    except errors.JacError as err:
        return "REFUSED", str(err).split("\n")[0][:120]
    except Exception as err:  # noqa: BLE001
        return "CRASH", f"{type(err).__name__}: {err}"
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(want).max())):
        return "WRONG", f"value: jac {got!r} vs Python {want!r}"
    for name in ("x", "y"):
        fd = central(text, x, y, name)
        if fd is None:
            continue
        mine = np.asarray(J[name]) if name in J else np.zeros(want.shape + (N,))
        # central differences' own error: truncation (relative to the derivatives) and rounding (eps |f| / h)
        tolerance = 1e-5 * max(1.0, np.abs(fd).max()) + 1e-15 * max(1.0, np.abs(want).max()) / 1e-6
        if mine.shape == fd.shape and np.abs(mine).max() * 1e-6 > 0.1:  # sin(1e9 x): h is no small step
            continue
        if mine.shape != fd.shape or np.abs(mine - fd).max() > tolerance:
            return "WRONG", f"d/d{name}: jac {mine!r} vs central differences {fd!r}"
    return "AGREE", ""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=10)
    args = ap.parse_args()
    sys.path.insert(0, args.tree)
    import jacobi_cli
    from jacobi_cli import errors

    warnings.simplefilter("ignore")  # SyntaxWarning of a drawn program Python then refuses
    start = time.time()
    counts, refusals, shown = collections.Counter(), collections.Counter(), collections.Counter()
    for k in range(args.n):
        text = draw(random.Random(args.seed * 1_000_003 + k))
        status, detail = run_one(text, jacobi_cli, errors, np.random.default_rng(args.seed * 1_000_003 + k))
        counts[status] += 1
        if status == "REFUSED":
            refusals[detail[:70]] += 1
        elif status in ("WRONG", "CRASH") and shown[status] < args.show:
            shown[status] += 1
            print(f"{status} (program {k})\n{text}\n  {detail}\n")
    print("top refusals:")
    for message, count in refusals.most_common(12):
        print(f"  {count:5d}  {message}")
    print(f"{args.n} programs (seed {args.seed}, {time.time() - start:.0f} s): " +
          ", ".join(f"{s} {counts[s]}" for s in ("AGREE", "REFUSED", "SKIPPED", "WRONG", "CRASH")))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
