#!/usr/bin/env python3
"""Time full Jacobians and VJPs: jac against PyTorch, JAX and HIPS autograd.

Run by hand or in a nightly job, never as a test (see benchmarks/README.md):

    python benchmarks/bench.py --quick
    python benchmarks/bench.py --n 10,100,1000,3000 --memory --markdown results.md

Every peer is optional: a library that does not import is reported as "not installed", and jac itself
(`jacobi_cli.jacobian` / `jacobi_cli.vjp`, imported from this checkout) is skipped with the reason while
its Python API does not exist yet. Every answer is checked against a reference (jac's if available, else
PyTorch's, else autograd's) and a disagreement is printed as MISMATCH.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmark the jacobi_cli of this checkout

RTOL, ATOL = 1e-9, 1e-12
MAX_REPEAT = 100_000
BLOCKS = 20  # rounds of interleaved timing per problem (see interleaved)
SLOW_CALL = 1.0  # seconds: a tool whose first call takes longer is timed once more, not three times


# --- the suite ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    expr: str  # jac's expression, verbatim
    f: Callable  # the same function as f(ops, x, A), for any array library's ops namespace


CASES = [
    Case("E1", "sin(x) * x**2 + exp(-x)", lambda o, x, A: o.sin(x) * x**2 + o.exp(-x)),
    Case("E2", "x @ A @ x", lambda o, x, A: x @ A @ x),
    Case("E3", "tanh(A @ x)", lambda o, x, A: o.tanh(A @ x)),
    Case("E4", "sum(x * x)", lambda o, x, A: o.sum(x * x)),
    Case("E5", "softmax(x)", lambda o, x, A: o.softmax(x)),
    Case("E6", "sum(tanh(A @ tanh(A @ x)))", lambda o, x, A: o.sum(o.tanh(A @ o.tanh(A @ x)))),
]
MODES = ("jacobian", "vjp")


def softmax_from(xp):
    """Softmax from primitives, for libraries without one (shifted by the max, as they all do)."""
    def softmax(x):
        e = xp.exp(x - xp.max(x))
        return e / xp.sum(e)
    return softmax


NUMPY_OPS = SimpleNamespace(sin=np.sin, exp=np.exp, tanh=np.tanh, sum=np.sum, softmax=softmax_from(np))


@dataclass
class Problem:
    """One (case, n, mode): float64 inputs from default_rng(0) and the cotangent v (output-shaped)."""
    case: Case
    n: int
    mode: str
    x: np.ndarray
    A: np.ndarray
    v: np.ndarray

    @property
    def bindings(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "A": self.A} if "A" in self.case.expr else {"x": self.x}

    @property
    def jacobian_bytes(self) -> int:
        return self.v.size * self.n * 8


def make_inputs(n: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    cotangent = rng.standard_normal(n)
    return x, A, cotangent


def make_problem(case: Case, n: int, mode: str, inputs) -> Problem:
    x, A, cotangent = inputs
    y = np.asarray(case.f(NUMPY_OPS, x, A))
    v = cotangent.copy() if y.shape == (n,) else np.ones(y.shape)  # scalar output: v = 1
    return Problem(case, n, mode, x, A, v)


# --- the tools: one function per family -----------------------------------------------------------
# A family's setup turns a Problem into its own arguments; each tool maps those to a zero-argument
# callable that computes the answer once (forward pass included) and blocks until it is ready.

@dataclass
class Family:
    name: str
    setup: Callable[[Problem], tuple]
    tools: dict[str, dict[str, Callable]]  # mode -> tool name -> (*setup(problem)) -> thunk
    to_numpy: Callable = np.asarray
    error_prefix: str = "not installed"


def jac_family() -> Family:
    import jacobi_cli
    jacobian, vjp = jacobi_cli.jacobian, jacobi_cli.vjp  # AttributeError until the API exists
    return Family("jac", lambda p: (p.case.expr, p.bindings, p.v), {
        "jacobian": {
            "jac": lambda e, b, v: lambda: jacobian(e, b, wrt=["x"])["x"],  # a dense array, as the peers give
            # the Jacobian as jac keeps it (diagonal, sparse or dense); np.asarray makes it dense for the check
            "jac structured": lambda e, b, v: lambda: jacobian(e, b, wrt=["x"], structured=True)["x"],
        },
        "vjp": {"jac": lambda e, b, v: lambda: vjp(e, b, v, wrt=["x"])["x"]},
    }, error_prefix="jacobi_cli API not available")


def torch_family() -> Family:
    import torch
    ops = SimpleNamespace(sin=torch.sin, exp=torch.exp, tanh=torch.tanh, sum=torch.sum,
                          softmax=lambda x: torch.softmax(x, dim=-1))
    jacobian = torch.autograd.functional.jacobian

    def setup(p):
        x, A, v = map(torch.from_numpy, (p.x, p.A, p.v))
        return (lambda x: p.case.f(ops, x, A)), x, v

    def backward(f, x, v):
        x = x.detach().requires_grad_()

        def run():
            x.grad = None
            f(x).backward(gradient=v)
            return x.grad
        return run

    return Family("torch", setup, {
        "jacobian": {
            "torch jacobian": lambda f, x, v: lambda: jacobian(f, x, vectorize=False),
            "torch jacobian(vectorize)": lambda f, x, v: lambda: jacobian(f, x, vectorize=True),
            "torch.func.jacrev": lambda f, x, v: partial(torch.func.jacrev(f), x),
            "torch.func.jacfwd": lambda f, x, v: partial(torch.func.jacfwd(f), x),
        },
        "vjp": {
            "torch functional.vjp": lambda f, x, v: lambda: torch.autograd.functional.vjp(f, x, v)[1],
            "torch backward(v)": backward,
        },
    }, to_numpy=lambda t: t.detach().numpy())


def jax_family() -> Family:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    ops = SimpleNamespace(sin=jnp.sin, exp=jnp.exp, tanh=jnp.tanh, sum=jnp.sum, softmax=jax.nn.softmax)

    def setup(p):  # A is an argument, not a closure: jit would otherwise bake an n*n constant in
        x, A, v = map(jnp.asarray, (p.x, p.A, p.v))
        return (lambda x, A: p.case.f(ops, x, A)), x, A, v

    def vjp(f, x, A, v):
        return jax.vjp(lambda x: f(x, A), x)[1](v)[0]

    def blocked(g, *args):
        return lambda: g(*args).block_until_ready()

    return Family("jax", setup, {
        "jacobian": {
            "jax.jacrev": lambda f, x, A, v: blocked(jax.jacrev(f), x, A),
            "jax.jacfwd": lambda f, x, A, v: blocked(jax.jacfwd(f), x, A),
            "jax.jit(jacrev)": lambda f, x, A, v: blocked(jax.jit(jax.jacrev(f)), x, A),
            "jax.jit(jacfwd)": lambda f, x, A, v: blocked(jax.jit(jax.jacfwd(f)), x, A),
        },
        "vjp": {
            "jax.vjp": lambda f, x, A, v: blocked(partial(vjp, f), x, A, v),
            "jax.jit(vjp)": lambda f, x, A, v: blocked(jax.jit(partial(vjp, f)), x, A, v),
        },
    })


def autograd_family() -> Family:
    import autograd
    import autograd.numpy as anp
    ops = SimpleNamespace(sin=anp.sin, exp=anp.exp, tanh=anp.tanh, sum=anp.sum, softmax=softmax_from(anp))

    def setup(p):
        return (lambda x: p.case.f(ops, x, p.A)), p.x, p.v

    return Family("autograd", setup, {
        "jacobian": {"autograd.jacobian": lambda f, x, v: partial(autograd.jacobian(f), x)},
        "vjp": {"autograd make_vjp": lambda f, x, v: lambda: autograd.make_vjp(f)(x)[0](v)},
    })


FAMILIES = {"jac": jac_family, "torch": torch_family, "autograd": autograd_family, "jax": jax_family}
REFERENCE_ORDER = ("jac", "torch", "autograd")


def load_family(name: str) -> tuple[Family | None, str | None]:
    try:
        return FAMILIES[name](), None
    except Exception as exc:  # an absent or half-written library: report it, carry on
        prefix = "jacobi_cli API not available" if name == "jac" else "not installed"
        return None, f"{prefix}: {type(exc).__name__}: {exc}"


# --- timing ---------------------------------------------------------------------------------------

@dataclass
class Result:
    family: str
    tool: str
    problem: Problem
    times: list[float] = field(default_factory=list)
    first_call: float = math.nan  # includes tracing and compilation for the jit tools
    answer: np.ndarray | None = None
    error: str | None = None
    check: str = ""
    memory: dict | None = None
    one_call: bool = False  # the first call took over --max-call, so it is the only one timed

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan


def timed(thunk) -> float:
    t0 = time.perf_counter()
    thunk()
    return time.perf_counter() - t0


def start(thunk, opts) -> tuple:
    """(answer, first call's time, warm-up times, timed later?). The first call keeps the answer;
    warm-up calls follow until they have taken ~target/10 s. A first call over --max-call is the
    only one timed."""
    t0 = time.perf_counter()
    answer = thunk()
    first = time.perf_counter() - t0
    if first > opts.max_call and not opts.repeat:
        return answer, first, False
    warm = [first]
    while sum(warm) < opts.target / 10 and len(warm) < 1000:
        warm.append(timed(thunk))
    return answer, first, True


def interleaved(timers: list, opts) -> None:
    """Time the tools of one problem in rounds, a block of ~target/BLOCKS s of calls of each per
    round (the caches stay warm within a block), so that a busy spell of a shared machine slows
    all of them alike instead of whichever ran then. Each
    tool stops after `repeat` calls, or once its calls add up to `target` s (at least
    `min_repeat`, or one for a tool whose first call took over SLOW_CALL)."""
    def done(result: Result) -> bool:
        if opts.repeat:
            return len(result.times) >= opts.repeat
        least = 1 if result.first_call > SLOW_CALL else opts.min_repeat
        return len(result.times) >= least and (sum(result.times) >= opts.target or len(result.times) >= MAX_REPEAT)

    active = list(timers)
    while active:
        for result, thunk in active:
            block = time.perf_counter() + opts.target / BLOCKS
            result.times.append(timed(thunk))
            while time.perf_counter() < block and not done(result):
                result.times.append(timed(thunk))
        active = [(r, t) for r, t in active if not done(r)]


def start_tool(family: Family, tool: str, problem: Problem, opts) -> tuple:
    """(Result, thunk to time, or None when the result is complete: an error or one slow call)."""
    result = Result(family.name, tool, problem)
    try:
        thunk = family.tools[problem.mode][tool](*family.setup(problem))
        answer, result.first_call, more = start(thunk, opts)
        result.one_call = not more
        if not more:
            result.times = [result.first_call]
        result.answer = np.asarray(family.to_numpy(answer), dtype=np.float64)
        return result, thunk if more else None
    except Exception as exc:
        prefix = f"{family.error_prefix}: " if family.name == "jac" else ""
        result.error = f"{prefix}{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return result, None


def run_tools(pairs: list, problem: Problem, opts) -> list[Result]:
    """Every (family, tool) on ``problem``: first calls and warm-ups one tool after another, then
    the timed calls interleaved. A tool skipped as too slow comes as a finished Result."""
    results, timers = [], []
    for item in pairs:
        if isinstance(item, Result):
            results.append(item)
            continue
        result, thunk = start_tool(*item, problem, opts)
        results.append(result)
        if thunk is not None:
            timers.append((result, thunk))
    interleaved(timers, opts)
    return results


def check_answers(results: list[Result]) -> None:
    """Mark each result ok / MISMATCH against the first family of REFERENCE_ORDER that has an answer."""
    good = [r for r in results if r.answer is not None]
    ref = next((r for name in REFERENCE_ORDER for r in good if r.family == name), None)
    if ref is None:
        return
    for r in good:
        same = r.answer.shape == ref.answer.shape and np.allclose(r.answer, ref.answer, rtol=RTOL, atol=ATOL)
        if r is ref:
            r.check = "ref"
        elif same:
            r.check = "ok"
        else:
            r.check = "MISMATCH"
            print(f"!!! MISMATCH {r.problem.case.name} n={r.problem.n} {r.problem.mode}: {r.tool} vs "
                  f"reference {ref.tool}: {describe_difference(r.answer, ref.answer)}", flush=True)


def describe_difference(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shape {a.shape} != {b.shape}"
    return f"max |diff| = {np.max(np.abs(a - b)):.3g}, max |ref| = {np.max(np.abs(b)):.3g}"


# --- peak memory, one fresh subprocess per measurement -------------------------------------------

def reset_peak_rss() -> bool:
    """Linux: lower the high-water mark to the current RSS, so import-time peaks do not hide ours."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_kb() -> int:
    """The high-water mark of this process's RSS. On Linux VmHWM, not ru_maxrss: exec() carries the
    spawning process's peak into a child's ru_maxrss, so a worker started by a 1 GB benchmark would
    read at least 1 GB. ru_maxrss (the same mark, in kB on Linux) elsewhere."""
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_worker(spec: str) -> None:
    """Child process: imports and inputs first (the baseline), then one computation; prints JSON."""
    spec = json.loads(spec)
    family, error = load_family(spec["family"])
    if family is None:
        sys.exit(error)
    case = next(c for c in CASES if c.name == spec["case"])
    problem = make_problem(case, spec["n"], spec["mode"], make_inputs(spec["n"]))
    thunk = family.tools[problem.mode][spec["tool"]](*family.setup(problem))
    reset_peak_rss()
    before = peak_rss_kb()
    thunk()
    print(json.dumps({"peak_kb": peak_rss_kb() - before}))


def measure_memory(result: Result) -> dict:
    p = result.problem
    spec = json.dumps({"family": result.family, "tool": result.tool, "case": p.case.name, "n": p.n,
                       "mode": p.mode})
    proc = subprocess.run([sys.executable, __file__, "--memory-worker", spec], capture_output=True, text=True)
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    peak = json.loads(proc.stdout.strip().splitlines()[-1])["peak_kb"] * 1024
    return {"mb": peak / 2**20, "ratio": peak / p.jacobian_bytes}


# --- the run --------------------------------------------------------------------------------------

def run_case(case: Case, sizes, families: dict[str, Family], opts) -> list[list[Result]]:
    groups, seen = [], {}
    for n in sizes:
        inputs = make_inputs(n)
        for mode in MODES:
            problem = make_problem(case, n, mode, inputs)
            pairs = [too_slow(seen.get((mode, fam.name, tool)), fam, tool, problem, opts) or (fam, tool)
                     for fam in families.values() for tool in fam.tools[mode]]
            results = run_tools(pairs, problem, opts)
            seen.update({(mode, r.family, r.tool): r for r in results if r.times})
            check_answers(results)
            if opts.memory and n in opts.memory_sizes and mode == "jacobian":
                for r in results:
                    r.memory = measure_memory(r) if r.error is None else None
            groups.append(results)
            progress(f"  {case.name} n={n} {mode}: done")
    return groups


def too_slow(before: Result | None, family: Family, tool: str, problem: Problem, opts) -> Result | None:
    """A skipped Result when the tool's time at a smaller n, grown as n³, passes 2 x --max-call."""
    if before is None or opts.repeat:
        return None
    predicted = before.median * (problem.n / before.problem.n) ** 3
    if predicted <= 2 * opts.max_call:
        return None
    result = Result(family.name, tool, problem)
    result.error = (f"skipped: {fmt_time(before.median)} at n={before.problem.n}, about {fmt_time(predicted)} "
                    f"predicted (n³) here, over 2 x --max-call")
    return result


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- tables ---------------------------------------------------------------------------------------

def fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def fmt_ratio(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else "-"


def result_row(r: Result, jac: Result | None, with_memory: bool) -> list[str]:
    p = r.problem
    if r.error:
        cells = [str(p.n), p.mode, r.tool, "skipped", "", "", "", "", r.error]
    else:
        ratio = jac.median / r.median if jac and jac.times and r is not jac else math.nan
        note = result_note(r)
        cells = [str(p.n), p.mode, r.tool, fmt_time(r.median),
                 f"{fmt_time(min(r.times))} - {fmt_time(max(r.times))}", str(len(r.times)),
                 fmt_ratio(ratio), r.check, note]
    if with_memory:
        cells[-1:-1] = memory_cells(r.memory)
    return cells


def result_note(r: Result) -> str:
    notes = [f"first call {fmt_time(r.first_call)}"] if "jit" in r.tool or r.family == "jac" else []
    if r.one_call:
        notes.append("one call only: it took over --max-call")
    return "; ".join(notes)


def memory_cells(memory: dict | None) -> list[str]:
    if not memory:
        return ["", ""]
    if "error" in memory:
        return ["error", memory["error"][:40]]
    return [f"{memory['mb']:.1f}", f"{memory['ratio']:.3g}"]


def summary_row(results: list[Result], width: int) -> list[str]:
    jacs = [r for r in results if r.family == "jac" and r.times]
    peers = [r for r in results if r.family != "jac" and r.times]
    if not peers:
        text = "no peer ran"
    elif not jacs:
        text = "jac vs fastest peer: jac not available"
    else:
        best = min(peers, key=lambda r: r.median)
        text = f"vs fastest peer ({best.tool}): " + ", ".join(
            f"{jac.tool} {fmt_ratio(jac.median / best.median)}" for jac in jacs)
    return ["", "", text] + [""] * (width - 3)


def case_table(groups: list[list[Result]], with_memory: bool) -> tuple[list[str], list[list[str]]]:
    headers = ["n", "mode", "tool", "median", "min - max", "reps", "jac/peer", "check", "note"]
    if with_memory:
        headers[-1:-1] = ["peak MB", "peak/J bytes"]
    rows = []
    for results in groups:
        jac = next((r for r in results if r.family == "jac" and r.times), None)
        rows += [result_row(r, jac, with_memory) for r in results]
        rows.append(summary_row(results, len(headers)))
    return headers, rows


def render(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    if markdown:
        lines = [headers, ["---"] * len(headers)] + rows
        return "\n".join("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in lines)
    widths = [max(len(line[i]) for line in [headers] + rows) for i in range(len(headers))]
    fmt = lambda line: "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def case_title(case: Case) -> str:
    return f"{case.name}: {case.expr}"


# --- end-to-end CLI timing ------------------------------------------------------------------------

CLI_EXPR = "2 * torch.dot(x, y)"
CLI_BINDINGS = ["x=arange(4.0)", "y=[3.0, 1.0, 2.0, 5.0]"]
TORCH_ONE_LINER = (
    "import torch; f = lambda x, y: 2 * torch.dot(x, y); "
    "print(torch.autograd.functional.jacobian(f, (torch.arange(4.0, dtype=torch.float64), "
    "torch.tensor([3.0, 1.0, 2.0, 5.0], dtype=torch.float64))))")
JAX_ONE_LINER = (
    "import jax; jax.config.update('jax_enable_x64', True); import jax.numpy as jnp; "
    "f = lambda x, y: 2 * jnp.dot(x, y); "
    "print(jax.jacrev(f, argnums=(0, 1))(jnp.arange(4.0), jnp.array([3.0, 1.0, 2.0, 5.0])))")


def jac_python(jac_cmd: list[str]) -> str | None:
    """The interpreter behind the jac command: its first word if python, else the script's shebang."""
    exe = shutil.which(jac_cmd[0])
    if exe is None:
        return None
    if "python" in Path(exe).name:
        return exe
    try:
        first = Path(exe).read_bytes()[:200].split(b"\n")[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    return first[2:].strip().split()[0] if first.startswith("#!") and "python" in first else None


def importable(module: str) -> bool:
    """In this venv's interpreter, as the one-liners will run (a fresh process, not this one)."""
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def cli_commands(opts) -> list[tuple[str, list[str] | None, str]]:
    """(label, argv or None, why skipped) for every command timed end to end."""
    jac_cmd = shlex.split(opts.jac_cmd)
    jac_argv = jac_cmd + ["eval", CLI_EXPR] + CLI_BINDINGS if shutil.which(jac_cmd[0]) else None
    rows = [(f"jac eval ({opts.jac_cmd})", jac_argv, f"{jac_cmd[0]!r} not on PATH")]
    jac_py = opts.jac_python or jac_python(jac_cmd)
    if jac_py and os.path.abspath(jac_py) != os.path.abspath(sys.executable):  # venvs share a binary
        rows.append(("floor: jac's python -c 'import numpy'", [jac_py, "-c", "import numpy"], ""))
    torch_argv = [sys.executable, "-c", TORCH_ONE_LINER] if importable("torch") else None
    jax_argv = [sys.executable, "-c", JAX_ONE_LINER] if importable("jax") else None
    return rows + [
        ("torch one-liner (autograd.functional.jacobian)", torch_argv, "not installed"),
        ("jax one-liner (jax.jacrev)", jax_argv, "not installed"),
        ("floor: python -c 'import numpy'", [sys.executable, "-c", "import numpy"], ""),
    ]


def check_command(argv: list[str]) -> None:
    """One untimed run, which must succeed (it also warms the file cache)."""
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1][:120]}")


def time_commands(argvs: list[list[str]], runs: int) -> list[list[float]]:
    """``runs`` timed runs of each whole process, in rounds (one run of each command per
    round), so that a busy spell slows every command alike and the ratios hold."""
    times: list[list[float]] = [[] for _ in argvs]
    for _ in range(runs):
        for argv, out in zip(argvs, times):
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            out.append(time.perf_counter() - t0)
    return times


def cli_table(opts) -> tuple[list[str], list[list[str]]]:
    measured, ready = [], []
    for label, argv, why in cli_commands(opts):
        try:
            if argv:
                check_command(argv)
                ready.append((len(measured), argv))
            measured.append((label, None, why))
        except (RuntimeError, OSError) as exc:
            measured.append((label, None, str(exc)))
    for (i, _), times in zip(ready, time_commands([argv for _, argv in ready], opts.cli_runs)):
        measured[i] = (measured[i][0], times, "")
    progress("  CLI: done")
    jac = next((statistics.median(t) for label, t, _ in measured if label.startswith("jac") and t), None)
    rows = [cli_row(label, times, why, jac) for label, times, why in measured]
    return ["command", "median", "min - max", "runs", "jac/this", "note"], rows


def cli_row(label: str, times: list[float] | None, why: str, jac: float | None) -> list[str]:
    if not times:
        return [label, "skipped", "", "", "", why]
    med = statistics.median(times)
    ratio = fmt_ratio(jac / med) if jac and not label.startswith("jac") else ""
    spread = f"{fmt_time(min(times))} - {fmt_time(max(times))}"
    return [label, fmt_time(med), spread, str(len(times)), ratio, ""]


# --- machine description --------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_total() -> str:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in lines if line.startswith("MemTotal")).split()[1])
        return f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        return "unknown"


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def thread_counts(families: dict[str, Family]) -> list[str]:
    lines = [f"numpy BLAS threads: {blas_threads()}"]
    if "torch" in families:
        import torch
        lines.append(f"torch intra-op threads: {torch.get_num_threads()} (left at its default)")
    if "jax" in families:
        lines.append(f"jax/XLA CPU threads: XLA's default (one per core: {os.cpu_count()})")
    env = {k: v for k, v in os.environ.items() if k in THREAD_ENV}
    lines.append(f"thread environment: {env or 'none set'}")
    return lines


THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
              "OPENBLAS_L2_SIZE", "XLA_FLAGS")


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to record it)"
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return ", ".join(f"{p['internal_api']} {p.get('version')}: {p['num_threads']} "
                     f"({p.get('architecture', '?')} kernels)" for p in blas) or "no BLAS found"


def machine_lines(families: dict[str, Family]) -> list[str]:
    jac = sys.modules.get("jacobi_cli")
    lines = [f"CPU: {cpu_model()}, {os.cpu_count()} logical cores", f"memory: {memory_total()}",
             f"OS: {platform.platform()}", f"Python: {platform.python_version()} ({sys.executable})"]
    lines += [f"{d}: {version(d)}" for d in ("numpy", "torch", "jax", "jaxlib", "autograd")]
    where = getattr(jac, "__file__", None)
    lines.append(f"jacobi_cli: {getattr(jac, '__version__', '?')} ({where})" if where
                 else "jacobi_cli: not importable")
    return lines + thread_counts(families)


# --- main -----------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 10,100 only and fewer repeats")
    ap.add_argument("--n", help="comma-separated sizes (default 10,100,1000,3000)")
    ap.add_argument("--repeat", type=int, help="fixed number of timed calls (default: adaptive, ~0.2 s)")
    ap.add_argument("--max-call", type=float, default=30.0, metavar="SECONDS",
                    help="a tool whose first call takes longer is timed by that call alone (default 30)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the results as Markdown")
    ap.add_argument("--memory", action="store_true", help="peak RSS per case, one subprocess each (slow)")
    ap.add_argument("--memory-n", help="sizes whose full Jacobians get a peak RSS (default: the two largest)")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--tools", help=f"comma-separated families (default: {','.join(FAMILIES)})")
    ap.add_argument("--jac-cmd", default="jac", help="the jac command for the CLI timing (default: jac)")
    ap.add_argument("--jac-python", help="jac's interpreter, for its floor (default: from the command)")
    ap.add_argument("--cli-runs", type=int, help="runs per CLI command (default 10, --quick 5)")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI timing")
    ap.add_argument("--memory-worker", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    default_sizes = [10, 100] if opts.quick else [10, 100, 1000, 3000]
    opts.sizes = [int(s) for s in opts.n.split(",")] if opts.n else default_sizes
    opts.memory_sizes = [int(s) for s in opts.memory_n.split(",")] if opts.memory_n else sorted(opts.sizes)[-2:]
    opts.target, opts.min_repeat = (0.05, 3) if opts.quick else (0.2, 5)
    opts.cli_runs = opts.cli_runs or (5 if opts.quick else 10)
    return opts


def selected(names: str | None, known) -> list:
    if not names:
        return list(known)
    wanted = names.split(",")
    unknown = set(wanted) - set(known)
    if unknown:
        sys.exit(f"bench.py: unknown {sorted(unknown)}; known: {', '.join(known)}")
    return wanted


def load_families(names: list[str]) -> tuple[dict[str, Family], list[str]]:
    families, skipped = {}, []
    for name in names:
        family, error = load_family(name)
        if family:
            families[name] = family
        else:
            skipped.append(f"{name}: {error}")
    return families, skipped


def main(argv=None) -> None:
    opts = parse_args(argv)
    if opts.memory_worker:
        return memory_worker(opts.memory_worker)
    cases = [c for c in CASES if c.name in selected(opts.cases, [c.name for c in CASES])]
    families, skipped = load_families(selected(opts.tools, FAMILIES))
    report = Report(machine_lines(families), skipped)
    report.show_header()
    for case in cases:
        progress(f"{case.name} ...")
        report.add(case_title(case), *case_table(run_case(case, opts.sizes, families, opts), opts.memory))
    if not opts.no_cli:
        report.add("End to end: jac eval vs python -c one-liners", *cli_table(opts))
    if opts.markdown:
        Path(opts.markdown).write_text(report.markdown())
        print(f"\nwrote {opts.markdown}")
    if report.mismatches:
        sys.exit(f"\n!!! {report.mismatches} MISMATCH(ES): see the lines marked !!! above")


@dataclass
class Report:
    machine: list[str]
    skipped: list[str]
    sections: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    mismatches: int = 0

    def show_header(self) -> None:
        print("\n".join(self.machine))
        for line in self.skipped:
            print(f"skipped {line}")
        print(f"check: np.allclose(rtol={RTOL}, atol={ATOL}) against jac, else torch, else autograd; "
              "jac/peer < 1 means jac is faster", flush=True)

    def add(self, title: str, headers: list[str], rows: list[list[str]]) -> None:
        self.sections.append((title, headers, rows))
        self.mismatches += sum(row.count("MISMATCH") for row in rows)
        print(f"\n{title}\n{render(headers, rows)}", flush=True)

    def markdown(self) -> str:
        parts = ["# jac benchmarks", "", f"`python benchmarks/bench.py {' '.join(sys.argv[1:])}`", "",
                 "## Machine", ""] + [f"- {line}" for line in self.machine]
        parts += [f"- skipped {line}" for line in self.skipped]
        parts += ["", f"Answers checked with `np.allclose(rtol={RTOL}, atol={ATOL})` against jac, else "
                  "torch, else autograd. `jac/peer` < 1 means jac is faster. Timings are per call, forward "
                  "pass included; `first call` of the jit tools includes tracing and compilation; of jac, "
                  "the parse, the plan and the interpreter (jac compiles at the second call)."]
        for title, headers, rows in self.sections:
            parts += ["", f"## {title}", "", render(headers, rows, markdown=True)]
        return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
