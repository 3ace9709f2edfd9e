"""jac run as a CI pipeline uses it (ci15): a sweep run by hand, never as a test (it takes minutes).

Writes scratch suites into a temporary folder and checks, printing one line per check (ok / FAIL):

- the same outcomes (statuses, messages, errors) at --jobs 1, 2, 0 and in 1, 3 and 7 shards, whose union is
  the whole run, each case once;
- --json in failure modes: one object on stdout, valid against `jac schema run` or `error`, stderr without
  Python warnings or tracebacks;
- --junit parsed with xml.etree: counts that add up, failure vs error;
- stopping a run whose cases take minutes: SIGTERM, a SIGINT to jac alone, a closed pipe, SIGKILL; jac ends
  within seconds and leaves no worker;
- --timeout: a hanging case is a limit error, the others pass.

    python benchmarks/ci15_sweep.py [--jac "PYTHONPATH=. python -m jacobi_cli"]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

QUICK = ("sin(x)*y", "x**2 + y", "torch.dot(x, y)", "softmax(x, 0) * y", "log(x) * y")


def suite_text(n: int) -> str:
    out = ['name = "sweep"\n']
    for i in range(n):
        out.append(f'[[case]]\nname = "case {i:03d} {QUICK[i % 5]}"\nexpr = "{QUICK[i % 5]}"\n'
                   f'bindings = {{ x = ":4", y = ":4" }}\nseed = {i}\ncheck = true\n')
        if i % 37 == 5:
            out.append("value = 12345\n")
        if i % 53 == 7:
            out.append("[[case.vjp]]\nv = [1, 2]\n")
    return "".join(out)


# each case ~0.6 s (a check of a 30 x 30 matrix's Jacobian by differences)
MEDIUM = "".join(f'[[case]]\nname = "medium {i:02d}"\nexpr = "tanh(A @ x).sum() * x"\n'
                 f'bindings = {{ A = ":30x30", x = ":30" }}\nseed = {i}\ncheck = true\n' for i in range(60))
# two medium cases (the first runs in jac's own process, then the pool pays), then cases of minutes each
SLOW = "".join(
    f'[[case]]\nname = "quick {i}"\nexpr = "tanh(A @ x).sum() * x"\nbindings = {{ A = ":30x30", x = ":30" }}\n'
    f'check = true\n' for i in range(2)) + "".join(
    f'[[case]]\nname = "slow {i}"\nexpr = "tanh(A @ x)"\nbindings = {{ A = ":2000x2000", x = ":2000" }}\n'
    f'wrt = "x"\nseed = {i}\ncheck = true\n' for i in range(4))


class Sweep:
    def __init__(self, jac: list, folder: Path):
        self.jac, self.folder, self.failed = jac, folder, 0

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail and not ok else ''}", flush=True)

    def run(self, *args, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.jac, "run", *args], capture_output=True, text=True, cwd=self.folder,
                              timeout=kw.get("timeout", 600))

    def outcomes(self, *args) -> list:
        done = self.run("big.toml", "--json", *args)
        return [(c["name"], c["status"], json.dumps(c["expectations"]), json.dumps(c["error"]))
                for c in json.loads(done.stdout)["cases"]]

    def determinism(self) -> None:
        base = self.outcomes("--jobs", "1")
        for jobs in ("2", "0"):
            self.check(f"--jobs {jobs} gives --jobs 1's outcomes", self.outcomes("--jobs", jobs) == base)
        for n in (1, 3, 7):
            union = [c for k in range(1, n + 1) for c in self.outcomes("--shard", f"{k}/{n}")]
            self.check(f"{n} shards: every case once, same outcomes", sorted(union) == sorted(base))

    def json_modes(self) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        import jsonschema

        from jacobi_cli.cli import schema

        validators = {name: jsonschema.Draft202012Validator(schema.load(name)) for name in ("run", "error")}
        (self.folder / "adir").mkdir(exist_ok=True)
        (self.folder / "syntax.toml").write_text('[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 \n')
        (self.folder / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
        modes = ["big.toml", "syntax.toml", "missing.toml", "adir", "latin1.toml", "big.toml --junit nodir/j.xml",
                 "big.toml -k zzz", "big.toml --shard 0/2", "big.toml --max-memory 100", "big.toml --jobs -1",
                 "big.toml --timeout soon", "big.toml --junit adir"]
        for mode in modes:
            done = self.run(*shlex.split(mode), "--json")
            try:
                obj = json.loads(done.stdout)
                kind = "error" if "command" not in obj else "run"
                errors = list(validators[kind].iter_errors(obj))
                ok = not errors and "Traceback" not in done.stderr and "Warning" not in done.stderr
                self.check(f"--json {mode}: one {kind} object, exit {done.returncode}", ok, str(errors[:1]))
            except json.JSONDecodeError as err:
                self.check(f"--json {mode}", False, f"not one JSON object: {err}")

    def junit(self) -> None:
        done = self.run("big.toml", "--junit", "j.xml")
        suite = ET.parse(self.folder / "j.xml").getroot().find("testsuite")
        cases = suite.findall("testcase")
        failures = sum(c.find("failure") is not None for c in cases)
        errors = sum(c.find("error") is not None for c in cases)
        self.check("JUnit counts add up", (int(suite.get("tests")), int(suite.get("failures")),
                                           int(suite.get("errors"))) == (len(cases), failures, errors))
        self.check("JUnit: failures and errors both present, exit 2", failures > 0 and errors > 0
                   and done.returncode == 2)

    def stopping(self) -> None:
        for how in ("TERM", "INT to jac", "INT to the group", "pipe", "KILL"):
            suite = "medium.toml" if how == "pipe" else "slow.toml"
            proc = subprocess.Popen([*self.jac, "run", suite, "--jobs", "2"], cwd=self.folder,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            time.sleep(6)
            workers = [int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)],
                                                      capture_output=True, text=True).stdout.split()]
            start = time.monotonic()
            if how == "pipe":  # seen at the next case's line; before, every queued case ran first (30 s)
                proc.stdout.close()
            elif how == "TERM":
                proc.send_signal(signal.SIGTERM)
            elif how == "INT to jac":
                proc.send_signal(signal.SIGINT)
            elif how == "INT to the group":
                os.killpg(proc.pid, signal.SIGINT)
            elif how == "KILL":
                proc.kill()
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
            took = time.monotonic() - start
            time.sleep(1)
            left = [pid for pid in workers if _running(pid)]
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            limit = 10
            self.check(f"{how}: jac ended ({proc.returncode}) in {took:.1f} s, no worker left", not left
                       and took < limit, f"workers left: {left}")

    def timeout(self) -> None:
        done = self.run("slow.toml", "--timeout", "2", "-k", "slow 1", "-k", "slow 2", "--json", "-j", "1")
        cases = json.loads(done.stdout)["cases"]
        self.check("--timeout 2: the hanging cases are limit errors, exit 2", done.returncode == 2 and all(
            c["status"] == "error" and c["error"]["kind"] == "limit" for c in cases))


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fp:
            return fp.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jac", default=f"{sys.executable} -m jacobi_cli", help="the jac command line")
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sweep = Sweep(shlex.split(args.jac), Path(folder))
        (sweep.folder / "big.toml").write_text(suite_text(args.cases))
        (sweep.folder / "slow.toml").write_text(SLOW)
        (sweep.folder / "medium.toml").write_text(MEDIUM)
        sweep.determinism()
        sweep.json_modes()
        sweep.junit()
        sweep.timeout()
        sweep.stopping()
    print(f"{sweep.failed} check(s) failed")
    return 1 if sweep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
