"""A 1,000-case derivative suite, end to end: ``jac run`` against the same checks written as a
pytest file with ``torch.autograd.functional.jacobian`` (issue 16, item 3).

Both sides check the same expectations: each case's value and full Jacobian (rtol 1e-9) at
its bindings (E1-E6 of bench.py at n = 3..10, float64). The expectations are computed once
with PyTorch when the files are written. Each side is timed end to end as a user runs it
(a fresh process: imports, collection, every case), in rounds so that a busy spell of the
shared machine slows both alike. Run by hand, never as a test:

    python benchmarks/suite_bench.py                  # 1,000 cases, 3 rounds
    python benchmarks/suite_bench.py --cases 200 --rounds 1 --jac-cmd .venv/bin/jac
    python benchmarks/suite_bench.py --jac-before "/old/venv/bin/jac"   # two jacs in the same rounds

Run jac with its ``.pyc`` files compiled (``python -m compileall jacobi_cli``): where
``PYTHONDONTWRITEBYTECODE`` is set, every start would otherwise compile jac from source (~0.3-0.6 s),
while torch's site-packages are compiled at install.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EXPRESSIONS = {  # jac's text, and the same function in torch
    "E1": ("sin(x) * x**2 + exp(-x)", "torch.sin(x) * x**2 + torch.exp(-x)"),
    "E2": ("x @ A @ x", "x @ A @ x"),
    "E3": ("tanh(A @ x)", "torch.tanh(A @ x)"),
    "E4": ("sum(x * x)", "torch.sum(x * x)"),
    "E5": ("softmax(x)", "torch.softmax(x, 0)"),
    "E6": ("sum(tanh(A @ tanh(A @ x)))", "torch.sum(torch.tanh(A @ torch.tanh(A @ x)))"),
}


def make_cases(count: int, seed: int = 0) -> list:
    import torch

    rng = np.random.default_rng(seed)
    names = list(EXPRESSIONS)
    cases = []
    for i in range(count):
        case = names[i % len(names)]
        n = int(rng.integers(3, 11))
        x = rng.standard_normal(n)
        A = rng.standard_normal((n, n)) / np.sqrt(n)
        f = eval(f"lambda x, A: {EXPRESSIONS[case][1]}", {"torch": torch})  # noqa: S307 - our own table
        xt, At = torch.tensor(x), torch.tensor(A)
        value = f(xt, At).numpy()
        jac = torch.autograd.functional.jacobian(lambda x: f(x, At), xt).numpy()
        cases.append({"name": f"{case} #{i}", "case": case, "x": x, "A": A, "value": value, "jacobian": jac})
    return cases


def _toml_list(a) -> str:
    return json.dumps(np.asarray(a).tolist())


def write_jac_suite(cases: list, path: Path) -> None:
    lines = ['name = "suite benchmark"', "", "[defaults]", 'dtype = "float64"', "rtol = 1e-9", "atol = 1e-12", ""]
    for c in cases:
        expr = EXPRESSIONS[c["case"]][0]
        lines += ["[[case]]", f'name = "{c["name"]}"', f'expr = "{expr}"',
                  f'bindings = {{ x = {_toml_list(c["x"])}, A = {_toml_list(c["A"])} }}', 'wrt = ["x"]',
                  f'value = {_toml_list(c["value"])}', f'jacobian.x = {_toml_list(c["jacobian"])}', ""]
    path.write_text("\n".join(lines))


def write_pytest_file(cases: list, path: Path) -> None:
    data = path.with_suffix(".json")
    data.write_text(json.dumps([{k: (np.asarray(v).tolist() if k in ("x", "A", "value", "jacobian") else v)
                                 for k, v in c.items()} for c in cases]))
    functions = ",\n".join(f'    "{k}": lambda x, A: {t}' for k, (_, t) in EXPRESSIONS.items())
    path.write_text(f'''import json
import numpy as np
import pytest
import torch

torch.set_default_dtype(torch.float64)
CASES = json.load(open({str(data)!r}))
F = {{
{functions},
}}


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_case(c):
    x, A = torch.tensor(c["x"]), torch.tensor(c["A"])
    f = F[c["case"]]
    np.testing.assert_allclose(f(x, A).numpy(), c["value"], rtol=1e-9, atol=1e-12)
    jac = torch.autograd.functional.jacobian(lambda x: f(x, A), x)
    np.testing.assert_allclose(jac.numpy(), c["jacobian"], rtol=1e-9, atol=1e-12)
''')


def timed(cmd: list) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jac-cmd", default="jac")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest (with torch)")
    parser.add_argument("--jac-before", default=None, help="another jac command (an older checkout), timed in the "
                                                             "same rounds as 'jac run (before)'")
    args = parser.parse_args()
    cases = make_cases(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        suite, test = Path(tmp) / "suite.toml", Path(tmp) / "test_suite_torch.py"
        write_jac_suite(cases, suite)
        write_pytest_file(cases, test)
        commands = {"jac run": [*args.jac_cmd.split(), "run", str(suite)],
                    "pytest + torch.autograd.functional.jacobian": [args.python, "-m", "pytest", "-q", "-p",
                                                                    "no:cacheprovider", str(test)]}
        if args.jac_before:
            commands["jac run (before)"] = [*args.jac_before.split(), "run", str(suite)]
        times: dict = {k: [] for k in commands}
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                times[name].append(timed(cmd))
    jac = statistics.median(times["jac run"])
    print(f"{args.cases} cases, {args.rounds} rounds (median, min - max):")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name}: {med:.2f} s ({min(ts):.2f} - {max(ts):.2f}); jac is {med / jac:.2f} x faster")


if __name__ == "__main__":
    main()
