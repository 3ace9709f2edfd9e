"""Every option of every command, as a newcomer and as a script (session 39).

For each command `jac --help` lists and each option it takes (read from the typer commands, so a new
option is probed the day it exists), run good values and each kind of bad value -- wrong type, out of
range, empty, unicode, huge, negative zero, NaN/inf, an unknown choice, a value given to a flag, a
missing value, the option given twice, options that conflict -- with and without --json, in-process
through ``entry.main`` (the fast paths of eval/graph/run included), and check:

- the exit code: 0 for a good value, 2 for a bad one (never 1, which means a failed check, never 70);
- one ``jac: error (KIND): ...`` line on stderr, no traceback; with --json one object on stdout with
  exactly the documented keys (``kind``, ``message``, ``position``, and ``value`` where a caret is);
- the message names the option (as typed) and, for a refusal of the option's own value, the value;
- the same kind for the same mistake across options and commands: an option's value the option cannot
  take is ``usage``; a name that names no input is ``name``; a VALUE (--v, --tangent x=, --at x=) is read
  as a binding's, with a binding's kinds; the file system saying no is ``io``;
- help matches behaviour: every choice --help lists is accepted, a documented default given explicitly
  prints what leaving it out prints, and every flag changes what is printed (or is refused where it
  would change nothing).

    (ulimit -v 6000000; PYTHONPATH=. python benchmarks/options39_probe.py [--verbose] [--part K/N])

``--part K/N`` probes the K-th of N slices of the commands (the conflicts at the last); "the same mistake has one
kind" is then checked within the part. ``--verbose`` prints each failure as it is found.

Prints counts per check and each failure; exit 1 if any check failed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import math
import os
import re
import sys
import tempfile

import typer

from jacobi_cli.cli import entry
from jacobi_cli.cli.app import app
from jacobi_cli.cli.completion import CHOICES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part)

GROUP = typer.main.get_command(app)
COMMANDS = GROUP.commands
SUITE = '[[case]]\nname = "square"\nexpr = "x**2"\nbindings = { x = "3" }\nvalue = 9\n'
# positional arguments and the options each command needs to succeed
BASE = {
    "eval": (["sin(x)", "x=[1, 2]"], {}),
    "vjp": (["sin(x)", "x=[1, 2]"], {"--v": "ones"}),
    "jvp": (["sin(x)", "x=[1, 2]"], {"--tangent": "x=ones"}),
    "hessian": (["sin(x)", "x=[1, 2]"], {}),
    "derivative": (["sin(x)", "x=[1, 2]"], {}),
    "shape": (["A @ x", "A:2x3", "x:3"], {}),
    "diff": (["x**2"], {"--wrt": "x"}),
    "check": (["sin(x)", "x=[1, 2]"], {}),
    "graph": (["sum(sin(x))", "x=[1, 2]"], {"--backward": None}),
    "plot": (["sin(x)", "x=1"], {"--out": "p.png"}),
    "run": (["suite.toml"], {}),
}
# good values of each option ((command, option) first, then option)
GOOD = {
    "--wrt": ["x"], "--dtype": ["float64", "float32"], "--seed": ["0", "7", "-0", str(10**30)],
    "--layout": ["array", "numerator"], ("eval", "--out"): ["J.npy", "J.npz", "J.json", "J.NPZ"],
    ("graph", "--out"): ["g.dot", "g.gv"], ("plot", "--out"): ["p.png", "p.svg"], "--plot": ["h.png", "h.svg"],
    "--mode": ["auto", "forward", "reverse"], "--max-memory": ["1G", "50%", "512M", "1.5GiB", "100000000"],
    "--batch": [], "--timeout": ["5", "0", "0.5"], "--v": ["ones", "[1, 2]"], ("graph", "--v"): ["ones", "3"],
    "--tangent": ["x=ones", "x=[1, 0]"], "--order": ["1", "2", "3"], "--at": ["x=1", "x=-0.5"],
    "--method": ["central", "richardson"], "--rtol": ["1e-3", "0"], "--atol": ["0", "1e-6"],
    "--max-nodes": ["1", "5", "200"], "--range": ["0:1", "-1:3"], "-k": ["square", "SQU"],
    "--shard": ["1/1"], "--jobs": ["1", "0"], "--junit": ["r.xml"],
}
CHOICE, INT, FLOAT, SIZE, FILE, SYNTAX, NAME, VALUE, FREE = ("choice", "integer", "number", "size", "file",
                                                                 "syntax", "name", "value", "free")
TYPES = {"--dtype": CHOICE, "--layout": CHOICE, "--mode": CHOICE, "--method": CHOICE, "--seed": INT,
         "--order": INT, "--max-nodes": INT, "--jobs": INT, "--rtol": FLOAT, "--atol": FLOAT, "--timeout": FLOAT,
         "--max-memory": SIZE, "--out": FILE, "--plot": FILE, "--junit": FILE, "--range": SYNTAX,
         "--shard": SYNTAX, "--batch": NAME, "--wrt": NAME, "--v": VALUE, "--tangent": SYNTAX, "--at": SYNTAX,
         "-k": FREE}
# bad values per type: (label, value); every one must be refused with kind usage (the option's own value)
BAD = {
    CHOICE: [("unknown", "abc"), ("empty", ""), ("unicode", "ü∂"), ("case", "FLOAT32"), ("spaces", " array"),
             ("number", "1")],
    INT: [("word", "abc"), ("empty", ""), ("fraction", "1.5"), ("nan", "nan"), ("inf", "inf"), ("huge float", "1e309"),
          ("unicode", "ü∂"), ("negative", "-1"), ("hex", "0x2")],
    FLOAT: [("word", "abc"), ("empty", ""), ("nan", "nan"), ("negative", "-1"), ("unicode", "ü∂"),
            ("unit", "1s")],
    SIZE: [("word", "abc"), ("empty", ""), ("negative", "-1"), ("zero", "0"), ("negative zero", "-0"),
           ("nan", "nan"), ("inf", "inf"), ("huge", "1e309"), ("unicode", "ü∂"), ("percent", "200%"),
           ("unit", "1X")],
    FILE: [("empty", ""), ("dash", "-")],
    SYNTAX: [("word", "abc"), ("empty", ""), ("unicode", "ü∂"), ("number", "1")],
    NAME: [("empty", ""), ("spaces", " x")],
    FREE: [],
    VALUE: [],
}
# per option, values out of its range (usage too)
RANGE = {"--order": ["0", "-0", "33", str(2**63)], "--max-nodes": ["0", "-5"], "--jobs": ["-1"],
         "--rtol": ["inf", "1e309"], "--atol": ["inf", "1e309"], "--timeout": ["-1", "-inf"],
         "--shard": ["0/2", "3/2", "1/0"], "--range": ["3:1", "1:1", "nan:1", "0:inf"],
         "--tangent": ["=1"], "--at": ["=1"], "--batch": ["x:a", "x:1.5", ":0"]}
# values that are well formed but do not fit the input they name: that input's kind (as --v of the wrong shape)
MISFIT = {"--batch": [("x:5", "shape"), ("x:-9", "shape")], "--v": [("", "value")],
          "--tangent": [("x=", "value")], "--at": []}
# suffixes an output option does not write (usage: the option's value)
SUFFIX = {("eval", "--out"): ["J.txt", "J"], ("eval", "--plot"): ["h.pdf"], ("graph", "--out"): ["g.png"],
          ("plot", "--out"): ["p.jpg"]}
# the kind of a value that names no input, or a VALUE read as a binding's
NAMED = {"--wrt": [("zz", "name"), ("ü∂", "name"), ("-1", "name")], "--batch": [("zz", "name"), ("ü∂", "name"), ("-1", "name")],
         "--tangent": [("zz=1", "name")], "--at": [("zz=1", "name"), ("1x=2", "name")]}  # as a binding 1x=2
AS_VALUE = {"--v": [("[1,", "parse"), ("zz", "name"), ("[1, 2, 3]", "shape")],
            "--tangent": [("x=[1,", "parse"), ("x=zz", "name"), ("x=[1, 2, 3]", "shape")],
            "--at": [("x=[1,", "parse"), ("x=zz", "name")]}
# options that conflict: (args, expected kinds, words the message must hold)
CONFLICTS = [
    (["graph", "sum(sin(x))", "x=[1, 2]", "--v", "3"], {"usage"}, ["--v", "--backward"]),
    (["graph", "sin(x)", "x=[1, 2]", "--dot", "--json"], {"usage"}, ["--dot", "--json"]),
    (["eval", "sin(x)", "x=[1, 2]", "--sparse"], {"usage"}, ["--sparse", "--json"]),  # (never with --json)
    (["derivative", "x * y", "x=1", "y=2"], {"usage"}, ["--wrt"]),
    (["vjp", "sin(x)", "x=[1, 2]", "--v", "ones", "--v", "ones"], {"usage"}, ["--v"]),
    (["jvp", "sin(x)", "x=[1, 2]", "--tangent", "x=ones", "--tangent", "x=ones"], {"usage"}, ["--tangent x", "twice"]),
    (["jvp", "x * y", "x=2", "y=3", "--tangent", "y=1", "--wrt", "x"], {"name", "usage"}, ["--tangent y", "--wrt"]),
    (["eval", "sin(x)", "x=[1, 2]", "--plot", "h.png", "--batch", "x"], {"usage", "shape"}, ["--plot"]),
    (["check", "sin(x)", "x=[1, 2]", "--limit"], {"usage", "shape"}, ["--limit"]),
    (["eval", "x * 2", "x=@x.json", "--out", "x.json"], {"usage"}, ["--out", "x.json"]),
    (["eval", "x * y", "x=[1, 2]", "y=[3, 4]", "--out", "J2.npy"], {"usage", "io"}, [".npy"]),
    (["vjp", "sin(x)", "x=[1, 2]"], {"value", "usage"}, ["--v"]),
    (["jvp", "sin(x)", "x=[1, 2]"], {"usage"}, ["--tangent"]),
    (["plot", "sin(x)", "x=1"], {"usage"}, ["--out"]),
]


def run(args: list) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(list(args))
    return code, out.getvalue(), err.getvalue()


def options(command: str) -> list:
    return [p for p in COMMANDS[command].params if p.param_type_name == "option" and p.name != "help"]


def line(command: str, option: str | None, values: list, *, as_json: bool = False, drop: tuple = ()) -> list:
    positional, kept = BASE[command]
    args = [command] + (["--json"] if as_json else [])
    for name, value in kept.items():
        if name != option and name not in drop:
            args += [name] if value is None else [name, value]
    for value in values:
        args += [option] if value is None else [f"{option}={value}"] if value.startswith("-") or not value \
            else [option, value]
    return args + ["--", *positional]


class Probe:
    def __init__(self, verbose: bool):
        self.counts = collections.Counter()
        self.failures: list = []
        self.kinds = collections.defaultdict(set)  # mistake -> {(kind, command option)}
        self.pairs = set()
        self.verbose = verbose

    def fail(self, check: str, args: list, why: str) -> None:
        self.failures.append(f"[{check}] jac {' '.join(map(repr, args))}: {why}")
        if self.verbose:  # as it is found: a run cut short still shows it
            print("FAIL  " + self.failures[-1][:500], flush=True)

    def refused(self, check: str, args: list, kinds: set, words=(), option: str | None = None,
                value: str | None = None, mistake: str | None = None, json_too: bool = True) -> None:
        """Run ``args`` with and without --json; both must be one clear refusal of a kind in ``kinds``."""
        for as_json in (False, True) if json_too else (False,):
            line_args = args[:1] + (["--json"] if as_json else []) + args[1:]
            self.counts["runs"] += 1
            self.counts[f"refusals checked ({check})"] += 1
            code, out, err = run(line_args)
            if "Traceback" in out + err or "bug in jac" in err:
                self.fail(check, line_args, "a traceback / internal error: " + err[-300:])
                continue
            if code != 2:
                self.fail(check, line_args, f"exit {code}, not 2: {err[-200:]!r}")
                continue
            messages = [m for m in err.splitlines() if m.startswith("jac: ")]
            if len(messages) != 1 or not messages[0].startswith("jac: error ("):
                self.fail(check, line_args, f"not one 'jac: error' line: {err!r}")
                continue
            kind = messages[0][len("jac: error ("):].split(")", 1)[0]
            message = messages[0].split("): ", 1)[1]
            if as_json:
                try:
                    error = json.loads(out)["error"]
                except (ValueError, KeyError, TypeError):
                    self.fail(check, line_args, f"--json: not one JSON error object: {out[:200]!r}")
                    continue
                keys = set(error)
                if not {"kind", "message", "position"} <= keys <= {"kind", "message", "position", "value"}:
                    self.fail(check, line_args, f"--json: keys {sorted(keys)}")
                if error.get("kind") != kind or not message.startswith(error.get("message", "\0")[:60]):
                    self.fail(check, line_args, f"--json says {error.get('kind')!r}, stderr {kind!r}")
            if kind not in kinds:
                self.fail(check, line_args, f"kind {kind!r}, expected {sorted(kinds)}: {message}")
            if mistake is not None:
                self.kinds[mistake].add((kind, f"{args[0]} {option}"))
            if option is not None and option not in message and option.lstrip("-") not in message:
                self.fail(check, line_args, f"the message does not name {option}: {message}")
            if value is not None and not _names_value(message, value):
                self.fail(check, line_args, f"the message does not name the value {value!r}: {message}")
            for word in words:
                if word not in message:
                    self.fail(check, line_args, f"the message lacks {word!r}: {message}")

    def accepted(self, check: str, args: list) -> str | None:
        self.counts["runs"] += 1
        self.counts[f"accepted checked ({check})"] += 1
        code, out, err = run(args)
        if code != 0 or "Traceback" in err:
            self.fail(check, args, f"exit {code} for a good value: {err[-300:]!r}")
            return None
        return out


def _names_value(message: str, value: str) -> bool:
    """The message shows the value as typed, quoted, or as the number it parses to (-0 is 0, 1e309 inf)."""
    if value == "":
        return "''" in message or "empty" in message or "needs a value" in message or "no value" in message
    shown = {value, repr(value), value.strip()}
    with contextlib.suppress(ValueError):
        number = float(value)
        shown |= {repr(number), str(number), str(int(number)) if math.isfinite(number) and number == int(number)
                  else str(number)}
    return any(form in message for form in shown)


def commands_and_last(argv=None) -> tuple:
    """(the --verbose flag, the commands of this ``--part K/N`` (fuzzkit's), whether it is the last part: the checks
    that are no command's run there once)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--verbose", action="store_true", help="print each failure as it is found and each command done")
    fuzzkit.add_part_flags(ap, verbose=False)
    a = ap.parse_args(argv)
    commands = fuzzkit.part_of(list(BASE), a.part, a.sample)
    return a.verbose, commands, commands[-1:] == list(BASE)[-1:]


def main() -> int:
    verbose, commands, last = commands_and_last()
    probe = Probe(verbose)
    os.chdir(tempfile.mkdtemp(prefix="options39-"))
    with open("suite.toml", "w") as f:
        f.write(SUITE)
    with open("x.json", "w") as f:
        f.write("[1, 2]")
    os.environ["COLUMNS"] = "100"
    for command in commands:
        probe.accepted("base line", line(command, None, []))
        for param in options(command):
            option = param.opts[0]
            probe.pairs.add((command, option))
            if param.is_flag:
                flag_checks(probe, command, option)
                continue
            value_checks(probe, command, option, param)
        if verbose:
            print(f"done  {command}: {probe.counts['runs']} runs, {len(probe.failures)} failures so far", flush=True)
    if last:
        for args, kinds, words in CONFLICTS:
            probe.refused("conflicting options", args, kinds, words, json_too="--sparse" not in args)
    unknown_options(probe, commands)
    report(probe)
    return 1 if probe.failures else 0


def value_checks(probe: Probe, command: str, option: str, param) -> None:
    kind = TYPES.get(option, FREE)
    goods = GOOD.get((command, option), GOOD.get(option, []))
    for value in goods:
        for as_json in (False, True):
            probe.accepted("good value", line(command, option, [value], as_json=as_json))
    for label, value in BAD[kind]:
        if kind == CHOICE and value in CHOICES.get(option, ()):
            continue
        probe.refused(f"bad {kind}: {label}", line(command, option, [value]), {"usage"}, option=option,
                      value=value, mistake=f"{kind}: {label}")
    for value in RANGE.get(option, []):
        probe.refused("out of range", line(command, option, [value]), {"usage"}, option=option, value=value,
                      mistake="out of range")
    for value in SUFFIX.get((command, option), []):
        probe.refused("a suffix the option does not write", line(command, option, [value]), {"usage"},
                      option=option, value=value, mistake="suffix")
    if kind == FILE:
        probe.refused("a folder that does not exist", line(command, option, ["no/such/folder/f" + _suffix(command, option)]),
                      {"io"}, option=option, mistake="missing folder")
    for value, expected in NAMED.get(option, []):
        probe.refused("names no input", line(command, option, [value]), {expected}, option=option,
                      mistake="names no input")
    for value, expected in MISFIT.get(option, []) if command != "diff" else []:  # diff's x is a symbol, not bound
        probe.refused("does not fit its input", line(command, option, [value]), {expected}, option=option,
                      mistake=f"misfit: {expected}")
    for value, expected in AS_VALUE.get(option, []):
        probe.refused("a VALUE read as a binding's", line(command, option, [value]), {expected}, option=option,
                      mistake=f"value: {expected}")
    if not param.multiple and goods:
        probe.refused("given twice", line(command, option, [goods[0], goods[0]]), {"usage"}, option=option,
                      words=["twice"], mistake="given twice")
    positional, kept = BASE[command]  # the option last, without its value
    args = [command] + [t for name, value in kept.items() if name != option
                        for t in ([name] if value is None else [name, value])] + positional + [option]
    probe.refused("missing value", args, {"usage"}, option=option, words=["needs a value"], mistake="missing value")
    for label, document in _documented_defaults(param):
        same = probe.accepted("documented default", line(command, option, [document]))
        plain = probe.accepted("documented default", line(command, None, []))
        if same is not None and plain is not None and same != plain:
            probe.fail("documented default", [command, option, document],
                       f"giving the documented default {document!r} prints something else than leaving it out")
    for choice in CHOICES.get(option, ()):
        if option == "--v" and command == "graph":
            continue
        probe.accepted("every listed choice", line(command, option, [choice]))


def _suffix(command: str, option: str) -> str:
    return {("eval", "--out"): ".npy", ("graph", "--out"): ".dot", ("plot", "--out"): ".png",
            ("eval", "--plot"): ".png", ("run", "--junit"): ".xml"}.get((command, option), ".txt")


def _documented_defaults(param) -> list:
    if not getattr(param, "show_default", False) or param.default in (None, False) or param.multiple:
        return []
    return [("default", str(param.default))]


def flag_checks(probe: Probe, command: str, flag: str) -> None:
    for value in ("1", "yes", ""):  # a value for a flag
        probe.refused("a value for a flag", [command, f"{flag}={value}", "--", *BASE[command][0]], {"usage"},
                      option=flag, value=value, mistake="value for a flag")
    without = probe.accepted("flag changes the output", line(command, None, [], drop=(flag,)))
    extra = {"--latex": [], "--dot": [], "--symbolic": [], "--backward": ["--v", "ones"], "--sparse": ["--json"],
             "--limit": []}.get(flag, [])
    args = line(command, flag, [None])
    args = args[:1] + extra + args[1:]
    if flag == "--limit":
        args = [command, flag, "--", "sin(x)", "x=1"]
        without = probe.accepted("flag changes the output", [command, "--", "sin(x)", "x=1"])
    if flag == "--sparse":
        without = probe.accepted("flag changes the output", [command, "--json", "--", "x**2", "x=[1, 2]"])
        args = [command, "--json", flag, "--", "x**2", "x=[1, 2]"]
        if command == "derivative":
            without = probe.accepted("flag changes the output", [command, "--json", "--", "x**3", "x=[1, 2]"])
            args = [command, "--json", flag, "--", "x**3", "x=[1, 2]"]
    if flag == "--json":
        return
    with_flag = probe.accepted("flag changes the output", args)
    if with_flag is not None and without is not None and with_flag == without and flag not in ("--strict",):
        probe.fail("flag changes the output", args, "the flag changed nothing on standard output")


def unknown_options(probe: Probe, commands=BASE) -> None:
    for command in commands:
        probe.refused("unknown option", line(command, "--nope", ["1"]), {"usage"}, option="--nope",
                      mistake="unknown option")
        if command != "run":
            probe.refused("a typo of an option", [command, "--wtr", "x", *BASE[command][0]], {"usage"},
                          option="--wtr", words=["--wrt"], mistake="unknown option")


def report(probe: Probe) -> None:
    print(f"commands: {len(BASE)}; (command, option) pairs: {len(probe.pairs)}; runs: {probe.counts['runs']}")
    for key in sorted(k for k in probe.counts if k != "runs"):
        print(f"  {probe.counts[key]:5d}  {key}")
    print("kinds per mistake (the same mistake must have one kind):")
    mixed = 0
    for mistake, seen in sorted(probe.kinds.items()):
        kinds = sorted({k for k, _ in seen})
        mixed += len(kinds) > 1
        print(f"  {mistake:34s} {', '.join(kinds)}" + ("   <-- MIXED: " + "; ".join(
            sorted(f"{k}: {w}" for k, w in seen))[:400] if len(kinds) > 1 else ""))
    print(f"mistakes with more than one kind: {mixed}")
    print(f"failures: {len(probe.failures)}")
    for failure in probe.failures[: None if probe.verbose else 60]:
        print("  " + failure[:500])


if __name__ == "__main__":
    sys.exit(main())
